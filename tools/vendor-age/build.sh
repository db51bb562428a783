#!/usr/bin/env bash
# Rebuilds site-templates/assets/vendor/age.js from the pinned packages in
# package-lock.json. The output is committed, so building scoresite needs no npm.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
out=../../site-templates/assets/vendor
mkdir -p "$out"
./node_modules/.bin/esbuild entry.js --bundle --format=iife --global-name=ageLib \
  --minify --target=es2020 --legal-comments=none --outfile="$out/age.js"
{
  echo "age.js bundles these packages (versions pinned in tools/vendor-age/package-lock.json):"
  for p in age-encryption @noble/ciphers @noble/curves @noble/hashes @noble/post-quantum @scure/base; do
    v=$(node -p "require('./node_modules/$p/package.json').version")
    echo; echo "== $p $v =="; echo
    cat "node_modules/$p/LICENSE"
  done
} > "$out/LICENSES.txt"
sha256sum "$out/age.js"

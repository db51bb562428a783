// scoresite logon worker: runs the scrypt and every decryption off the page's
// thread, with typage (assets/vendor/age.js). Scope keys live here and in
// the tab's sessionStorage only; logout forgets them.
"use strict";
importScripts("vendor/age.js");

// Plain-HTTP intranet hosts are not secure contexts, so crypto.subtle is
// missing. typage falls back to its pure-JS X25519 when WebCrypto rejects
// with NotSupportedError, so give it a crypto.subtle that does exactly that.
if (!self.crypto.subtle) {
  const reject = () => Promise.reject(new DOMException("WebCrypto needs a secure context", "NotSupportedError"));
  Object.defineProperty(self.crypto, "subtle", {
    value: new Proxy({}, { get: () => reject }),
    configurable: true,
  });
}

const enc = new TextEncoder();
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (text) => new Uint8Array(text.match(/../g).map((h) => parseInt(h, 16)));
const mac = (key, message) => hex(ageLib.hmac(ageLib.sha256, key, enc.encode(message)));

let session = null; // { names: hex, identities: [AGE-SECRET-KEY-…], build: hex, mine: AGE-SECRET-KEY-… }
let decrypter = null;

function resume(s) {
  session = s;
  decrypter = new ageLib.Decrypter();
  for (const id of s.identities) decrypter.addIdentity(id);
}

// The site's root: this script is in assets/.
const ROOT = new URL("../", self.location.href);

async function fetchBytes(path) {
  const r = await fetch(new URL(path, ROOT), { cache: "no-store", credentials: "same-origin" });
  if (!r.ok) return null;
  return new Uint8Array(await r.arrayBuffer());
}

const FAILED = "The email or password you entered is incorrect.";
// Credentials are sealed with scrypt at exactly this work factor: a higher
// one would take the browser minutes and a gigabyte, a lower one is weak.
const WORK_FACTOR = 18;

/** The work factor in a passphrase-sealed file's header, or null. */
function workFactor(bytes) {
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 256));
  const m = head.match(/^-> scrypt \S+ (\d+)$/m);
  return m ? Number(m[1]) : null;
}

async function logon(email, passphrase) {
  const site = await (await fetch(new URL("site.json", ROOT), { cache: "no-store" })).json();
  const locator = mac(unhex(site.salt), email.trim().toLowerCase());
  const credential = await fetchBytes(`credentials/${locator}.age`);
  if (!credential) throw new Error(FAILED);
  if (workFactor(credential) !== WORK_FACTOR) {
    throw new Error("Your sign-in file on this site is not valid. Ask your coordinator to reset your password.");
  }
  const withPassphrase = new ageLib.Decrypter();
  withPassphrase.addPassphrase(passphrase);
  let identity;
  try {
    identity = (await withPassphrase.decrypt(credential, "text")).trim();
  } catch (e) {
    throw new Error(FAILED);
  }
  const sealedGrant = await fetchBytes(`grants/${locator}.age`);
  if (!sealedGrant) throw new Error("Your account has no reports in this build of the site. Ask your coordinator.");
  const personal = new ageLib.Decrypter();
  personal.addIdentity(identity);
  const grant = JSON.parse(await personal.decrypt(sealedGrant, "text"));
  // `mine` is the user's own identity: what the user saves in this browser
  // (the groups they build) is sealed to it.
  const s = { names: grant.names, identities: grant.bundles.map((b) => b.identity), build: site.build, mine: identity };
  resume(s);
  const bundles = grant.bundles.map(({ role, label, note, home }) => ({ role, label, note, home }));
  return { session: s, bundles };
}

/** A new X25519 identity sealed with `passphrase` at the work factor the
 *  site accepts, and its public recipient, for self-service enrolment. */
async function enrol(passphrase) {
  const identity = await ageLib.generateX25519Identity();
  const recipient = await ageLib.identityToRecipient(identity);
  const e = new ageLib.Encrypter();
  e.setPassphrase(passphrase);
  e.setScryptWorkFactor(WORK_FACTOR);
  const credential = await e.encrypt(identity + "\n");
  return { recipient, credential: hex(credential) };
}

async function get(path) {
  if (!session) throw new Error("Not logged on.");
  const name = `d/${mac(unhex(session.names), path).slice(0, 32)}.age`;
  const sealed = await fetchBytes(name);
  if (!sealed) {
    // After a rebuild every page has a new name: say so, not "not found".
    const site = await (await fetch(new URL("site.json", ROOT), { cache: "no-store" })).json();
    if (site.build !== session.build) {
      throw new Error("the site was updated since you logged on. Log out and log on again to see the new reports.");
    }
    throw new Error(`Not found: ${path}`);
  }
  return await unpack(await decrypter.decrypt(sealed));
}

/** The page inside a sealed payload: its zlib stream's length (4 bytes,
 * big-endian), the zlib stream, then padding (see seal::pack). */
async function unpack(bytes) {
  const len = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  const zlib = bytes.subarray(4, 4 + len);
  const stream = new Blob([zlib]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** What the user keeps in this browser, sealed to their own identity so
 * that browser storage holds only ciphertext: its storage key (from the
 * user's public recipient) and the sealed or opened text. */
function own() {
  if (!session || !session.mine) throw new Error("Log out and log on again to keep your own groups.");
  return session.mine;
}
async function mineKey() {
  const recipient = await ageLib.identityToRecipient(own());
  return "scoresite.mine." + hex(ageLib.sha256(enc.encode(recipient))).slice(0, 32);
}
async function mineSeal(text) {
  const e = new ageLib.Encrypter();
  e.addRecipient(await ageLib.identityToRecipient(own()));
  return hex(await e.encrypt(text));
}
async function mineOpen(sealed) {
  const d = new ageLib.Decrypter();
  d.addIdentity(own());
  return await d.decrypt(unhex(sealed), "text");
}

self.onmessage = async (e) => {
  const { id, op } = e.data;
  try {
    let result = null;
    if (op === "logon") result = await logon(e.data.email, e.data.passphrase);
    else if (op === "enrol") result = await enrol(e.data.passphrase);
    else if (op === "resume") resume(e.data.session);
    else if (op === "mine-key") result = await mineKey();
    else if (op === "mine-seal") result = await mineSeal(e.data.text);
    else if (op === "mine-open") result = await mineOpen(e.data.sealed);
    else if (op === "get") {
      const bytes = await get(e.data.path);
      self.postMessage({ id, ok: true, result: bytes }, [bytes.buffer]);
      return;
    } else if (op === "logout") { session = null; decrypter = null; }
    self.postMessage({ id, ok: true, result });
  } catch (err) {
    self.postMessage({ id, ok: false, error: err.message || String(err) });
  }
};

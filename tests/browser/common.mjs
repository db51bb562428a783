// Shared pieces of the browser tests: launching Debian's chromium, axe-core,
// a CSV reader, and check/done reporting.
import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
// Evaluated through the DevTools protocol, so the site's CSP (script-src
// 'self') does not block it and is left in force for the site's own code.
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

let failures = 0;
let passes = 0;

/** Records one assertion; failures are printed and fail the run at `done`. */
export function check(ok, what) {
  if (ok) {
    passes++;
  } else {
    failures++;
    console.error(`FAIL ${what}`);
  }
}

/** Prints the totals and exits non-zero on any failure. */
export function done() {
  console.log(`${passes} checks passed, ${failures} failed`);
  process.exit(failures ? 1 : 0);
}

/** Debian's chromium, headless, with nothing fetched from the network. */
export function launch(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      ...extraArgs,
    ],
  });
}

/** Runs axe-core's WCAG 2.1 A/AA rules at a laptop's width (1366 px) and a
 * phone's (390 px); a violation of any impact fails. */
export async function axeCheck(page, kind) {
  const size = page.viewportSize();
  for (const width of [1366, 390]) {
    await page.setViewportSize({ width, height: size.height });
    // Let the page see the resize (its scroll boxes become focusable) first.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50))));
    if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) {
      await page.evaluate(AXE);
    }
    const result = await page.evaluate(() =>
      window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
    );
    for (const v of result.violations) {
      console.error(`axe ${kind} at ${width} px: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
    }
    check(result.violations.length === 0, `axe: no violations on ${kind} at ${width} px`);
  }
  await page.setViewportSize(size);
}

/** Parses CSV text (quoted fields, CRLF, BOM) into objects keyed by the header. */
export function csvRows(text) {
  const rows = [];
  let row = [], field = "", quoted = false;
  text = text.replace(/^\uFEFF/, "");
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field); field = "";
      rows.push(row); row = [];
    } else field += c;
  }
  if (field !== "" || row.length) { row.push(field); rows.push(row); }
  const [header, ...body] = rows;
  return body.filter((r) => r.length > 1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ""])));
}

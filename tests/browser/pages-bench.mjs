// The browser half of `cargo bench --bench pages`:
//   node pages-bench.mjs "KIND=/path/to/page.html" ...
// Opens each page five times in Debian's chromium and prints the median time
// to its load event (the page's script has run by then), its bytes, its DOM
// nodes and its table rows, with the ratio to the first page (the baseline).
import { statSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { launch } from "./common.mjs";

const RUNS = 5;
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
let baseline = null;
for (const arg of process.argv.slice(2)) {
  const at = arg.indexOf("=");
  const [kind, path] = [arg.slice(0, at), arg.slice(at + 1)];
  const times = [];
  let nodes = 0, rows = 0;
  for (let i = 0; i < RUNS; i++) {
    await page.goto(pathToFileURL(path).href, { waitUntil: "load" });
    const t = await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      return nav.loadEventEnd - nav.startTime;
    });
    times.push(t);
    nodes = await page.evaluate(() => document.getElementsByTagName("*").length);
    rows = await page.evaluate(() => document.querySelectorAll("tbody tr").length);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(RUNS / 2)];
  baseline = baseline ?? median;
  const kb = statSync(path).size / 1024;
  console.log(`  ${kind.padEnd(24)} ${median.toFixed(0).padStart(6)} ms  ${(median / baseline).toFixed(1).padStart(5)}x  ${kb.toFixed(0).padStart(6)} KiB  ${String(nodes).padStart(7)} nodes  ${String(rows).padStart(5)} rows`);
}
await browser.close();

import { chromium } from 'playwright-core';
const [url, out, y, h] = process.argv.slice(2);
const b = await chromium.launch({ executablePath: '/usr/bin/chromium' });
const p = await b.newPage({ viewport: { width: 1366, height: 900 } });
await p.goto(url);
console.log(await p.evaluate(() => document.body.scrollHeight));
await p.screenshot({ path: out, fullPage: true, clip: { x: 0, y: +y, width: 1366, height: +h } });
await b.close();

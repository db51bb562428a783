// Browser tests of the secure site, run by tests/browser.rs:
//   node secure.mjs BASE_URL PORT TEACHER ADMIN PASSPHRASE RESEALED FORGED OWN OWN_PASSPHRASE SITE_DIR [SCREENSHOT_DIR]
// Logs on through the shell as a teacher and as an admin, navigates,
// filters, prints and downloads a CSV inside the decrypted bundle, logs
// out, fails cleanly on a wrong password and an unknown email, and does it
// both on localhost (a secure context) and through a plain-HTTP host name
// (no crypto.subtle, with the warning banner).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { launch, axeCheck, check, csvRows, done } from "./common.mjs";

const [base, port, teacher, admin, pass, resealed, forged, own, ownPass, siteDir, shots] = process.argv.slice(2);
if (shots) mkdirSync(shots, { recursive: true });
const HOST = "reports.district.test";
const browser = await launch([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`]);

async function logon(page, email, password) {
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.getByRole("button", { name: "Secure Logon" }).click();
}

async function session(origin, label) {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${origin}/index.html`);
  check(await page.getByRole("heading", { name: "Secure Logon" }).isVisible(), `${label}: Secure Logon page`);
  const secure = await page.evaluate(() => window.isSecureContext);
  check(secure === !origin.includes(HOST), `${label}: secure context is ${secure}`);
  check((await page.locator("#insecure").isVisible()) === !secure, `${label}: plain-HTTP warning shown only when insecure`);
  if (label === "localhost") await axeCheck(page, "logon page");
  if (shots && label === "localhost") await page.screenshot({ path: join(shots, "logon.png") });

  // Wrong password and unknown email: the same message.
  await logon(page, teacher, pass + "x");
  await page.locator("#logon-error").filter({ hasText: /./ }).waitFor();
  const wrong = await page.textContent("#logon-error");
  await logon(page, "nobody@nowhere.example", pass);
  await page.waitForFunction(() => document.querySelector("#logon-status").textContent === "");
  const unknown = await page.textContent("#logon-error");
  check(wrong && wrong === unknown, `${label}: same message for a wrong password and an unknown email ("${wrong}")`);
  check(await page.locator("#view").isHidden(), `${label}: nothing shown after a failed logon`);

  // A user who made their own sign-in file in the browser logs on with it.
  if (label === "localhost") {
    await logon(page, own, ownPass);
    await page.locator("#session").waitFor({ timeout: 30000 });
    check(await page.locator("#logon").isHidden(), "a self-enrolled user logs on");
    await page.getByRole("button", { name: "Log out" }).click();
  }

  // A credential sealed at another scrypt work factor is refused before any scrypt.
  await logon(page, resealed, pass);
  await page.locator("#logon-error").filter({ hasText: /not valid/ }).waitFor();
  check(await page.locator("#view").isHidden(), `${label}: a credential at work factor 10 is refused`);

  // Teacher: home, a group, filter, sort, CSV, a student, print.
  const t0 = Date.now();
  await logon(page, teacher, pass);
  await page.getByRole("heading", { name: "Teacher Home" }).waitFor({ timeout: 30000 });
  const firstPage = Date.now() - t0;
  console.log(`${label}: logon to first page ${firstPage} ms`);
  check(await page.locator("#ssid").count() === 1, `${label}: a teacher searches their students`);
  await page.locator("table.groups tbody tr td a").first().click();
  await page.locator("table.choices").waitFor();
  check(page.url().includes("#/b/"), `${label}: group page address stays in the shell`);
  await page.locator("table.choices tbody tr:not([hidden]) a").first().click();
  await page.locator("section.assessment").first().waitFor();
  check(/-a\d{4}-[a-z0-9-]+\.html$/.test(page.url()), `${label}: an assessment's page opens in the shell (${page.url()})`);
  const section = page.locator("section.assessment").first();
  await section.locator('select[data-key="level"]').selectOption("2");
  const levels = await section.locator("table.sortable tbody tr").evaluateAll((rs) => rs.filter((r) => !r.hidden).map((r) => r.getAttribute("data-level")));
  check(levels.every((l) => l === "2"), `${label}: level filter works in the shell`);
  check(+(await section.locator('td[data-stat="n"]').textContent()) === levels.length, `${label}: the filtered summary is recomputed in the shell`);
  await section.locator('select[data-key="level"]').selectOption("");
  const rows = await section.locator("table.sortable tbody tr").count();
  const [download] = await Promise.all([page.waitForEvent("download"), section.getByRole("link", { name: "Download CSV" }).click()]);
  const csv = readFileSync(await download.path(), "utf8").trim().split("\n");
  check(csv.length === rows + 1 && csv[0].includes("SSID"), `${label}: decrypted CSV download has ${csv.length - 1} rows`);
  // My Groups in the shell: kept only sealed to the user's own key.
  await section.getByLabel("Save the students shown as a group in My Groups").fill("Shell group");
  await section.getByRole("button", { name: "Save group" }).click();
  await section.locator(".save-status", { hasText: "Saved" }).waitFor({ timeout: 30000 });
  const stored = await page.evaluate(() => Object.keys(localStorage).map((k) => k + "=" + localStorage.getItem(k)).join("\n"));
  const rowSsids = await section.locator("table.sortable tbody tr td:nth-child(2)").allTextContents();
  // Keys and ciphertext are hex runs; anything else that looks like an SSID is a leak.
  const leak = stored.replace(/[0-9a-f]{16,}/g, "").match(/\d{10}/);
  check(stored.includes("scoresite.mine.") && !leak && !rowSsids.some((x) => stored.includes(x.trim())) && !stored.includes("Shell group"), `${label}: browser storage holds the group sealed, no SSID or name in plaintext (${leak ? leak[0] : "no run of ten digits"}; keys ${Object.keys(stored.split("\n").reduce((o, l) => ({ ...o, [l.split("=")[0]]: 1 }), {}))})`);
  await page.getByRole("link", { name: "My reports" }).click();
  await page.locator("section.built-groups tbody tr").first().waitFor({ timeout: 30000 });
  check((await page.locator("section.built-groups tbody tr td").first().textContent()) === "Shell group", `${label}: the sealed group opens on the home page`);
  await page.goBack();
  await page.locator("section.assessment").first().waitFor();
  if (label === "localhost") await axeCheck(page, "secure group page");
  if (shots && label === "localhost") await page.screenshot({ path: join(shots, "secure-group.png") });
  await section.locator("table.sortable tbody tr a").first().click();
  await page.locator("article.isr").first().waitFor();
  check(await page.locator("article.isr svg.levelbar").count() > 0, `${label}: student report decrypted with its level bar`);
  await page.evaluate(() => { window.printed = 0; window.print = () => { window.printed++; }; });
  await page.getByRole("button", { name: /Print all reports/ }).click();
  check(await page.evaluate(() => window.printed) === 1, `${label}: print works inside the shell`);
  await page.emulateMedia({ media: "print" });
  check(await page.locator("#session").isHidden(), `${label}: the session bar is not printed`);
  await page.emulateMedia({ media: "screen" });
  await page.goBack();
  await page.locator("section.assessment").first().waitFor();
  check(page.url().includes("#/b/"), `${label}: Back returns to the group page`);

  // Reload keeps the session for this tab; logout forgets it.
  await page.reload();
  await page.locator("section.assessment").first().waitFor();
  await page.getByRole("button", { name: "Log out" }).click();
  check(await page.getByRole("heading", { name: "Secure Logon" }).isVisible(), `${label}: logout returns to Secure Logon`);
  const left = await page.evaluate(() => ({ session: sessionStorage.length, view: document.querySelector("#view").textContent.length }));
  check(left.session === 0 && left.view === 0, `${label}: logout clears the session and the page`);
  await page.goto(`${origin}/index.html#/b/any/index.html`);
  check(await page.getByRole("heading", { name: "Secure Logon" }).isVisible(), `${label}: a report address after logout asks to log on`);

  // Admin: student search opens a decrypted report.
  await logon(page, admin, pass);
  await page.locator("#choices a, h1").first().waitFor();

  // A page forged by a co-holder of a bundle key runs nothing in the shell.
  if (label === "localhost") {
    await page.locator("#session").waitFor();
    await page.evaluate((p) => { location.hash = "#/" + p; }, forged);
    await page.getByRole("heading", { name: "Forged page" }).waitFor();
    const left = await page.evaluate(() => ({
      stolen: window.stolen,
      frames: document.querySelectorAll("#view iframe, #view object, #view script:not([type='application/json'])").length,
      js: (document.querySelector("#js") || {}).getAttribute ? document.querySelector("#js").getAttribute("href") : null,
      action: document.querySelector("#view form") ? document.querySelector("#view form").getAttribute("action") : null,
      csp: (document.querySelector("meta[http-equiv='Content-Security-Policy']") || {}).content || "",
    }));
    check(left.stolen === undefined, `forged page stole nothing (${left.stolen})`);
    check(left.frames === 0 && left.js === null && left.action === null, `forged frames, scripts, javascript: links and form actions removed: ${JSON.stringify(left)}`);
    check(left.csp.includes("frame-src 'none'") && left.csp.includes("form-action 'none'"), "the shell has its own CSP");
    await page.goBack();
  }
  if (await page.locator("#choices a").count()) await page.locator("#choices a").first().click();
  await page.locator("#ssid").waitFor();
  const grade = page.locator(".school-list ul.inline a").first();
  await grade.click();
  await page.locator("table.choices tbody tr a").first().click();
  await page.locator("section.assessment").first().waitFor();
  const ssid = (await page.locator("table.sortable tbody tr td:nth-child(2)").first().textContent()).trim();
  await page.goBack();
  await page.locator("table.choices").waitFor();
  await page.goBack();
  await page.locator("#ssid").waitFor();
  await page.fill("#ssid", ssid);
  await page.getByRole("button", { name: "Find" }).click();
  await page.locator("article.isr").first().waitFor();
  check((await page.textContent("#view .lead")).includes(ssid), `${label}: admin student search opens the report`);
  if (label === "localhost") await axeCheck(page, "secure student report");

  // Admin: a custom aggregate report built from its decrypted cube, and the
  // District/School Export decrypted into a download.
  await page.goBack();
  await page.locator("#ssid").waitFor();
  await page.locator("#aggregates ~ ul.inline a").first().click();
  await page.locator("#view .agg-out table").waitFor();
  await page.selectOption("#view form.aggregate select[name=dim]", { label: "Gender" });
  await page.getByRole("button", { name: "Build report" }).click();
  const aggRows = await page.locator("#view .agg-out tbody tr").count();
  check(aggRows > 1 && (await page.textContent("#view .agg-out thead")).includes("Gender"), `${label}: aggregate report by gender built in the shell (${aggRows} rows)`);
  await page.goBack();
  await page.locator("#ssid").waitFor();
  const [exported] = await Promise.all([page.waitForEvent("download"), page.locator("ul.exports a").first().click()]);
  const exportRows = csvRows(readFileSync(await exported.path(), "utf8"));
  check(exportRows.length > 0 && Object.keys(exportRows[0]).length === 64, `${label}: decrypted District/School Export has ${exportRows.length} rows in 64 columns`);
  // The district's export is stored as one part per school, joined on download.
  const exportSchools = new Set(exportRows.map((r) => r.SchoolId));
  check(exportSchools.size > 1 && exportRows.every((r) => /^\d{4}$/.test(r.SchoolYear)), `${label}: the export joins the parts of ${exportSchools.size} schools`);
  await page.getByRole("button", { name: "Log out" }).click();
  check(errors.length === 0, `${label}: no script errors: ${errors.join("; ")}`);
  await context.close();
}

// A form submitted before shell.js runs (a slow link, a failed script) sends
// nothing: the inputs have no names and the button waits for the script.
async function earlySubmit() {
  const context = await browser.newContext();
  const page = await context.newPage();
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route("**/assets/shell.js", async (route) => { await held; await route.continue(); });
  const sent = [];
  page.on("request", (r) => sent.push(`${r.method()} ${r.url()} ${r.postData() || ""}`));
  await page.goto(`${base}/index.html`, { waitUntil: "commit" });
  await page.locator("#password").waitFor({ state: "attached" });
  await page.fill("#email", teacher);
  await page.fill("#password", pass);
  await page.press("#password", "Enter");
  check(await page.locator("#logon-form button").isDisabled(), "the logon button is disabled until shell.js runs");
  release();
  await page.locator("#logon-form button:not([disabled])").waitFor();
  const leaks = sent.filter((s) => s.includes("password") || s.includes(encodeURIComponent(pass)) || s.includes(pass) || s.includes("?"));
  check(leaks.length === 0, `no request carries the form: ${leaks.join("; ")}`);
  check(!page.url().includes("?"), `no query string in the address: ${page.url()}`);
  await context.close();
}

// A session logged on before a rebuild is told the site was updated, not
// that a page is missing; before any rebuild, a missing page is "not found".
async function staleSession() {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/index.html`);
  await logon(page, teacher, pass);
  await page.getByRole("heading", { name: "Teacher Home" }).waitFor({ timeout: 30000 });
  await page.evaluate(() => { location.hash = "#/b/any/no-such-page.html"; });
  await page.locator("#view .error").waitFor();
  const missing = await page.textContent("#view .error");
  check(missing.includes("Not found: b/any/no-such-page.html"), `a missing page is not found: ${missing}`);
  const siteJson = join(siteDir, "site.json");
  const original = readFileSync(siteJson, "utf8");
  writeFileSync(siteJson, JSON.stringify({ ...JSON.parse(original), build: "a later build" }));
  try {
    await page.evaluate(() => { location.hash = "#/b/any/another-page.html"; });
    await page.locator("#view .error", { hasText: "updated" }).waitFor();
    const updated = await page.textContent("#view .error");
    check(updated.includes("the site was updated since you logged on"), `after a rebuild: ${updated}`);
  } finally {
    writeFileSync(siteJson, original);
  }
  await context.close();
}

await earlySubmit();
await staleSession();
await session(base, "localhost");
await session(`http://${HOST}:${port}`, "plain-HTTP host");
await browser.close();
done();

// Self-service enrolment in the browser, run by tests/browser.rs:
//   node enrol.mjs BASE_URL EMAIL PASSPHRASE OUT_FILE
// Opens the secure site's "Create your sign-in file" page, makes a sign-in
// file with the passphrase, checks that no request carried the passphrase
// and that the page passes axe, and saves the download to OUT_FILE.
import { copyFileSync } from "node:fs";
import { launch, axeCheck, check, done } from "./common.mjs";

const [base, email, pass, out] = process.argv.slice(2);
const browser = await launch();
const context = await browser.newContext({ acceptDownloads: true });
const page = await context.newPage();
const sent = [];
page.on("request", (r) => sent.push(`${r.url()} ${r.postData() || ""}`));
await page.goto(`${base}/index.html`);
await page.getByRole("link", { name: "Create your sign-in file" }).click();
await page.getByRole("heading", { name: "Create your sign-in file" }).waitFor();
await axeCheck(page, "enrolment page");
await page.fill("#email", email);
await page.fill("#password", pass);
await page.fill("#confirm", pass + "x");
await page.getByRole("button", { name: "Create my sign-in file" }).click();
check((await page.textContent("#enrol-error")).includes("differ"), "two different passwords are refused");
await page.fill("#confirm", pass);
await page.getByRole("button", { name: "Create my sign-in file" }).click();
await page.locator("#enrol-done").waitFor({ timeout: 60000 });
const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#enrol-file").click()]);
copyFileSync(await download.path(), out);
check(sent.every((s) => !s.includes(pass) && !s.includes(encodeURIComponent(pass))), "the passphrase never left the page");
const left = await page.evaluate(() => ({ password: document.querySelector("#password").value, storage: sessionStorage.length + localStorage.length }));
check(left.password === "" && left.storage === 0, "nothing kept in the page or in browser storage");
await browser.close();
done();

// Browser tests of the sandbox site, run by tests/browser.rs:
//   node sandbox.mjs SITE_DIR DATA_DIR [SCREENSHOT_DIR]
// Opens the site from file:// in Debian's chromium, enters as each role,
// opens each kind of page, checks numbers against the emitted CERS export
// and groups file, checks a teacher sees only their groups' students, and
// runs axe-core (WCAG 2.1 AA) on every page kind.
import { readFileSync, readdirSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { launch, axeCheck, csvRows, check, done } from "./common.mjs";

const [site, data, shots] = process.argv.slice(2).map((p) => p && resolve(p));
const url = (p) => pathToFileURL(join(site, p)).href;
if (shots) mkdirSync(shots, { recursive: true });

const groups = csvRows(readFileSync(join(data, "data/groups.csv"), "utf8"));
const exportRows = csvRows(readFileSync(join(data, "data/cers_export.csv"), "utf8"));
const label = (y) => `${y - 1}–${String(y).slice(2)}`;
// Distance from Standard: each student's score minus the lowest Standard
// Met score of the assessment's grade (CDE's ELA cuts since 2020–21).
const LEVEL3_ELA = { 3: 2432, 4: 2473, 5: 2502, 6: 2531, 7: 2552, 8: 2567, 11: 2583 };
const gradeOf = (name) => +(name.match(/Grade (\d+)/) || [])[1];

const browser = await launch();
const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(e.message));

async function shot(name) {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
}

async function audit(kind) {
  await axeCheck(page, kind);
}

/** On a results entry page, opens the first listed assessment whose row
 * matches `text` (any, when not given), and waits for its page. */
async function openAssessment(text) {
  const rows = page.locator("table.choices tbody tr:not([hidden])", text ? { hasText: text } : {});
  const link = (await rows.count()) ? rows.first().locator("a") : page.locator("table.choices tbody tr a").first();
  await link.click();
  await page.waitForURL(/-a\d{4}-[a-z0-9-]+\.html$/);
  await page.locator("section.assessment").waitFor();
}

// Landing page: the role chooser.
await page.goto(url("index.html"));
for (const role of ["Teacher", "School Administrator", "District Administrator", "State Administrator", "Aggregate Reporter"]) {
  check(await page.getByRole("heading", { name: `Enter as ${role}` }).count() === 1, `landing offers ${role}`);
}
check((await page.textContent(".banner")).includes("Sandbox — fictitious data"), "banner on the landing page");
await audit("landing");
await shot("landing");

// Teacher: the first grade 5 teacher (SB, CAST and interims in one room).
const teacherLinks = await page.locator("section.role-card", { hasText: "Enter as Teacher" }).locator("ul.choices a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
let teacherHome = null;
for (const href of teacherLinks) {
  await page.goto(url(href));
  if ((await page.textContent("table.groups tbody")).includes("Grade 5")) { teacherHome = href; break; }
}
check(teacherHome, "a grade 5 teacher");
check((await page.textContent(".top .role")) === "Teacher", "teacher role shown in the header");
check(await page.locator("#ssid").count() === 1, "teachers search their students");
check(await page.getByRole("heading", { name: "Administrator Tools" }).count() === 0, "no admin tools for teachers");
await audit("teacher home");
await shot("teacher-home");

// My Groups: star a group, reload, it is still listed first.
const firstGroup = (await page.locator("table.groups tbody tr td a").first().textContent()).trim();
await page.locator("table.groups tbody tr button.star").first().click();
await page.reload();
check(!(await page.locator("section.my-groups").isHidden()), "My Groups shown after reload");
check((await page.locator("section.my-groups a").first().textContent()).trim() === firstGroup, "the starred group is in My Groups");
await page.locator("table.groups tbody tr button.star").first().click();
check(await page.locator("section.my-groups").isHidden(), "unstarring empties My Groups");

// The teacher's rosters, from the groups file, for the isolation check.
const myGroupNames = await page.locator("table.groups tbody tr").evaluateAll((rows) => rows.map((r) => [r.cells[0].textContent.trim(), r.cells[1].textContent.trim(), r.cells[2].textContent.trim()]));
const rosterOf = (name, year) => new Set(groups.filter((g) => g.group_name === name && label(+g.school_year) === year && g.student_ssid).map((g) => g.student_ssid));
const allowed = new Set(myGroupNames.flatMap(([n, , y]) => [...rosterOf(n, y)]));
check(allowed.size > 0, "the teacher's rosters are known");

// Group results: the summary against the export.
let checkedGroup = false;
for (let i = 0; i < myGroupNames.length && !checkedGroup; i++) {
  await page.goto(url(teacherHome));
  await page.locator("table.groups tbody tr td a").nth(i).click();
  const choices = page.locator("table.choices tbody tr");
  if (await choices.count() === 0) continue;
  // The chooser starts at the latest school year; subject and type narrow it.
  const latest = await page.locator('form.chooser select[data-key="year"]').inputValue();
  const byYear = await choices.evaluateAll((rs) => rs.map((r) => [r.getAttribute("data-year"), r.hidden]));
  check(latest !== "" && byYear.every(([y, hidden]) => (y === latest) !== hidden), `the chooser lists ${latest}'s assessments only`);
  const subjects = await page.locator('form.chooser select[data-key="subject"] option').allTextContents();
  if (subjects.length > 2) {
    await page.selectOption('form.chooser select[data-key="subject"]', subjects[1]);
    const listed = await choices.evaluateAll((rs) => rs.filter((r) => !r.hidden).map((r) => r.getAttribute("data-subject")));
    check(listed.every((x) => x === subjects[1]), `the subject ${subjects[1]} narrows the list (${listed.length})`);
    await page.selectOption('form.chooser select[data-key="subject"]', "");
  }
  await audit("group entry");
  await shot("group-entry");
  await openAssessment("Summative");
  const sections = page.locator("section.assessment");
  check(await sections.count() === 1, "an assessment page shows one assessment");  const [name, , year] = myGroupNames[i];
  const roster = rosterOf(name, year);
  const section = sections.first();
  const heading = (await section.locator("h2").textContent()).trim();
  const sectionYear = (await section.locator("h2 .year").textContent()).trim();
  const assessment = heading.slice(0, heading.length - sectionYear.length).trim();
  const rows = exportRows.filter((r) => r.AssessmentName === assessment && label(+r.SchoolYear) === sectionYear && roster.has(r.StudentIdentifier));
  const cells = await section.locator("table.summary tbody td").allTextContents();
  check(+cells[0] === rows.length, `group ${name}: ${assessment} n ${cells[0]} = ${rows.length} export rows`);
  const scores = rows.map((r) => r.ScaleScore).filter((s) => s !== "").map(Number);
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  check(Math.abs(parseFloat(cells[1]) - mean) < 0.51, `group mean ${cells[1]} ≈ ${mean.toFixed(1)}`);
  const tableRows = section.locator("table.sortable tbody tr");
  check(await tableRows.count() === rows.length, "one Results by Student row per export row");
  await audit("group results");
  await shot("group-results");

  // Sorting by scale score.
  await section.locator("table.sortable thead th", { hasText: "Scale score" }).click();
  const sorted = (await section.locator("table.sortable tbody tr td:nth-child(7)").allTextContents()).map((t) => parseFloat(t)).filter((x) => !isNaN(x));
  check(sorted.every((x, k) => k === 0 || sorted[k - 1] <= x), "sorted by scale score, ascending");
  // By level: Not Met first, by the level's number, not its name.
  await section.locator("table.sortable thead th", { hasText: /^Level$/ }).click();
  const byLevel = await tableRows.evaluateAll((rs) => rs.map((r) => +r.getAttribute("data-level")));
  check(byLevel.every((x, k) => k === 0 || byLevel[k - 1] <= x) && byLevel[0] < byLevel[byLevel.length - 1], `sorted by level number, ascending: ${byLevel.join(",")}`);
  // By date: as dates, across years (not as mm/dd/yyyy text).
  await section.locator("table.sortable thead th", { hasText: /^Date$/ }).click();
  const byDate = await section.locator("table.sortable tbody tr td:nth-child(3)").evaluateAll((cs) => cs.map((c) => c.getAttribute("data-sort")));
  check(byDate.every((x, k) => k === 0 || byDate[k - 1] <= x), `sorted by date, ascending: ${byDate.slice(0, 5).join(",")}`);

  // Level filter.
  await section.locator('select[data-key="level"]').selectOption("1");
  const levels = await tableRows.evaluateAll((rs) => rs.filter((r) => !r.hidden).map((r) => r.getAttribute("data-level")));
  check(levels.every((l) => l === "1"), "level filter shows level 1 only");
  check(+(await section.locator('td[data-stat="n"]').textContent()) === levels.length, "the summary counts the filtered rows");
  await section.getByRole("button", { name: "Clear filters" }).click();
  await page.waitForFunction(() => document.querySelector(".filter-status").textContent === "");
  check(+(await section.locator('td[data-stat="n"]').textContent()) === rows.length, "clearing the filters restores the summary");

  // Advanced filters recompute the summary: each value of every filter the
  // export also holds, against the export's rows.
  const yesNo = (v) => ({ Yes: "Yes", No: "No" }[v] || "Not stated");
  // Race/ethnicity as CDE reports it: Hispanic or Latino first; one other
  // race by its name; several as two or more races.
  const RACES = [["HispanicOrLatinoEthnicity", "Hispanic or Latino"], ["AmericanIndianOrAlaskaNative", "American Indian or Alaska Native"], ["Asian", "Asian"], ["BlackOrAfricanAmerican", "Black or African American"], ["White", "White"], ["NativeHawaiianOrOtherPacificIslander", "Native Hawaiian or Other Pacific Islander"], ["TwoOrMoreRaces", "Two or more races"], ["Filipino", "Filipino"]];
  const race = (r) => {
    if (r.HispanicOrLatinoEthnicity === "Yes") return RACES[0][1];
    const yes = RACES.slice(1).filter(([c]) => r[c] === "Yes");
    return yes.length === 0 ? "Not stated" : yes.length === 1 ? yes[0][1] : "Two or more races";
  };
  const exportFilters = {
    gender: (r) => r.Sex || "Not stated",
    race,
    elas: (r) => r.EnglishLanguageAcquisitionStatus || "Not stated",
    el: (r) => yesNo(r.LEPStatus),
    migrant: (r) => yesNo(r.MigrantStatus),
    section504: (r) => yesNo(r.Section504Status),
    iep: (r) => yesNo(r.IDEAIndicator),
    military: (r) => yesNo(r.MilitaryConnectedStudentIndicator),
    completeness: (r) => r.Completeness,
    condition: (r) => ({ Valid: "Valid", IN: "Invalid", SD: "Standardized", NS: "Nonstandardized" }[r.AdministrationCondition] || "Not reported"),
  };
  await section.locator("details.more-filters summary").click();
  let filtersChecked = 0;
  for (const [key, value] of Object.entries(exportFilters)) {
    const select = section.locator(`select[data-key="${key}"]`);
    if (!(await select.count())) continue;
    for (const option of (await select.locator("option").allTextContents()).slice(1)) {
      await select.selectOption({ label: option });
      const want = rows.filter((r) => value(r) === option);
      const scored = want.map((r) => r.ScaleScore).filter((x) => x !== "").map(Number);
      const cells = await section.locator("table.summary tbody td").allTextContents();
      const m = scored.reduce((a, b) => a + b, 0) / scored.length;
      const shown = await tableRows.evaluateAll((rs) => rs.filter((r) => !r.hidden).length);
      check(+cells[0] === want.length && shown === want.length && (!scored.length || Math.abs(parseFloat(cells[1]) - m) < 0.51), `${key} = ${option}: n ${cells[0]} and mean ${cells[1]} against ${want.length} export rows, mean ${m.toFixed(1)}`);
      if (key === "gender" && want.length >= 11 && /ELA Summative/.test(assessment)) {
        const d = scored.reduce((a, x) => a + x - LEVEL3_ELA[gradeOf(assessment)], 0) / scored.length;
        check(cells[2] === `${Math.abs(d).toFixed(1)} ${d < 0 ? "below" : "above"}`, `${key} = ${option}: DFS ${cells[2]} ≈ ${d.toFixed(2)}`);
      }
      filtersChecked++;
    }
    await select.selectOption("");
  }
  check(filtersChecked >= 8, `${filtersChecked} filter values checked against the export`);
  await shot("group-results-filtered");
  // My Groups: save the students at level 1 as a group, see it on another
  // assessment, on the home page, and download it as an RDW groups file.
  await section.locator('select[data-key="level"]').selectOption("1");
  const levelOne = await tableRows.evaluateAll((rs) => rs.filter((r) => !r.hidden).map((r) => r.cells[1].textContent.trim()));
  let savedGroup = null;
  if (levelOne.length) {
    await section.getByLabel("Save the students shown as a group in My Groups").fill("Reteach group");
    await section.getByRole("button", { name: "Save group" }).click();
    await section.locator(".save-status", { hasText: "Saved" }).waitFor();
    savedGroup = levelOne;
  }
  await section.getByRole("button", { name: "Clear filters" }).click();
  // Another assessment of the group, from the page's own chooser.
  const others = await page.locator("form.jump option").evaluateAll((os) => os.filter((o) => !o.selected).map((o) => o.value));
  if (others.length) {
    const here = page.url();
    await page.selectOption("form.jump select", others[0]);
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForURL((u) => u.href !== here && u.href.endsWith(others[0]));
    check((await page.locator("form.jump select").inputValue()) === others[0], "Another assessment opens that assessment's page");
    if (savedGroup) {
      const mine = page.locator('select[data-key="mygroup"]');
      await page.locator('select[data-key="mygroup"] option', { hasText: "Reteach group" }).waitFor({ state: "attached" });
      await mine.selectOption({ label: `Reteach group (${savedGroup.length})` });
      const shownSsids = await page.locator("table.sortable tbody tr").evaluateAll((rs) => rs.filter((r) => !r.hidden).map((r) => r.cells[1].textContent.trim()));
      check(shownSsids.length > 0 && shownSsids.every((x) => savedGroup.includes(x)), `My group shows only its ${savedGroup.length} students (${shownSsids.length} tested here)`);
      check(+(await page.locator('td[data-stat="n"]').textContent()) === shownSsids.length, "My group's summary counts its students");
      // The group's IAB dashboard, redone in the entry page, against the export.
      await page.getByRole("link", { name: "All assessments" }).click();
      await page.locator("table.choices").waitFor();
      const iabMine = page.locator("form.iab-mine");
      if (await iabMine.count()) {
        await page.locator("form.iab-mine option", { hasText: "Reteach group" }).waitFor({ state: "attached" });
        await iabMine.locator("select").selectOption({ label: `Reteach group (${savedGroup.length})` });
        const iabYear = (await page.locator("#iab-dashboard .year").textContent()).trim();
        const cards = await page.locator("li.card").evaluateAll((cs) => cs.map((c) => [c.querySelector("h3").textContent.trim(), c.querySelector(".tested").textContent.trim(), Array.from(c.querySelectorAll(".count"), (x) => +x.textContent.replace(/\D/g, ""))]));
        const wrong = cards.filter(([name, tested, counts]) => {
          const mine = exportRows.filter((r) => r.AssessmentName === name && label(+r.SchoolYear) === iabYear && savedGroup.includes(r.StudentIdentifier));
          const n = new Set(mine.map((r) => r.StudentIdentifier)).size;
          return tested !== `${n} of ${savedGroup.length} students tested` || counts.reduce((a, b) => a + b, 0) > n;
        });
        check(cards.length > 0 && wrong.length === 0, `the IAB dashboard of the group made matches the export on ${cards.length} cards (${JSON.stringify(wrong.slice(0, 2))})`);
        await audit("IAB dashboard of a group made");
      }
      await page.goBack();
      await page.locator("section.assessment").waitFor();
    }
    await page.goBack();
    await page.locator("section.assessment").waitFor();
  }

  // CSV download.
  const [download] = await Promise.all([page.waitForEvent("download"), section.getByRole("link", { name: "Download CSV" }).click()]);
  const csv = csvRows(readFileSync(await download.path(), "utf8"));
  check(csv.length === rows.length && "SSID" in csv[0], `CSV has ${csv.length} rows with SSIDs`);
  // The page's CSV rule is the Rust one: only a whole number may start with - or +.
  const csvCells = await page.evaluate(() => ["-2+3+cmd|' /C calc'!A0", "=1+1", "-2.5", "+7", "2450"].map(window.scoresite.csvCell));
  check(JSON.stringify(csvCells) === JSON.stringify(["'-2+3+cmd|' /C calc'!A0", "'=1+1", "-2.5", "+7", "2450"]), `CSV cells neutralised: ${csvCells}`);

  // A student's report, and Home leads back to the teacher's home.
  await tableRows.first().locator("a").click();
  await page.waitForURL(/\/r\/[0-9a-f]{20}\.html$/);
  await page.locator("article.isr").first().waitFor();
  check(await page.locator("article.isr").count() > 0, "student page has ISRs");
  check(await page.locator("article.isr svg.levelbar").count() > 0, "ISR has a level bar");
  // Printing opens "About this score" so its text is on paper.
  await page.evaluate(() => window.dispatchEvent(new Event("beforeprint")));
  const closed = await page.locator("article.isr details").evaluateAll((ds) => ds.filter((d) => !d.open).length);
  check(closed === 0 && (await page.locator("article.isr details").count()) > 0, `printing opens every ISR disclosure (${closed} closed)`);
  await audit("student report");
  await shot("student-report");
  // Instructional resources open elsewhere, in a new tab, without a referrer.
  const resources = await page.locator("article.isr ul.resources a").evaluateAll((as) => as.map((a) => [a.href, a.target, a.rel]));
  check(resources.length > 0 && resources.every(([h, t, r]) => h.startsWith("https://") && t === "_blank" && r.includes("noreferrer")), `instructional resources link out safely: ${JSON.stringify(resources.slice(0, 2))}`);
  for (const [family, name] of [["Smarter Balanced", "isr-sb"], ["California Science Test", "isr-cast"], ["Interim", "isr-interim"]]) {
    const isr = page.locator("article.isr", { hasText: family }).first();
    if (shots && (await isr.count())) await isr.screenshot({ path: join(shots, `${name}.png`) });
  }
  await page.getByRole("link", { name: "Home" }).click();
  await page.waitForURL(url(teacherHome)).catch(() => {});
  check(page.url() === url(teacherHome), "Home returns to the teacher's home from a shared page");
  if (savedGroup) {
    const built = page.locator("section.built-groups");
    await built.locator("tbody tr").first().waitFor();
    check((await built.locator("tbody tr td").first().textContent()) === "Reteach group", "the group made is listed on the home page");
    const [groupsFile] = await Promise.all([page.waitForEvent("download"), built.getByRole("button", { name: "Download as an RDW groups CSV" }).click()]);
    const groupRowsCsv = csvRows(readFileSync(await groupsFile.path(), "utf8"));
    check(groupRowsCsv.length === savedGroup.length && groupRowsCsv.every((r) => r.group_name === "Reteach group" && savedGroup.includes(r.student_ssid) && /^\d{4}$/.test(r.school_year) && r.school_natural_id), `the RDW groups file lists the ${savedGroup.length} students`);
    await built.getByRole("button", { name: "Remove Reteach group" }).click();
    await built.waitFor({ state: "hidden" });
    check(await page.evaluate(() => JSON.parse(localStorage.getItem("scoresite.built-groups")).length) === 0, "removing the group forgets it");
  }
  checkedGroup = true;
}
check(checkedGroup, "a group page with results was checked");

// Batch print from a group with a summative section.
await page.goto(url(teacherHome));
for (let i = 0; i < myGroupNames.length; i++) {
  await page.goto(url(teacherHome));
  await page.locator("table.groups tbody tr td a").nth(i).click();
  const summative = page.locator("table.choices tbody tr", { hasText: "Summative" });
  if (await summative.count() === 0) continue;
  await summative.first().locator("a").click();
  await page.waitForURL(/-a\d{4}-[a-z0-9-]+\.html$/);
  const print = page.getByRole("link", { name: /Print ISRs/ }).first();
  if (await print.count() === 0) continue;  const expected = await print.locator("xpath=ancestor::section").locator("table.sortable tbody tr").count();
  await print.click();
  // Wait for the print page itself: counting at once can see the old page.
  await page.waitForURL(/\/p\/[0-9a-f]{20}\.html$/);
  await page.locator("article.isr").first().waitFor();
  const printed = await page.locator("article.isr").count();
  check(printed === expected, `batch print has ${expected} reports (${printed})`);
  await page.emulateMedia({ media: "print" });
  const breaks = await page.locator("article.isr").evaluateAll((as) => as.map((a) => getComputedStyle(a).breakBefore));
  check(breaks[0] === "auto" && breaks.slice(1).every((b) => b === "page"), "the first report shares the title's page; each other starts a printed page");
  check((await page.locator("article.isr .org").first().textContent()).includes("Sandbox Unified School District"), "each report names its district and school");
  await page.emulateMedia({ media: "screen" });
  await page.selectOption("select.print-order", "ssid");
  const ssids = await page.locator("article.isr").evaluateAll((as) => as.map((a) => a.getAttribute("data-ssid")));
  check(ssids.length === printed && ssids.every((x, k) => k === 0 || ssids[k - 1] <= x), "batch print reordered by SSID");
  const withAccess = await page.locator("article.isr .access-resources").count();
  if (withAccess) {
    await page.getByLabel("Include accessibility resources").uncheck();
    await page.emulateMedia({ media: "print" });
    check(await page.locator("article.isr .access-resources").evaluateAll((ds) => ds.every((d) => getComputedStyle(d).display === "none")), `accessibility resources left out of ${withAccess} printed reports`);
    await page.emulateMedia({ media: "screen" });
    await page.getByLabel("Include accessibility resources").check();
  }
  await page.emulateMedia({ media: "print" });
  check(await page.locator(".top nav").isHidden(), "navigation hidden in print");
  await page.emulateMedia({ media: "screen" });
  await audit("batch print");
  break;
}

// Teacher isolation: crawl everything reachable from the teacher's home.
const seen = new Set();
const queue = [url(teacherHome)];
const visited = new Set();
const bundleDir = url(teacherHome).replace(/index\.html$/, "");
while (queue.length) {
  const next = queue.shift();
  if (visited.has(next)) continue;
  visited.add(next);
  await page.goto(next);
  const text = await page.textContent("main");
  for (const m of text.matchAll(/\b\d{10}\b/g)) seen.add(m[0]);
  const links = await page.locator("main a[href$='.html']").evaluateAll((as) => as.map((a) => a.href));
  for (const l of links) {
    if ((l.startsWith(bundleDir) || /\/(r|p)\/\d+\.html$/.test(l)) && !visited.has(l)) queue.push(l);
  }
}
const outside = [...seen].filter((s) => exportRows.some((r) => r.StudentIdentifier === s) && !allowed.has(s));
check(outside.length === 0, `teacher sees only their groups' students (${seen.size} SSIDs over ${visited.size} pages; outside: ${outside.slice(0, 5)})`);

// School administrator: student search and a grade page.
await page.goto(url("index.html"));
await page.locator("section.role-card", { hasText: "Enter as School Administrator" }).locator("a").first().click();
check((await page.textContent(".top .role")) === "School Administrator", "school admin role");
check(await page.getByRole("heading", { name: "Administrator Tools" }).count() === 1, "admin tools for admins");
await audit("school admin home");
const gradeLink = page.locator(".school-list ul.inline a").first();
await gradeLink.click();
check(await page.locator("table.choices tbody tr").count() > 0, "school grade page lists its assessments");
await audit("school grade entry");
await openAssessment();
await audit("school grade results");
const anSsid = (await page.locator("table.sortable tbody tr td:nth-child(2)").first().textContent()).trim();
await page.getByRole("link", { name: "Home" }).click();
await page.fill("#ssid", anSsid);
await page.getByRole("button", { name: "Find" }).click();
await page.waitForURL(/\/r\/[0-9a-f]{20}\.html$/);
check((await page.textContent(".lead")).includes(anSsid), "student search opens the student's report");
await page.goto(url("index.html"));
await page.locator("section.role-card", { hasText: "Enter as School Administrator" }).locator("a").first().click();
await page.fill("#ssid", "0000000000");
await page.getByRole("button", { name: "Find" }).click();
check((await page.textContent(".find-result")).includes("No student"), "unknown SSID is reported");
// By name: a last name shared by several students lists them all; one opens its report.
const lastName = exportRows[0].LastOrSurname;
const nameWords = lastName.toLowerCase().split(/[\s,]+/).filter(Boolean);
const named = new Set(exportRows.filter((r) => nameWords.every((w) => `${r.LastOrSurname}, ${r.FirstName}`.toLowerCase().includes(w))).map((r) => r.StudentIdentifier));
await page.goto(url("index.html"));
await page.locator("section.role-card", { hasText: "Enter as District Administrator" }).locator("a").first().click();
await page.fill("#ssid", lastName.toLowerCase());
await page.getByRole("button", { name: "Find" }).click();
if (named.size > 1) {
  const listed = await page.locator(".find-list a").allTextContents();
  check(listed.length === Math.min(named.size, 25) && listed.every((t) => named.has(/\((\d+)\)$/.exec(t)[1])), `name search lists the ${named.size} students named ${lastName}`);
  await page.locator(".find-list a").first().click();
} else {
  await page.waitForURL(/\/r\/[0-9a-f]{20}\.html$/);
}
await page.waitForURL(/\/r\/[0-9a-f]{20}\.html$/);
check((await page.textContent(".lead")).length > 0, "a listed student opens their report");

// District administrator: a grade page's numbers against the export.
await page.goto(url("index.html"));
await page.locator("section.role-card", { hasText: "Enter as District Administrator" }).locator("a").first().click();
check((await page.textContent(".top .role")) === "District Administrator", "district admin role");
await audit("district admin home");
// The groups list is paged with a find box.
const groupRows = page.locator("table.groups tbody tr");
const totalGroups = +(await page.locator("table.groups").getAttribute("data-total"));
if (totalGroups > 25) {
  // The page holds every group as data and draws 25 at a time.
  const visible = () => groupRows.evaluateAll((rs) => rs.map((r) => r.getAttribute("data-key")));
  const first = await visible();
  check(first.length === 25 && (await page.textContent("nav.pager .pager-status")).includes(`of ${Math.ceil(totalGroups / 25)} · ${totalGroups} groups`), `the first page lists 25 of ${totalGroups} groups`);
  const word = (await groupRows.first().locator("td").first().textContent()).trim().split(/\s+/)[0];
  await page.locator("nav.pager").getByRole("button", { name: "Next" }).click();
  const second = await visible();
  check(second.length > 0 && !second.includes(first[0]), "Next shows the next page of groups");
  await page.getByLabel("Find groups").fill(word);
  const found = await visible();
  const want = await page.evaluate((w) => JSON.parse(document.querySelector("script.groups-data").textContent).filter((g) => [g[1], g[3], g[4], g[5]].join(" ").toLowerCase().includes(w)).length, word.toLowerCase());
  check(found.length === Math.min(25, want) && (await page.textContent("nav.pager .pager-status")).includes(`${want} groups found`), `finding “${word}” lists ${want} groups`);
  await page.getByLabel("Find groups").fill("");
  // Sorting by students sorts every group, not the page.
  await page.locator("table.groups thead th", { hasText: "Students" }).click();
  const sizes = await groupRows.evaluateAll((rs) => rs.map((r) => +r.cells[4].textContent));
  const least = await page.evaluate(() => Math.min(...JSON.parse(document.querySelector("script.groups-data").textContent).map((g) => g[6])));
  check(sizes[0] === least && sizes.every((x, k) => k === 0 || sizes[k - 1] <= x), `groups sorted by size across all pages (${sizes.slice(0, 3)})`);
}
const grade = page.locator(".school-list ul.inline a").first();
const school = (await page.locator(".school-list h3").first().textContent()).trim();
await grade.click();
await openAssessment();
const sec = page.locator("section.assessment").first();
const h = (await sec.locator("h2").textContent()).trim();
const y = (await sec.locator("h2 .year").textContent()).trim();
const gradeTitle = (await page.textContent("h1")).split(" · ").pop();
const gradeCode = gradeTitle === "Kindergarten" ? "KG" : gradeTitle.replace("Grade ", "").padStart(2, "0");
const want = exportRows.filter((r) => r.SchoolName === school && r.AssessmentName === h.slice(0, h.length - y.length).trim() && label(+r.SchoolYear) === y && r.GradeLevelWhenAssessed === gradeCode);
check(+(await sec.locator("table.summary tbody td").first().textContent()) === want.length, `district grade page n = ${want.length} export rows`);

// District administrator: an item analysis page, from the first grade page with one.
await page.getByRole("link", { name: "Home" }).click();
const gradeHrefs = await page.locator(".school-list ul.inline a").evaluateAll((as) => as.map((a) => a.href));
let analysisFound = false;
for (const href of gradeHrefs) {
  await page.goto(href);
  const summatives = await page.locator("table.choices tbody tr", { hasText: "Smarter" }).locator("a").evaluateAll((as) => as.map((a) => a.href));
  const pages = summatives.length ? summatives : await page.locator("table.choices tbody tr a").evaluateAll((as) => as.map((a) => a.href));
  for (const p of pages.slice(0, 4)) {
    await page.goto(p);
    const analysisLink = page.getByRole("link", { name: /Item, trait and target analysis/ }).first();
    if (await analysisLink.count() === 0) continue;
    await analysisLink.click();
    analysisFound = true;
    break;
  }
  if (analysisFound) break;
}
check(analysisFound, "a grade page links to its item analysis");
check(await page.getByRole("heading", { name: /Results by Item|Target Report|Writing Trait Scores/ }).count() > 0, "analysis page has its reports");

// District administrator: the Dashboard preview's ELA Distance from Standard
// for each school, against each student's latest summative ELA or CAA ELA
// result in the export, less the lowest Level 3 score of the test's grade.
await page.goto(url("index.html"));
await page.locator("section.role-card", { hasText: "Enter as District Administrator" }).locator("a").first().click();
await page.getByRole("link", { name: "open the Dashboard preview" }).click();
const elaRows = exportRows.filter((r) => r.AssessmentType === "Summative" && (r.Subject === "ELA" || r.Subject === "CAAELA") && r.ScaleScore !== "");
const dashYear = Math.max(...elaRows.map((r) => +r.SchoolYear));
const cutOf = (r) => { const g = gradeOf(r.AssessmentName); return r.Subject === "CAAELA" ? ([3, 4, 5, 6, 7, 8].includes(g) ? 100 * g + 60 : g === 11 ? 960 : 0) : LEVEL3_ELA[g] || 0; };
const latestEla = new Map();
for (const r of elaRows.filter((r) => +r.SchoolYear === dashYear && cutOf(r))) {
  const seen = latestEla.get(r.StudentIdentifier);
  if (!seen || seen.SubmitDateTime < r.SubmitDateTime) latestEla.set(r.StudentIdentifier, r);
}
const bySchoolTable = page.locator("table", { has: page.locator("caption", { hasText: "English Language Arts by school" }) });
const dashSchools = await bySchoolTable.locator("tbody tr").evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.textContent.trim())));
let dashMatched = 0;
for (const [name, n, participation, , status] of dashSchools) {
  const mine = [...latestEla.values()].filter((r) => r.SchoolName === name);
  const dfs = mine.reduce((a, r) => a + (+r.ScaleScore - cutOf(r)), 0) / mine.length;
  // No Student Score Data File in the sandbox: nobody is known to have missed a test.
  if (+n === mine.length && Math.abs(+status - dfs) < 0.051 && participation === "not known") dashMatched++;
  else console.error(`dashboard ELA ${name}: ${n}, ${status}; expected ${mine.length}, ${dfs.toFixed(2)}`);
}
check(dashSchools.length > 1 && dashMatched === dashSchools.length, `Dashboard preview: ${dashMatched} of ${dashSchools.length} schools' ELA DFS match the export`);
check(await page.locator("table.grid5").count() === 3, "Dashboard preview: a five-by-five grid for ELA, mathematics and English learner progress");
await audit("dashboard preview");
await shot("dashboard");
await audit("analysis");
await shot("analysis");

// District administrator: the District/School Export of the latest year.
await page.getByRole("link", { name: "Home" }).click();
const districtHome = page.url();
const exportLink = page.locator("ul.exports a").first();
const exportYear = Math.max(...exportRows.map((r) => +r.SchoolYear));
check((await exportLink.textContent()).includes(label(exportYear)), "the latest year's export is listed first");
const [exportDownload] = await Promise.all([page.waitForEvent("download"), exportLink.click()]);
const exported = csvRows(readFileSync(await exportDownload.path(), "utf8"));
check(exported.length === exportRows.filter((r) => +r.SchoolYear === exportYear).length && Object.keys(exported[0]).length === 64, `export has the ${exported.length} rows of ${label(exportYear)} in 64 columns`);

// Custom aggregate reports: one per subgroup dimension, against the input.
// Economic disadvantage is reported only in TRT files.
const econ = new Map();
for (const year of readdirSync(join(data, "data/trt"))) {
  for (const school of readdirSync(join(data, "data/trt", year))) {
    for (const f of readdirSync(join(data, "data/trt", year, school))) {
      const xml = readFileSync(join(data, "data/trt", year, school, f), "utf8");
      const ssid = /name="StudentIdentifier" value="(\d+)"/.exec(xml)[1];
      const test = /<Test name="([^"]*)"/.exec(xml)[1];
      const flag = /name="EconomicDisadvantageStatus" value="(\w+)"/.exec(xml);
      if (flag) econ.set(`${ssid}|${test}|${/academicYear="(\d+)"/.exec(xml)[1]}`, flag[1]);
    }
  }
}
const yesNo = (v) => (v === "Yes" || v === "No" ? v : "Not stated");
const RACES = [["AmericanIndianOrAlaskaNative", "American Indian or Alaska Native"], ["Asian", "Asian"], ["BlackOrAfricanAmerican", "Black or African American"], ["White", "White"], ["NativeHawaiianOrOtherPacificIslander", "Native Hawaiian or Other Pacific Islander"], ["TwoOrMoreRaces", "Two or more races"], ["Filipino", "Filipino"]];
const DIMENSIONS = {
  "Gender": (r) => r.Sex || "Not stated",
  "Race/ethnicity": (r) => {
    if (r.HispanicOrLatinoEthnicity === "Yes") return "Hispanic or Latino";
    const yes = RACES.filter(([c]) => r[c] === "Yes");
    return yes.length === 0 ? "Not stated" : yes.length === 1 ? yes[0][1] : "Two or more races";
  },
  "English language acquisition status": (r) => r.EnglishLanguageAcquisitionStatus || "Not stated",
  "English learner (LEP)": (r) => yesNo(r.LEPStatus),
  "Migrant": (r) => yesNo(r.MigrantStatus),
  "Section 504": (r) => yesNo(r.Section504Status),
  "IEP": (r) => yesNo(r.IDEAIndicator),
  "Economic disadvantage": (r) => yesNo(econ.get(`${r.StudentIdentifier}|${r.AssessmentName}|${r.SchoolYear}`)),
  "Military connected": (r) => yesNo(r.MilitaryConnectedStudentIndicator),
  "Enrolled grade": (r) => (r.GradeLevelWhenAssessed === "KG" ? "KG" : String(+r.GradeLevelWhenAssessed)),
};
await page.getByRole("link", { name: "Smarter Balanced Summative, ELA" }).click();
const district = (await page.textContent("p.lead")).split(" · ")[0];
await page.selectOption("form.aggregate select[name=value]", "number");
const higher = page.locator("form.aggregate input[name=higher]");
if (await higher.count()) await higher.uncheck();
const sbRows = exportRows.filter((r) => r.AssessmentType === "Summative" && r.Subject === "ELA" && +r.SchoolYear === exportYear && r.ScaleScoreAchievementLevel !== "");
for (const [dimension, valueOf] of Object.entries(DIMENSIONS)) {
  await page.selectOption("form.aggregate select[name=dim]", { label: dimension });
  await page.getByRole("button", { name: "Build report" }).click();
  const table = await page.locator(".agg-out table").evaluate((t) => ({
    head: [...t.tHead.rows[0].cells].map((c) => c.textContent),
    rows: [...t.tBodies[0].rows].map((r) => [...r.cells].map((c) => c.textContent)),
  }));
  const expected = new Map();
  for (const r of sbRows) {
    const key = `${r.AssessmentName}|${valueOf(r)}`;
    const e = expected.get(key) || { n: 0, sum: 0, dn: 0, dsum: 0, levels: [0, 0, 0, 0] };
    e.n++; e.sum += +r.ScaleScore; e.levels[+r.ScaleScoreAchievementLevel - 1]++;
    const cut = LEVEL3_ELA[gradeOf(r.AssessmentName)];
    if (cut) { e.dn++; e.dsum += +r.ScaleScore - cut; }
    expected.set(key, e);
  }
  const mine = table.rows.filter((r) => r[0] === district);
  let matched = 0;
  for (const r of mine) {
    const e = expected.get(`${r[1]}|${r[3]}`);
    const dfsOk = e && +r[7] === e.dn && (e.dn < 11 ? r[8] === "—" : r[8] === (e.dsum / e.dn).toFixed(1));
    if (e && +r[4] === e.n && Math.abs(+r[5] - e.sum / e.n) < 0.51 && dfsOk && r.slice(9, 13).join() === e.levels.join()) matched++;
    else console.error(`aggregate ${dimension}: ${r.join(" | ")} expected ${JSON.stringify(e)}`);
  }
  check(table.head[3] === dimension && table.head[4] === "Students" && table.head[6] === "SEM" && table.head[8] === "Distance from Standard", `aggregate by ${dimension}: headers`);
  check(mine.length === expected.size && matched === mine.length, `aggregate by ${dimension}: ${matched} of ${expected.size} rows match the input`);
}
// Its CSV names each institution by its CDS code too, after a byte-order mark.
const [aggDownload] = await Promise.all([page.waitForEvent("download"), page.locator("form.aggregate .agg-csv").click()]);
const aggText = readFileSync(await aggDownload.path(), "utf8");
const aggCsv = csvRows(aggText);
check(aggText.startsWith("\uFEFFInstitution,CDS code,"), `aggregate CSV header: ${aggText.slice(0, 40)}`);
check(aggCsv.some((r) => r.Institution === district && r["CDS code"] === exportRows[0].DistrictId), `aggregate CSV gives the district's CDS code ${exportRows[0].DistrictId}`);
await shot("aggregate");
await audit("custom aggregate report");
check(await page.locator("#longitudinal").count() === 1 && await page.locator("section svg").count() > 0, "longitudinal report with its chart");
check((await page.locator("section p.legend").first().textContent()).includes("Cohort (dashed line)"), "the longitudinal chart has a legend");

// Aggregate reporter: summaries only.
await page.goto(url("index.html"));
await page.locator("section.role-card", { hasText: "Enter as Aggregate Reporter" }).locator("a").first().click();
await audit("aggregate home");
await page.locator("main a[href$='.html']").first().click();
await page.locator("main h1").first().waitFor();
check(await page.getByRole("heading", { name: "Results by Student" }).count() === 0, "aggregate pages have no student rows");
check(!/\b\d{10}\b/.test(await page.textContent("main")), "aggregate pages show no SSID");
await audit("aggregate results");
// Its custom report is built from cells that hold only the printed mean and
// SEM; the shown rows still agree with the input.
await page.goBack();
await page.getByRole("link", { name: "Smarter Balanced Summative, ELA" }).click();
await page.selectOption("form.aggregate select[name=value]", "number");
await page.selectOption("form.aggregate select[name=dim]", { label: "Gender" });
await page.getByRole("button", { name: "Build report" }).click();
const reporterRows = await page.locator(".agg-out tbody tr").evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
let reporterMatched = 0;
for (const r of reporterRows.filter((r) => r[0] === district && r[4] !== "*")) {
  const rows = sbRows.filter((x) => x.AssessmentName === r[1] && DIMENSIONS.Gender(x) === r[3]);
  const mean = rows.reduce((a, x) => a + +x.ScaleScore, 0) / rows.length;
  const withDfs = rows.filter((x) => LEVEL3_ELA[gradeOf(x.AssessmentName)]);
  const dfs = withDfs.reduce((a, x) => a + (+x.ScaleScore - LEVEL3_ELA[gradeOf(x.AssessmentName)]), 0) / withDfs.length;
  const dfsOk = +r[7] === withDfs.length && (withDfs.length < 11 ? r[8] === "—" : Math.abs(+r[8] - dfs) < 0.051);
  if (+r[4] === rows.length && Math.abs(+r[5] - mean) < 0.51 && /^\d+\.\d$/.test(r[6]) && dfsOk) reporterMatched++;
  else console.error(`reporter aggregate: ${r.join(" | ")} expected n ${rows.length}, mean ${mean}, DFS ${dfs} of ${withDfs.length}`);
}
check(reporterMatched > 0 && reporterRows.filter((r) => r[0] === district && r[4] !== "*").length === reporterMatched, `aggregate reporter: ${reporterMatched} shown rows by gender match the input`);

// Aggregate reporter: the Dashboard preview, with every shown school's ELA
// DFS and the district's all-students row against the export, and no
// count of English learners by outcome.
await page.goto(url("index.html"));
await page.locator("section.role-card", { hasText: "Enter as Aggregate Reporter" }).locator("a").first().click();
await page.getByRole("link", { name: "open the Dashboard preview" }).click();
const rowsOf = (caption) => page.locator("table", { has: page.locator("caption", { hasText: caption }) }).locator("tbody tr").evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.textContent.trim())));
const dfsOf = (rows) => rows.reduce((a, r) => a + (+r.ScaleScore - cutOf(r)), 0) / rows.length;
const reporterSchools = await rowsOf("English Language Arts by school");
const shownSchools = reporterSchools.filter((r) => r[1] !== "*");
const schoolsOk = shownSchools.filter(([name, n, , , status]) => {
  const mine = [...latestEla.values()].filter((r) => r.SchoolName === name);
  return +n === mine.length && Math.abs(+status - dfsOf(mine)) < 0.051;
});
check(schoolsOk.length === shownSchools.length, `aggregate reporter's Dashboard preview: ${shownSchools.length} of ${reporterSchools.length} schools shown, each matching the export`);
// All students: whole, or (when its few alternate assessment results could
// be worked out against the aggregate reports) its status level only.
const [all] = (await rowsOf("English Language Arts by student group")).filter((r) => r[0] === "All students");
const allDfs = dfsOf([...latestEla.values()]);
const elaLevel = (d) => (d >= 45 ? "Very High" : d >= 10 ? "High" : d >= -5 ? "Medium" : d >= -70 ? "Low" : "Very Low");
const allOk = all[1] === "*" ? all[4] === "*" && all[5] === elaLevel(Math.round(allDfs * 10) / 10) : +all[1] === latestEla.size && Math.abs(+all[4] - allDfs) < 0.051;
check(allOk, `aggregate reporter's Dashboard preview: all students ${all[1]}, ${all[4]}, ${all[5]} match the export (${latestEla.size}, ${allDfs.toFixed(2)})`);
check(await page.getByRole("columnheader", { name: "Progressed a level" }).count() === 0, "aggregate reporter's Dashboard preview: no English learner counts by outcome");
await audit("aggregate dashboard preview");
await shot("aggregate-dashboard");

// A phone-width screen: no page scrolls sideways; wide tables scroll in
// their own box.
await page.setViewportSize({ width: 390, height: 800 });
await page.goto(url(teacherHome));
const narrow = [url(teacherHome), await page.locator("table.groups tbody tr td a").first().evaluate((a) => a.href)];
await page.goto(narrow[1]);
narrow.push(await page.locator("table.choices tbody tr a").first().evaluate((a) => a.href));
await page.goto(narrow[2]);
const printLink = page.getByRole("link", { name: /Print ISRs/ }).first();
if (await printLink.count()) narrow.push(await printLink.evaluate((a) => a.href));
for (const href of narrow) {
  await page.goto(href);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `${href.split("/").slice(-2).join("/")} fits a 390 px screen (${width} px)`);
}
await page.setViewportSize({ width: 1280, height: 900 });

// Help.
await page.goto(url("help/index.html"));
await audit("help");

check(errors.length === 0, `no script errors: ${errors.join("; ")}`);
await browser.close();
done();

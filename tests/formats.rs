//! Results files beyond the full District/School export: CERS Student Roster
//! exports (Data Dictionary V2, Tables 5–9) and District/School exports with
//! fewer columns. Each fixture is small and written for the purpose; values
//! are checked field by field against the source cells.

mod common;

use common::{check, copy_fixture, fixture};
use scoresite::model::{AdminCondition, Completeness, Elas, Exam, Flag, Grade};
use scoresite::pipeline::Validated;
use std::path::Path;

/// Loads `dir` through the pipeline every command runs, with its messages.
fn load(dir: &Path) -> (Validated, Vec<String>) {
    let mut diags = scoresite::diag::Diagnostics::default();
    let v = scoresite::pipeline::load(dir, &mut diags).expect("loads");
    (v, diags.iter().map(|d| d.to_string()).collect())
}

/// The exam of `ssid` on the assessment named `name`.
fn exam<'a>(v: &'a Validated, ssid: &str, name: &str) -> &'a Exam {
    let data = &v.deployment.data;
    data.exams
        .iter()
        .find(|e| {
            &*data.students[e.student as usize].ssid == ssid
                && data.assessments[e.assessment as usize].name == name
        })
        .unwrap_or_else(|| panic!("no {name} exam for {ssid}"))
}

fn school_of<'a>(v: &'a Validated, e: &Exam) -> (&'a str, &'a str, &'a str) {
    let inst = &v.deployment.data.institutions;
    let s = &inst.schools[e.school as usize];
    (&inst.leas[s.lea].id, &s.id, &s.name)
}

fn text(v: &Validated, sym: Option<scoresite::model::Sym>) -> &str {
    sym.map_or("", |s| v.deployment.data.strings.get(s))
}

/// A roster export alone loads: labels become levels, `G5` a grade,
/// `2022-23` the year 2023, error bands a standard error, `Status` the
/// condition or completeness, and schools are placed by name under the LEA
/// of `scoresite.yaml`, said once.
#[test]
fn roster_exports_load_field_by_field() {
    let (v, messages) = load(&fixture("rosters"));
    let data = &v.deployment.data;
    assert_eq!(data.exams.len(), 5);
    let placed: Vec<&String> = messages
        .iter()
        .filter(|m| m.contains("names schools only by SchoolName"))
        .collect();
    assert_eq!(placed.len(), 1, "{messages:?}");
    assert!(placed[0].contains("LEA `1234567` (Oak Valley Unified)"));
    assert_eq!(messages.len(), 1, "{messages:?}");

    // Table 6: SB Summative ELA.
    let ana = exam(&v, "3000000001", "Grade 5 ELA Summative");
    assert_eq!(
        school_of(&v, ana),
        ("1234567", "Oak Elementary", "Oak Elementary")
    );
    let student = &data.students[ana.student as usize];
    assert_eq!(
        (&*student.first_name, &*student.last_name),
        ("Ana", "Alvarez")
    );
    assert_eq!(ana.school_year, 2023);
    assert_eq!(ana.submitted.to_string(), "2023-05-09 00:00:00");
    assert_eq!(text(&v, ana.session), "S-77");
    assert_eq!(ana.grade, Grade::N(5));
    assert_eq!(ana.condition, AdminCondition::Valid);
    assert_eq!(ana.completeness, Completeness::NotReported);
    assert_eq!(ana.overall.level, Some(3), "Met Standard");
    assert_eq!(ana.overall.scale, Some(2502.0));
    assert_eq!(ana.overall.se, Some(25.0), "half of 2527 − 2477");
    // Reading (claim 1) Above, Listening (3) Near, Writing (2) Below,
    // Research (4) Near: by name, not by the order of the columns.
    assert_eq!(
        ana.claim_levels,
        [Some(3), Some(1), Some(2), Some(2), None, None]
    );
    let d = &ana.demographics;
    assert_eq!(d.get(Flag::Migrant), Some(false));
    assert_eq!(d.elas, Some(Elas::El));
    assert_eq!(text(&v, d.language), "Spanish");
    assert_eq!(d.get(Flag::Hispanic), Some(true));
    assert_eq!(d.get(Flag::White), Some(false), "race: Yes, Blank (No)");
    assert_eq!(d.get(Flag::Iep), None, "not in a roster export");
    assert_eq!(d.sex, None);
    assert_eq!(text(&v, ana.accommodations), "TDS_ClosedCap0");

    let ben = exam(&v, "3000000002", "Grade 5 ELA Summative");
    assert_eq!(ben.submitted.to_string(), "2023-01-13 00:00:00");
    assert_eq!(ben.condition, AdminCondition::Invalid);
    assert_eq!(ben.overall.level, Some(1), "Did Not Meet Standard");
    assert_eq!(ben.claim_levels[..4], [Some(1); 4]);
    assert_eq!(ben.demographics.get(Flag::White), Some(true));

    // Table 5: an IAB's level is its Reporting Category; a CAA's label.
    let iab = exam(
        &v,
        "3000000001",
        "Grade 5 Math - Operations and Algebraic Thinking",
    );
    let families = &v.deployment.catalog.families;
    assert_eq!(
        families[data.assessments[iab.assessment as usize].family].short_name,
        "IAB Mathematics"
    );
    assert_eq!(iab.overall.level, Some(3), "Above Standard");
    assert_eq!(iab.overall.se, Some(20.0));
    assert_eq!(iab.condition, AdminCondition::Standardized);
    assert_eq!(iab.submitted.to_string(), "2022-11-14 10:05:00");
    let caa = exam(&v, "3000000003", "Grade 6 CAA ELA");
    assert_eq!(school_of(&v, caa).2, "Pine Middle");
    assert_eq!(caa.overall.level, Some(2), "Level 2 – Alternate");
    assert_eq!(caa.grade, Grade::N(6));

    // Table 9: ELPAC composites (alt 1 oral, alt 2 written) and domains.
    let elpac = exam(&v, "3000000001", "Grade 5 Summative ELPAC");
    assert_eq!(elpac.completeness, Completeness::Complete);
    assert_eq!(elpac.condition, AdminCondition::NotReported);
    assert_eq!(elpac.overall.level, Some(3));
    assert_eq!(elpac.overall.se, Some(15.0));
    let alt = |n: u8| {
        elpac
            .alt
            .iter()
            .find(|(c, _)| *c == n)
            .map(|(_, s)| *s)
            .unwrap()
    };
    assert_eq!(
        (alt(1).level, alt(1).scale, alt(1).se),
        (Some(4), Some(1561.0), Some(18.0))
    );
    assert_eq!(
        (alt(2).level, alt(2).scale, alt(2).se),
        (Some(2), Some(1499.0), Some(21.0))
    );
    assert_eq!(
        elpac.claim_levels,
        [Some(3), Some(2), Some(1), Some(2), None, None]
    );

    let (out, stdout, _) = check(&fixture("rosters"));
    assert!(out.status.success());
    assert!(
        stdout.contains("data/roster_elpac.csv") && stdout.contains("CERS Student Roster export"),
        "{stdout}"
    );
}

/// With an institutions file, a roster export's school is the listed school
/// of that name; a name the file lists twice is an error naming both.
#[test]
fn roster_schools_are_found_by_name_in_the_institutions_file() {
    let dir = copy_fixture("rosters");
    let orgs = dir.path().join("data/orgs.csv");
    std::fs::write(
        &orgs,
        "lea_id,lea_name,school_id,school_name\n\
         1234567,Oak Valley Unified,6000001,Oak Elementary\n\
         1234567,Oak Valley Unified,6000002,Pine Middle\n",
    )
    .unwrap();
    let (v, messages) = load(dir.path());
    assert!(messages.is_empty(), "{messages:?}");
    let ana = exam(&v, "3000000001", "Grade 5 ELA Summative");
    assert_eq!(school_of(&v, ana), ("1234567", "6000001", "Oak Elementary"));

    std::fs::write(
        &orgs,
        "lea_id,lea_name,school_id,school_name\n\
         1234567,Oak Valley Unified,6000001,Oak Elementary\n\
         7654321,Elm Unified,6000009,Oak Elementary\n\
         1234567,Oak Valley Unified,6000002,Pine Middle\n",
    )
    .unwrap();
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("roster_ela.csv:2:4: error: SchoolName `Oak Elementary` names several schools (1234567/6000001 (Oak Elementary, Oak Valley Unified) and 7654321/6000009 (Oak Elementary, Elm Unified))"), "{stderr}");
}

/// A bad label names the file, line, column and the family's levels.
#[test]
fn a_label_that_is_no_level_of_the_family_is_an_error() {
    let dir = copy_fixture("rosters");
    common::edit(
        &dir.path().join("data/roster_ela.csv"),
        "\"Met Standard\"",
        "\"Above Standard\"",
    );
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("roster_ela.csv:2:13: error: ScaleScoreAchievementLevel (column M): expected a level (1 Standard Not Met, 2 Standard Nearly Met, 3 Standard Met, 4 Standard Exceeded), found `Above Standard`"), "{stderr}");
}

/// The districts fixture's export row of `ssid`.
fn district_row(ssid: &str) -> (String, String) {
    let text = std::fs::read_to_string(fixture("districts/data/export.csv")).unwrap();
    let header = text.lines().next().unwrap().to_string();
    let row = text.lines().find(|l| l.contains(ssid)).unwrap().to_string();
    (header, row)
}

/// A result in both a District/School export and a roster export is one
/// exam, and the export's row is kept (it has the ids and demographics).
#[test]
fn a_result_in_an_export_and_a_roster_export_is_one_exam() {
    let (header, row) = district_row("2000000001");
    let roster = "StudentIdentifier,FirstName,LastOrSurname,SubmitDateTime,TestSessionId,SchoolName,SchoolYear,AssessmentType,AssessmentName,Subject,GradeLevelWhenAssessed,Status,ScaleScoreAchievementLevel,Reporting Category,ScaleScore,Error Band Min,Error Band Max\n\
        2000000001,Nora,Northfield,\"Apr 10, 2024\",S-1,Redwood High,2023-24,Summative,Grade 11 ELA Summative,ELA,G11,Valid,Standard Met,,2600,2575,2625\n";
    let dir = common::deployment(&[
        ("scoresite.yaml", "name: Test\n".into()),
        ("data/export.csv", format!("{header}\n{row}\n")),
        ("data/roster.csv", roster.into()),
    ]);
    let (v, messages) = load(dir.path());
    assert_eq!(v.deployment.data.exams.len(), 1, "{messages:?}");
    let e = &v.deployment.data.exams[0];
    assert_eq!(school_of(&v, e), ("1111111", "300", "Redwood High"));
    assert_eq!(e.overall.se, Some(25.0));
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.contains("1 results of this Student Roster export are also in"))
            .count(),
        1,
        "{messages:?}"
    );
}

/// A District/School export with a subset of columns (no NcesId, alt, claim
/// or language columns) loads; its missing optional columns are one warning,
/// and what it lacks is unknown, not "No".
#[test]
fn a_partial_export_loads_and_names_what_it_lacks() {
    let (header, row) = district_row("2000000001");
    let dropped = |name: &str| {
        name == "NcesId"
            || name.starts_with("Alt")
            || name.starts_with("Claim")
            || name.starts_with("Language")
            || name == "White"
    };
    let keep: Vec<usize> = header
        .split(',')
        .enumerate()
        .filter(|(_, h)| !dropped(h))
        .map(|(i, _)| i)
        .collect();
    let pick = |line: &str| {
        let cells: Vec<&str> = line.split(',').collect();
        keep.iter().map(|&i| cells[i]).collect::<Vec<_>>().join(",")
    };
    assert_eq!(keep.len(), 31);
    let dir = common::deployment(&[
        ("scoresite.yaml", "name: Test\n".into()),
        (
            "data/partial.csv",
            format!("{}\n{}\n", pick(&header), pick(&row)),
        ),
    ]);
    let (v, messages) = load(dir.path());
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("partial.csv:1:1: warning: the header lacks these CERS District/School export columns, so their values are unknown for this file's results: NcesId, Alt1ScoreAchievementLevel,"), "{messages:?}");
    assert!(
        messages[0].ends_with("Claim6ScoreAchievementLevel, LanguageCode, LanguageAltCode, White")
    );
    let e = &v.deployment.data.exams[0];
    assert_eq!(school_of(&v, e), ("1111111", "300", "Redwood High"));
    assert_eq!(
        (e.overall.level, e.overall.scale, e.overall.se),
        (Some(3), Some(2600.0), Some(25.0))
    );
    assert_eq!(e.claim_levels, [None; 6]);
    assert_eq!(e.demographics.get(Flag::White), None);
    assert_eq!(e.demographics.get(Flag::Asian), Some(false));

    // Without the columns every report needs, the error names exactly those.
    let text = format!("{}\n{}\n", pick(&header), pick(&row))
        .replace("ScaleScore,", "Score,")
        .replace("SchoolYear,", "Year,");
    let dir = common::deployment(&[
        ("scoresite.yaml", "name: Test\n".into()),
        ("data/partial.csv", text),
    ]);
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("partial.csv:1:1: error: the header lacks the CERS District/School export columns every report needs: SchoolYear, ScaleScore\n"), "{stderr}");
}

/// A deployment holding only `files` (name, contents) under `data/`.
fn with_data(files: &[(&str, String)]) -> tempfile::TempDir {
    let mut all = vec![("scoresite.yaml".to_string(), "name: Test\n".to_string())];
    all.extend(files.iter().map(|(n, t)| (format!("data/{n}"), t.clone())));
    let refs: Vec<(&str, String)> = all.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    common::deployment(&refs)
}

fn toms(name: &str) -> String {
    std::fs::read_to_string(fixture("toms").join(name)).unwrap()
}

/// An exam as a comparable line: every field a report shows.
fn describe(v: &Validated, e: &Exam) -> String {
    let data = &v.deployment.data;
    let s = &data.students[e.student as usize];
    let official = e
        .official
        .as_ref()
        .map(|o| [o.condition_code, o.include, o.measure].map(|t| text(v, t).to_string()));
    format!(
        "{} {} {} | {} | {} {} {:?} | {:?} {:?} {:?} | {:?} {:?} | {:?} | {:?} {:?} {} | {:?}",
        s.ssid,
        s.last_name,
        s.first_name,
        data.assessments[e.assessment as usize].name,
        e.school_year,
        e.submitted.date(),
        school_of(v, e),
        e.grade,
        e.completeness,
        e.condition,
        e.overall,
        e.claim_levels,
        e.demographics.sex,
        e.demographics.elas,
        [
            Flag::Iep,
            Flag::Lep,
            Flag::EconomicDisadvantage,
            Flag::Hispanic,
            Flag::White
        ]
        .map(|f| e.demographics.get(f)),
        text(v, e.demographics.language),
        official,
    )
}

/// The one Student Score Data File written fixed-width, caret-delimited
/// with the layout's long field names, and comma-delimited with names run
/// together, gives the same exams, checked field by field against the
/// source; the student who was not tested is a student, not a result.
#[test]
fn a_score_data_file_in_each_layout_gives_the_same_exams() {
    let mut seen: Vec<Vec<String>> = Vec::new();
    for name in ["ssdf_fixed.txt", "ssdf_caret.txt", "ssdf_comma.csv"] {
        let dir = with_data(&[(name, toms(name))]);
        let (v, messages) = load(dir.path());
        assert!(messages.is_empty(), "{name}: {messages:?}");
        let data = &v.deployment.data;
        assert_eq!(data.exams.len(), 3, "{name}");
        assert!(
            data.student("3000000003").is_some(),
            "{name}: enrolled, not tested"
        );
        // Mia's grade 5 ELA record without a score: expected to test, dated
        // by the file's scored records.
        let [u] = &data.untested[..] else {
            panic!("{name}: {:?}", data.untested)
        };
        assert_eq!((u.school_year, u.grade), (2022, Grade::N(5)), "{name}");
        assert_eq!(
            [u.official.condition_code, u.official.include].map(|t| text(&v, t)),
            ["NT", "N"]
        );
        assert_eq!(
            &*data.institutions.schools[u.school as usize].name,
            "Oak Elementary"
        );
        assert_eq!(
            v.deployment.catalog.families[u.family].id,
            "sb_ela_summative"
        );
        seen.push(data.exams.iter().map(|e| describe(&v, e)).collect());

        let ela = exam(&v, "3000000001", "Grade 5 ELA Summative");
        let s = &data.students[ela.student as usize];
        assert_eq!((&*s.last_name, &*s.first_name), ("Núñez", "José"));
        assert_eq!(
            school_of(&v, ela),
            ("01611920000000", "01611926000001", "Oak Elementary")
        );
        assert_eq!((ela.school_year, ela.grade), (2022, Grade::N(5)));
        assert_eq!(ela.submitted.to_string(), "2022-05-09 00:00:00");
        assert_eq!(
            (ela.overall.level, ela.overall.scale, ela.overall.se),
            (Some(3), Some(2502.0), Some(25.0))
        );
        assert_eq!(ela.completeness, Completeness::Complete);
        assert_eq!(ela.condition, AdminCondition::Valid);
        let o = ela.official.as_ref().unwrap();
        assert_eq!((text(&v, o.measure), text(&v, o.include)), ("1010L", "Y"));
        let d = &ela.demographics;
        assert_eq!(d.sex, Some(scoresite::model::Sex::Female));
        assert_eq!(d.elas, Some(Elas::El));
        assert_eq!(text(&v, d.language), "spa");
        for (flag, want) in [
            (Flag::Iep, true),
            (Flag::Lep, true),
            (Flag::EconomicDisadvantage, true),
            (Flag::Hispanic, true),
            (Flag::Section504, false),
            (Flag::White, false),
        ] {
            assert_eq!(d.get(flag), Some(want), "{name}: {flag:?}");
        }

        let math = exam(&v, "3000000001", "Grade 5 Math Summative");
        assert_eq!(math.completeness, Completeness::Partial);
        let o = math.official.as_ref().unwrap();
        assert_eq!(
            [o.condition_code, o.include, o.measure].map(|t| text(&v, t)),
            ["LOSS", "T", "650Q"]
        );
        assert_eq!((math.overall.level, math.overall.se), (Some(2), Some(29.0)));

        let cast = exam(&v, "3000000002", "Grade 8 CAST Summative");
        assert_eq!(
            &*data.students[cast.student as usize].last_name,
            "O'Neil, Jr"
        );
        assert_eq!(school_of(&v, cast).2, "Pine Middle");
        assert_eq!(cast.claim_levels[..3], [Some(2), Some(1), Some(3)]);
        assert_eq!(cast.overall.se, None);
        assert_eq!(cast.demographics.get(Flag::White), Some(true));
    }
    assert_eq!(seen[0], seen[1], "fixed-width and caret");
    assert_eq!(seen[0], seen[2], "fixed-width and comma");
}

/// A result in a Student Score Data File and in a CERS export is one exam:
/// the export's row (its session, claims and cells) with the file's
/// Lexile measure. Its school is one school, by CDS code and by school code.
#[test]
fn a_result_in_a_score_data_file_and_an_export_is_one_exam() {
    let (header, row) = district_row("2000000001");
    let row = row
        .replace("1111111,North Valley Unified,0601,300,Redwood High,2000000001,Nora,Northfield,2024-04-10 09:00:00,2024", "0161192,Oak Valley Unified,0601,6000001,Oak Elementary,3000000001,José,Núñez,2022-05-09 10:00:00,2022")
        .replace("Grade 11 ELA Summative,ELA,11,Complete,Valid,3,2600,25", "Grade 5 ELA Summative,ELA,05,Complete,Valid,3,2502,25");
    let dir = with_data(&[
        ("export.csv", format!("{header}\n{row}\n")),
        ("ssdf.txt", toms("ssdf_caret.txt")),
    ]);
    let (v, messages) = load(dir.path());
    let data = &v.deployment.data;
    assert_eq!(data.exams.len(), 3, "{messages:?}");
    assert_eq!(data.institutions.schools.len(), 2, "Oak Elementary once");
    let ela = exam(&v, "3000000001", "Grade 5 ELA Summative");
    assert_eq!(text(&v, ela.session), "S-1", "the export's row is kept");
    assert_eq!(ela.submitted.to_string(), "2022-05-09 10:00:00");
    assert_eq!(text(&v, ela.official.as_ref().unwrap().measure), "1010L");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains(
        "1 results of this Student Score Data File are also in a CERS export or TRT file"
    ));

    // Where they disagree, the place of each is named.
    let dir = with_data(&[
        (
            "export.csv",
            format!("{header}\n{}\n", row.replace(",2502,", ",2503,")),
        ),
        ("ssdf.txt", toms("ssdf_caret.txt")),
    ]);
    let (_, messages) = load(dir.path());
    assert!(
        messages.iter().any(|m| m.contains(
            "ssdf.txt:2:1: warning: scale score 2502 here, 2503 for the same result at "
        ) && m.ends_with("export.csv:2; that one is kept")),
        "{messages:?}"
    );
}

/// A bad cell names the file, the line, where the field starts and what
/// was expected; a delimited header without what every report needs names
/// exactly that.
#[test]
fn bad_score_data_files_are_named_where_they_are_wrong() {
    let fixed = toms("ssdf_fixed.txt");
    // Positions count characters: this record's names are not ASCII.
    let first = fixed.lines().next().unwrap();
    let mut chars: Vec<char> = first.chars().collect();
    chars[140..142].copy_from_slice(&['Q', '5']);
    let bad: String = chars.iter().collect();
    let dir = with_data(&[("ssdf.txt", fixed.replacen(first, &bad, 1))]);
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("ssdf.txt:1:141: error: Grade Assessed (field 11, characters 141–142): expected a grade"), "{stderr}");

    // A short record among full ones is named; a file whose records are
    // all of another length is another year's layout, named once.
    let short = format!("{first}\n{}\n", chars[..4000].iter().collect::<String>());
    let dir = with_data(&[("ssdf.txt", short)]);
    let (_, _, stderr) = check(dir.path());
    assert!(
        stderr.contains(
            "ssdf.txt:2:1: error: a record of 4000 characters; expected 4037 ending in ZZ"
        ),
        "{stderr}"
    );
    let other_year: String = fixed
        .lines()
        .map(|l| format!("{}ZZ\n", l.trim_end_matches("ZZ").to_string() + "   "))
        .collect();
    let dir = with_data(&[("ssdf.txt", other_year)]);
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
    assert!(
        stderr.contains(
            "ssdf.txt:1:1: error: a fixed-width CAASPP Student Score Data File with records of 4040 characters; expected 4037 (the 2021–22 layout)"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("load the caret-delimited file"), "{stderr}");

    let caret = toms("ssdf_caret.txt").replacen("^Scale Score^", "^Score^", 1);
    let dir = with_data(&[("ssdf.txt", caret)]);
    let (_, _, stderr) = check(dir.path());
    assert!(stderr.contains("ssdf.txt:1:1: error: the header lacks the CAASPP Student Score Data File fields every report needs: Scale Score\n"), "{stderr}");
}

/// The Lexile and Quantile measures appear on the ISR and as a column of
/// Results by Student (and its CSV); the condition code and include
/// indicator on the ISR.
#[test]
fn lexile_and_quantile_measures_are_shown() {
    use scoresite::render::views;
    let dir = with_data(&[("ssdf.txt", toms("ssdf_caret.txt"))]);
    let (v, _) = load(dir.path());
    let dep = &v.deployment;
    let index = |name: &str| {
        (0..dep.data.exams.len())
            .find(|&e| dep.data.assessments[dep.data.exams[e].assessment as usize].name == name)
            .unwrap()
    };
    let ela = views::isr(dep, index("Grade 5 ELA Summative"), 0, &[]);
    assert_eq!(
        (ela.measure_name.as_str(), ela.measure.as_str()),
        ("Lexile measure", "1010L")
    );
    assert_eq!(ela.official, "include indicator Y");
    let math = views::isr(dep, index("Grade 5 Math Summative"), 1, &[]);
    assert_eq!(
        (math.measure_name.as_str(), math.measure.as_str()),
        ("Quantile measure", "650Q")
    );
    assert_eq!(math.official, "Condition code LOSS · include indicator T");
    // Grade 5 mathematics' Standard Met starts at 2528.
    let score: f32 = math.score.parse().unwrap();
    let d = score - 2528.0;
    let side = if d < 0.0 { "below" } else { "above" };
    assert_eq!(math.dfs, format!("{} {side}", d.abs()));

    let all: Vec<usize> = (0..dep.data.exams.len()).collect();
    let viewer = scoresite::render::filters::Viewer {
        admin: true,
        school: 0,
    };
    let groups = scoresite::access::section_groups(&dep.data, &all);
    let ids = scoresite::access::Ids::new(&dep.data, scoresite::access::PUBLIC_KEY);
    let sections = views::sections(dep, &ids, &groups, Some(viewer), None, &|_| None);
    let math = sections
        .iter()
        .find(|s| s.name == "Grade 5 Math Summative")
        .unwrap();
    assert_eq!(math.measure_name, "Quantile measure");
    assert_eq!(math.rows[0].measure, "650Q");
    let (header, rows) = views::section_csv(math);
    assert_eq!(
        header[header.len() - 2..],
        ["Quantile measure", "Distance from Standard"]
    );
    assert_eq!(rows[0][header.len() - 2], "650Q");
    // Grade 5 mathematics' Standard Met starts at 2528.
    let score: f32 = math.rows[0].score.parse().unwrap();
    assert_eq!(rows[0].last().unwrap(), &(score - 2528.0).to_string());
    let cast = sections
        .iter()
        .find(|s| s.name == "Grade 8 CAST Summative")
        .unwrap();
    assert_eq!(cast.measure_name, "", "no measure, no column");
}

/// A Summative ELPAC Student Score Data File, fixed-width and caret-
/// delimited with the layout's short field names, gives the same exams:
/// overall, oral and written scores and the four domain levels; `NS` is
/// no score; a kindergartner's test is named as CERS names it.
#[test]
fn an_elpac_score_data_file_in_each_layout_gives_the_same_exams() {
    let mut seen: Vec<Vec<String>> = Vec::new();
    for name in ["elpac_fixed.txt", "elpac_caret.txt"] {
        let dir = with_data(&[(name, toms(name))]);
        let (v, messages) = load(dir.path());
        assert!(messages.is_empty(), "{name}: {messages:?}");
        let data = &v.deployment.data;
        assert_eq!(data.exams.len(), 2, "{name}");
        assert!(
            data.student("3000000005").is_some(),
            "{name}: enrolled, not tested"
        );
        seen.push(data.exams.iter().map(|e| describe(&v, e)).collect());

        let jose = exam(&v, "3000000001", "Grade 5 ELPAC Summative");
        let families = &v.deployment.catalog.families;
        assert_eq!(
            families[data.assessments[jose.assessment as usize].family].short_name,
            "Summative ELPAC"
        );
        assert_eq!(
            (jose.overall.level, jose.overall.scale, jose.overall.se),
            (Some(3), Some(1530.0), None)
        );
        let alt = |e: &Exam, n: u8| e.alt.iter().find(|(c, _)| *c == n).map(|(_, s)| *s);
        let oral = alt(jose, 1).unwrap();
        let written = alt(jose, 2).unwrap();
        assert_eq!(
            (oral.level, oral.scale, oral.se),
            (Some(4), Some(1561.0), Some(18.0))
        );
        assert_eq!(
            (written.level, written.scale, written.se),
            (Some(2), Some(1499.0), Some(21.0))
        );
        assert_eq!(jose.claim_levels[..4], [Some(3), Some(2), Some(1), Some(2)]);
        assert_eq!(jose.school_year, 2022);
        assert_eq!(jose.demographics.get(Flag::Migrant), Some(true));

        let ana = exam(&v, "3000000004", "Kindergarten ELPAC Summative");
        assert_eq!(ana.grade, Grade::K);
        assert_eq!(ana.completeness, Completeness::Partial);
        assert!(alt(ana, 2).is_none(), "NS is no score");
        assert_eq!(ana.claim_levels[..4], [Some(2), Some(2), None, None]);
    }
    assert_eq!(seen[0], seen[1], "fixed-width and caret");
}

/// OneRoster 1.1 CSV from the SIS becomes groups and teacher logins as an
/// RDW groups file would: class → group at its org's school (by CDS code),
/// term → school year, course subject → subject (a homeroom: every
/// subject), student identifier → SSID, teacher email → login. Rows to be
/// deleted are passed over; a student without results yet is a member.
#[test]
fn oneroster_classes_become_groups_and_teacher_logins() {
    let (v, messages) = load(&fixture("oneroster"));
    assert!(messages.is_empty(), "{messages:?}");
    let data = &v.deployment.data;
    let ssids = |g: &scoresite::model::Group| -> Vec<String> {
        g.students
            .iter()
            .map(|&s| data.students[s as usize].ssid.to_string())
            .collect()
    };
    assert_eq!(data.groups.len(), 2, "the closed class is passed over");
    let ela = data
        .groups
        .iter()
        .find(|g| g.name == "ELA 5 - Rivera")
        .unwrap();
    assert_eq!(data.institutions.schools[ela.school].name, "Oak Elementary");
    assert_eq!(ela.school_year, 2024);
    assert_eq!(ela.subject.as_deref(), Some("ELA"));
    assert_eq!(ssids(ela), ["4000000001", "4000000002"]);
    assert_eq!(ela.users, ["rivera@oakvalley.example"]);
    let home = data
        .groups
        .iter()
        .find(|g| g.name == "Homeroom 5 - Chen")
        .unwrap();
    assert_eq!(home.subject, None);
    assert_eq!(
        ssids(home),
        ["4000000003", "4000000005"],
        "not the deleted enrollment"
    );
    assert_eq!(home.users, ["chen@oakvalley.example"]);
    let (out, stdout, stderr) = check(&fixture("oneroster"));
    assert!(out.status.success() && stderr.is_empty(), "{stderr}");
    assert!(stdout.contains("data/sis/classes.csv") && stdout.contains("OneRoster 1.1 roster"));
}

/// A class at an org that is no known school, or a term that is not in
/// academicSessions.csv, is an error at its cell; a missing file is named.
#[test]
fn oneroster_errors_name_the_cell() {
    let dir = copy_fixture("oneroster");
    let orgs = dir.path().join("data/sis/orgs.csv");
    common::edit(
        &orgs,
        "Oak Elementary,school,01611926000001",
        "Elm Elementary,school,01611926099999",
    );
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("classes.csv:2:10: error: the org `org-oak` (Elm Elementary, identifier `01611926099999`) is not a known school"), "{stderr}");
    assert!(
        stderr.contains("by its CDS or school code (and 1 more time(s): line 3)"),
        "{stderr}"
    );
    common::edit(
        &orgs,
        "Elm Elementary,school,01611926099999",
        "Oak Elementary,school,01611926000001",
    );
    common::edit(
        &dir.path().join("data/sis/classes.csv"),
        "org-oak,sy-2024,,,\nk-old",
        "org-oak,sy-1999,,,\nk-old",
    );
    let (_, _, stderr) = check(dir.path());
    assert!(stderr.contains("classes.csv:3:11: error: termSourcedIds `sy-1999` names no session in academicSessions.csv"), "{stderr}");

    let dir = copy_fixture("oneroster");
    std::fs::remove_file(dir.path().join("data/sis/enrollments.csv")).unwrap();
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("sis: error: a OneRoster folder needs orgs.csv, academicSessions.csv, classes.csv, users.csv and enrollments.csv"), "{stderr}");
}

/// A later year's delimited file (fields in another order, new fields such
/// as TK Indicator and Country of Origin where blanks were) reads the same:
/// fields are found by name, not position.
#[test]
fn a_delimited_score_data_file_is_read_by_field_name() {
    let text = toms("ssdf_caret.txt");
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('^').collect()).collect();
    let mut order: Vec<usize> = (0..rows[0].len()).collect();
    order.reverse();
    let shuffled: String = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut cells: Vec<&str> = order.iter().map(|&c| r[c]).collect();
            cells.push(if i == 0 { "Country of Origin" } else { "MX" });
            cells.insert(0, if i == 0 { "TK Indicator" } else { "N" });
            cells.join("^") + "\n"
        })
        .collect();
    // Record Type must lead the header: move it back to the front.
    let fixed: String = shuffled
        .lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split('^').collect();
            let at = cells.len() - 2;
            let record_type = cells.remove(at);
            cells.insert(0, record_type);
            cells.join("^") + "\n"
        })
        .collect();
    assert!(fixed.starts_with("Record Type^TK Indicator^"));
    let dir = with_data(&[("later.txt", fixed)]);
    let (v, messages) = load(dir.path());
    assert!(messages.is_empty(), "{messages:?}");
    let dir = with_data(&[("ssdf.txt", text)]);
    let (w, _) = load(dir.path());
    let all = |v: &Validated| -> Vec<String> {
        v.deployment
            .data
            .exams
            .iter()
            .map(|e| describe(v, e))
            .collect()
    };
    assert_eq!(all(&v), all(&w));
}

/// A OneRoster export left zipped in `data/` reads as its folder would; a
/// zip without OneRoster files (a workbook) is named for what it looks like.
#[test]
fn a_zipped_oneroster_export_reads_as_its_folder() {
    use std::io::Write;
    let dir = copy_fixture("oneroster");
    let sis = dir.path().join("data/sis");
    let mut zip =
        zip::ZipWriter::new(std::fs::File::create(dir.path().join("data/sis.zip")).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut names: Vec<_> = std::fs::read_dir(&sis)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in &names {
        let name = path.file_name().unwrap().to_str().unwrap();
        zip.start_file(format!("oneroster/{name}"), options)
            .unwrap();
        zip.write_all(&std::fs::read(path).unwrap()).unwrap();
    }
    zip.finish().unwrap();
    std::fs::remove_dir_all(&sis).unwrap();
    let (v, messages) = load(dir.path());
    assert!(messages.is_empty(), "{messages:?}");
    let groups: Vec<(&str, usize, Vec<String>)> = v
        .deployment
        .data
        .groups
        .iter()
        .map(|g| (g.name.as_str(), g.students.len(), g.users.clone()))
        .collect();
    assert_eq!(
        groups,
        [
            (
                "ELA 5 - Rivera",
                2,
                vec!["rivera@oakvalley.example".to_string()]
            ),
            (
                "Homeroom 5 - Chen",
                2,
                vec!["chen@oakvalley.example".to_string()]
            ),
        ]
    );
    let (_, stdout, _) = check(dir.path());
    assert!(
        stdout.contains("data/sis.zip/oneroster/classes.csv"),
        "{stdout}"
    );

    let mut book =
        zip::ZipWriter::new(std::fs::File::create(dir.path().join("data/book.xlsx")).unwrap());
    book.start_file("xl/workbook.xml", options).unwrap();
    book.write_all(b"<workbook/>").unwrap();
    book.finish().unwrap();
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("book.xlsx:1:1: error: unrecognised file: it looks like a zip archive with no OneRoster CSV file in it, or an Excel workbook (.xlsx); save a sheet as CSV (UTF-8)"), "{stderr}");
}

/// A Student Score Data File whose records all lack a score cannot say
/// the school year they are for: they are left out with a warning.
#[test]
fn records_without_a_score_need_a_scored_record_to_date_them() {
    let text = toms("ssdf_caret.txt");
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let untested = lines.find(|l| l.contains("^NT^")).unwrap();
    let dir = with_data(&[("ssdf.txt", format!("{header}\n{untested}\n"))]);
    let (v, messages) = load(dir.path());
    assert!(v.deployment.data.untested.is_empty());
    assert!(v.deployment.data.student("3000000003").is_some());
    assert!(
        messages
            .iter()
            .any(|m| m.contains("ssdf.txt:1:1") && m.contains("1 records without a score")),
        "{messages:?}"
    );
}

/// A file named `.xml` is read once, its content recognised as it is
/// parsed: TRT as TRT; an export or a groups file so named loads as it would
/// under its own name; an empty file, another XML document and bytes that
/// are not text are reported as they are when recognised up front; and an
/// institutions file so named is an error, since institutions are read
/// before any results.
#[test]
fn a_file_named_xml_is_recognised_by_its_content() {
    let all_exams = |v: &Validated| {
        let mut lines: Vec<String> = v
            .deployment
            .data
            .exams
            .iter()
            .map(|e| describe(v, e))
            .collect();
        lines.sort();
        lines
    };
    let groups = |v: &Validated| {
        let data = &v.deployment.data;
        data.groups
            .iter()
            .map(|g| (g.name.clone(), g.students.len(), g.users.clone()))
            .collect::<Vec<_>>()
    };
    // Messages with the deployment's folder left out and the files named alike.
    let said = |dir: &Path, messages: Vec<String>| -> Vec<String> {
        let root = format!("{}/", dir.display());
        messages
            .iter()
            .map(|m| {
                m.replace(&root, "")
                    .replace(".XML", ".csv")
                    .replace(".xml", ".csv")
            })
            .map(|m| {
                m.replace("trt_iab.csv", "trt_iab.xml")
                    .replace("trt_reset.csv", "trt_reset.xml")
            })
            .collect()
    };
    let named = copy_fixture("quirks");
    let (expected, messages) = load(named.path());
    let expected_messages = said(named.path(), messages);
    assert!(!expected.deployment.data.groups.is_empty());

    let dir = copy_fixture("quirks");
    let data = dir.path().join("data");
    for (from, to) in [
        ("export_59_plain.csv", "export_59_plain.xml"),
        ("groups_cr.csv", "groups_cr.XML"),
    ] {
        std::fs::rename(data.join(from), data.join(to)).unwrap();
    }
    let (v, messages) = load(dir.path());
    assert_eq!(said(dir.path(), messages), expected_messages);
    assert_eq!(all_exams(&v), all_exams(&expected));
    assert_eq!(groups(&v), groups(&expected));

    std::fs::write(data.join("blank.xml"), "\n  \n").unwrap();
    std::fs::write(
        data.join("other.xml"),
        "<?xml version=\"1.0\"?>\n<Other/>\n",
    )
    .unwrap();
    std::fs::write(
        data.join("orgs.xml"),
        "lea_id,lea_name,school_id,school_name\n",
    )
    .unwrap();
    std::fs::write(data.join("bytes.xml"), b"<TDSReport>\n\xff\xfe</TDSReport>").unwrap();
    let (out, _, stderr) = check(dir.path());
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for expected in [
        "blank.xml: warning: empty file; ignored",
        "other.xml:1:1: error: unrecognised file: it looks like an XML document whose root is not <TDSReport>",
        "orgs.xml: error: institutions CSV named as XML; expected TRT XML in a file named .xml",
        "bytes.xml:2:1: error: invalid UTF-8; expected a UTF-8 text file",
    ] {
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
    }
    // The misnamed export and groups still load beside the errors.
    let (v, _) = load(dir.path());
    assert_eq!(all_exams(&v), all_exams(&expected));
}

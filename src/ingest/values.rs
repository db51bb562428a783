//! Cell parsers shared by every input format. Each returns `Err(expected)`, a
//! phrase saying what the cell should have held, for the caller to place.

use crate::catalog::Level;
use crate::model::{AdminCondition, Completeness, Grade};
use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use std::collections::BTreeSet;
use std::sync::LazyLock;

/// What a cell should have held.
pub type Expected = String;

/// `cell` without surrounding whitespace, as `str::trim` gives it; a cell
/// that starts and ends with a printable ASCII character, as most do, is
/// given back without decoding its ends.
pub fn trim(cell: &str) -> &str {
    let kept = |b: u8| b.is_ascii() && !matches!(b, b'\t'..=b'\r' | b' ');
    match cell.as_bytes() {
        [] => cell,
        [only] if kept(*only) => cell,
        [first, .., last] if kept(*first) && kept(*last) => cell,
        _ => cell.trim(),
    }
}

/// A cell with surrounding whitespace removed; `None` when blank.
pub fn opt(cell: &str) -> Option<&str> {
    let t = trim(cell);
    (!t.is_empty()).then_some(t)
}

/// True for a number Excel has rewritten in scientific notation (`3.53E+19`).
pub fn is_excel_mangled(cell: &str) -> bool {
    let t = trim(cell);
    let Some((mantissa, exp)) = t.split_once(['E', 'e']) else {
        return false;
    };
    let exp = exp.strip_prefix('+').unwrap_or(exp);
    !mantissa.is_empty()
        && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
        && mantissa.chars().next().is_some_and(|c| c.is_ascii_digit())
        && !exp.is_empty()
        && exp.chars().all(|c| c.is_ascii_digit())
}

/// An identifier (SSID, school or district id): required, and never Excel-mangled.
pub fn id(cell: &str) -> Result<&str, Expected> {
    let t = trim(cell);
    if t.is_empty() {
        return Err("an identifier, found a blank cell".into());
    }
    if is_excel_mangled(t) {
        return Err(format!(
            "an identifier, found `{t}`: Excel has turned a long number into scientific notation and its digits are lost. \
             Download the file again and open it with the column formatted as Text (or don't resave it from Excel)"
        ));
    }
    Ok(t)
}

/// A number; blank is `None`.
pub fn number(cell: &str) -> Result<Option<f32>, Expected> {
    match opt(cell) {
        None => Ok(None),
        Some(t) => t
            .parse::<f32>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| format!("a number, found `{t}`")),
    }
}

/// A level 1–6, written `2` or `Level 2`; blank is `None`.
pub fn level(cell: &str) -> Result<Option<u8>, Expected> {
    let Some(t) = opt(cell) else { return Ok(None) };
    let digits = t
        .strip_prefix("Level")
        .or_else(|| t.strip_prefix("level"))
        .map(trim)
        .unwrap_or(t);
    match digits.parse::<u8>() {
        Ok(n @ 1..=6) => Ok(Some(n)),
        _ => Err(format!("a level 1-6, found `{t}`")),
    }
}

/// A grade (`05`, `5`, `G6`, `KG`, `UG` …); required.
pub fn grade(cell: &str) -> Result<Grade, Expected> {
    let t = trim(cell);
    Grade::parse(t).ok_or_else(|| format!("a grade (KG, 01-13, G6, TK, UG …), found `{t}`"))
}

/// A school year: `2024`, or a span `2023-24` / `2023-2024` meaning its end year.
pub fn school_year(cell: &str) -> Result<u16, Expected> {
    let t = trim(cell);
    let bad = || format!("a four-digit school year such as 2024, found `{t}`");
    let year = match t.split_once(['-', '–']) {
        Some((start, end)) => {
            let start: u16 = start.trim().parse().map_err(|_| bad())?;
            let end: u16 = end.trim().parse().map_err(|_| bad())?;
            match end {
                e if e < 100 && (start + 1) % 100 == e => start + 1,
                e if e == start + 1 => e,
                _ => return Err(bad()),
            }
        }
        None => t.parse().map_err(|_| bad())?,
    };
    if (1900..=9999).contains(&year) && t.len() >= 4 {
        Ok(year)
    } else {
        Err(bad())
    }
}

/// Date-time forms. CERS's own (`2018-04-26 05:00:39.734000`) come first, as
/// the most common; no slashed form reads a dashed date or the other way
/// round. Two-digit years (`5/19/22 13:07`, what Excel writes when it
/// resaves a CSV) come before four-digit ones, which chrono would
/// otherwise read as the year 22.
const DATETIME_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%m/%d/%y %H:%M:%S",
    "%m/%d/%y %H:%M",
    "%m/%d/%y %I:%M:%S %p",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
];

/// [`DATETIME_FORMATS`] parsed once, rather than once per cell.
static DATETIME_ITEMS: LazyLock<Vec<Vec<Item<'static>>>> = LazyLock::new(|| {
    DATETIME_FORMATS
        .iter()
        .map(|f| StrftimeItems::new(f).parse().expect("a valid format"))
        .collect()
});

const DATE_FORMATS: &[&str] = &[
    "%m/%d/%y",
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%Y/%m/%d",
    "%Y%m%d",
    "%m-%d-%Y",
    "%d-%b-%y",
    "%d-%b-%Y",
    "%B %d, %Y",
    "%b %d, %Y",
];

/// Years a test date, start date or birth date can fall in.
const PLAUSIBLE_YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

/// A date and time in any form CERS exports and spreadsheets produce:
/// `2018-04-26 05:00:39.734000`, `2024-04-08T05:00:39Z`, `04/08/2024`,
/// `4/8/2024 5:00 AM`, `2024-04-08`, `20240408`. A bare date is midnight.
pub fn datetime(cell: &str) -> Result<NaiveDateTime, Expected> {
    let t = trim(cell);
    let core = t.strip_suffix('Z').unwrap_or(t);
    let core = strip_offset(core);
    let parsed = iso_datetime(core)
        .or_else(|| by_formats(core))
        .ok_or_else(|| {
            format!("a date such as 2024-04-08, 04/08/2024 or 2024-04-08 13:05:00, found `{t}`")
        })?;
    if !PLAUSIBLE_YEARS.contains(&parsed.year()) {
        return Err(format!(
            "a date between {} and {}, found `{t}` (the year {})",
            PLAUSIBLE_YEARS.start(),
            PLAUSIBLE_YEARS.end(),
            parsed.year()
        ));
    }
    Ok(parsed)
}

/// A date; blank is `None`. Takes the same forms as [`datetime`] and drops any time.
pub fn date(cell: &str) -> Result<Option<NaiveDate>, Expected> {
    match opt(cell) {
        None => Ok(None),
        Some(t) => datetime(t).map(|dt| Some(dt.date())),
    }
}

/// `t` read by the first of [`DATETIME_FORMATS`] that reads it, or as a
/// bare date at midnight.
fn by_formats(t: &str) -> Option<NaiveDateTime> {
    DATETIME_ITEMS
        .iter()
        .find_map(|items| {
            let mut parsed = Parsed::new();
            chrono::format::parse(&mut parsed, t, items.iter()).ok()?;
            parsed.to_naive_datetime_with_offset(0).ok()
        })
        .or_else(|| date_only(t).and_then(|d| d.and_hms_opt(0, 0, 0)))
}

/// CERS's own form, `2018-04-26 05:00:39.734000` (or with `T`, fraction
/// optional, up to nine digits), read without chrono's format parser, which
/// ingest would otherwise run on every row. Any other shape, or a value
/// out of range (a leap second among them), is left to the formats.
fn iso_datetime(t: &str) -> Option<NaiveDateTime> {
    let b = t.as_bytes();
    let num = |from: usize, to: usize| -> Option<u32> {
        let digits = b.get(from..to)?;
        digits.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')];
    if b.len() < 19
        || !separators
            .iter()
            .all(|&(i, c)| b[i] == c || (i == 10 && b[i] == b'T'))
    {
        return None;
    }
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            num(20, b.len())? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    let second = num(17, 19).filter(|&s| s < 60)?;
    NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?.and_hms_nano_opt(
        num(11, 13)?,
        num(14, 16)?,
        second,
        nanos,
    )
}

fn date_only(t: &str) -> Option<NaiveDate> {
    DATE_FORMATS
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
}

/// Drops a trailing `+07:00` / `-0800` UTC offset from an ISO date-time.
fn strip_offset(t: &str) -> &str {
    if let Some(tpos) = t.find('T') {
        if let Some(p) = t[tpos..].rfind(['+', '-']) {
            return &t[..tpos + p];
        }
    }
    t
}

/// Yes/No (also Y/N, True/False, 1/0); blank is `None`.
pub fn yes_no(cell: &str) -> Result<Option<bool>, Expected> {
    let Some(t) = opt(cell) else { return Ok(None) };
    if is_any(t, &["yes", "y", "true", "1"]) {
        Ok(Some(true))
    } else if is_any(t, &["no", "n", "false", "0"]) {
        Ok(Some(false))
    } else {
        Err(format!("Yes, No or blank, found `{t}`"))
    }
}

/// Whether `t` is one of `words`, ignoring ASCII case.
fn is_any(t: &str, words: &[&str]) -> bool {
    words.iter().any(|w| t.eq_ignore_ascii_case(w))
}

/// Completeness: `Complete` or `Partial`.
pub fn completeness(cell: &str) -> Result<Completeness, Expected> {
    let t = trim(cell);
    if t.eq_ignore_ascii_case("complete") {
        Ok(Completeness::Complete)
    } else if t.eq_ignore_ascii_case("partial") {
        Ok(Completeness::Partial)
    } else {
        Err(format!(
            "Complete or Partial, found `{}`",
            t.to_ascii_lowercase()
        ))
    }
}

/// Administration condition: `Valid`, `IN`, `SD` or `NS`.
pub fn condition(cell: &str) -> Result<AdminCondition, Expected> {
    let t = trim(cell);
    AdminCondition::parse(t).ok_or_else(|| format!("Valid, IN (invalid), SD or NS, found `{t}`"))
}

/// A level of a family whose levels are `levels`: a number as [`level`]
/// reads it, or a label as CERS's Student Roster exports write it. A label
/// matches a level's name or short name in any word order (`Exceeded
/// Standard` is `Standard Exceeded`; `Did Not Meet Standard` is `Standard
/// Not Met`), or names one level only with fewer words (`Somewhat/
/// Moderately`); else a label with one digit (`Range 2`, `Level 2 –
/// Alternate`, `Standard Met – Level 3`) is that level.
pub fn level_named(cell: &str, levels: &[Level]) -> Result<Option<u8>, Expected> {
    let Some(t) = opt(cell) else { return Ok(None) };
    if let Ok(n) = level(t) {
        return Ok(n);
    }
    let said = words(t);
    let names = |l: &Level| [words(&l.name), words(&l.short_name)];
    if let Some(l) = levels.iter().find(|l| names(l).contains(&said)) {
        return Ok(Some(l.level));
    }
    let fewer: Vec<&Level> = levels
        .iter()
        .filter(|l| names(l).iter().any(|n| said.is_subset(n)))
        .collect();
    if let [l] = fewer[..] {
        return Ok(Some(l.level));
    }
    let digits: Vec<u8> = t
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|d| d.parse().ok())
        .collect();
    match digits[..] {
        [n] if levels.iter().any(|l| l.level == n) => Ok(Some(n)),
        _ => Err(format!(
            "a level ({}), found `{t}`",
            levels
                .iter()
                .map(|l| format!("{} {}", l.level, l.name))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// A label's words, lower-case, with CERS's "did not meet" read as "not met".
fn words(label: &str) -> BTreeSet<String> {
    let lower = label.to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && *w != "did")
        .map(|w| if w == "meet" { "met" } else { w }.to_string())
        .collect()
}

/// A Student Roster export's Status: an administration condition (Valid,
/// Invalid, SD, NS) or a completeness (Complete, Partial); the other is not
/// reported. Blank reports neither.
pub fn status(cell: &str) -> Result<(Completeness, AdminCondition), Expected> {
    let Some(t) = opt(cell) else {
        return Ok((Completeness::NotReported, AdminCondition::NotReported));
    };
    if let Ok(c) = completeness(t) {
        return Ok((c, AdminCondition::NotReported));
    }
    AdminCondition::parse(t)
        .map(|c| (Completeness::NotReported, c))
        .ok_or_else(|| {
            format!("Valid, Invalid, Complete, Partial, Standardized (SD) or Nonstandardized (NS), found `{t}`")
        })
}

/// The grade an assessment is for, from its name: `Grade 8 ELA …` → 8,
/// `Kindergarten ELPAC …` → K, `CAA Science Grade 5 …` → 5. A `High School …`
/// assessment (IABs and FIABs taken in grades 9–10, CAST, CSA) is reported on
/// the grade 11 scale, as CERS reports it.
pub fn grade_in_name(name: &str) -> Option<Grade> {
    let lower = name.to_ascii_lowercase();
    if lower.contains("kindergarten") {
        return Some(Grade::K);
    }
    if lower.starts_with("high school") {
        return Some(Grade::N(11));
    }
    let mut words = name.split_whitespace();
    while let Some(w) = words.next() {
        if w.eq_ignore_ascii_case("grade") {
            return words.next().and_then(Grade::parse);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_gives_what_str_trim_gives() {
        let ends = [
            "", " ", "\t", "\n", "\u{b}", "\u{c}", "\r", "\u{a0}", "\u{2003}", "\u{3000}",
            "\u{1c}", "x", "é", "-", "\u{feff}",
        ];
        for a in ends {
            for b in ends {
                for middle in ["", "a", "2451", "a b", " "] {
                    let cell = format!("{a}{middle}{b}");
                    assert_eq!(trim(&cell), cell.trim(), "{cell:?}");
                }
            }
        }
    }

    fn levels(names: &[(&str, &str)]) -> Vec<Level> {
        names
            .iter()
            .zip(1..)
            .map(|(&(name, short), level)| Level {
                level,
                name: name.into(),
                short_name: short.into(),
                description: String::new(),
            })
            .collect()
    }

    #[test]
    fn cers_date_times_read_as_chrono_reads_them() {
        let cells = [
            "2018-04-26 05:00:39.734000",
            "2018-04-26T05:00:39.734000",
            "2018-04-26 05:00:39",
            "2018-04-26 05:00:39.7",
            "2018-04-26 05:00:39.123456789",
            "2024-02-29 23:59:59.999999",
            "2023-02-29 10:00:00",
            "2018-13-01 05:00:39",
            "2018-04-31 05:00:39",
            "2018-04-26 24:00:00",
            "2018-04-26 05:60:00",
            "2018-04-26 05:00:60",
            "2018-04-26 05:00:39.",
            "2018-04-26 05:00:39.1234567890",
            "2018-04-26 05:00:39x",
            "2018-4-26 05:00:39",
            "2018-04-26 5:00:39",
            "2018/04/26 05:00:39",
            "2018-04-26 05:0a:39",
            "+2018-04-26 05:00:39",
        ];
        for cell in cells {
            if let Some(fast) = iso_datetime(cell) {
                assert_eq!(Some(fast), by_formats(cell), "{cell}");
            }
        }
        assert!(iso_datetime("2018-04-26 05:00:39.734000").is_some());
        assert!(iso_datetime("2018-04-26 05:00:60").is_none());
    }

    #[test]
    fn levels_by_the_labels_cers_rosters_write() {
        let sb = levels(&[
            ("Standard Not Met", "Not Met"),
            ("Standard Nearly Met", "Nearly Met"),
            ("Standard Met", "Met"),
            ("Standard Exceeded", "Exceeded"),
        ]);
        let read = |cell: &str, l: &[Level]| level_named(cell, l);
        for (cell, want) in [
            ("Standard Not Met", 1),
            ("Did Not Meet Standard", 1),
            ("Nearly Met Standard", 2),
            ("met standard", 3),
            ("Exceeded Standard", 4),
            ("Standard Met – Level 3", 3),
            ("Level 2", 2),
            ("4", 4),
        ] {
            assert_eq!(read(cell, &sb), Ok(Some(want)), "{cell}");
        }
        assert_eq!(read(" ", &sb), Ok(None));
        assert!(read("Standard", &sb)
            .unwrap_err()
            .contains("1 Standard Not Met"));
        assert!(read("Above Standard", &sb).is_err());
        let category = levels(&[
            ("Below Standard", "Below"),
            ("Near Standard", "Near"),
            ("Above Standard", "Above"),
        ]);
        assert_eq!(read("Above Standard", &category), Ok(Some(3)));
        assert_eq!(read("Range 2", &category), Ok(Some(2)));
        assert!(read("Range 7", &category).is_err());
        let domain = levels(&[
            ("Beginning to Develop", "Beginning"),
            ("Somewhat/Moderately Developed", "Somewhat"),
            ("Well Developed", "Well"),
        ]);
        assert_eq!(read("Somewhat/Moderately", &domain), Ok(Some(2)));
        assert_eq!(read("Well Developed", &domain), Ok(Some(3)));
        // The CAA as CERS names its levels; the layout's "Level n—Alternate"
        // labels still read.
        let catalog = crate::catalog::Catalog::builtin().unwrap();
        let caa = &catalog.families[catalog.family("caa_ela").unwrap()].levels;
        assert_eq!(read("Limited Understanding", caa), Ok(Some(1)));
        assert_eq!(read("Foundational Understanding", caa), Ok(Some(2)));
        assert_eq!(read("Understanding", caa), Ok(Some(3)));
        assert_eq!(read("Level 2 – Alternate", caa), Ok(Some(2)));
        assert_eq!(read("Level 3—Alternate", caa), Ok(Some(3)));
    }

    #[test]
    fn roster_status_is_a_condition_or_a_completeness() {
        assert_eq!(
            status("Valid"),
            Ok((Completeness::NotReported, AdminCondition::Valid))
        );
        assert_eq!(
            status("Partial"),
            Ok((Completeness::Partial, AdminCondition::NotReported))
        );
        assert_eq!(
            status("Nonstandardized"),
            Ok((Completeness::NotReported, AdminCondition::Nonstandardized))
        );
        assert!(status("Maybe").is_err());
    }

    fn dt(s: &str) -> String {
        datetime(s).unwrap().format("%Y-%m-%d %H:%M:%S").to_string()
    }

    #[test]
    fn date_formats_seen_in_exports() {
        assert_eq!(dt("2018-04-26 05:00:39.734000"), "2018-04-26 05:00:39");
        assert_eq!(dt("04/08/2024"), "2024-04-08 00:00:00");
        assert_eq!(dt("4/8/2024 5:07 PM"), "2024-04-08 17:07:00");
        assert_eq!(dt("2024-04-08"), "2024-04-08 00:00:00");
        assert_eq!(dt("2024-04-08T05:00:39Z"), "2024-04-08 05:00:39");
        assert_eq!(dt("2016-10-13T02:32:24.972"), "2016-10-13 02:32:24");
        assert_eq!(dt("2024-04-08T05:00:39-07:00"), "2024-04-08 05:00:39");
        assert_eq!(dt("20240408"), "2024-04-08 00:00:00");
        assert!(datetime("13/45/2024").is_err());
        // Excel's resaved dates: two-digit years are this century's.
        assert_eq!(dt("5/19/22 13:07"), "2022-05-19 13:07:00");
        assert_eq!(dt("5/19/22"), "2022-05-19 00:00:00");
        assert_eq!(dt("5/19/22 1:07 PM"), "2022-05-19 13:07:00");
        assert_eq!(dt("5/19/2022 13:07"), "2022-05-19 13:07:00");
        // Roster exports' spelled-out dates.
        assert_eq!(dt("13-Jan-22"), "2022-01-13 00:00:00");
        assert_eq!(dt("May 9, 2023"), "2023-05-09 00:00:00");
        // Impossible dates are errors that say why.
        assert!(datetime("2/30/2024").is_err());
        assert!(datetime("0022-05-19").unwrap_err().contains("the year 22"));
        assert!(datetime("yesterday").unwrap_err().contains("`yesterday`"));
    }

    #[test]
    fn excel_mangled_ids_are_rejected() {
        assert!(is_excel_mangled("3.53E+19"));
        assert!(is_excel_mangled("1.23457e+13"));
        assert!(is_excel_mangled("5E+13"));
        assert!(!is_excel_mangled("CA-E644-140"));
        assert!(!is_excel_mangled("13999"));
        assert!(!is_excel_mangled("E12"));
        assert!(id("3.53E+19").unwrap_err().contains("scientific notation"));
        assert_eq!(id(" 062515012556 ").unwrap(), "062515012556");
        assert!(id("").is_err());
    }

    #[test]
    fn numbers_levels_years() {
        assert_eq!(number("214.5").unwrap(), Some(214.5));
        assert_eq!(number("").unwrap(), None);
        assert!(number("abc").is_err());
        assert_eq!(level("2").unwrap(), Some(2));
        assert_eq!(level("Level 3").unwrap(), Some(3));
        assert_eq!(level(" ").unwrap(), None);
        assert!(level("7").is_err());
        assert_eq!(school_year("2024").unwrap(), 2024);
        assert_eq!(school_year("2023-24").unwrap(), 2024);
        assert_eq!(school_year("2023-2024").unwrap(), 2024);
        assert!(school_year("24").is_err());
        assert!(school_year("2023-26").is_err());
    }

    #[test]
    fn grades_in_assessment_names() {
        assert_eq!(
            grade_in_name("Grade 8 ELA - Editing (FIAB)"),
            Some(Grade::N(8))
        );
        assert_eq!(
            grade_in_name("Kindergarten ELPAC IA-Listening I"),
            Some(Grade::K)
        );
        assert_eq!(
            grade_in_name("CAA Science Grade 5 Summative"),
            Some(Grade::N(5))
        );
        assert_eq!(
            grade_in_name("High School CAST IA-Earth and Space Sciences I"),
            Some(Grade::N(11))
        );
        assert_eq!(
            grade_in_name("High School ELA - Research (IAB)"),
            Some(Grade::N(11))
        );
        assert_eq!(grade_in_name("Interim Block"), None);
    }
}

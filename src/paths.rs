//! The URL scheme: every page's path, from the stable ids of the site map.
//! All links are relative, so a site works from any static host and from
//! `file://`.
//!
//! ```text
//! index.html                  the role chooser (sandbox) or the logon shell
//! help/NAME.html              help and interpretive guide
//! b/BUNDLE/index.html         a bundle's home page
//! b/BUNDLE/UNIT.html          a results unit's entry page (UNIT: g-GROUP, s-SCHOOL-GRADE)
//! b/BUNDLE/UNIT-SECTION.html  one assessment and year of the unit (SECTION: aYEAR-NAME)
//! b/BUNDLE/UNIT-SECTION.csv   its Results by Student
//! b/BUNDLE/UNIT-SECTION-analysis.html   its item analysis
//! b/BUNDLE/dashboard.html     an administrator's Dashboard preview
//! b/BUNDLE/agg-FAMILY.html    a custom aggregate report
//! b/BUNDLE/export-YEAR.csv    the District/School Export of a school year
//! b/BUNDLE/manifest.json      the bundle's list of pages (secure build)
//! r/ID.html                   a student's history and reports
//! p/ID.html                   a batch print of one assessment's reports
//! e/ID.csv                    one school's rows of a year's District/School
//!                             Export (secure build; the bundle's
//!                             export-YEAR.csv lists its parts)
//! ```

/// From a bundle's page to the site's root.
pub const ROOT: &str = "../../";

/// Bundle `id`'s home page, from the root.
pub fn home(id: &str) -> String {
    format!("b/{id}/index.html")
}

/// A page of bundle `id`, from the root.
pub fn in_bundle(id: &str, page: &str) -> String {
    format!("b/{id}/{page}")
}

/// Bundle `id`'s list of pages, from the root.
pub fn manifest(id: &str) -> String {
    in_bundle(id, "manifest.json")
}

/// A student report, from the root.
pub fn report(id: &str) -> String {
    format!("r/{id}.html")
}

/// A batch print, from the root.
pub fn print(id: &str) -> String {
    format!("p/{id}.html")
}

/// One school's rows of a year's District/School Export, from the root.
pub fn export_part(id: &str) -> String {
    format!("e/{id}.csv")
}

/// A unit's entry page, in its bundle.
pub fn unit(unit: &str) -> String {
    format!("{unit}.html")
}

/// A unit's page of one assessment section, in its bundle.
pub fn section(unit: &str, section: &str) -> String {
    format!("{unit}-{section}.html")
}

/// The Results by Student CSV of a section, in its bundle.
pub fn section_csv(unit: &str, section: &str) -> String {
    format!("{unit}-{section}.csv")
}

/// The item analysis of a section, in its bundle.
pub fn analysis(unit: &str, section: &str) -> String {
    format!("{unit}-{section}-analysis.html")
}

/// The custom aggregate report of a family, in its bundle.
pub fn aggregate(family: &str) -> String {
    format!("agg-{family}.html")
}

/// The District/School Export of a school year, in its bundle.
pub fn export(year: u16) -> String {
    format!("export-{year}.csv")
}

/// The Dashboard preview, in its bundle.
pub const DASHBOARD: &str = "dashboard.html";

/// A help page, from the root.
pub fn help(name: &str) -> String {
    format!("help/{name}.html")
}

//! Rendering: tera templates from `site-templates/`, Markdown help pages
//! through pulldown-cmark, and the views (page data) the templates show.

pub mod analysis;
pub mod export;
pub mod filters;
pub mod isr;
pub mod longitudinal;
pub mod svg;
pub mod views;

use anyhow::{Context as _, Result};
use serde::Serialize;

/// The templates, compiled into the binary so that it runs from anywhere.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../site-templates/base.html")),
    (
        "landing.html",
        include_str!("../../site-templates/landing.html"),
    ),
    ("home.html", include_str!("../../site-templates/home.html")),
    (
        "results.html",
        include_str!("../../site-templates/results.html"),
    ),
    (
        "assessment.html",
        include_str!("../../site-templates/assessment.html"),
    ),
    (
        "chooser.html",
        include_str!("../../site-templates/chooser.html"),
    ),
    (
        "student.html",
        include_str!("../../site-templates/student.html"),
    ),
    ("isr.html", include_str!("../../site-templates/isr.html")),
    (
        "aggregate.html",
        include_str!("../../site-templates/aggregate.html"),
    ),
    (
        "analysis.html",
        include_str!("../../site-templates/analysis.html"),
    ),
    (
        "print.html",
        include_str!("../../site-templates/print.html"),
    ),
    ("help.html", include_str!("../../site-templates/help.html")),
    (
        "dashboard.html",
        include_str!("../../site-templates/dashboard.html"),
    ),
    (
        "logon.html",
        include_str!("../../site-templates/shell/logon.html"),
    ),
    (
        "enrol.html",
        include_str!("../../site-templates/shell/enrol.html"),
    ),
];

/// Static assets copied into every site.
pub const ASSETS: &[(&str, &str)] = &[
    (
        "assets/site.css",
        include_str!("../../site-templates/assets/site.css"),
    ),
    (
        "assets/site.js",
        include_str!("../../site-templates/assets/site.js"),
    ),
];

/// The secure site's logon shell: its scripts and the vendored typage build
/// (rebuilt by `tools/vendor-age/build.sh`) with the licences it carries.
pub const SHELL_ASSETS: &[(&str, &[u8])] = &[
    (
        "assets/shell.js",
        include_bytes!("../../site-templates/assets/shell.js"),
    ),
    (
        "assets/worker.js",
        include_bytes!("../../site-templates/assets/worker.js"),
    ),
    (
        "assets/enrol.js",
        include_bytes!("../../site-templates/assets/enrol.js"),
    ),
    (
        "assets/vendor/age.js",
        include_bytes!("../../site-templates/assets/vendor/age.js"),
    ),
    (
        "assets/vendor/LICENSES.txt",
        include_bytes!("../../site-templates/assets/vendor/LICENSES.txt"),
    ),
];

/// Help and interpretive-guide pages: (output name, title, Markdown).
pub const CONTENT: &[(&str, &str, &str)] = &[
    (
        "index",
        "Help",
        include_str!("../../site-templates/content/index.md"),
    ),
    (
        "reading-reports",
        "Reading the reports",
        include_str!("../../site-templates/content/reading-reports.md"),
    ),
    (
        "dashboard",
        "Distance from Standard and the Dashboard preview",
        include_str!("../../site-templates/content/dashboard.md"),
    ),
];

/// The compiled templates.
pub struct Renderer {
    tera: tera::Tera,
}

impl Renderer {
    /// Compiles the built-in templates.
    pub fn new() -> Result<Renderer> {
        let mut tera = tera::Tera::default();
        tera.add_raw_templates(TEMPLATES.iter().copied())
            .context("site templates")?;
        tera.autoescape_on(vec![".html"]);
        Ok(Renderer { tera })
    }

    /// Renders `template` with `view` as its context.
    pub fn render(&self, template: &str, view: &impl Serialize) -> Result<String> {
        let ctx =
            tera::Context::from_serialize(view).with_context(|| format!("view for {template}"))?;
        self.tera
            .render(template, &ctx)
            .with_context(|| format!("rendering {template}"))
    }
}

/// Our own Markdown content as HTML. Never given data-derived text.
pub fn markdown(text: &str) -> String {
    let mut html = String::new();
    let options = pulldown_cmark::Options::ENABLE_TABLES;
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new_ext(text, options));
    html
}

/// JSON to embed in a page's `<script type="application/json">`: `<`, `>`
/// and `&` are written as `\u003c`, `\u003e` and `\u0026` (they can only
/// occur inside strings), so no data can close the script or open a comment.
pub fn script_json(value: &impl serde::Serialize) -> serde_json::Result<String> {
    Ok(serde_json::to_string(value)?
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026"))
}

/// A CSV cell that a spreadsheet will not run as a formula: a cell that
/// begins with a formula character and is not a plain number gets a
/// leading `'`.
pub fn csv_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') if cell.parse::<f64>().is_err() => {
            format!("'{cell}").into()
        }
        _ => cell.into(),
    }
}

/// Writes `cells` as one record of `w`, each made [`csv_safe`].
pub fn safe_record<'a, W: std::io::Write>(
    w: &mut csv::Writer<W>,
    cells: impl IntoIterator<Item = &'a str>,
) -> csv::Result<()> {
    for cell in cells {
        w.write_field(csv_safe(cell).as_bytes())?;
    }
    w.write_record(None::<&[u8]>)
}

/// A CSV document of `rows` under `header`, with formulas neutralised and
/// a UTF-8 byte-order mark, without which Excel garbles accented names.
pub fn csv(header: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(header)?;
    for row in rows {
        safe_record(&mut w, row.iter().map(String::as_str))?;
    }
    Ok(w.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_for_excel_has_a_byte_order_mark() {
        let bytes = csv(&["Student"], &[vec!["Núñez, José".into()]]).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "\u{feff}Student\n\"Núñez, José\"\n"
        );
    }

    #[test]
    fn embedded_json_cannot_leave_its_script() {
        let name = "Oak <!--<script>--> & </script>";
        let text = script_json(&serde_json::json!({ "school": name })).unwrap();
        assert!(
            !text.contains('<') && !text.contains('>') && !text.contains('&'),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["school"], name);
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_safe("+A1*2"), "'+A1*2");
        assert_eq!(csv_safe("+1"), "+1", "a plain number stays a number");
        assert_eq!(csv_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_safe("2510"), "2510");
        assert_eq!(csv_safe("-0.25"), "-0.25");
        let out = String::from_utf8(csv(&["name"], &[vec!["-2+3".into()]]).unwrap()).unwrap();
        assert_eq!(out, "\u{feff}name\n'-2+3\n");
    }

    #[test]
    fn templates_compile() {
        Renderer::new().unwrap();
    }
}

//! Instructional resources (`instructional_resources.yaml`): links an LEA
//! shows with results, as CERS does, on Individual Student Reports and on an
//! assessment's results page, for an assessment or a whole family, and for
//! one achievement level or all.
//!
//! ```yaml
//! resources:
//!   - family: sb_math_iab          # or assessment: "Grade 5 Math - Geometry (IAB)"
//!     level: 1                     # optional: only results at this level
//!     label: "Tools for Teachers: mathematics strategies"
//!     url: "https://smartertoolsforteachers.org/"
//! ```

use crate::catalog::Catalog;
use crate::diag::{Diagnostics, Location};
use crate::yaml;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The sandbox's instructional resources.
pub const SANDBOX: &str = include_str!("../sandbox-data/instructional_resources.yaml");

/// A deployment's instructional resources.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    pub resources: Vec<Resource>,
}

/// One link, for an assessment (by name) or a family (by catalog id).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    #[serde(default)]
    pub assessment: Option<String>,
    #[serde(default)]
    pub family: Option<String>,
    /// Only for results at this level (1-based); all levels when absent.
    #[serde(default)]
    pub level: Option<u8>,
    pub label: String,
    pub url: String,
}

impl Resource {
    fn is_for(&self, family: &str, assessment: &str) -> bool {
        self.family.as_deref().is_none_or(|f| f == family)
            && self
                .assessment
                .as_deref()
                .is_none_or(|a| a.eq_ignore_ascii_case(assessment))
    }
}

impl Resources {
    /// Reads and checks the file: each entry names a known family or an
    /// assessment, a level the family has, a label and a web address.
    pub fn parse(
        path: &Path,
        text: &str,
        catalog: &Catalog,
        diags: &mut Diagnostics,
    ) -> Option<Resources> {
        let parsed: Resources = yaml::parse(path, text)
            .map_err(|e| diags.error(e.location, e.message))
            .ok()?;
        let lines = yaml::Lines::new(text);
        let mut from = 1;
        for r in &parsed.resources {
            let line = lines.find(&r.label, from);
            from = line.unwrap_or(from);
            let at = Location {
                file: path.to_path_buf(),
                line,
                column: None,
            };
            let family = r
                .family
                .as_deref()
                .map(|id| (id, catalog.families.iter().find(|f| f.id == id)));
            match (&r.assessment, family) {
                (None, None) => diags.error(
                    at.clone(),
                    format!(
                        "resource `{}`: expected `family:` (a catalog id such as sb_ela_iab) or `assessment:` (an assessment name)",
                        r.label
                    ),
                ),
                (_, Some((id, None))) => diags.error(
                    at.clone(),
                    format!(
                        "resource `{}`: family `{id}` is not in the catalog; expected one of {}",
                        r.label,
                        catalog.families.iter().map(|f| f.id.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                ),
                (_, Some((_, Some(f))))
                    if r.level.is_some_and(|l| l == 0 || l as usize > f.levels.len()) =>
                {
                    diags.error(
                        at.clone(),
                        format!(
                            "resource `{}`: {} has levels 1 to {}; expected one of them",
                            r.label,
                            f.id,
                            f.levels.len()
                        ),
                    );
                }
                _ => {}
            }
            if !(r.url.starts_with("https://") || r.url.starts_with("http://"))
                || r.url.contains(char::is_whitespace)
            {
                diags.error(
                    at,
                    format!(
                        "resource `{}`: url `{}`: expected a web address starting with https://",
                        r.label, r.url
                    ),
                );
            }
        }
        Some(parsed)
    }

    /// The resources for a result of `assessment` (of `family`) at `level`.
    pub fn for_result(&self, family: &str, assessment: &str, level: Option<u8>) -> Vec<Resource> {
        self.resources
            .iter()
            .filter(|r| r.is_for(family, assessment) && r.level.is_none_or(|l| Some(l) == level))
            .cloned()
            .collect()
    }

    /// Every resource for `assessment` (of `family`), at any level.
    pub fn for_assessment(&self, family: &str, assessment: &str) -> Vec<Resource> {
        self.resources
            .iter()
            .filter(|r| r.is_for(family, assessment))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> (Option<Resources>, Vec<String>) {
        let mut d = Diagnostics::default();
        let catalog = Catalog::builtin().unwrap();
        let r = Resources::parse(
            Path::new("instructional_resources.yaml"),
            text,
            &catalog,
            &mut d,
        );
        (r, d.iter().map(|x| x.to_string()).collect())
    }

    #[test]
    fn resources_match_family_assessment_and_level() {
        let (r, errors) = check(
            "resources:\n  - family: sb_math_iab\n    label: All math blocks\n    url: https://a.example/\n  - family: sb_math_iab\n    level: 1\n    label: Below standard\n    url: https://b.example/\n  - assessment: Grade 5 Math - Geometry (IAB)\n    label: Geometry\n    url: https://c.example/\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let r = r.unwrap();
        let labels = |v: Vec<Resource>| v.into_iter().map(|r| r.label).collect::<Vec<_>>();
        assert_eq!(
            labels(r.for_result("sb_math_iab", "Grade 5 Math - Geometry (IAB)", Some(1))),
            ["All math blocks", "Below standard", "Geometry"]
        );
        assert_eq!(
            labels(r.for_result("sb_math_iab", "Grade 4 Math - Fractions (IAB)", Some(2))),
            ["All math blocks"]
        );
        assert_eq!(
            labels(r.for_result("sb_ela_iab", "Grade 5 ELA - Editing (IAB)", Some(1))),
            Vec::<String>::new()
        );
        assert_eq!(
            r.for_assessment("sb_math_iab", "Grade 4 Math - Fractions (IAB)")
                .len(),
            2
        );
    }

    #[test]
    fn bad_entries_are_named_with_their_line() {
        let (_, errors) = check(
            "resources:\n  - label: Nowhere\n    url: https://a.example/\n  - family: sb_nope\n    label: Unknown family\n    url: https://a.example/\n  - family: sb_math_iab\n    level: 4\n    label: Too high\n    url: https://a.example/\n  - family: sb_math_iab\n    label: Not a link\n    url: javascript:alert(1)\n",
        );
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(
            errors[0].contains(":2:") && errors[0].contains("expected `family:`"),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].contains(":5:") && errors[1].contains("`sb_nope` is not in the catalog"),
            "{}",
            errors[1]
        );
        assert!(
            errors[2].contains(":9:") && errors[2].contains("levels 1 to 3"),
            "{}",
            errors[2]
        );
        assert!(
            errors[3].contains(":12:") && errors[3].contains("expected a web address"),
            "{}",
            errors[3]
        );
    }
}

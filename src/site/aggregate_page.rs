//! The custom aggregate report page of one assessment family: the builder
//! with its cube, and the longitudinal report.

use super::bundle_note;
use crate::access::{Bundle, Kind};
use crate::aggregate;
use crate::catalog;
use crate::deployment::Deployment;
use crate::render::views::{self, Base, Link};
use crate::render::{self, Renderer};
use anyhow::Result;
use serde::Serialize;

/// The custom aggregate report page of family `f`: the builder with its
/// cube, and the longitudinal report.
pub(super) fn page(
    dep: &Deployment,
    comparisons: &aggregate::Comparisons,
    b: &Bundle,
    f: usize,
    base: Base,
    r: &Renderer,
) -> Result<Vec<u8>> {
    #[derive(Serialize)]
    struct View<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        title: String,
        subtitle: String,
        threshold: usize,
        years: Vec<Link>,
        assessments: &'a [aggregate::AssessmentInfo],
        dimensions: &'a [aggregate::Dimension],
        fine: bool,
        comparison: String,
        schools: bool,
        claims: bool,
        claim_label: String,
        alts: String,
        cube: String,
        longitudinal: Vec<render::longitudinal::Trajectory>,
        longitudinal_where: String,
        cutoff_name: String,
        dfs: bool,
    }
    let fam = &dep.catalog.families[f];
    let threshold = dep.settings.suppression_threshold as usize;
    let cube = aggregate::cube(dep, comparisons, b, f, threshold);
    let exams: Vec<usize> = b
        .exams
        .iter()
        .copied()
        .filter(|&e| dep.data.assessments[dep.data.exams[e].assessment as usize].family == f)
        .collect();
    let longitudinal = if fam.kind == catalog::Kind::Summative {
        let hide = (b.kind == Kind::Aggregate).then_some(threshold);
        let cohorts = aggregate::longitudinal(dep, fam, &exams, hide);
        render::longitudinal::trajectories(&cohorts, fam.distance_from_standard)
    } else {
        Vec::new()
    };
    let comparison: Vec<&str> = cube
        .institutions
        .iter()
        .filter(|i| !i.own)
        .map(|i| i.name.as_str())
        .collect();
    let view = View {
        title: format!("Custom aggregate report · {}", fam.name),
        subtitle: format!("{} · {}", b.label(dep), bundle_note(dep, b)),
        threshold: if b.kind == Kind::Aggregate {
            threshold
        } else {
            0
        },
        years: cube
            .years
            .iter()
            .map(|&y| Link {
                label: views::school_year_label(y),
                href: y.to_string(),
                note: String::new(),
            })
            .collect(),
        assessments: &cube.assessments,
        dimensions: &cube.dimensions,
        fine: cube.institutions.iter().any(|i| i.fine),
        comparison: match comparison.as_slice() {
            [] => String::new(),
            names => format!("comparison rows for {}", names.join(" and ")),
        },
        schools: cube.institutions.iter().filter(|i| i.own).count() > 1,
        claims: !cube.claims.is_empty(),
        claim_label: fam
            .claims
            .as_ref()
            .map(|c| c.label.clone())
            .unwrap_or_default(),
        alts: cube.alts.join(", "),
        cube: render::script_json(&cube)?,
        longitudinal,
        longitudinal_where: b.label(dep),
        cutoff_name: fam
            .levels
            .get(fam.standard_cutoff.saturating_sub(1) as usize)
            .map(|l| l.name.clone())
            .unwrap_or_default(),
        dfs: fam.distance_from_standard,
        base,
    };
    Ok(r.render("aggregate.html", &view)?.into_bytes())
}

#[cfg(test)]
mod tests {
    use crate::access::Kind;
    use crate::testing::{deployment, Site, ANA, BEN};

    #[test]
    fn aggregate_reports_hold_no_student_for_aggregate_reporters() {
        let site = Site::render(&deployment());
        let reporter = site.bundle(Kind::Aggregate);
        let paths = site.paths_of(reporter);
        assert!(paths.contains(&"agg-sb_ela_summative.html"));
        for p in paths {
            let text = site.page(reporter, p);
            for name in [ANA, BEN, "Lopez", "Kim, Ben", "Period 1"] {
                assert!(!text.contains(name), "{p} shows {name}");
            }
        }
        let district = site.bundle(Kind::District);
        let page = site.page(district, "agg-sb_ela_summative.html");
        assert!(page.contains("School 100") && page.contains("School 200"));
    }
}

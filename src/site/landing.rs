//! The sandbox's landing page (a role chooser with an entry per bundle) and
//! the help pages.

use super::bundle_note;
use crate::access::{Kind, Plan};
use crate::deployment::Deployment;
use crate::output::Page;
use crate::paths;
use crate::render::views::{Base, Link, SiteInfo};
use crate::render::{self, Renderer};
use anyhow::Result;
use serde::Serialize;

#[derive(Serialize)]
struct RoleChoice {
    title: &'static str,
    /// What the entries are, for the list's find box and pages.
    plural: &'static str,
    description: &'static str,
    entries: Vec<Link>,
}

/// The landing page: a role chooser with an entry per bundle.
pub(super) fn landing(
    dep: &Deployment,
    plan: &Plan,
    site: &SiteInfo,
    r: &Renderer,
) -> Result<Page> {
    let kinds = [
        (
            Kind::Teacher,
            "Teacher",
            "teachers",
            "Results for your assigned groups: group results, each student's history and reports.",
        ),
        (
            Kind::School,
            "School Administrator",
            "schools",
            "Every result at the school: school and grade results, all groups, student lookup.",
        ),
        (
            Kind::District,
            "District Administrator",
            "districts",
            "Every school in the district, with school and grade results and student lookup.",
        ),
        (
            Kind::State,
            "State Administrator",
            "states",
            "Every result in the state.",
        ),
        (
            Kind::Aggregate,
            "Aggregate Reporter",
            "scopes",
            "Aggregate results only, without students; small groups are suppressed.",
        ),
    ];
    let roles = kinds
        .iter()
        .map(|&(kind, title, plural, description)| RoleChoice {
            title,
            plural,
            description,
            entries: plan
                .bundles
                .iter()
                .filter(|b| b.kind == kind)
                .map(|b| Link {
                    label: b.label(dep),
                    href: paths::home(&b.id),
                    note: bundle_note(dep, b),
                })
                .collect(),
        })
        .filter(|c| !c.entries.is_empty())
        .collect::<Vec<_>>();
    #[derive(Serialize)]
    struct View<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        roles: Vec<RoleChoice>,
    }
    let html = r.render(
        "landing.html",
        &View {
            base: Base {
                site,
                root: "",
                home: None,
                role: None,
            },
            roles,
        },
    )?;
    Ok(Page::public("index.html", html.into_bytes()))
}

/// Help pages from the Markdown content.
pub(super) fn help(site: &SiteInfo, r: &Renderer) -> Result<Vec<Page>> {
    #[derive(Serialize)]
    struct View<'a> {
        #[serde(flatten)]
        base: Base<'a>,
        title: &'a str,
        body: String,
        pages: Vec<Link>,
    }
    render::CONTENT
        .iter()
        .map(|(name, title, md)| {
            let pages = render::CONTENT
                .iter()
                .map(|(n, t, _)| Link {
                    label: t.to_string(),
                    href: format!("{n}.html"),
                    note: String::new(),
                })
                .collect();
            let view = View {
                base: Base {
                    site,
                    root: "../",
                    home: Some("../index.html"),
                    role: None,
                },
                title,
                body: render::markdown(md),
                pages,
            };
            Ok(Page::public(
                paths::help(name),
                r.render("help.html", &view)?.into_bytes(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::testing::{deployment, Site};

    #[test]
    fn the_landing_page_enters_each_bundle_by_role() {
        let site = Site::render(&deployment());
        let (landing, readers) = &site.pages["index.html"];
        assert!(readers.is_empty(), "the landing page is public");
        for b in &site.plan.bundles {
            let href = format!("href=\"b/{}/index.html\"", b.id);
            assert!(landing.contains(&href), "{href}");
        }
        assert!(landing.contains("Enter as School Administrator"));
        assert!(
            !landing.contains("Enter as State Administrator"),
            "no state bundle"
        );
    }
}

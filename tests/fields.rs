//! Field visibility (`fields:` in scoresite.yaml) in the analysis views: a
//! disabled field is neither a custom aggregate dimension, nor filled in the
//! District/School Export, nor a filter of Results by Student; a field for
//! administrators is no teacher's filter.

use scoresite::{access, catalog::Catalog, diag, render, sandbox, site};
use std::sync::Mutex;

#[test]
fn disabled_fields_are_not_aggregated_or_exported() {
    let dir = tempfile::tempdir().unwrap();
    let lea = dir.path().join("lea");
    let options = sandbox::Options {
        seed: 3,
        students: 300,
        trt: false,
    };
    sandbox::emit(&lea, &options, &Catalog::builtin().unwrap()).unwrap();
    let settings = lea.join("scoresite.yaml");
    let text = std::fs::read_to_string(&settings).unwrap();
    std::fs::write(
        &settings,
        text.replace(
            "fields:\n",
            "fields:\n  gender: disabled\n  military: disabled\n",
        ),
    )
    .unwrap();

    let mut diags = diag::Diagnostics::default();
    let dep = scoresite::pipeline::load_valid(&lea, &mut diags)
        .expect("loads")
        .deployment;
    let plan = access::plan(
        &dep.data,
        &dep.catalog,
        &dep.users,
        dep.settings.group_years,
    );
    let info = render::views::SiteInfo {
        name: dep.settings.name.clone(),
        sandbox: true,
        footer: String::new(),
    };
    let pages = Mutex::new(Vec::new());
    let map = access::SiteMap::new(&dep.data, &dep.catalog, &plan, access::PUBLIC_KEY);
    site::render(&dep, &plan, &map, &info, &|p: scoresite::output::Page| {
        // An assessment page is UNIT-aYEAR-NAME.html.
        let assessment = p.path.ends_with(".html")
            && !p.path.ends_with("-analysis.html")
            && p.path.contains("-a20");
        if p.path.contains("/agg-") || p.path.contains("/export-") || assessment {
            pages
                .lock()
                .unwrap()
                .push((p.path, String::from_utf8(p.bytes).unwrap()));
        }
        Ok(())
    })
    .unwrap();
    let pages = pages.into_inner().unwrap();

    let (mut cubes, mut exports) = (0, 0);
    let (mut filtered, mut teacher_pages, mut el_for_admins) = (0, 0, 0);
    for (path, text) in &pages {
        if !path.contains("/agg-") && !path.contains("/export-") {
            if !text.contains("class=\"row-filters\"") {
                continue;
            }
            filtered += 1;
            // The filters offered, and the values each row carries for them.
            let at = text.find("data-keys=\"").unwrap() + 11;
            let keys: Vec<&str> = text[at..at + text[at..].find('"').unwrap()]
                .split_whitespace()
                .collect();
            let selects = text.matches("<select data-key=").count();
            assert_eq!(
                selects,
                keys.len() + 2,
                "{path}: My group, the level and each filter"
            );
            for row in text.split("data-f=\"").skip(1) {
                let values = row[..row.find('"').unwrap()].split_whitespace().count();
                assert_eq!(values, keys.len(), "{path}: a row's values");
            }
            assert!(
                !keys.contains(&"gender") && !keys.contains(&"military"),
                "{path}: a disabled field is a filter: {keys:?}"
            );
            let id = path.split('/').nth(1).unwrap();
            let bundle = plan.bundles.iter().position(|b| b.id == id).unwrap();
            // English learner (LEP) is set to administrators only.
            let el = keys.contains(&"el");
            if plan.bundles[bundle].kind == access::Kind::Teacher {
                teacher_pages += 1;
                assert!(!el, "{path}: English learner status is for administrators");
            } else {
                el_for_admins += el as usize;
            }
            continue;
        }
        if path.ends_with(".csv") {
            let mut rows = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
            let header = rows.headers().unwrap().clone();
            let col = |n: &str| header.iter().position(|h| h == n).unwrap();
            let (sex, military, migrant) = (
                col("Sex"),
                col("MilitaryConnectedStudentIndicator"),
                col("MigrantStatus"),
            );
            let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
            assert!(!records.is_empty());
            assert!(
                records
                    .iter()
                    .all(|r| r[sex].is_empty() && r[military].is_empty()),
                "{path}"
            );
            assert!(
                records.iter().any(|r| !r[migrant].is_empty()),
                "{path}: enabled fields stay"
            );
            exports += 1;
        } else {
            assert!(
                !text.contains(">Gender</option>")
                    && !text.contains(">Military connected</option>"),
                "{path}"
            );
            assert!(text.contains(">Migrant</option>"), "{path}");
            let open = "<script type=\"application/json\" class=\"cube\">";
            let start = text.find(open).unwrap() + open.len();
            let end = start + text[start..].find("</script>").unwrap();
            let cube: serde_json::Value =
                serde_json::from_str(&text[start..end].replace("<\\/", "</")).unwrap();
            for sig in cube["signatures"].as_array().unwrap() {
                assert_eq!(sig[0], -1, "{path}: a cell split by gender");
                assert_eq!(sig[8], -1, "{path}: a cell split by military");
            }
            assert!(cube["signatures"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s[4].as_i64() >= Some(0)));
            cubes += 1;
        }
    }
    assert!(
        cubes > 10 && exports > 3,
        "{cubes} aggregate pages, {exports} exports"
    );
    assert!(
        filtered > 20 && teacher_pages > 5 && el_for_admins > 5,
        "{filtered} filtered pages, {teacher_pages} of teachers, {el_for_admins} with English learner status"
    );
}

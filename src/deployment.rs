//! A deployment directory: `scoresite.yaml`, `users.yaml`, an optional
//! `assessments.yaml` catalog override, and `data/`.

use crate::catalog::Catalog;
use crate::diag::{Diagnostics, Location};
use crate::ingest::{self, LoadReport};
use crate::items::ItemBank;
use crate::model::{Dataset, Grant, User};
use crate::resources::Resources;
use crate::yaml;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// Who may see a student field (RDW's per-field setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Everyone who sees the student.
    Enabled,
    /// Administrators only, not teachers.
    Admin,
    /// No one.
    Disabled,
}

/// Student fields whose visibility can be set.
pub const FIELDS: &[&str] = &[
    "gender",
    "race_ethnicity",
    "elas",
    "lep",
    "migrant",
    "section_504",
    "iep",
    "economic_disadvantage",
    "military",
    "language",
];

/// Which school years of a student's results a teacher's group shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupYears {
    /// The group's school year and the years before it, as CERS shows a
    /// roster: not a former student's later results at other schools.
    #[default]
    ThroughGroupYear,
    /// Every year of the student's results.
    All,
}

/// Look and feel.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branding {
    /// Main colour, as `#rrggbb`.
    pub primary_color: Option<String>,
    /// A logo image, relative to the deployment.
    pub logo: Option<PathBuf>,
    /// Text for the page footer.
    pub footer: Option<String>,
}

/// `scoresite.yaml`: site settings. Every field has a default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The site's title, usually the LEA's name.
    pub name: String,
    /// The state's name, for the top institution.
    pub state: String,
    /// School years to publish; empty means every year in the data.
    pub school_years: Vec<u16>,
    /// Aggregate groups of this many students or fewer are shown as `*` where suppression applies.
    pub suppression_threshold: u32,
    /// The fewest students with target scores a Target report shows
    /// results for (RDW's `targetReport.minNumberOfStudents`).
    pub target_report_min_students: usize,
    /// Field visibility overrides; fields not named use [`Settings::visibility`]'s defaults.
    pub fields: BTreeMap<String, Visibility>,
    /// Which years of a student's results a teacher's group shows.
    pub group_years: GroupYears,
    /// The LEA of schools that results name only by name (CERS Student
    /// Roster exports) when no institutions file lists them.
    pub lea: LeaSetting,
    pub branding: Branding,
}

/// `lea:` in `scoresite.yaml`: the deployment's own LEA.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaSetting {
    /// Its id (a 7-digit county-district code); default `LEA`.
    pub id: Option<String>,
    /// Its name; default the site's `name`.
    pub name: Option<String>,
}

impl Settings {
    /// The LEA's id and name for schools named only by name.
    pub fn own_lea(&self) -> (&str, &str) {
        (
            self.lea.id.as_deref().unwrap_or("LEA"),
            self.lea.name.as_deref().unwrap_or(&self.name),
        )
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            name: "Assessment Results".into(),
            state: "California".into(),
            school_years: Vec::new(),
            suppression_threshold: 10,
            target_report_min_students: 50,
            fields: BTreeMap::new(),
            group_years: GroupYears::default(),
            lea: LeaSetting::default(),
            branding: Branding::default(),
        }
    }
}

impl Settings {
    /// Who may see `field`. California hides economic disadvantage and LEP from teachers by default.
    pub fn visibility(&self, field: &str) -> Visibility {
        self.fields.get(field).copied().unwrap_or(match field {
            "economic_disadvantage" | "lep" => Visibility::Admin,
            _ => Visibility::Enabled,
        })
    }
}

/// `users.yaml` as written: who may log on.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UsersFile {
    #[serde(default)]
    pub users: Vec<UserEntry>,
}

/// One user in `users.yaml`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserEntry {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The user's age recipient, written by `scoresite users add`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// The SHA-256 of the user's credential file, written with the recipient,
    /// so that a build refuses a credential that does not go with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    #[serde(default)]
    pub grants: Vec<String>,
}

/// A loaded deployment.
#[derive(Debug)]
pub struct Deployment {
    pub root: PathBuf,
    pub settings: Settings,
    pub catalog: Catalog,
    pub users: Vec<User>,
    pub data: Dataset,
    /// Item information for the item views (`items.yaml`; empty when absent).
    pub items: ItemBank,
    /// Links shown with results (`instructional_resources.yaml`; none when absent).
    pub resources: Resources,
    pub report: LoadReport,
}

/// The deployment's settings file.
pub const SETTINGS_FILE: &str = "scoresite.yaml";
/// The deployment's catalog overrides.
pub const CATALOG_FILE: &str = "assessments.yaml";
/// The deployment's item bank.
pub const ITEMS_FILE: &str = "items.yaml";
/// The deployment's instructional resources file.
pub const RESOURCES_FILE: &str = "instructional_resources.yaml";

/// Every file of a deployment, outside `data/`, `credentials/` and
/// `users.yaml`, that a page may show something of.
pub const CONFIG_FILES: &[&str] = &[SETTINGS_FILE, CATALOG_FILE, ITEMS_FILE, RESOURCES_FILE];

/// Loads a deployment. Returns `None` only when nothing useful could be read
/// (the catalog is broken or the directory is missing); every problem is in
/// `diags`. A `cache` keeps TRT parses between runs.
pub fn load(
    root: &Path,
    cache: Option<&mut ingest::trt_cache::Cache>,
    diags: &mut Diagnostics,
) -> Option<Deployment> {
    if !root.is_dir() {
        diags.error(
            Location::file(root),
            "not a directory; expected a deployment directory with scoresite.yaml and data/",
        );
        return None;
    }
    let settings = read_optional(&root.join(SETTINGS_FILE), diags, |p, t, d| {
        let s: Settings = yaml::parse(p, t)
            .map_err(|e| d.error(e.location, e.message))
            .ok()?;
        for field in s.fields.keys() {
            if !FIELDS.contains(&field.as_str()) {
                let line = yaml::Lines::new(t).find(field, 1);
                d.error(
                    Location {
                        file: p.to_path_buf(),
                        line,
                        column: None,
                    },
                    format!(
                        "fields: `{field}` is not a student field; expected one of {}",
                        FIELDS.join(", ")
                    ),
                );
            }
        }
        Some(s)
    })
    .unwrap_or_default();
    let override_file = root.join(CATALOG_FILE);
    let catalog = match Catalog::load(override_file.is_file().then_some(override_file.as_path())) {
        Ok(c) => c,
        Err(d) => {
            diags.extend(d);
            return None;
        }
    };
    let data_dir = root.join("data");
    let (mut data, report) = if data_dir.is_dir() {
        ingest::load_dir(&data_dir, &catalog, settings.own_lea(), cache, diags)
    } else {
        diags.warn(
            Location::file(&data_dir),
            "no data/ directory; the site will have no results",
        );
        Default::default()
    };
    data.institutions.state = settings.state.clone();
    let users = read_optional(&root.join("users.yaml"), diags, |p, t, d| {
        Some(parse_users(p, t, d))
    })
    .unwrap_or_default();
    let items = read_optional(&root.join(ITEMS_FILE), diags, |p, t, d| {
        yaml::parse(p, t)
            .map_err(|e| d.error(e.location, e.message))
            .ok()
    })
    .unwrap_or_default();
    let resources = read_optional(&root.join(RESOURCES_FILE), diags, |p, t, d| {
        Resources::parse(p, t, &catalog, d)
    })
    .unwrap_or_default();
    Some(Deployment {
        root: root.to_path_buf(),
        settings,
        catalog,
        users,
        data,
        items,
        resources,
        report,
    })
}

fn read_optional<T>(
    path: &Path,
    diags: &mut Diagnostics,
    parse: impl FnOnce(&Path, &str, &mut Diagnostics) -> Option<T>,
) -> Option<T> {
    if !path.exists() {
        return None;
    }
    match std::fs::read_to_string(path) {
        Ok(text) => parse(path, &text, diags),
        Err(e) => {
            diags.error(Location::file(path), format!("cannot read: {e}"));
            None
        }
    }
}

fn parse_users(path: &Path, text: &str, diags: &mut Diagnostics) -> Vec<User> {
    let file: UsersFile = match yaml::parse(path, text) {
        Ok(f) => f,
        Err(e) => {
            diags.error(e.location, e.message);
            return Vec::new();
        }
    };
    let lines = yaml::Lines::new(text);
    let mut users: Vec<User> = Vec::new();
    let mut listed: HashSet<String> = HashSet::new();
    // Entries come in file order: each is looked for from the last one's line.
    let mut from = 1;
    for entry in file.users {
        let email = entry.email.trim().to_ascii_lowercase();
        let line = lines.find_next(&entry.email, from);
        from = line.unwrap_or(from);
        let at = |l: Option<u64>| Location {
            file: path.to_path_buf(),
            line: l,
            column: None,
        };
        if !email.contains('@') {
            diags.error(
                at(line),
                format!(
                    "email `{}`: expected an address such as name@district.org",
                    entry.email
                ),
            );
        }
        if !listed.insert(email.clone()) {
            diags.error(at(line), format!("user `{email}` is listed twice"));
            continue;
        }
        if let Some(r) = &entry.recipient {
            if !r.starts_with("age1") {
                diags.error(
                    at(line),
                    format!(
                        "recipient for `{email}`: expected an age recipient starting with age1"
                    ),
                );
            }
        }
        let mut grants = Vec::new();
        for g in &entry.grants {
            match Grant::parse(g) {
                Ok(grant) => grants.push(grant),
                Err(msg) => diags.error(at(lines.find(g, line.unwrap_or(1))), msg),
            }
        }
        users.push(User {
            email,
            name: entry.name,
            recipient: entry.recipient,
            credential: entry.credential,
            grants,
        });
    }
    users
}

//! Institutions: the CALPADS caret-delimited organisation file, or a simple CSV
//! (`lea_id,lea_name,school_id,school_name[,cds]`).

use crate::diag::{Diagnostics, Location};
use crate::model::{is_cds, Found, Institutions, School};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The CALPADS organisation file's header.
pub const CALPADS_HEADER: &str =
    "County-District Code^School Code^Auth CDS Code^County Name^District Name^School Name^Charter School^Charter Status^NPS School";

/// The simple institutions CSV's required columns.
pub const SIMPLE_COLUMNS: &[&str] = &["lea_id", "lea_name", "school_id", "school_name"];

/// True for a CALPADS organisation file's first line.
pub fn recognises_calpads(first_line: &str) -> bool {
    first_line
        .trim_start_matches('\u{feff}')
        .starts_with("County-District Code^")
}

/// True for a simple institutions CSV header.
pub fn recognises_simple(header: &[String]) -> bool {
    SIMPLE_COLUMNS
        .iter()
        .all(|c| header.iter().any(|h| h.eq_ignore_ascii_case(c)))
}

/// Reads a CALPADS organisation file: `#` comments, blank lines and all-blank rows are skipped.
pub fn load_calpads(
    path: &Path,
    text: &str,
    inst: &mut Institutions,
    diags: &mut Diagnostics,
) -> usize {
    let mut count = 0;
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines
        .next()
        .map(|(_, l)| {
            l.trim_start_matches('\u{feff}')
                .split('^')
                .map(str::trim)
                .collect()
        })
        .unwrap_or_default();
    let expected: Vec<&str> = CALPADS_HEADER.split('^').collect();
    if header != expected {
        diags.error(
            Location::at(path, 1, 1),
            format!("expected the CALPADS header `{CALPADS_HEADER}`"),
        );
        return 0;
    }
    for (i, line) in lines {
        let line_no = i as u64 + 1;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('^').map(str::trim).collect();
        if f.iter().all(|c| c.is_empty()) {
            continue;
        }
        if f.len() != expected.len() {
            diags.error(
                Location::at(path, line_no, f.len() as u64),
                format!(
                    "{} fields; expected {} separated by ^",
                    f.len(),
                    expected.len()
                ),
            );
            continue;
        }
        let (cd, school_code, auth_cds, district, name) = (f[0], f[1], f[2], f[4], f[5]);
        let seven_digits = |s: &str| s.len() == 7 && s.bytes().all(|b| b.is_ascii_digit());
        if !seven_digits(cd) {
            diags.error(
                Location::at(path, line_no, 1),
                format!("County-District Code: expected 7 digits, found `{cd}`"),
            );
            continue;
        }
        if !seven_digits(school_code) {
            diags.error(
                Location::at(path, line_no, 2),
                format!("School Code: expected 7 digits, found `{school_code}`"),
            );
            continue;
        }
        let lea = inst.add_lea(cd, district);
        inst.add_lea_alias(&format!("{cd}0000000"), lea);
        let cds = format!("{cd}{school_code}");
        // A charter's authorising CDS code names it too (results may carry it as SchoolId).
        let aliases: Vec<&str> = std::iter::once(school_code)
            .chain(is_cds(auth_cds).then_some(auth_cds))
            .collect();
        inst.add_school(
            School {
                id: cds.clone(),
                cds: Some(cds),
                name: name.to_string(),
                lea,
            },
            &aliases,
        );
        count += 1;
    }
    count
}

/// Reads a simple institutions CSV.
pub fn load_simple(
    path: &Path,
    text: &str,
    inst: &mut Institutions,
    diags: &mut Diagnostics,
) -> usize {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match rdr.headers() {
        Ok(h) => h
            .iter()
            .map(|s| s.trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect(),
        Err(e) => {
            diags.error(
                Location::at(path, 1, 1),
                format!("cannot read the header: {e}"),
            );
            return 0;
        }
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(lea_id), Some(lea_name), Some(school_id), Some(school_name)) = (
        col("lea_id"),
        col("lea_name"),
        col("school_id"),
        col("school_name"),
    ) else {
        diags.error(
            Location::at(path, 1, 1),
            format!("expected columns {}", SIMPLE_COLUMNS.join(",")),
        );
        return 0;
    };
    let cds_col = col("cds");
    let mut count = 0;
    let rows: Vec<_> = super::records(path, &mut rdr, diags).collect();
    for (line, record) in rows {
        let get = |i: usize| record.get(i).unwrap_or("");
        let mut missing = false;
        for (i, name) in [(lea_id, "lea_id"), (school_id, "school_id")] {
            if get(i).is_empty() {
                diags.error(
                    Location::at(path, line, i as u64 + 1),
                    format!("{name}: expected an id, found a blank cell"),
                );
                missing = true;
            } else if super::values::is_excel_mangled(get(i)) {
                diags.error(
                    Location::at(path, line, i as u64 + 1),
                    format!(
                        "{name}: expected an id, found `{}` (Excel scientific notation)",
                        get(i)
                    ),
                );
                missing = true;
            }
        }
        if missing {
            continue;
        }
        let lea = inst.add_lea(get(lea_id), get(lea_name));
        let cds = cds_col
            .map(|i| get(i).to_string())
            .filter(|s| !s.is_empty());
        inst.add_school(
            School {
                id: get(school_id).to_string(),
                cds,
                name: get(school_name).to_string(),
                lea,
            },
            &[],
        );
        count += 1;
    }
    count
}

/// Where a results row says its exam was taken.
pub struct Place<'a> {
    pub district_id: &'a str,
    pub district_name: &'a str,
    pub school_id: &'a str,
    pub school_name: &'a str,
}

/// Finds the school of each results row (CERS export rows, TRT documents):
/// in the institutions file when one is given, else inferred from the rows.
/// A school is keyed by its LEA and its id. Names that disagree between rows
/// or files are reported once each, never silently resolved.
#[derive(Default)]
pub struct Schools {
    /// True when an institutions file lists the schools, so rows must match it.
    pub given: bool,
    /// Where each school and LEA was first named, for conflict messages.
    school_first: HashMap<usize, Location>,
    lea_first: HashMap<usize, Location>,
    /// Conflicts already reported: (school or LEA, what, value).
    reported: HashSet<(bool, usize, &'static str, String)>,
    /// The LEA (id, name) of schools named only by name, when no
    /// institutions file lists them, and whether that was said.
    own_lea: (String, String),
    placed_by_name: bool,
    /// School names (lower case) already placed, so that a roster export's
    /// rows do not each search every school.
    by_name: HashMap<String, usize>,
    /// The last place resolved and its school: consecutive rows mostly
    /// name the same school, and resolving the same place again finds the
    /// same school and reports nothing new.
    last: Option<(OwnedPlace, usize)>,
    /// For each LEA whose NcesId a row gave, how many exams were read
    /// before that row: those rows' blank NcesId cells were not kept.
    pub nces_given: HashMap<usize, usize>,
}

/// A [`Place`]'s four cells, kept.
#[derive(Default)]
struct OwnedPlace([String; 4]);

impl OwnedPlace {
    fn cells<'a>(place: &Place<'a>) -> [&'a str; 4] {
        [
            place.district_id,
            place.district_name,
            place.school_id,
            place.school_name,
        ]
    }

    fn is(&self, place: &Place) -> bool {
        self.0
            .iter()
            .zip(Self::cells(place))
            .all(|(a, b)| crate::model::same(a, b))
    }

    fn keep(&mut self, place: &Place) {
        for (kept, cell) in self.0.iter_mut().zip(Self::cells(place)) {
            kept.clear();
            kept.push_str(cell);
        }
    }
}

impl Schools {
    /// A resolver; `given` says whether an institutions file was read, and
    /// `own_lea` (id, name) holds schools that rows name only by name.
    pub fn new(given: bool, own_lea: (&str, &str)) -> Self {
        Schools {
            given,
            own_lea: (own_lea.0.to_string(), own_lea.1.to_string()),
            ..Default::default()
        }
    }

    /// The school index of `place`, adding it when inferring; `Err` says why
    /// the row cannot be placed.
    pub fn resolve(
        &mut self,
        inst: &mut Institutions,
        place: &Place,
        at: &dyn Fn() -> Location,
        diags: &mut Diagnostics,
    ) -> Result<usize, String> {
        if let Some((last, school)) = &self.last {
            if last.is(place) {
                return Ok(*school);
            }
        }
        let at = &at();
        let school = if place.school_id.is_empty() && place.district_id.is_empty() {
            self.named(inst, place, at, diags)?
        } else if self.given {
            self.listed(inst, place)?
        } else {
            self.inferred(inst, place)?
        };
        self.school_first
            .entry(school)
            .or_insert_with(|| at.clone());
        let lea = inst.schools[school].lea;
        self.lea_first.entry(lea).or_insert_with(|| at.clone());
        let s = &inst.schools[school];
        self.conflict(
            false,
            school,
            "SchoolName",
            &s.name,
            place.school_name,
            at,
            diags,
        );
        let l = &inst.leas[lea];
        let own_lea = inst.lea(place.district_id) == Some(lea);
        if own_lea {
            self.conflict(
                true,
                lea,
                "DistrictName",
                &l.name,
                place.district_name,
                at,
                diags,
            );
        }
        let last = self.last.get_or_insert_with(Default::default);
        last.0.keep(place);
        last.1 = school;
        Ok(school)
    }

    /// The school in the institutions file.
    fn listed(&self, inst: &Institutions, place: &Place) -> Result<usize, String> {
        let id = place.school_id;
        if let Some(lea) = inst.lea(place.district_id) {
            if let Some(s) = inst.school_in(lea, id) {
                return Ok(s);
            }
        }
        match inst.find_school(id) {
            Found::One(s) if inst.lea(place.district_id).is_none() => Ok(s),
            Found::One(s) => Err(format!(
                "SchoolId `{id}` ({}) is not a school of DistrictId `{}` in the institutions file, which lists it under {}; expected the school's own LEA",
                place.school_name,
                place.district_id,
                inst.describe_schools(&[s])
            )),
            Found::Many(many) => Err(format!(
                "SchoolId `{id}` ({}) is used by several LEAs in the institutions file ({}), and DistrictId `{}` is none of them; expected the school's LEA or its 14-digit CDS code",
                place.school_name,
                inst.describe_schools(&many),
                place.district_id
            )),
            Found::None => Err(format!(
                "SchoolId `{id}` ({}) is not in the institutions file; expected a school listed there",
                place.school_name
            )),
        }
    }

    /// The school of a row that names it only by name (a Student Roster
    /// export): the one school of that name, listed or named by other
    /// results; else, with no institutions file, a school of that name under
    /// the deployment's own LEA, said once.
    fn named(
        &mut self,
        inst: &mut Institutions,
        place: &Place,
        at: &Location,
        diags: &mut Diagnostics,
    ) -> Result<usize, String> {
        let name = place.school_name.trim();
        if name.is_empty() {
            return Err("SchoolName is blank; expected the school's name".into());
        }
        let key = name.to_lowercase();
        if let Some(&s) = self.by_name.get(&key) {
            return Ok(s);
        }
        let school = self.find_named(inst, name, at, diags)?;
        self.by_name.insert(key, school);
        Ok(school)
    }

    /// [`Schools::named`]'s search: every school of that name, else a new one.
    fn find_named(
        &mut self,
        inst: &mut Institutions,
        name: &str,
        at: &Location,
        diags: &mut Diagnostics,
    ) -> Result<usize, String> {
        let same: Vec<usize> = (0..inst.schools.len())
            .filter(|&s| inst.schools[s].name.trim().eq_ignore_ascii_case(name))
            .collect();
        match same[..] {
            [s] => return Ok(s),
            [] if self.given => {
                return Err(format!(
                    "SchoolName `{name}` is not in the institutions file; expected the name of a school listed there"
                ))
            }
            [] => {}
            _ => {
                return Err(format!(
                    "SchoolName `{name}` names several schools ({}); a Student Roster export names its school only by name, so load the District/School export of these results",
                    inst.describe_schools(&same)
                ))
            }
        }
        let lea = inst.add_lea(&self.own_lea.0, &self.own_lea.1);
        if !self.placed_by_name {
            self.placed_by_name = true;
            diags.warn(
                at.clone(),
                format!(
                    "this Student Roster export names schools only by SchoolName; with no institutions file, they are placed under LEA `{}` ({}) from scoresite.yaml's `lea:` and `name:`, with the school name as their id. Add a CALPADS organisation file to place them by CDS code",
                    self.own_lea.0, self.own_lea.1
                ),
            );
        }
        Ok(inst.add_school(
            School {
                id: name.to_string(),
                cds: None,
                name: name.to_string(),
                lea,
            },
            &[],
        ))
    }

    /// The school inferred from the row: its LEA, then its id within the LEA.
    fn inferred(&self, inst: &mut Institutions, place: &Place) -> Result<usize, String> {
        if place.district_id.trim().is_empty() {
            return Err(format!(
                "the DistrictId of school `{}` is blank; expected the LEA's id (or an institutions file that lists the school)",
                place.school_id
            ));
        }
        let lea = inst.add_lea(place.district_id, place.district_name);
        if let Some(s) = inst.school_in(lea, place.school_id) {
            if inst.schools[s].lea != lea {
                let first = self
                    .school_first
                    .get(&s)
                    .map(|l| format!(" (first at {l})"))
                    .unwrap_or_default();
                return Err(format!(
                    "SchoolId `{}` is a 14-digit CDS code that names one school, which earlier rows place in DistrictId `{}`{first}; this row says DistrictId `{}`. Expected one LEA per school",
                    place.school_id, inst.leas[inst.schools[s].lea].id, place.district_id
                ));
            }
            return Ok(s);
        }
        let cds = is_cds(place.school_id).then(|| place.school_id.to_string());
        // A CDS code's last seven digits are the school code another file
        // may use as the SchoolId: one school either way.
        let code = cds.as_deref().map(|c| &c[7..]);
        if let Some(s) = code.and_then(|c| inst.school_in(lea, c)) {
            return Ok(s);
        }
        Ok(inst.add_school(
            School {
                id: place.school_id.to_string(),
                cds: cds.clone(),
                name: place.school_name.to_string(),
                lea,
            },
            code.as_slice(),
        ))
    }

    /// Warns once per differing value of `what` for a school or LEA.
    #[allow(clippy::too_many_arguments)]
    fn conflict(
        &mut self,
        is_lea: bool,
        index: usize,
        what: &'static str,
        known: &str,
        given: &str,
        at: &Location,
        diags: &mut Diagnostics,
    ) {
        let given = given.trim();
        if given.is_empty() || given == known {
            return;
        }
        if !self
            .reported
            .insert((is_lea, index, what, given.to_string()))
        {
            return;
        }
        let first = if is_lea {
            &self.lea_first
        } else {
            &self.school_first
        };
        let source = if self.given {
            "the institutions file".to_string()
        } else {
            first
                .get(&index)
                .map(|l| l.to_string())
                .unwrap_or_else(|| "an earlier row".into())
        };
        diags.warn(
            at.clone(),
            format!(
                "{what} `{given}` differs from `{known}`, the name {source} gives the same {}; `{known}` is used",
                if is_lea { "LEA" } else { "school" }
            ),
        );
    }
}

//! OneRoster 1.1 CSV rosters, as an SIS exports them: `orgs`, `users`,
//! `classes`, `enrollments`, `academicSessions` and `courses` (and the
//! `manifest` and `demographics` files, which are passed over), as files in
//! one folder of `data/` or in one zip, recognised by their headers.
//!
//! Each class becomes a group as a row of RDW's groups file would: its
//! school is the org it names (by the org's identifier, a CDS or school
//! code, or else its name); its school year that of its first term; its
//! subject the class's or else its course's subject, when that is one
//! assessment subject (else every subject); its students the SSIDs
//! (`identifier`) of its student enrollments; its logins the emails of its
//! teacher enrollments. The 200-student cap applies. Rows whose `status`
//! is `tobedeleted` are passed over.

use super::values;
use crate::diag::{Diagnostics, Location};
use crate::model::{Dataset, Found, Group};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The OneRoster files read, and the columns that tell each apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Orgs,
    AcademicSessions,
    Courses,
    Classes,
    Users,
    Enrollments,
    /// `manifest.csv` and `demographics.csv`: nothing to read.
    Other,
}

const TABLES: &[(Table, &[&str])] = &[
    (
        Table::Enrollments,
        &["classSourcedId", "userSourcedId", "role"],
    ),
    (
        Table::Classes,
        &["classCode", "courseSourcedId", "schoolSourcedId"],
    ),
    (
        Table::Users,
        &["role", "username", "givenName", "familyName"],
    ),
    (Table::Courses, &["courseCode", "orgSourcedId"]),
    (
        Table::AcademicSessions,
        &["startDate", "endDate", "schoolYear"],
    ),
    (Table::Orgs, &["name", "type", "identifier"]),
    (Table::Other, &["birthDate", "sex"]),
];

/// Which OneRoster file a header is, if any: a `sourcedId` column and the
/// columns that file alone has (or the manifest's `propertyName,value`).
pub fn table_of(header: &[String]) -> Option<Table> {
    let has = |c: &str| header.iter().any(|h| h.eq_ignore_ascii_case(c));
    if has("propertyName") && has("value") {
        return Some(Table::Other);
    }
    if !has("sourcedId") {
        return None;
    }
    TABLES
        .iter()
        .find(|(_, cols)| cols.iter().all(|c| has(c)))
        .map(|(t, _)| *t)
}

/// Which OneRoster file the CSV `text` is, by its header line.
fn table_of_text(text: &str) -> Option<Table> {
    let header: Vec<String> = text
        .lines()
        .next()
        .unwrap_or("")
        .split(',')
        .map(|h| {
            h.trim()
                .trim_matches('"')
                .trim_start_matches('\u{feff}')
                .to_string()
        })
        .collect();
    table_of(&header)
}

/// The most a zipped OneRoster file may hold once unzipped: a district's
/// enrollments are tens of megabytes; more is a broken file or a zip bomb.
const MAX_UNZIPPED: u64 = 1 << 30;

/// Reads the OneRoster CSV files of the zip at `path` into `rosters`, the
/// zip counting as their folder. `Ok(false)`: it holds none (a workbook,
/// say), so it is reported for what it looks like; `Err`: what is wrong.
pub fn unzip_into(
    path: &Path,
    rosters: &mut BTreeMap<PathBuf, Vec<(PathBuf, Table, String)>>,
) -> Result<bool, String> {
    let files = unzip(path)?;
    if files.is_empty() {
        return Ok(false);
    }
    rosters.insert(path.to_path_buf(), files);
    Ok(true)
}

/// The OneRoster CSV files in the zip at `path`, each named as
/// `ZIP/ENTRY` for messages.
fn unzip(path: &Path) -> Result<Vec<(PathBuf, Table, String)>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| format!("cannot read this zip: {e}; expected a OneRoster export"))?;
    let mut files = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| format!("cannot read entry {i} of this zip: {e}"))?;
        let name = entry
            .name()
            .map_err(|e| format!("cannot read the name of entry {i} of this zip: {e}"))?
            .trim_start_matches('/')
            .to_string();
        if !entry.is_file() || !name.to_ascii_lowercase().ends_with(".csv") {
            continue;
        }
        let mut text = String::new();
        (&mut entry)
            .take(MAX_UNZIPPED + 1)
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read {name} in this zip: {e}; expected UTF-8 CSV"))?;
        if text.len() as u64 > MAX_UNZIPPED {
            return Err(format!("{name} in this zip unzips to more than {MAX_UNZIPPED} bytes; expected a OneRoster file"));
        }
        if let Some(table) = table_of_text(&text) {
            let text = text.replace("\r\n", "\n");
            files.push((path.join(name), table, text));
        }
    }
    Ok(files)
}

/// One file's rows, each with its line.
struct Rows {
    path: PathBuf,
    rows: Vec<(u64, Row)>,
}

impl Rows {
    fn read(path: &Path, text: &str, diags: &mut Diagnostics) -> Rows {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let columns: HashMap<String, usize> = rdr
            .headers()
            .map(|h| {
                h.iter()
                    .enumerate()
                    .map(|(i, c)| (c.trim_start_matches('\u{feff}').to_string(), i))
                    .collect()
            })
            .unwrap_or_default();
        let columns = Rc::new(columns);
        let rows = super::records(path, &mut rdr, diags)
            .map(|(line, record)| {
                let columns = Rc::clone(&columns);
                (line, Row { columns, record })
            })
            .filter(|(_, row)| !cell(row, "status").eq_ignore_ascii_case("tobedeleted"))
            .collect();
        Rows {
            path: path.to_path_buf(),
            rows,
        }
    }

    /// Rows by `sourcedId`.
    fn by_id(&self) -> HashMap<&str, (u64, &Row)> {
        self.rows
            .iter()
            .map(|(line, r)| (cell(r, "sourcedId"), (*line, r)))
            .collect()
    }
}

/// One row, with its file's columns (name to position).
struct Row {
    columns: Rc<HashMap<String, usize>>,
    record: csv::StringRecord,
}

/// The cell of `column` in `row`; blank when the file has no such column.
fn cell<'a>(row: &'a Row, column: &str) -> &'a str {
    row.columns
        .get(column)
        .and_then(|&i| row.record.get(i))
        .unwrap_or("")
}

/// The assessment subject of a OneRoster subject, if it names one.
fn subject_code(subject: &str) -> Option<&'static str> {
    let s = subject.to_ascii_lowercase();
    let has = |w: &[&str]| w.iter().any(|w| s.contains(w));
    if has(&["english language development", "eld", "elpac"]) {
        Some("ELPAC")
    } else if has(&["math"]) {
        Some("Math")
    } else if has(&["english", "language arts", "ela", "reading", "literacy"]) {
        Some("ELA")
    } else if has(&["science"]) {
        Some("CAST")
    } else if has(&["spanish"]) {
        Some("CSA")
    } else {
        None
    }
}

/// The one assessment subject of a `subjects` cell (comma-separated), or
/// `None` for every subject.
fn subject_of(subjects: &str) -> Option<String> {
    let mut codes: Vec<&str> = subjects
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .filter_map(subject_code)
        .collect();
    codes.dedup();
    match codes[..] {
        [one] => Some(one.to_string()),
        _ => None,
    }
}

/// Builds groups from one folder's OneRoster files (`files`: path, table,
/// text); returns the rows read from each file.
pub fn load(
    files: &[(PathBuf, Table, String)],
    data: &mut Dataset,
    diags: &mut Diagnostics,
) -> Vec<(PathBuf, usize)> {
    let mut read = |t: Table| -> Option<Rows> {
        let (path, _, text) = files.iter().find(|(_, table, _)| *table == t)?;
        Some(Rows::read(path, text, diags))
    };
    let [orgs, sessions, courses, classes, users, enrollments] = [
        Table::Orgs,
        Table::AcademicSessions,
        Table::Courses,
        Table::Classes,
        Table::Users,
        Table::Enrollments,
    ]
    .map(&mut read);
    let counts: Vec<(PathBuf, usize)> =
        [&orgs, &sessions, &courses, &classes, &users, &enrollments]
            .into_iter()
            .flatten()
            .map(|r| (r.path.clone(), r.rows.len()))
            .collect();
    let (Some(orgs), Some(sessions), Some(classes), Some(users), Some(enrollments)) =
        (orgs, sessions, classes, users, enrollments)
    else {
        let folder = files
            .first()
            .and_then(|(p, ..)| p.parent())
            .unwrap_or(Path::new("."));
        diags.error(
            Location::file(folder),
            "a OneRoster folder needs orgs.csv, academicSessions.csv, classes.csv, users.csv and enrollments.csv; expected all of them beside each other",
        );
        return counts;
    };
    let (orgs_by, sessions_by, users_by) = (orgs.by_id(), sessions.by_id(), users.by_id());
    let courses_by = courses.as_ref().map(Rows::by_id).unwrap_or_default();
    let mut members: HashMap<&str, Vec<(u64, &Row)>> = HashMap::new();
    for (line, e) in &enrollments.rows {
        members
            .entry(cell(e, "classSourcedId"))
            .or_default()
            .push((*line, e));
    }
    for (line, class) in &classes.rows {
        let at = |column: &str| {
            Location::at(
                &classes.path,
                *line,
                column_of(files, Table::Classes, column),
            )
        };
        let Some(school) = school_of(class, &orgs_by, data, &at, diags) else {
            continue;
        };
        let Some(year) = year_of(class, &sessions_by, &at, diags) else {
            continue;
        };
        let course = courses_by.get(cell(class, "courseSourcedId"));
        let subjects = match cell(class, "subjects") {
            "" => course.map_or("", |(_, c)| cell(c, "subjects")),
            s => s,
        };
        let title = cell(class, "title");
        let name = if title.is_empty() {
            cell(class, "classCode")
        } else {
            title
        };
        let mut group = Group {
            name: name.to_string(),
            school,
            school_year: year,
            subject: subject_of(subjects),
            students: Vec::new(),
            users: Vec::new(),
        };
        let sourced = cell(class, "sourcedId");
        for (e_line, e) in members.get(sourced).map_or(&[][..], Vec::as_slice) {
            let e_at = |column: &str| {
                Location::at(
                    &enrollments.path,
                    *e_line,
                    column_of(files, Table::Enrollments, column),
                )
            };
            let Some((_, user)) = users_by.get(cell(e, "userSourcedId")) else {
                diags.error(
                    e_at("userSourcedId"),
                    format!(
                        "userSourcedId `{}` is not in users.csv; expected a user listed there",
                        cell(e, "userSourcedId")
                    ),
                );
                continue;
            };
            match cell(e, "role").to_ascii_lowercase().as_str() {
                "student" => add_student(&mut group, user, data, &e_at, diags),
                "teacher" | "aide" => {
                    let login = match cell(user, "email") {
                        "" => cell(user, "username"),
                        email => email,
                    };
                    if login.contains('@')
                        && !group.users.iter().any(|u| u.eq_ignore_ascii_case(login))
                    {
                        group.users.push(login.to_ascii_lowercase());
                    }
                }
                _ => {}
            }
        }
        if group.students.len() > super::groups::MAX_STUDENTS {
            diags.error(
                at("sourcedId"),
                format!(
                    "class `{name}` has {} students; expected at most {}, as for any student group",
                    group.students.len(),
                    super::groups::MAX_STUDENTS
                ),
            );
            continue;
        }
        data.groups.push(group);
    }
    counts
}

/// The 1-based column of `column` in the file of `table`.
fn column_of(files: &[(PathBuf, Table, String)], table: Table, column: &str) -> u64 {
    files
        .iter()
        .find(|(_, t, _)| *t == table)
        .and_then(|(_, _, text)| {
            let header = text.lines().next()?;
            header.split(',').position(|h| {
                h.trim()
                    .trim_matches('"')
                    .trim_start_matches('\u{feff}')
                    .eq_ignore_ascii_case(column)
            })
        })
        .map_or(1, |i| i as u64 + 1)
}

/// The school a class names, through its org.
fn school_of(
    class: &Row,
    orgs: &HashMap<&str, (u64, &Row)>,
    data: &Dataset,
    at: &dyn Fn(&str) -> Location,
    diags: &mut Diagnostics,
) -> Option<usize> {
    let id = cell(class, "schoolSourcedId");
    let Some((_, org)) = orgs.get(id) else {
        diags.error(
            at("schoolSourcedId"),
            format!("schoolSourcedId `{id}` is not in orgs.csv; expected an org listed there"),
        );
        return None;
    };
    let (identifier, name) = (cell(org, "identifier"), cell(org, "name"));
    let inst = &data.institutions;
    let found = match inst.find_school(identifier) {
        Found::None => {
            let named: Vec<usize> = (0..inst.schools.len())
                .filter(|&s| inst.schools[s].name.eq_ignore_ascii_case(name))
                .collect();
            match named[..] {
                [] => Found::None,
                [one] => Found::One(one),
                _ => Found::Many(named),
            }
        }
        found => found,
    };
    match found {
        Found::One(s) => Some(s),
        Found::None => {
            diags.error(at("schoolSourcedId"), format!("the org `{id}` ({name}, identifier `{identifier}`) is not a known school; expected a school in the institutions or results files, by its CDS or school code"));
            None
        }
        Found::Many(many) => {
            diags.error(at("schoolSourcedId"), format!("the org `{id}` ({name}, identifier `{identifier}`) names several schools: {}; expected its 14-digit CDS code as the identifier", inst.describe_schools(&many)));
            None
        }
    }
}

/// The school year of a class: that of its first term.
fn year_of(
    class: &Row,
    sessions: &HashMap<&str, (u64, &Row)>,
    at: &dyn Fn(&str) -> Location,
    diags: &mut Diagnostics,
) -> Option<u16> {
    let terms = cell(class, "termSourcedIds");
    let first = terms.split(',').next().unwrap_or("").trim();
    let Some((_, session)) = sessions.get(first) else {
        diags.error(at("termSourcedIds"), format!("termSourcedIds `{terms}` names no session in academicSessions.csv; expected the class's term"));
        return None;
    };
    match values::school_year(cell(session, "schoolYear")) {
        Ok(y) => Some(y),
        Err(e) => {
            diags.error(
                at("termSourcedIds"),
                format!(
                    "the session `{first}` has schoolYear {}; expected {e}",
                    cell(session, "schoolYear")
                ),
            );
            None
        }
    }
}

/// Adds a student user to `group` by their SSID (`identifier`).
fn add_student(
    group: &mut Group,
    user: &Row,
    data: &mut Dataset,
    at: &dyn Fn(&str) -> Location,
    diags: &mut Diagnostics,
) {
    match values::id(cell(user, "identifier")) {
        Err(e) => diags.error(
            at("userSourcedId"),
            format!(
                "student `{}` has no usable identifier (SSID) in users.csv: expected {e}",
                cell(user, "sourcedId")
            ),
        ),
        Ok(ssid) => {
            let s = data.student(ssid).unwrap_or_else(|| {
                data.upsert_student(ssid, cell(user, "givenName"), cell(user, "familyName"))
            });
            if !group.students.contains(&s) {
                group.students.push(s);
            }
        }
    }
}

/// The OneRoster files at `path`: a folder of them, a zip, or one file of a
/// folder (the folder is read).
pub fn files_at(path: &Path) -> Result<Vec<(PathBuf, Table, String)>, String> {
    if path.is_file()
        && path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        return unzip(path);
    }
    let folder = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(Path::new("."))
    };
    let entries = std::fs::read_dir(folder).map_err(|e| format!("cannot read: {e}"))?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let file = entry.path();
        if !file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            continue;
        }
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("{}: cannot read: {e}; expected UTF-8 CSV", file.display()))?;
        if let Some(table) = table_of_text(&text) {
            files.push((file, table, text.replace("\r\n", "\n")));
        }
    }
    files.sort();
    Ok(files)
}

/// A member of staff in a OneRoster `users.csv`, with the grants their role
/// gives at their orgs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub email: String,
    pub name: Option<String>,
    /// ROLE:SCOPE, by the orgs' identifiers.
    pub grants: Vec<String>,
}

/// Who may log on, from `users.csv` and `orgs.csv`:
///
/// - a `teacher` gets `teacher:ID` at each school among their orgs;
/// - an `administrator` gets `school_admin:ID` at a school,
///   `district_admin:ID` at a district (or `local`) org, and `state_admin`
///   at a state org;
/// - students, parents, guardians, relatives, aides, proctors, disabled
///   accounts (`enabledUser` false) and rows to be deleted are passed over
///   (returned as a count).
///
/// ID is the org's `identifier` (a CDS or school code). The email is the
/// `email` column, else a `username` that is an email address. Problems go
/// to `diags`, by file, line and column.
pub fn staff(files: &[(PathBuf, Table, String)], diags: &mut Diagnostics) -> (Vec<Staff>, usize) {
    let read = |t: Table, diags: &mut Diagnostics| {
        let (path, _, text) = files.iter().find(|(_, table, _)| *table == t)?;
        Some(Rows::read(path, text, diags))
    };
    let (Some(users), Some(orgs)) = (read(Table::Users, diags), read(Table::Orgs, diags)) else {
        let folder = files
            .first()
            .and_then(|(p, ..)| p.parent())
            .unwrap_or(Path::new("."));
        diags.error(
            Location::file(folder),
            "a OneRoster export needs users.csv and orgs.csv to enrol staff; expected both beside each other",
        );
        return (Vec::new(), 0);
    };
    let orgs_by = orgs.by_id();
    let (mut staff, mut passed) = (Vec::new(), 0);
    for (line, user) in &users.rows {
        let at =
            |column: &str| Location::at(&users.path, *line, column_of(files, Table::Users, column));
        let role = cell(user, "role").to_ascii_lowercase();
        let enabled = !cell(user, "enabledUser").eq_ignore_ascii_case("false");
        if !enabled || !matches!(role.as_str(), "teacher" | "administrator") {
            passed += 1;
            continue;
        }
        let email = match [cell(user, "email"), cell(user, "username")]
            .into_iter()
            .find(|e| e.contains('@'))
        {
            Some(e) => e.to_ascii_lowercase(),
            None => {
                diags.error(at("email"), format!("user `{}` ({role}) has no email address in email or username; expected the address they log on with", cell(user, "sourcedId")));
                continue;
            }
        };
        let mut grants = Vec::new();
        for id in cell(user, "orgSourcedIds")
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
        {
            let Some((org_line, org)) = orgs_by.get(id) else {
                diags.error(
                    at("orgSourcedIds"),
                    format!(
                        "org `{id}` of {email} is not in orgs.csv; expected an org listed there"
                    ),
                );
                continue;
            };
            let identifier = cell(org, "identifier");
            let kind = cell(org, "type").to_ascii_lowercase();
            let grant = match (role.as_str(), kind.as_str()) {
                (_, "state") if role == "administrator" => Some("state_admin".to_string()),
                (_, "school" | "district" | "local") if identifier.is_empty() => {
                    let column = column_of(files, Table::Orgs, "identifier");
                    diags.error(Location::at(&orgs.path, *org_line, column), format!("org `{id}` ({}) has no identifier; expected its CDS or school code, which scoresite's grants name", cell(org, "name")));
                    None
                }
                ("teacher", "school") => Some(format!("teacher:{identifier}")),
                ("administrator", "school") => Some(format!("school_admin:{identifier}")),
                ("administrator", "district" | "local") => {
                    Some(format!("district_admin:{identifier}"))
                }
                _ => None,
            };
            grants.extend(grant.filter(|g| !grants.contains(g)));
        }
        if grants.is_empty() {
            diags.error(at("orgSourcedIds"), format!("{email} ({role}) belongs to no org their role gives reports at; expected a school (or for an administrator a district or state) among orgSourcedIds"));
            continue;
        }
        let name = format!("{} {}", cell(user, "givenName"), cell(user, "familyName"));
        staff.push(Staff {
            email,
            name: Some(name.trim().to_string()).filter(|n| !n.is_empty()),
            grants,
        });
    }
    (staff, passed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_get_the_grants_their_role_gives_at_each_org() {
        let orgs = "sourcedId,name,type,identifier\n\
                    lea,Lea,district,1964733\n\
                    a,School A,school,19647330000001\n\
                    b,School B,school,19647330000002\n\
                    st,State,state,CA\n";
        let users =
            "sourcedId,enabledUser,orgSourcedIds,role,username,givenName,familyName,email\n\
                     t1,true,\"lea,a,b\",teacher,x,Ann,Lee,Ann.Lee@D.org\n\
                     a1,true,\"a,lea\",administrator,bo@d.org,Bo,Ng,\n\
                     s1,true,st,administrator,cy@d.org,Cy,,\n\
                     p1,true,a,parent,p@home.org,Pa,Rent,p@home.org\n\
                     t2,FALSE,a,teacher,t2@d.org,Old,Account,t2@d.org\n";
        let files = vec![
            (PathBuf::from("orgs.csv"), Table::Orgs, orgs.to_string()),
            (PathBuf::from("users.csv"), Table::Users, users.to_string()),
        ];
        let mut diags = Diagnostics::default();
        let (staff, passed) = staff(&files, &mut diags);
        assert!(diags.is_ok());
        assert_eq!(passed, 2);
        let grants: Vec<(&str, Vec<&str>)> = staff
            .iter()
            .map(|s| {
                (
                    s.email.as_str(),
                    s.grants.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            grants,
            [
                (
                    "ann.lee@d.org",
                    vec!["teacher:19647330000001", "teacher:19647330000002"]
                ),
                (
                    "bo@d.org",
                    vec!["school_admin:19647330000001", "district_admin:1964733"]
                ),
                ("cy@d.org", vec!["state_admin"]),
            ]
        );
        assert_eq!(staff[0].name.as_deref(), Some("Ann Lee"));
        assert_eq!(staff[2].name.as_deref(), Some("Cy"));
    }
}

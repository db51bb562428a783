//! Institutions: the state, its LEAs and their schools, and how a school
//! reference (an id, `LEA/ID`, a CDS code or alias) finds a school.

use rustc_hash::FxHashMap as HashMap;

/// A local educational agency (district).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lea {
    /// The LEA's natural id: the CERS DistrictId or the CALPADS county-district code.
    pub id: String,
    pub name: String,
    /// The NCES district id, when an export gave it.
    pub nces: Option<String>,
}

/// A school, belonging to one LEA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct School {
    /// The school's natural id: the CERS SchoolId, the groups file's school_natural_id.
    pub id: String,
    /// The 14-digit County-District-School code, when known.
    pub cds: Option<String>,
    pub name: String,
    /// Index into [`Institutions::leas`].
    pub lea: usize,
}

/// State → LEA → school.
///
/// A school is identified by its LEA and its id, never by a bare id: real
/// exports reuse short SchoolIds (`300`) across districts. A school may also
/// be named by a globally unique code (its 14-digit CDS code, a charter's
/// authorising CDS code) or written `LEA/ID`; see [`Institutions::find_school`].
#[derive(Debug, Default)]
pub struct Institutions {
    pub state: String,
    pub leas: Vec<Lea>,
    pub schools: Vec<School>,
    lea_index: HashMap<String, usize>,
    /// (LEA, id or alias) → school.
    /// LEA → id or alias → school.
    school_key: HashMap<usize, HashMap<String, usize>>,
    /// Id, CDS code or alias → every school that answers to it.
    school_ids: HashMap<String, Vec<usize>>,
}

/// What a school reference names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    None,
    One(usize),
    /// A bare id that several LEAs use.
    Many(Vec<usize>),
}

/// The other spelling of a CDS-style LEA id: `5073601` ↔ `50736010000000`.
fn lea_twin(id: &str) -> Option<String> {
    let digits = id.bytes().all(|b| b.is_ascii_digit());
    match id.len() {
        7 if digits => Some(format!("{id}0000000")),
        14 if digits && id.ends_with("0000000") => Some(id[..7].to_string()),
        _ => None,
    }
}

/// True for a 14-digit code, which names one school statewide.
pub fn is_cds(id: &str) -> bool {
    id.len() == 14 && id.bytes().all(|b| b.is_ascii_digit())
}

impl Institutions {
    /// Adds an LEA (or returns the existing one with that id, in either its
    /// 7-digit or 14-digit CDS spelling).
    pub fn add_lea(&mut self, id: &str, name: &str) -> usize {
        if let Some(i) = self.lea(id) {
            return i;
        }
        self.leas.push(Lea {
            id: id.to_string(),
            name: name.to_string(),
            nces: None,
        });
        let i = self.leas.len() - 1;
        self.lea_index.insert(id.to_string(), i);
        if let Some(twin) = lea_twin(id) {
            self.lea_index.entry(twin).or_insert(i);
        }
        i
    }

    /// Lets the LEA at `lea` also be found by `alias`.
    pub fn add_lea_alias(&mut self, alias: &str, lea: usize) {
        self.lea_index.entry(alias.to_string()).or_insert(lea);
    }

    /// Adds a school under its LEA (or returns the one with that id there).
    /// `aliases` are other ids it may be referred by, such as its 7-digit
    /// school code or a charter's authorising CDS code.
    pub fn add_school(&mut self, school: School, aliases: &[&str]) -> usize {
        if let Some(i) = self
            .school_key
            .get(&school.lea)
            .and_then(|m| m.get(&school.id))
        {
            return *i;
        }
        let idx = self.schools.len();
        let names = std::iter::once(school.id.as_str())
            .chain(school.cds.as_deref())
            .chain(aliases.iter().copied())
            .map(str::to_string)
            .collect::<Vec<_>>();
        for name in names {
            self.school_key
                .entry(school.lea)
                .or_default()
                .entry(name.clone())
                .or_insert(idx);
            let all = self.school_ids.entry(name).or_default();
            if !all.contains(&idx) {
                all.push(idx);
            }
        }
        self.schools.push(school);
        idx
    }

    /// The school that `id` names within `lea`: its id or an alias there, or
    /// a 14-digit code that names one school anywhere.
    pub fn school_in(&self, lea: usize, id: &str) -> Option<usize> {
        self.school_key
            .get(&lea)
            .and_then(|m| m.get(id))
            .copied()
            .or_else(|| match self.find_school(id) {
                Found::One(s) if is_cds(id) => Some(s),
                _ => None,
            })
    }

    /// What a school reference names: `LEA/ID`, a 14-digit CDS code, or a bare
    /// id or alias (which may be used by several LEAs).
    pub fn find_school(&self, reference: &str) -> Found {
        if let Some((lea, id)) = reference.split_once('/') {
            return match self
                .lea(lea.trim())
                .and_then(|l| self.school_in(l, id.trim()))
            {
                Some(s) => Found::One(s),
                None => Found::None,
            };
        }
        match self.school_ids.get(reference).map(Vec::as_slice) {
            None | Some([]) if is_cds(reference) => {
                // A CDS code is its LEA's code and the school's code.
                let (lea, school) = reference.split_at(7);
                match self.lea(lea).and_then(|l| self.school_in(l, school)) {
                    Some(s) => Found::One(s),
                    None => Found::None,
                }
            }
            None | Some([]) => Found::None,
            Some([one]) => Found::One(*one),
            Some(many) => Found::Many(many.to_vec()),
        }
    }

    /// The school a reference names, when it names exactly one.
    pub fn school(&self, reference: &str) -> Option<usize> {
        match self.find_school(reference) {
            Found::One(s) => Some(s),
            _ => None,
        }
    }

    /// A reference that names school `s` alone: its id when no other LEA uses
    /// it, else `LEA/ID`.
    pub fn school_ref(&self, s: usize) -> String {
        let school = &self.schools[s];
        match self.find_school(&school.id) {
            Found::One(_) => school.id.clone(),
            _ => format!("{}/{}", self.leas[school.lea].id, school.id),
        }
    }

    /// School `s`'s 14-digit CDS code: as given, or its LEA's 7-digit code
    /// and its 7-digit school code; `None` when neither is known.
    pub fn school_cds(&self, s: usize) -> Option<String> {
        let school = &self.schools[s];
        if let Some(cds) = &school.cds {
            return Some(cds.clone());
        }
        let lea = self.lea_code(school.lea)?;
        let seven = school.id.len() == 7 && school.id.bytes().all(|b| b.is_ascii_digit());
        seven.then(|| format!("{lea}{}", school.id))
    }

    /// LEA `l`'s 14-digit CDS code (its 7-digit code and seven zeros).
    pub fn lea_cds(&self, l: usize) -> Option<String> {
        self.lea_code(l).map(|code| format!("{code}0000000"))
    }

    /// LEA `l`'s 7-digit county-district code, from a 7- or 14-digit id.
    fn lea_code(&self, l: usize) -> Option<&str> {
        let id = self.leas[l].id.as_str();
        let digits = id.bytes().all(|b| b.is_ascii_digit());
        match id.len() {
            7 if digits => Some(id),
            14 if digits && id.ends_with("0000000") => Some(&id[..7]),
            _ => None,
        }
    }

    /// The schools of `Found::Many`, as `LEA/ID (name)` for messages.
    pub fn describe_schools(&self, schools: &[usize]) -> String {
        schools
            .iter()
            .map(|&s| {
                let school = &self.schools[s];
                format!(
                    "{}/{} ({}, {})",
                    self.leas[school.lea].id, school.id, school.name, self.leas[school.lea].name
                )
            })
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// The LEA with this id (7- or 14-digit CDS spellings are the same LEA).
    pub fn lea(&self, id: &str) -> Option<usize> {
        self.lea_index
            .get(id)
            .or_else(|| lea_twin(id).and_then(|t| self.lea_index.get(&t)))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cds_codes_from_what_is_known() {
        let mut inst = Institutions::default();
        let seven = inst.add_lea("0161192", "Oak Valley");
        let fourteen = inst.add_lea("99000010000000", "Sandbox");
        let local = inst.add_lea("8080", "Apple Grove");
        let school = |id: &str, cds: Option<&str>, lea| School {
            id: id.into(),
            cds: cds.map(str::to_string),
            name: id.into(),
            lea,
        };
        let a = inst.add_school(school("6000001", None, seven), &[]);
        let b = inst.add_school(school("6900003", None, fourteen), &[]);
        let c = inst.add_school(school("100", None, local), &[]);
        let d = inst.add_school(school("200", Some("19647331931476"), local), &[]);
        assert_eq!(inst.school_cds(a).as_deref(), Some("01611926000001"));
        assert_eq!(inst.school_cds(b).as_deref(), Some("99000016900003"));
        assert_eq!(inst.school_cds(c), None, "a local id is no school code");
        assert_eq!(inst.school_cds(d).as_deref(), Some("19647331931476"));
        assert_eq!(inst.lea_cds(seven).as_deref(), Some("01611920000000"));
        assert_eq!(inst.lea_cds(fourteen).as_deref(), Some("99000010000000"));
        assert_eq!(inst.lea_cds(local), None);
    }
}

//! The testing calendar of the fictitious LEA: which interims a school gives
//! a grade and when, session ids, and the names CERS gives summatives.

use super::draw::{self, Draws, Stream};
use super::results::Context;
use crate::catalog::Family;
use chrono::{Duration, NaiveDate};
use fake::rand::rngs::ChaCha8Rng;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum BlockKind {
    Ica,
    Iab,
    Fiab,
}

/// An interim a class gives, and when.
pub(super) struct Block {
    pub kind: BlockKind,
    pub name: String,
    pub date: NaiveDate,
}

/// The interims a school gives a grade in a subject during a year: the same
/// for every student of that school, grade and year.
pub(super) fn plan(
    ctx: &Context,
    school: usize,
    year: u16,
    grade: u8,
    subject: &str,
) -> Vec<Block> {
    let p = ctx.profile;
    let mut rng = draw::rng(
        ctx.seed,
        Stream::Plans,
        draw::key(&format!("{school}/{year}/{grade}/{subject}")),
    );
    let blocks = &p.interims[subject];
    let mut out = Vec::new();
    let pick = |rng: &mut ChaCha8Rng,
                names: &[String],
                n: usize,
                kind: BlockKind,
                out: &mut Vec<Block>| {
        let mut names: Vec<&String> = names.iter().collect();
        for _ in 0..n.min(names.len()) {
            let name = names.remove(rng.below(names.len()));
            out.push(Block {
                kind,
                name: name.clone(),
                date: day(year - 1, (10, 1), rng.below(160) as i64),
            });
        }
    };
    // Many classes whose grade has practice items give that block, so the
    // item views have data.
    let practice: Vec<String> = blocks
        .iab
        .iter()
        .filter(|b| {
            ctx.items.set_for(subject, b, grade).is_some() && rng.chance(p.rates.practice_block)
        })
        .cloned()
        .collect();
    let others: Vec<String> = blocks
        .iab
        .iter()
        .filter(|b| !practice.contains(b))
        .cloned()
        .collect();
    pick(
        &mut rng,
        &practice,
        practice.len(),
        BlockKind::Iab,
        &mut out,
    );
    pick(
        &mut rng,
        &others,
        p.rates.iabs_per_class.saturating_sub(practice.len()),
        BlockKind::Iab,
        &mut out,
    );
    pick(
        &mut rng,
        &blocks.fiab,
        p.rates.fiabs_per_class,
        BlockKind::Fiab,
        &mut out,
    );
    if rng.chance(p.rates.ica) {
        out.push(Block {
            kind: BlockKind::Ica,
            name: String::new(),
            date: day(year, (1, 20), rng.below(50) as i64),
        });
    }
    out
}

/// `offset` days after (month, day) of `year`.
pub(super) fn day(year: u16, (month, d): (u32, u32), offset: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(year as i32, month, d).expect("valid date") + Duration::days(offset)
}

/// A CERS-style session id shared by everyone tested together.
pub(super) fn session_id(year: u16, school: usize, what: &str) -> String {
    let h = draw::key(&format!("{year}/{school}/{what}"));
    format!("CA-{:04X}-{:03}", h & 0xffff, (h >> 16) % 1000)
}

/// The assessment name CERS gives a summative test at `grade`.
pub(super) fn summative_name(fam: &Family, grade: u8) -> String {
    let g = match grade {
        0 => "Kindergarten".to_string(),
        n => format!("Grade {n}"),
    };
    let band = match grade {
        9 | 10 => "Grades 9-10".to_string(),
        11 | 12 => "Grades 11-12".to_string(),
        _ => g.clone(),
    };
    match fam.subject.as_str() {
        "ELA" => format!("{g} ELA Summative"),
        "Math" => format!("{g} Math Summative"),
        "CAAELA" => format!("{g} CAA ELA Summative"),
        "CAAMATH" => format!("{g} CAA Math Summative"),
        "CAASCI" => format!("CAA Science {g} Summative"),
        "CAST" if grade >= 9 => "High School CAST Summative".to_string(),
        "CAST" => format!("{g} CAST Summative"),
        "CSA" if grade >= 9 => "High School CSA Summative".to_string(),
        "CSA" => format!("{g} CSA Summative"),
        "ELPAC" => format!("{band} ELPAC Summative"),
        "ALTELPAC" => format!("{band} Alternate ELPAC Summative"),
        other => format!("{g} {other} Summative"),
    }
}

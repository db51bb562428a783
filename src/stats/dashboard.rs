//! California School Dashboard placement: an indicator's status and change
//! levels and the five-by-five colour, from the rules in
//! `config/dashboard.yaml`.

use serde::Deserialize;

const BUILTIN: &str = include_str!("../../config/dashboard.yaml");

/// The Dashboard's n-size rules, indicators and colour table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub status_min_n: usize,
    pub color_min_n: usize,
    /// The share (percent) of students expected to test who must test.
    pub participation_target: u32,
    pub indicators: Vec<Indicator>,
    /// Colour by status level (rows) and change level (columns).
    pub colors: Vec<Vec<String>>,
}

/// One state indicator: its status and change levels, highest first.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub id: String,
    pub name: String,
    pub measure: String,
    pub status: Vec<Band>,
    pub change: Vec<Band>,
}

/// A level and its lowest value (none for the lowest level).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub level: String,
    pub from: Option<f64>,
}

/// Where a student group falls: its status, change (when the prior year
/// was reported) and colour (when the group is large enough).
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub status_level: usize,
    pub change: Option<f64>,
    pub change_level: Option<usize>,
    pub color: Option<String>,
}

/// `v` to one decimal, as the Dashboard reports it.
pub fn tenth(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

impl Rules {
    /// The built-in rules, checked for shape.
    pub fn builtin() -> Result<Rules, String> {
        let rules: Rules =
            serde_yaml::from_str(BUILTIN).map_err(|e| format!("config/dashboard.yaml: {e}"))?;
        rules.check()?;
        Ok(rules)
    }

    fn check(&self) -> Result<(), String> {
        let five = |b: &[Band]| {
            b.len() == 5 && b[..4].iter().all(|b| b.from.is_some()) && b[4].from.is_none()
        };
        for i in &self.indicators {
            if !five(&i.status) || !five(&i.change) {
                return Err(format!(
                    "config/dashboard.yaml: indicator {}: expected five status and five change levels, the last without `from`",
                    i.id
                ));
            }
        }
        if !(1..=100).contains(&self.participation_target) {
            return Err(
                "config/dashboard.yaml: participation_target: expected a percentage from 1 to 100"
                    .into(),
            );
        }
        if self.colors.len() != 5 || self.colors.iter().any(|r| r.len() != 5) {
            return Err("config/dashboard.yaml: colors: expected five rows of five".into());
        }
        Ok(())
    }

    /// The indicator with id `id`.
    pub fn indicator(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }

    /// The placement of a group of `n` with `status` this year and, when
    /// the prior year's group was reported, `prior` (its n and status).
    /// None when the group is too small for a status.
    pub fn place(
        &self,
        indicator: &Indicator,
        n: usize,
        status: f64,
        prior: Option<(usize, f64)>,
    ) -> Option<Placement> {
        if n < self.status_min_n {
            return None;
        }
        let status_level = level(&indicator.status, status);
        let change = prior
            .filter(|&(pn, _)| pn >= self.status_min_n)
            .map(|(_, p)| tenth(tenth(status) - tenth(p)));
        let change_level = change.map(|c| level(&indicator.change, c));
        let color = change_level
            .filter(|_| n >= self.color_min_n)
            .map(|c| self.colors[status_level][c].clone());
        Some(Placement {
            status_level,
            change,
            change_level,
            color,
        })
    }
}

/// The index of the band `v` (rounded to one decimal) falls in.
pub fn level(bands: &[Band], v: f64) -> usize {
    let v = tenth(v);
    bands
        .iter()
        .position(|b| b.from.is_none_or(|f| v >= f))
        .unwrap_or(bands.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules::builtin().unwrap()
    }

    #[test]
    fn status_levels_at_their_boundaries() {
        let r = rules();
        let ela = r.indicator("ela").unwrap();
        let name = |v: f64| ela.status[level(&ela.status, v)].level.as_str();
        assert_eq!(name(45.0), "Very High");
        assert_eq!(name(44.96), "Very High"); // reported as 45.0
        assert_eq!(name(44.9), "High");
        assert_eq!(name(10.0), "High");
        assert_eq!(name(9.9), "Medium");
        assert_eq!(name(-5.0), "Medium");
        assert_eq!(name(-5.1), "Low");
        assert_eq!(name(-70.0), "Low");
        assert_eq!(name(-70.1), "Very Low");
        let math = r.indicator("math").unwrap();
        let name = |v: f64| math.status[level(&math.status, v)].level.as_str();
        assert_eq!(name(0.0), "High");
        assert_eq!(name(-0.1), "Medium");
        assert_eq!(name(-95.1), "Very Low");
    }

    #[test]
    fn change_levels_and_colours() {
        let r = rules();
        let ela = r.indicator("ela").unwrap();
        // Medium (−5.0) up 15.0 from −20.0: Increased Significantly, Green.
        let p = r.place(ela, 30, -5.0, Some((30, -20.0))).unwrap();
        assert_eq!(p.change, Some(15.0));
        assert_eq!(
            ela.change[p.change_level.unwrap()].level,
            "Increased Significantly"
        );
        assert_eq!(p.color.as_deref(), Some("Green"));
        // Down 2.9: Maintained; down 3.0: Declined.
        let p = r.place(ela, 40, 12.0, Some((40, 14.9))).unwrap();
        assert_eq!(ela.change[p.change_level.unwrap()].level, "Maintained");
        assert_eq!(p.color.as_deref(), Some("Green"));
        let p = r.place(ela, 40, 12.0, Some((40, 15.0))).unwrap();
        assert_eq!(ela.change[p.change_level.unwrap()].level, "Declined");
        assert_eq!(p.color.as_deref(), Some("Yellow"));
        // Very Low, declined significantly: Red.
        let p = r.place(ela, 40, -90.0, Some((40, -70.0))).unwrap();
        assert_eq!(p.color.as_deref(), Some("Red"));
    }

    #[test]
    fn n_size_rules() {
        let r = rules();
        let ela = r.indicator("ela").unwrap();
        assert_eq!(r.place(ela, 10, 0.0, None), None);
        // 11 to 29: status and change, no colour.
        let p = r.place(ela, 29, 0.0, Some((29, -10.0))).unwrap();
        assert_eq!((p.change, p.color), (Some(10.0), None));
        // No change without a reported prior year, so no colour.
        let p = r.place(ela, 30, 0.0, Some((10, -10.0))).unwrap();
        assert_eq!((p.change, p.color), (None, None));
        let p = r.place(ela, 30, 0.0, None).unwrap();
        assert_eq!(p.color, None);
    }
}

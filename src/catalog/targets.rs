//! Short titles of the Smarter Balanced assessment targets
//! (`config/targets.yaml`), keyed by TRT measureOf code.

use std::collections::BTreeMap;
use std::sync::OnceLock;

const TARGETS: &str = include_str!("../../config/targets.yaml");

fn titles() -> &'static BTreeMap<String, BTreeMap<String, String>> {
    static TITLES: OnceLock<BTreeMap<String, BTreeMap<String, String>>> = OnceLock::new();
    TITLES.get_or_init(|| {
        crate::yaml::parse(std::path::Path::new("config/targets.yaml"), TARGETS)
            .expect("config/targets.yaml is valid (tested)")
    })
}

/// The title of target `code` (`CLAIM|TARGET-GRADE`) of `subject`. Math codes
/// that leave out the domain (`1|A-5` for `1|NBT|A-5`) match any domain.
pub fn title(subject: &str, code: &str) -> Option<&'static str> {
    let map = titles().get(subject)?;
    if let Some(t) = map.get(code) {
        return Some(t);
    }
    let (claim, target) = code.split_once('|')?;
    // Writing targets split by purpose (`1a`, `1b`) share their target's title.
    if let Some((number, grade)) = target.split_once('-') {
        if let Some(base) = number.strip_suffix(|c: char| c.is_ascii_lowercase()) {
            if let Some(t) = map.get(&format!("{claim}|{base}-{grade}")) {
                return Some(t);
            }
        }
    }
    map.iter()
        .find(|(k, _)| {
            k.strip_prefix(claim)
                .and_then(|r| r.strip_prefix('|'))
                .and_then(|r| r.rsplit_once('|'))
                .is_some_and(|(_, t)| t == target)
        })
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    #[test]
    fn titles_by_code() {
        assert_eq!(super::title("ELA", "1-IT|8-5"), Some("Key Details"));
        assert!(super::title("Math", "1|A-3").is_some());
        assert_eq!(
            super::title("ELA", "2-W|1a-4"),
            Some("Write/Revise Brief Texts")
        );
        assert_eq!(super::title("Math", "9|Z-3"), None);
        assert_eq!(super::title("Science", "1|A-3"), None);
    }
}

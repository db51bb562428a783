//! Names of the accessibility resources an Individual Student Report lists
//! (`config/accessibility.yaml`), keyed by the code TRT files and CERS
//! exports carry.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const RESOURCES: &str = include_str!("../../config/accessibility.yaml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Resources {
    accommodations: BTreeMap<String, String>,
    designated_supports: BTreeMap<String, String>,
}

fn resources() -> &'static Resources {
    static RESOURCES_BY_CODE: OnceLock<Resources> = OnceLock::new();
    RESOURCES_BY_CODE.get_or_init(|| {
        crate::yaml::parse(std::path::Path::new("config/accessibility.yaml"), RESOURCES)
            .expect("config/accessibility.yaml is valid (tested)")
    })
}

/// The accommodations and the designated supports among `codes` (a CERS
/// `|`-separated list), by name, each named once. Codes the file does not
/// list (universal tools, "none" values) are left out.
pub fn named<'a>(
    codes: impl IntoIterator<Item = &'a str>,
) -> (Vec<&'static str>, Vec<&'static str>) {
    let r = resources();
    let (mut accommodations, mut supports) = (Vec::new(), Vec::new());
    for code in codes {
        let code = code.trim();
        if let Some(n) = r.accommodations.get(code) {
            if !accommodations.contains(&n.as_str()) {
                accommodations.push(n.as_str());
            }
        } else if let Some(n) = r.designated_supports.get(code) {
            if !supports.contains(&n.as_str()) {
                supports.push(n.as_str());
            }
        }
    }
    (accommodations, supports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_named_and_none_values_left_out() {
        let (acc, ds) = named(
            "TDS_ASL0|TDS_PoD_Stim|TDS_TTS_Stim&TDS_TTS_Item|NEDS_NoiseBuf|TDS_WL_Glossary|TDS_CCInvert|TDS_CCYellow|TDS_Highlight1"
                .split('|'),
        );
        assert_eq!(acc, ["Print on Demand (passages)"]);
        assert_eq!(
            ds,
            [
                "Text-to-Speech (passages and items)",
                "Noise Buffers",
                "Color Contrast"
            ]
        );
        assert_eq!(named([]), (vec![], vec![]));
    }
}

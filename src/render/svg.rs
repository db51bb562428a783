//! Inline SVG charts: the ISR's level bar and the level-distribution bar.
//! Only numbers and escaped labels go into them.

use std::fmt::Write as _;

/// Fill colours of levels 1…6: distinct, and dark enough for white text
/// (contrast ≥ 4.5:1).
const COLOURS: [&str; 6] = [
    "#a4262c", "#8a5300", "#1f6b3a", "#1d4f91", "#5b2c83", "#3d3d3d",
];

/// The colour of `level` (1-based).
pub fn colour(level: u8) -> &'static str {
    COLOURS[(level.max(1) as usize - 1) % COLOURS.len()]
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal bar of the scale from `min` to `max`, one band per level
/// between the cut scores, with the score marked and its ±SE band drawn.
pub fn level_bar(
    min: f32,
    max: f32,
    cuts: &[f32],
    levels: &[String],
    score: f32,
    se: Option<f32>,
) -> String {
    let (w, h) = (600.0f32, 70.0f32);
    let x = |v: f32| ((v - min) / (max - min)).clamp(0.0, 1.0) * w;
    let mut edges = vec![min];
    edges.extend_from_slice(cuts);
    edges.push(max);
    let label = format!(
        "Scale from {min} to {max}; score {score}{}",
        se.map(|s| format!(" ± {s}")).unwrap_or_default()
    );
    let mut out = format!(
        r#"<svg class="levelbar" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"#,
        escape(&label)
    );
    for (i, pair) in edges.windows(2).enumerate() {
        let (a, b) = (x(pair[0]), x(pair[1]));
        let name = levels.get(i).map(String::as_str).unwrap_or("");
        let _ = write!(
            out,
            r##"<rect x="{a:.1}" y="24" width="{:.1}" height="22" fill="{}"/><text x="{:.1}" y="39" fill="#fff" font-size="11" text-anchor="middle">{}</text>"##,
            (b - a).max(0.0),
            colour(i as u8 + 1),
            (a + b) / 2.0,
            escape(name)
        );
        if i > 0 {
            let _ = write!(
                out,
                r##"<text x="{a:.1}" y="62" font-size="11" text-anchor="middle" fill="#222">{}</text>"##,
                pair[0]
            );
        }
    }
    if let Some(se) = se {
        let (a, b) = (x(score - se), x(score + se));
        let _ = write!(
            out,
            r##"<rect class="se" x="{a:.1}" y="18" width="{:.1}" height="34" fill="none" stroke="#111" stroke-width="2" stroke-dasharray="4 2"/>"##,
            b - a
        );
    }
    let s = x(score);
    let _ = write!(
        out,
        r##"<path d="M{:.1} 4 L{:.1} 4 L{s:.1} 18 Z" fill="#111"/><line x1="{s:.1}" y1="18" x2="{s:.1}" y2="52" stroke="#111" stroke-width="3"/><text x="{s:.1}" y="12" font-size="0">{score}</text></svg>"##,
        s - 6.0,
        s + 6.0
    );
    out
}

/// A stacked bar of level percentages.
pub fn distribution(percents: &[f64], levels: &[String]) -> String {
    let mut out = String::from(r#"<svg class="dist" viewBox="0 0 300 18" role="img" aria-label=""#);
    let label: Vec<String> = percents
        .iter()
        .zip(levels)
        .map(|(p, l)| format!("{}: {p:.0}%", escape(l)))
        .collect();
    let _ = write!(out, r#"{}" preserveAspectRatio="none">"#, label.join(", "));
    let mut at = 0.0;
    for (i, p) in percents.iter().enumerate() {
        let width = p * 3.0;
        let _ = write!(
            out,
            r#"<rect x="{at:.2}" y="0" width="{width:.2}" height="18" fill="{}"/>"#,
            colour(i as u8 + 1)
        );
        at += width;
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_sits_at_the_score() {
        let svg = level_bar(
            2000.0,
            3000.0,
            &[2500.0],
            &["Low".into(), "High".into()],
            2750.0,
            Some(50.0),
        );
        // 2750 is 75% of the way across 600 units: x = 450.
        assert!(svg.contains(r#"x1="450.0""#), "{svg}");
        // The SE band spans 2700..2800: x 420..480.
        assert!(svg.contains(r#"x="420.0" y="18" width="60.0""#), "{svg}");
        assert!(svg.contains(">2500</text>"));
        assert!(svg.contains("score 2750 ± 50"));
    }

    #[test]
    fn labels_are_escaped() {
        let svg = distribution(&[50.0, 50.0], &["<b>".into(), "A&B".into()]);
        assert!(svg.contains("&lt;b&gt;: 50%") && svg.contains("A&amp;B"));
    }
}

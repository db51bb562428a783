//! Inline SVG charts: the ISR's level bar and the level-distribution bar.
//! Only numbers and escaped labels go into them; colours and type come from
//! the stylesheet (`.l1`…`.l6` are the level colours, with contrast ≥ 4.5:1
//! for white text).

use std::fmt::Write as _;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal bar of the scale from `min` to `max`, one band per level
/// between the cut scores, with the score marked and the band of ± `band`
/// drawn. `label` is its accessible name, in the figures the page shows.
pub fn level_bar(
    min: f32,
    max: f32,
    cuts: &[f32],
    levels: &[String],
    score: f32,
    band: Option<f32>,
    label: &str,
) -> String {
    let (w, h) = (600.0f32, 72.0f32);
    let x = |v: f32| ((v - min) / (max - min)).clamp(0.0, 1.0) * w;
    let mut edges = vec![min];
    edges.extend_from_slice(cuts);
    edges.push(max);
    let mut out = format!(
        r#"<svg class="levelbar" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"#,
        escape(label)
    );
    for (i, pair) in edges.windows(2).enumerate() {
        let (a, b) = (x(pair[0]), x(pair[1]));
        let name = levels.get(i).map(String::as_str).unwrap_or("");
        let _ = write!(
            out,
            r#"<rect class="l{}" x="{a:.0}" y="24" width="{:.0}" height="22"/><text x="{:.0}" y="39">{}</text>"#,
            i + 1,
            (b - a).max(0.0),
            (a + b) / 2.0,
            escape(name)
        );
        if i > 0 {
            let _ = write!(
                out,
                r#"<text class="cut" x="{a:.0}" y="66">{}</text>"#,
                pair[0]
            );
        }
    }
    if let Some(half) = band {
        let (a, b) = (x(score - half), x(score + half));
        let _ = write!(
            out,
            r#"<rect class="se" x="{a:.0}" y="18" width="{:.0}" height="34"/>"#,
            b - a
        );
    }
    let s = x(score);
    let _ = write!(
        out,
        r#"<path class="mark" d="M{:.0} 4h12l-6 14z"/><path class="stem" d="M{s:.0} 18v34"/></svg>"#,
        s - 6.0,
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
            r#"<rect class="l{}" x="{at:.1}" y="0" width="{width:.1}" height="18"/>"#,
            i + 1
        );
        at += width;
    }
    out.push_str("</svg>");
    out
}

/// Room right of a line chart's last point: half of its longest x label
/// (about 15 characters of 12px text) and a margin.
const RIGHT: f64 = 56.0;

/// A line chart of named series over the same x labels; `None` values are gaps.
pub fn lines(x_labels: &[String], series: &[(String, Vec<Option<f64>>)], label: &str) -> String {
    let (w, h, left, bottom) = (520.0f64, 200.0f64, 56.0f64, 28.0f64);
    let values = series.iter().flat_map(|(_, v)| v.iter().flatten().copied());
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        return String::new();
    }
    let pad = ((hi - lo) * 0.15).max(10.0);
    let (lo, hi) = (lo - pad, hi + pad);
    let steps = x_labels.len().max(2) - 1;
    // The last point sits far enough from the right edge for a label as
    // long as "Gr 12 · 2025–26", centred under it, to show whole.
    let x = |i: usize| left + 20.0 + (w - left - 20.0 - RIGHT) * i as f64 / steps as f64;
    let y = |v: f64| 10.0 + (h - bottom - 10.0) * (1.0 - (v - lo) / (hi - lo));
    let mut out = format!(
        r#"<svg class="lines" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"#,
        escape(label)
    );
    for v in [lo + pad, hi - pad] {
        let _ = write!(
            out,
            r#"<path class="grid" d="M{left} {:.1}H{}"/><text class="axis" x="{}" y="{:.1}">{v:.0}</text>"#,
            y(v),
            w - 10.0,
            left - 6.0,
            y(v) + 4.0
        );
    }
    for (i, l) in x_labels.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text class="x" x="{:.1}" y="{}">{}</text>"#,
            x(i),
            h - 8.0,
            escape(l)
        );
    }
    for (k, (name, vals)) in series.iter().enumerate() {
        let points: Vec<String> = vals
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v))))
            .collect();
        let _ = write!(
            out,
            r#"<polyline class="s{k}" points="{}"><title>{}</title></polyline>"#,
            points.join(" "),
            escape(name)
        );
        for p in &points {
            let (px, py) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = write!(out, r#"<circle class="s{k}" cx="{px}" cy="{py}" r="4"/>"#);
        }
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
            "score 2750 ± 50",
        );
        // 2750 is 75% of the way across 600 units: the marker's tip is at 450.
        assert!(svg.contains(r#"d="M444 4h12l-6 14"#), "{svg}");
        // The SE band spans 2700..2800: x 420..480.
        assert!(svg.contains(r#"x="420" y="18" width="60""#), "{svg}");
        assert!(svg.contains(">2500</text>"));
        assert!(svg.contains("score 2750 ± 50"));
    }

    #[test]
    fn the_last_x_label_fits_in_the_chart() {
        let labels: Vec<String> = ["Gr 10 · 2023–24", "Gr 11 · 2024–25", "Gr 12 · 2025–26"]
            .map(String::from)
            .to_vec();
        let svg = lines(&labels, &[("all".into(), vec![Some(1.0); 3])], "chart");
        let last = svg.rsplit(r#"<text class="x" x=""#).next().unwrap();
        let x: f64 = last.split('"').next().unwrap().parse().unwrap();
        // Centred, at about 6.5 units a character of 12px text.
        let half = labels[2].chars().count() as f64 * 6.5 / 2.0;
        assert!(x + half <= 520.0, "the label ends at {}", x + half);
    }

    #[test]
    fn labels_are_escaped() {
        let svg = distribution(&[50.0, 50.0], &["<b>".into(), "A&B".into()]);
        assert!(svg.contains("&lt;b&gt;: 50%") && svg.contains("A&amp;B"));
    }
}

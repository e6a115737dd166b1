//! Charts drawn as SVG on the server, for the dashboard: stacked vertical bars over days and
//! horizontal bars per category.
//!
//! Hand-written: two bar-chart shapes are about a hundred lines, where a plotting crate
//! (plotters with its SVG backend) would add a font stack and minutes of build for text and
//! rectangles. Every label is escaped here, so the SVG is safe to put in a page as is.

use std::fmt::Write as _;

/// One stacked series.
pub(crate) struct Series<'a> {
    pub(crate) name: &'a str,
    pub(crate) color: &'a str,
    pub(crate) values: Vec<u64>,
}

/// HTML-escaped text (the SVG sits inside a page), as the templates escape it.
fn escape(text: &str) -> String {
    minijinja::HtmlEscape(text).to_string()
}

/// The start of a chart of `width` × `height` with its accessible title.
fn open(title: &str, width: f64, height: f64) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-label="{t}" class="chart"><title>{t}</title>"#,
        t = escape(title)
    )
}

/// Stacked vertical bars: one bar per label (a day), the series stacked in order, with a
/// legend and the total over each bar.
pub(crate) fn stacked(title: &str, labels: &[String], series: &[Series<'_>]) -> String {
    let (width, height, left, bottom, top) = (560.0, 220.0, 40.0, 30.0, 36.0);
    let totals: Vec<u64> = (0..labels.len())
        .map(|i| {
            series
                .iter()
                .map(|s| s.values.get(i).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1) as f64;
    let plot_h = height - bottom - top;
    let slot = (width - left - 10.0) / labels.len().max(1) as f64;
    let bar = slot * 0.6;
    let mut svg = open(title, width, height);
    let _ = write!(
        svg,
        r##"<line x1="{left}" y1="{y}" x2="{x2}" y2="{y}" stroke="#999"/>"##,
        y = height - bottom,
        x2 = width - 10.0
    );
    for (i, label) in labels.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = height - bottom;
        for s in series {
            let v = s.values.get(i).copied().unwrap_or(0);
            if v == 0 {
                continue;
            }
            let h = plot_h * v as f64 / max;
            y -= h;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}" fill="{c}"><title>{n} {label}: {v}</title></rect>"#,
                c = escape(s.color),
                n = escape(s.name),
                label = escape(label),
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{cx:.1}" y="{ty:.1}" font-size="11" text-anchor="middle">{total}</text><text x="{cx:.1}" y="{ly:.1}" font-size="11" text-anchor="middle">{label}</text>"#,
            cx = x + bar / 2.0,
            ty = y - 4.0,
            total = totals[i],
            ly = height - bottom + 16.0,
            label = escape(label),
        );
    }
    for (i, s) in series.iter().enumerate() {
        let x = left + 130.0 * i as f64;
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="8" width="12" height="12" fill="{c}"/><text x="{tx}" y="18" font-size="12">{n}</text>"#,
            c = escape(s.color),
            tx = x + 16.0,
            n = escape(s.name),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars, one per `(label, value)`, longest first as given.
pub(crate) fn horizontal(title: &str, items: &[(String, u64)], color: &str) -> String {
    let (width, row, left) = (560.0, 22.0, 150.0);
    let height = (items.len().max(1) as f64) * row + 10.0;
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
    let mut svg = open(title, width, height);
    if items.is_empty() {
        let _ = write!(svg, r#"<text x="10" y="20" font-size="12">无 none</text>"#);
    }
    for (i, (label, value)) in items.iter().enumerate() {
        let y = 5.0 + row * i as f64;
        let w = (width - left - 60.0) * *value as f64 / max;
        let _ = write!(
            svg,
            r#"<text x="{lx}" y="{ty:.1}" font-size="12" text-anchor="end">{l}</text><rect x="{left}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{c}"/><text x="{vx:.1}" y="{ty:.1}" font-size="12">{value}</text>"#,
            lx = left - 6.0,
            ty = y + row * 0.6,
            l = escape(label),
            h = row * 0.7,
            c = escape(color),
            vx = left + w + 4.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_labels_and_scale_to_the_largest() {
        let labels = vec!["12-01".to_owned(), "<b>".to_owned()];
        let svg = stacked(
            "请求 & 拦截",
            &labels,
            &[
                Series {
                    name: "通过",
                    color: "#4a7",
                    values: vec![3, 0],
                },
                Series {
                    name: "拦截",
                    color: "#c44",
                    values: vec![1, 2],
                },
            ],
        );
        assert!(
            svg.contains("请求 &amp; 拦截") && svg.contains("&lt;b&gt;"),
            "{svg}"
        );
        assert!(!svg.contains("<b>"));
        // The first day's bars fill the plot's height: 3 + 1 is the maximum.
        assert!(
            svg.contains(">4</text>") && svg.contains(">2</text>"),
            "{svg}"
        );
        let h = horizontal("风险", &[("A.1.h".into(), 5), ("\"x\"".into(), 1)], "#c44");
        assert!(
            h.contains("&quot;x&quot;") && h.contains(">5</text>"),
            "{h}"
        );
        assert!(horizontal("空", &[], "#000").contains("none"));
    }
}

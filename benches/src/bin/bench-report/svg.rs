//! A hand-written SVG of horizontal bar panels (no plotting dependency).

use std::fmt::Write as _;

/// Colours of the series, in order.
const COLOURS: [&str; 4] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#7f7f7f"];

const WIDTH: f64 = 900.0;
const LABEL_W: f64 = 230.0;
const PLOT_W: f64 = 560.0;
const BAR_H: f64 = 9.0;
const ROW_GAP: f64 = 6.0;

/// The horizontal scale of a panel.
#[derive(Clone, Copy, Debug)]
pub enum Scale {
    /// Linear from 0 to the bound.
    Linear(f64),
    /// Logarithmic between the bounds.
    Log(f64, f64),
}

impl Scale {
    fn x(self, v: f64) -> f64 {
        let f = match self {
            Scale::Linear(max) => v / max,
            Scale::Log(lo, hi) => (v.max(lo).ln() - lo.ln()) / (hi.ln() - lo.ln()),
        };
        LABEL_W + PLOT_W * f.clamp(0.0, 1.0)
    }

    fn ticks(self) -> Vec<f64> {
        match self {
            Scale::Linear(max) => (0..=5).map(|i| max * f64::from(i) / 5.0).collect(),
            Scale::Log(lo, hi) => {
                let mut t = Vec::new();
                let mut v = lo;
                while v <= hi * 1.0001 {
                    t.push(v);
                    v *= 2.0;
                }
                t
            }
        }
    }
}

/// One panel: rows of bars, one bar per series, and vertical reference lines.
#[derive(Debug)]
pub struct Panel {
    /// Title above the panel.
    pub title: String,
    /// Series names (legend), one colour each.
    pub series: Vec<String>,
    /// Rows: a label and one value per series (`None`: not measured).
    pub rows: Vec<(String, Vec<Option<f64>>)>,
    /// Horizontal scale.
    pub scale: Scale,
    /// Reference lines: value and label.
    pub refs: Vec<(f64, String)>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn fmt_tick(v: f64) -> String {
    if v >= 10.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Renders the panels one below the other.
pub fn render(title: &str, panels: &[Panel]) -> String {
    let mut body = String::new();
    let mut y = 40.0;
    for p in panels {
        y = panel(&mut body, p, y) + 30.0;
    }
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{y:.0}" viewBox="0 0 {WIDTH} {y:.0}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        svg,
        r##"<rect width="100%" height="100%" fill="#ffffff"/><text x="10" y="22" font-size="15" font-weight="bold">{}</text>"##,
        esc(title)
    );
    svg.push_str(&body);
    svg.push_str("</svg>\n");
    svg
}

fn panel(out: &mut String, p: &Panel, y0: f64) -> f64 {
    let _ = writeln!(
        out,
        r#"<text x="10" y="{:.1}" font-size="13" font-weight="bold">{}</text>"#,
        y0 + 12.0,
        esc(&p.title)
    );
    // Legend.
    let mut lx = LABEL_W;
    for (i, s) in p.series.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"<rect x="{lx:.1}" y="{:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            y0 + 18.0,
            COLOURS[i % COLOURS.len()],
            lx + 14.0,
            y0 + 27.0,
            esc(s)
        );
        lx += 24.0 + 7.0 * s.len() as f64;
    }
    let top = y0 + 50.0;
    let row_h = BAR_H * p.series.len() as f64 + ROW_GAP;
    let bottom = top + row_h * p.rows.len() as f64;
    // Grid and ticks.
    for t in p.scale.ticks() {
        let x = p.scale.x(t);
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#dddddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#555555">{}</text>"##,
            bottom + 12.0,
            fmt_tick(t)
        );
    }
    // Bars.
    for (r, (label, values)) in p.rows.iter().enumerate() {
        let ry = top + row_h * r as f64;
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LABEL_W - 6.0,
            ry + row_h / 2.0 + 1.0,
            esc(label)
        );
        for (i, v) in values.iter().enumerate() {
            let Some(v) = *v else { continue };
            let x0 = p.scale.x(match p.scale {
                Scale::Linear(_) => 0.0,
                Scale::Log(lo, _) => lo,
            });
            let x1 = p.scale.x(v);
            let by = ry + BAR_H * i as f64;
            let _ = writeln!(
                out,
                r#"<rect x="{x0:.1}" y="{by:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}: {v:.3}</title></rect>"#,
                (x1 - x0).max(0.5),
                BAR_H - 1.0,
                COLOURS[i % COLOURS.len()],
                esc(label)
            );
            let _ = writeln!(
                out,
                r##"<text x="{:.1}" y="{:.1}" font-size="9" fill="#333333">{}</text>"##,
                x1 + 3.0,
                by + BAR_H - 1.5,
                fmt_tick(v)
            );
        }
    }
    // Reference lines.
    for (v, label) in &p.refs {
        let x = p.scale.x(*v);
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#d62728" stroke-dasharray="4 3"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#d62728">{}</text>"##,
            top - 2.0,
            esc(label)
        );
    }
    bottom + 16.0
}

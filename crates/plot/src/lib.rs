//! `cg-plot`: figures from recorded metrics. It knows nothing about solvers: it draws series of
//! points, as PNG and SVG, in memory (the caller decides where and how files are written).
//!
//! Text uses DejaVu Sans, bundled in the crate (`fonts/`, with its licence) and registered with
//! plotters' ab_glyph renderer, so figures render on a machine without fontconfig or freetype.
//!
//! # Example
//! Two 3 × 3 patterns, a cue and what was recalled, as a grid of grey images with a grey scale:
//! ```
//! let cross = vec![0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0];
//! let grid = cg_plot::ImageGrid {
//!     title: "recall".into(),
//!     width: 3,
//!     height: 3,
//!     cells: vec![vec![("cue".into(), vec![0.5; 9]), ("recalled".into(), cross)]],
//!     low: 0.0,
//!     high: 1.0,
//!     scale: Some("activity".into()),
//! };
//! let figure = grid.render().unwrap();
//! assert!(figure.png.starts_with(b"\x89PNG"));
//! assert!(figure.svg.contains("recalled") && figure.svg.contains("activity"));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::sync::Once;

use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

/// Draws a figure twice, into an RGB buffer (then encoded as PNG) and into SVG text, of `size`
/// pixels: `$draw` is evaluated once per backend with `$root` bound to that backend's drawing
/// area (plotters' backends are different types, so a closure could not take either). Gives
/// `Result<Figure, String>`.
macro_rules! png_and_svg {
    ($size:expr, |$root:ident| $draw:expr) => {
        (|| -> Result<$crate::Figure, String> {
            let size: (u32, u32) = $size;
            $crate::check_size(size)?;
            let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
            {
                let $root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
                $draw?;
            }
            let mut svg = String::new();
            {
                let $root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                $draw?;
            }
            Ok($crate::Figure { png: $crate::encode_png(&rgb, size)?, svg })
        })()
    };
}

/// The largest image side drawn, in pixels.
pub const MAX_SIDE: u32 = 16_384;

/// Refuses images too large to draw (a 100000 x 1 map, a huge graph) before a buffer is
/// allocated: the size's pixel count would overflow, or the PNG would be useless anyway.
pub(crate) fn check_size(size: (u32, u32)) -> Result<(), String> {
    if size.0 == 0 || size.1 == 0 || size.0 > MAX_SIDE || size.1 > MAX_SIDE {
        return Err(format!("{TOO_LARGE} {} x {} pixels; the limit is 1 to {MAX_SIDE} per side", size.0, size.1));
    }
    Ok(())
}

/// How the message of a refused oversized image begins.
const TOO_LARGE: &str = "the image would be";

mod graph;
mod images;
mod lattice;
mod line;
mod regions;
pub use graph::{GraphPicture, NodeKind, NodeLabel, MAX_NODES};
pub use images::ImageGrid;
pub use lattice::{class_color, viridis, ColorBar, LatticeMap, Panel};
pub use line::*;
pub use regions::RegionChart;

/// A drawing failed (plotters' own errors, flattened to a message).
#[derive(Debug, thiserror::Error)]
#[error("plot `{title}`: {message}")]
pub struct PlotError {
    /// The chart's title.
    pub title: String,
    /// The message shown instead of a plot.
    pub message: String,
}

impl PlotError {
    /// The image was refused for its size (the data are fine; only the picture is skipped).
    pub fn is_too_large(&self) -> bool {
        self.message.starts_with(TOO_LARGE)
    }
}

/// A rendered figure.
pub struct Figure {
    /// The PNG file.
    pub png: Vec<u8>,
    /// The SVG file.
    pub svg: String,
}

pub(crate) const SIZE: (u32, u32) = (800, 500);
pub(crate) const FONT: &str = "sans-serif";
pub(crate) const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub(crate) fn register_bundled_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        register_font(FONT, FontStyle::Normal, include_bytes!("../fonts/DejaVuSans.ttf"))
            .unwrap_or_else(|_| panic!("internal: the bundled font is a valid TrueType file"));
    });
}

pub(crate) fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, String> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    encoder.set_compression(png::Compression::Best);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    drop(writer);
    Ok(png)
}

/// Round values (multiples of 1, 2, 2.5 or 5 times a power of ten) from `low` to `high`: the
/// finest such step that gives at most `count + 1` of them, for colour scales.
pub(crate) fn nice_ticks(low: f64, high: f64, count: usize) -> Vec<f64> {
    if !(low.is_finite() && high.is_finite()) || high <= low {
        return vec![low];
    }
    let power = 10f64.powf(((high - low) / count.max(1) as f64).log10().floor() - 1.0);
    let steps = [1.0, 10.0, 100.0].into_iter().flat_map(|p| [1.0, 2.0, 2.5, 5.0].map(|m| m * p * power));
    for step in steps {
        let (first, last) = ((low / step - 1e-9).ceil() as i64, (high / step + 1e-9).floor() as i64);
        if last - first < count as i64 + 1 {
            return (first..=last).map(|k| k as f64 * step).collect();
        }
    }
    vec![low, high]
}

/// Tick labels without trailing zeros: `2` not `2.0`, `0.25` not `0.250`.
pub(crate) fn tick(v: f64) -> String {
    // Ticks computed as sums of steps land a rounding error away from zero.
    let v = if v.abs() < 1e-12 { 0.0 } else { v };
    if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-3) {
        return format!("{v:.1e}");
    }
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A y range for a bounded metric (an accuracy in [0, 1]) that keeps the upper bound and zooms in
/// on the values: from a little below the lowest finite value (never below the lower bound) to
/// the upper bound, so values above 0.9 are not squeezed into the top tenth of a 0-1 axis.
pub fn zoomed_bounds(values: impl IntoIterator<Item = f64>, (low, high): (f64, f64)) -> (f64, f64) {
    let lowest = values.into_iter().filter(|v| v.is_finite()).fold(f64::INFINITY, f64::min);
    if !lowest.is_finite() {
        return (low, high);
    }
    let lowest = lowest.clamp(low, high);
    // A tenth of the shown span below the lowest value (a twentieth of the bounds when every
    // value sits at the upper bound).
    let margin = if lowest < high { (high - lowest) / 9.0 } else { (high - low) / 20.0 };
    ((lowest - margin).max(low), high)
}

/// Tick labels of a log10 axis as the values they stand for (`0.01`, `0.1`, `1`, `20`), two
/// significant digits between decades; scientific notation only far from 1 (`1e-7`).
pub(crate) fn log_tick(v: f64) -> String {
    let v = if (v - v.round()).abs() < 1e-9 { v.round() } else { v };
    let value = 10f64.powf(v);
    if !(1e-4..1e6).contains(&value) {
        return if v.fract() == 0.0 { format!("1e{v}") } else { format!("{value:.1e}") };
    }
    // Two significant digits: as many decimals as the value's leading digit needs.
    let decimals = (1.0 - value.log10().floor()).max(0.0) as usize;
    let s = format!("{value:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_metrics_keep_their_bound_and_zoom_on_the_values() {
        // Accuracies from 0.9 to 0.99: the axis runs from just below 0.9 to 1.
        let (lo, hi) = zoomed_bounds([0.9, 0.95, 0.99], (0.0, 1.0));
        assert_eq!(hi, 1.0);
        assert!(lo < 0.9 && lo > 0.85, "{lo}");
        // Low values reach the lower bound, never past it; nothing finite keeps the bounds.
        assert_eq!(zoomed_bounds([0.02, 0.5], (0.0, 1.0)), (0.0, 1.0));
        assert_eq!(zoomed_bounds([f64::NAN], (0.0, 1.0)), (0.0, 1.0));
        // All at the bound: a twentieth of the bounds below it.
        assert_eq!(zoomed_bounds([1.0, 1.0], (0.0, 1.0)), (0.95, 1.0));
    }

    #[test]
    fn log_axes_show_values() {
        let shown: Vec<String> = [-2.0, -1.0, 0.0, 1.0, 2.0].iter().map(|&v| log_tick(v)).collect();
        assert_eq!(shown, ["0.01", "0.1", "1", "10", "100"]);
        assert_eq!(log_tick(2f64.log10()), "2");
        assert_eq!(log_tick((0.0032f64).log10()), "0.0032");
        assert_eq!(log_tick(-7.0), "1e-7");
        assert_eq!(log_tick(8.0), "1e8");
        assert_eq!(log_tick((25.0f64).log10()), "25");
    }

    #[test]
    fn a_log_x_axis_spreads_settings_spaced_by_factors_and_labels_their_values() {
        let mut c = chart();
        c.series = vec![Series::line("loss", vec![(0.001, 2.0), (0.01, 1.0), (0.1, 0.5)])];
        c.x_log = true;
        let svg = c.render().unwrap().svg;
        assert!(svg.contains("epoch (log scale)") && svg.contains("\n0.01\n") && svg.contains("\n0.001\n"), "{svg:.0}");
        // On a linear axis the same points would crowd 0.001 and 0.01 into the left tenth.
        c.x_log = false;
        assert!(!c.render().unwrap().svg.contains("log scale"));
    }

    #[test]
    fn legends_that_fit_no_corner_go_below_in_rows_that_fit_the_width() {
        assert_eq!(line::legend_grid(&["a", "b", "c"], 800.0), (3, 1));
        let long = ["a label of forty characters, more or less"; 5];
        let (columns, rows) = line::legend_grid(&long, 800.0);
        assert_eq!((columns, rows), (1, 5), "one column when a label is wider than half the figure");
        assert_eq!(line::legend_grid(&[], 800.0), (1, 0));
    }

    fn chart() -> LineChart {
        LineChart {
            title: "loss".into(),
            x_label: "epoch".into(),
            y_label: "loss".into(),
            legend: Legend::UpperRight,
            y_range: None,
            equal_aspect: false,
            x_log: false,
            series: vec![
                Series::line("train", (0..20).map(|i| (i as f64, 1.0 / (1.0 + i as f64))).collect()),
                Series::line("test", (0..20).map(|i| (i as f64, 1.2 / (1.0 + i as f64))).collect()),
            ],
        }
    }

    #[test]
    fn renders_png_and_svg_with_text() {
        let f = chart().render().unwrap();
        assert_eq!(&f.png[1..4], b"PNG");
        assert!(f.svg.contains("<svg") && f.svg.contains("\nepoch\n") && f.svg.contains("\ntrain\n"));
    }

    #[test]
    fn curves_spanning_decades_get_a_log_axis() {
        let mut c = chart();
        c.series = vec![Series::line("loss", (0..50i32).map(|i| (f64::from(i), 10f64.powi(-i / 10))).collect())];
        let f = c.render().unwrap();
        // Ticks show values (0.01), not exponents (1e-2 or -2).
        assert!(
            f.svg.contains("(log scale)") && f.svg.contains("\n0.01\n") && !f.svg.contains("1e-2"),
            "log axis expected"
        );
        assert!(!chart().render().unwrap().svg.contains("log scale"), "one decade stays linear");
    }

    #[test]
    fn a_grid_of_charts_with_bands_renders_and_refuses_nothing_to_draw() {
        let chart = |title: &str| LineChart {
            title: title.into(),
            x_label: "epoch".into(),
            y_label: "loss".into(),
            series: vec![Series::line("mean", vec![(1.0, 3.0), (2.0, 2.0), (3.0, 1.5)])],
            legend: Legend::UpperRight,
            y_range: None,
            equal_aspect: false,
            x_log: false,
        };
        let band = Band { series: 0, points: vec![(1.0, 2.5, 3.5), (2.0, 1.8, 2.2), (3.0, 1.4, 1.6)] };
        let grid = ChartGrid {
            title: "grid".into(),
            charts: vec![(chart("a"), vec![band]), (chart("b"), vec![])],
            columns: 2,
        };
        let figure = grid.render().unwrap();
        assert!(figure.svg.contains("grid") && figure.svg.contains("<polygon"));
        assert_eq!(&figure.png[1..4], b"PNG");
        assert_eq!(grid.render().unwrap().png, figure.png);
        let empty = ChartGrid { title: "empty".into(), charts: vec![], columns: 1 };
        assert!(empty.render().is_err());
    }

    #[test]
    fn rendering_is_deterministic() {
        let (a, b) = (chart().render().unwrap(), chart().render().unwrap());
        assert!(a.png == b.png && a.svg == b.svg);
    }

    #[test]
    fn image_grid_renders_cells() {
        let checker: Vec<f64> = (0..16).map(|k| if (k / 4 + k % 4) % 2 == 0 { 1.0 } else { -1.0 }).collect();
        let grid = ImageGrid {
            title: "patterns".into(),
            width: 4,
            height: 4,
            cells: vec![vec![("cue".into(), checker.clone()), ("stored".into(), checker)]],
            low: -1.0,
            high: 1.0,
            scale: Some("state".into()),
        };
        let f = grid.render().unwrap();
        assert_eq!(&f.png[1..4], b"PNG");
        assert!(f.svg.contains("stored"));
        let mut bad = grid.clone();
        bad.cells[0][1].1.pop();
        assert!(bad.render().is_err());
    }

    #[test]
    fn colour_scale_ticks_are_round() {
        let close = |a: Vec<f64>, b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12);
        assert!(
            close(nice_ticks(0.2657, 1.3111, 5), &[0.4, 0.6, 0.8, 1.0, 1.2]),
            "{:?}",
            nice_ticks(0.2657, 1.3111, 5)
        );
        assert_eq!(nice_ticks(-1.0, 1.0, 5), vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
        assert_eq!(nice_ticks(0.0, 2.5, 5), vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5]);
    }

    #[test]
    fn legends_move_off_the_data() {
        // A rising line through the lower right corner and a flat one along the top.
        let lines = vec![(0..50).map(|i| (f64::from(i), f64::from(i) / 50.0)).collect::<Vec<_>>()];
        let (xs, ys) = (0.0..49.0, 0.0..1.0);
        let (legend, range) = place_legend(&["train"], (690.0, 385.0), &lines, &xs, &ys, Legend::LowerRight);
        assert_eq!((legend, range), (Legend::LowerRight, ys.clone()), "the diagonal leaves lower right free");
        let (legend, _) = place_legend(&["train"], (690.0, 385.0), &lines, &xs, &ys, Legend::UpperLeft);
        assert_eq!(legend, Legend::UpperLeft);
        let mut full = lines.clone();
        full.push((0..50).map(|i| (f64::from(i), 1.0)).collect());
        full.push((0..50).map(|i| (f64::from(i), 0.0)).collect());
        let (legend, range) = place_legend(&["a", "b", "c"], (690.0, 385.0), &full, &xs, &ys, Legend::LowerRight);
        assert_eq!(legend, Legend::UpperRight);
        assert!(range.end > 1.1, "headroom above the data: {range:?}");
    }

    #[test]
    fn empty_chart_is_an_error() {
        let mut c = chart();
        c.series.clear();
        assert_eq!(c.render().err().unwrap().to_string(), "plot `loss`: no finite points to draw");
    }
}

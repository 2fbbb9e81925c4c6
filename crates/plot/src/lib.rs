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
use plotters::style::text_anchor::{HPos, Pos, VPos};
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
mod lattice;
pub use graph::{GraphPicture, NodeKind, NodeLabel, MAX_NODES};
pub use lattice::{class_color, viridis, ColorBar, LatticeMap, Panel};

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

/// One named line.
#[derive(Clone, Debug)]
pub struct Series {
    /// The series' name, for the legend.
    pub name: String,
    /// The points.
    pub points: Vec<(f64, f64)>,
    /// Also draw a dot at every point (for scattered data such as city positions).
    pub markers: bool,
    /// A dashed line, so a solid one under it (a reference) stays visible.
    pub dashed: bool,
}

impl Series {
    /// A plain line.
    pub fn line(name: &str, points: Vec<(f64, f64)>) -> Series {
        Series { name: name.to_string(), points, markers: false, dashed: false }
    }
}

/// A line chart with a legend.
#[derive(Clone, Debug)]
pub struct LineChart {
    /// The chart's title.
    pub title: String,
    /// The horizontal axis' label.
    pub x_label: String,
    /// The vertical axis' label.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
    /// The corner tried first for the legend; a corner the legend would cover data in is
    /// passed over, and when every corner would, the y axis gets headroom for it.
    pub legend: Legend,
    /// A fixed y range (accuracy: 0 to 1) instead of the data's.
    pub y_range: Option<(f64, f64)>,
    /// One unit is as long on both axes (positions on a plane).
    pub equal_aspect: bool,
}

/// Legend corners.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Legend {
    /// Suits falling curves.
    #[default]
    UpperRight,
    /// Suits rising curves.
    LowerRight,
    /// Suits curves that fall late.
    LowerLeft,
    /// Suits curves that rise late.
    UpperLeft,
}

impl Legend {
    /// The corner's (x, y) in the unit square, y up.
    fn corner(self) -> (bool, bool) {
        match self {
            Legend::UpperRight => (true, true),
            Legend::LowerRight => (true, false),
            Legend::LowerLeft => (false, false),
            Legend::UpperLeft => (false, true),
        }
    }

    fn position(self) -> SeriesLabelPosition {
        match self {
            Legend::UpperRight => SeriesLabelPosition::UpperRight,
            Legend::LowerRight => SeriesLabelPosition::LowerRight,
            Legend::LowerLeft => SeriesLabelPosition::LowerLeft,
            Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
        }
    }
}

/// The ranges widened about their centres so one unit spans as many pixels on both axes of a
/// plot `pixels` (width, height) in size.
fn equal_aspect(
    xs: std::ops::Range<f64>,
    ys: std::ops::Range<f64>,
    pixels: (f64, f64),
) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
    let (xw, yw) = (xs.end - xs.start, ys.end - ys.start);
    let per_pixel = (xw / pixels.0).max(yw / pixels.1);
    let (xc, yc) = ((xs.start + xs.end) / 2.0, (ys.start + ys.end) / 2.0);
    let (hx, hy) = (per_pixel * pixels.0 / 2.0, per_pixel * pixels.1 / 2.0);
    ((xc - hx)..(xc + hx), (yc - hy)..(yc + hy))
}

/// Where a legend of `labels` goes on a plot of `pixels` (width, height) showing `lines` (and
/// `dots`) over the ranges `xs`, `ys`: the first corner of `preferred`, then the others, whose
/// box covers no drawn point or line; when every corner would cover some, the upper corner of
/// `preferred`'s side with the y range raised so the data stay below the box.
fn place_legend(
    labels: &[&str],
    pixels: (f64, f64),
    lines: &[Vec<(f64, f64)>],
    xs: &std::ops::Range<f64>,
    ys: &std::ops::Range<f64>,
    preferred: Legend,
) -> (Legend, std::ops::Range<f64>) {
    if labels.is_empty() || pixels.0 <= 0.0 || pixels.1 <= 0.0 {
        return (preferred, ys.clone());
    }
    // The box plotters draws: a 20 px key, the text at about 0.6 em per character, 16 px rows.
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64;
    let (w, h) = ((44.0 + 9.6 * longest) / pixels.0, (12.0 + 21.0 * labels.len() as f64) / pixels.1);
    let unit = |(x, y): (f64, f64)| ((x - xs.start) / (xs.end - xs.start), (y - ys.start) / (ys.end - ys.start));
    // Points along every line, dense enough that a line crossing the box has one inside.
    let mut ink = vec![];
    for line in lines {
        let pts: Vec<(f64, f64)> =
            line.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).map(unit).collect();
        ink.extend(pts.iter().copied());
        for pair in pts.windows(2) {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            let steps = ((x1 - x0).abs() / (w / 4.0)).max((y1 - y0).abs() / (h / 4.0)).ceil().min(1000.0) as usize;
            ink.extend((1..steps).map(|k| {
                let t = k as f64 / steps as f64;
                (x0 + t * (x1 - x0), y0 + t * (y1 - y0))
            }));
        }
    }
    let covered = |legend: Legend| {
        let (right, top) = legend.corner();
        let (x0, y0) = (if right { 1.0 - w } else { 0.0 }, if top { 1.0 - h } else { 0.0 });
        ink.iter().filter(|&&(x, y)| x >= x0 && x <= x0 + w && y >= y0 && y <= y0 + h).count()
    };
    let order = [preferred, Legend::UpperRight, Legend::LowerRight, Legend::UpperLeft, Legend::LowerLeft];
    if let Some(&free) = order.iter().find(|&&l| covered(l) == 0) {
        return (free, ys.clone());
    }
    let top = if preferred.corner().0 { Legend::UpperRight } else { Legend::UpperLeft };
    let span = ys.end - ys.start;
    let raised = ys.start..ys.end + span * h / (1.0 - h).max(0.2);
    (top, raised)
}

/// A rendered figure.
pub struct Figure {
    /// The PNG file.
    pub png: Vec<u8>,
    /// The SVG file.
    pub svg: String,
}

const SIZE: (u32, u32) = (800, 500);
const FONT: &str = "sans-serif";
const COLORS: [RGBColor; 10] = [
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

fn register_bundled_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        register_font(FONT, FontStyle::Normal, include_bytes!("../fonts/DejaVuSans.ttf"))
            .unwrap_or_else(|_| panic!("internal: the bundled font is a valid TrueType file"));
    });
}

impl LineChart {
    /// Renders the chart as PNG (RGB, 800 × 500) and SVG.
    ///
    /// ```
    /// use cg_plot::{Legend, LineChart, Series};
    /// let loss: Vec<(f64, f64)> = (1..=50).map(|t| (t as f64, 1.0 / t as f64)).collect();
    /// let chart = LineChart {
    ///     title: "loss".into(),
    ///     x_label: "epoch".into(),
    ///     y_label: "loss".into(),
    ///     series: vec![Series::line("train", loss)],
    ///     legend: Legend::UpperRight,
    ///     y_range: None,
    ///     equal_aspect: false,
    /// };
    /// let figure = chart.render().unwrap();
    /// assert!(figure.png.starts_with(b"\x89PNG") && figure.svg.contains("<svg"));
    /// ```
    ///
    /// # Errors
    /// A chart with no finite points, or a drawing error.
    pub fn render(&self) -> Result<Figure, PlotError> {
        register_bundled_font();
        let err = |message: String| PlotError { title: self.title.clone(), message };
        // A positive curve spanning two or more decades (a loss falling towards zero) is drawn
        // on a log axis, where its late progress stays visible.
        let (xs, ys, log) = self.ranges(&[]).ok_or_else(|| err("no finite points to draw".into()))?;
        let mut chart = self.clone();
        let y_tick: &dyn Fn(f64) -> String = if log {
            for p in chart.series.iter_mut().flat_map(|s| s.points.iter_mut()) {
                p.1 = p.1.log10();
            }
            chart.y_label = format!("{} (log scale)", self.y_label);
            // Whole decades as 1e-2; ticks between decades as their value, 3.2e-3.
            &|v: f64| {
                let v = if (v - v.round()).abs() < 1e-9 { v.round() } else { v };
                if v.fract() == 0.0 {
                    format!("1e{v}")
                } else {
                    format!("{:.1e}", 10f64.powf(v))
                }
            }
        } else {
            &|v: f64| tick(v)
        };
        png_and_svg!(SIZE, |root| {
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            chart.draw(&root, (xs.clone(), ys.clone()), y_tick, &[])?;
            root.present().map_err(|e| e.to_string())
        })
        .map_err(err)
    }

    /// The finite ranges of the points and bands (padded in y), and whether the y axis is drawn
    /// in log10 (a positive curve spanning two decades or more); `None` with nothing finite.
    fn ranges(&self, bands: &[Band]) -> Option<(std::ops::Range<f64>, std::ops::Range<f64>, bool)> {
        let points = self.series.iter().flat_map(|s| s.points.iter().copied());
        let band_points = bands.iter().flat_map(|b| b.points.iter().flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)]));
        let finite: Vec<(f64, f64)> =
            points.chain(band_points).filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
        let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
        for &(x, y) in &finite {
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
        if x0 > x1 {
            return None;
        }
        if x1 == x0 {
            x1 = x0 + 1.0;
        }
        if self.series.iter().any(|s| s.markers) {
            // Dots at the ends stay whole inside the frame.
            let pad = 0.03 * (x1 - x0);
            (x0, x1) = (x0 - pad, x1 + pad);
        }
        if let Some((lo, hi)) = self.y_range {
            let pad = 0.02 * (hi - lo);
            return Some((x0..x1, (lo - pad)..(hi + pad), false));
        }
        let log = y0 > 0.0 && y1 / y0 >= 100.0;
        if log {
            (y0, y1) = (y0.log10(), y1.log10());
        }
        let pad = if y1 > y0 { 0.05 * (y1 - y0) } else { 0.5 };
        Some((x0..x1, (y0 - pad)..(y1 + pad), log))
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
        (xs, ys): (std::ops::Range<f64>, std::ops::Range<f64>),
        y_tick: &dyn Fn(f64) -> String,
        bands: &[Band],
    ) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let (width, height) = root.dim_in_pixel();
        let plot = (f64::from(width) - 2.0 * 15.0 - 80.0, f64::from(height) - 2.0 * 15.0 - 50.0 - 36.0);
        let labels: Vec<&str> = self.series.iter().map(|s| s.name.as_str()).collect();
        let mut lines: Vec<Vec<(f64, f64)>> = self.series.iter().map(|s| s.points.clone()).collect();
        lines.extend(bands.iter().flat_map(|b| {
            [b.points.iter().map(|p| (p.0, p.1)).collect(), b.points.iter().map(|p| (p.0, p.2)).collect()]
        }));
        let (xs, ys) = if self.equal_aspect { equal_aspect(xs, ys, plot) } else { (xs, ys) };
        let (legend, ys) = place_legend(&labels, plot, &lines, &xs, &ys, self.legend);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 26))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(xs, ys)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .x_label_formatter(&|x| tick(*x))
            .y_label_formatter(&|y| y_tick(*y))
            .y_desc(&self.y_label)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 18))
            .draw()
            .map_err(e)?;
        for band in bands {
            let color = COLORS[band.series % COLORS.len()];
            let pts = band.points.iter().filter(|(x, lo, hi)| x.is_finite() && lo.is_finite() && hi.is_finite());
            let outline: Vec<(f64, f64)> =
                pts.clone().map(|&(x, _, hi)| (x, hi)).chain(pts.rev().map(|&(x, lo, _)| (x, lo))).collect();
            if outline.len() >= 2 {
                chart.draw_series(std::iter::once(Polygon::new(outline, color.mix(0.2).filled()))).map_err(e)?;
            }
        }
        for (k, s) in self.series.iter().enumerate() {
            let color = COLORS[k % COLORS.len()];
            let pts = s.points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite());
            let pts: Vec<(f64, f64)> = pts.collect();
            let drawn = if s.dashed {
                chart.draw_series(DashedLineSeries::new(pts.iter().copied(), 8, 6, color.stroke_width(2))).map_err(e)?
            } else {
                chart.draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2))).map_err(e)?
            };
            drawn.label(&s.name).legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
            if s.markers {
                chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled()))).map_err(e)?;
            }
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(legend.position())
            .draw()
            .map_err(e)?;
        Ok(())
    }
}

/// A shaded range around a series of a chart (min to max, or ± one standard deviation, over
/// repeated runs), in the series' colour.
#[derive(Clone, Debug)]
pub struct Band {
    /// The index of the series it belongs to.
    pub series: usize,
    /// (x, low, high).
    pub points: Vec<(f64, f64, f64)>,
}

/// Charts side by side in one figure (`columns` per row), each with its bands.
#[derive(Clone, Debug)]
pub struct ChartGrid {
    /// The figure's title.
    pub title: String,
    /// The charts, each with its shaded bands.
    pub charts: Vec<(LineChart, Vec<Band>)>,
    /// Charts per row.
    pub columns: usize,
}

/// One panel of a [`ChartGrid`].
const PANEL: (u32, u32) = (640, 420);

impl ChartGrid {
    /// Renders the grid as PNG and SVG; a y axis whose curves span two decades is drawn in log10.
    ///
    /// # Errors
    /// No chart, a chart with no finite points, a figure over [`MAX_SIDE`], or a drawing error.
    pub fn render(&self) -> Result<Figure, PlotError> {
        register_bundled_font();
        let err = |message: String| PlotError { title: self.title.clone(), message };
        if self.charts.is_empty() {
            return Err(err("no charts to draw".into()));
        }
        let columns = self.columns.clamp(1, self.charts.len());
        let rows = self.charts.len().div_ceil(columns);
        let mut panels = vec![];
        for (chart, bands) in &self.charts {
            let (xs, ys, log) =
                chart.ranges(bands).ok_or_else(|| err(format!("`{}`: no finite points", chart.title)))?;
            let (mut chart, mut bands) = (chart.clone(), bands.clone());
            if log {
                chart.series.iter_mut().flat_map(|s| s.points.iter_mut()).for_each(|p| p.1 = p.1.log10());
                for (_, lo, hi) in bands.iter_mut().flat_map(|b| b.points.iter_mut()) {
                    (*lo, *hi) = (lo.log10(), hi.log10());
                }
                chart.y_label = format!("{} (log10)", chart.y_label);
            }
            panels.push((chart, bands, xs, ys));
        }
        let size = (
            u32::try_from(columns).unwrap_or(u32::MAX).saturating_mul(PANEL.0),
            u32::try_from(rows).unwrap_or(u32::MAX).saturating_mul(PANEL.1).saturating_add(50),
        );
        png_and_svg!(size, |root| {
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            let body = root.titled(&self.title, (FONT, 28)).map_err(|e| e.to_string())?;
            for (area, (chart, bands, xs, ys)) in body.split_evenly((rows, columns)).iter().zip(&panels) {
                chart.draw(area, (xs.clone(), ys.clone()), &|v| tick(v), bands)?;
            }
            root.present().map_err(|e| e.to_string())
        })
        .map_err(err)
    }
}

/// Decision regions of a classifier on a plane: a grid of cells coloured by predicted class, and
/// the data points coloured by their true class.
#[derive(Clone, Debug)]
pub struct RegionChart {
    /// The chart's title.
    pub title: String,
    /// The horizontal axis' label.
    pub x_label: String,
    /// The vertical axis' label.
    pub y_label: String,
    /// The horizontal range.
    pub x_range: (f64, f64),
    /// The vertical range.
    pub y_range: (f64, f64),
    /// Predicted class of each cell, row-major from the bottom-left, `cells.0` columns × `cells.1` rows.
    pub cells: (usize, usize),
    /// The class predicted at each grid point, row by row.
    pub predicted: Vec<usize>,
    /// (x, y, class) of the data points.
    pub points: Vec<(f64, f64, usize)>,
    /// The classes' names.
    pub class_names: Vec<String>,
}

impl RegionChart {
    /// Renders the chart as PNG and SVG.
    ///
    /// # Errors
    /// A prediction grid of the wrong size, or a drawing error.
    pub fn render(&self) -> Result<Figure, PlotError> {
        register_bundled_font();
        let err = |message: String| PlotError { title: self.title.clone(), message };
        if self.predicted.len() != self.cells.0 * self.cells.1 || self.cells.0 == 0 {
            return Err(err(format!(
                "{} predictions for a {} x {} grid",
                self.predicted.len(),
                self.cells.0,
                self.cells.1
            )));
        }
        png_and_svg!(SIZE, |root| self.draw(root)).map_err(err)
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, plotters::coord::Shift>) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, (FONT, 24))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(self.x_range.0..self.x_range.1, self.y_range.0..self.y_range.1)
            .map_err(e)?;
        let (nx, ny) = self.cells;
        let (dx, dy) = ((self.x_range.1 - self.x_range.0) / nx as f64, (self.y_range.1 - self.y_range.0) / ny as f64);
        // Runs of one class along a row are one rectangle: a fine grid stays a small SVG.
        let mut runs = vec![];
        for j in 0..ny {
            let row = &self.predicted[j * nx..(j + 1) * nx];
            let mut start = 0;
            for i in 1..=nx {
                if i == nx || row[i] != row[start] {
                    runs.push((start, i, j, row[start]));
                    start = i;
                }
            }
        }
        chart
            .draw_series(runs.into_iter().map(|(i0, i1, j, class)| {
                let (x0, y0) = (self.x_range.0 + i0 as f64 * dx, self.y_range.0 + j as f64 * dy);
                Rectangle::new(
                    [(x0, y0), (self.x_range.0 + i1 as f64 * dx, y0 + dy)],
                    COLORS[class % COLORS.len()].mix(0.25).filled(),
                )
            }))
            .map_err(e)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_label_formatter(&|x| tick(*x))
            .y_label_formatter(&|y| tick(*y))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 18))
            .draw()
            .map_err(e)?;
        for (c, name) in self.class_names.iter().enumerate() {
            let color = COLORS[c % COLORS.len()];
            chart
                .draw_series(
                    self.points.iter().filter(|p| p.2 == c).map(|&(x, y, _)| Circle::new((x, y), 4, color.filled())),
                )
                .map_err(e)?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
        }
        // The corner whose legend covers no data point (the regions stay whole: no headroom).
        let (width, height) = root.dim_in_pixel();
        let plot = (f64::from(width) - 2.0 * 15.0 - 70.0, f64::from(height) - 2.0 * 15.0 - 50.0 - 34.0);
        let labels: Vec<&str> = self.class_names.iter().map(String::as_str).collect();
        let dots: Vec<Vec<(f64, f64)>> = self.points.iter().map(|&(x, y, _)| vec![(x, y)]).collect();
        let (xs, ys) = (self.x_range.0..self.x_range.1, self.y_range.0..self.y_range.1);
        let (corner, raised) = place_legend(&labels, plot, &dots, &xs, &ys, Legend::UpperRight);
        let corner = if raised == ys { corner } else { Legend::UpperRight };
        chart
            .configure_series_labels()
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(corner.position())
            .draw()
            .map_err(e)?;
        root.present().map_err(e)
    }
}

/// A grid of small grayscale images with a caption over each (cue, recalled, stored, ...).
#[derive(Clone, Debug)]
pub struct ImageGrid {
    /// The chart's title.
    pub title: String,
    /// Image width in pixels of the data (each cell is drawn scaled up).
    pub width: usize,
    /// Image height in pixels of the data.
    pub height: usize,
    /// Rows of (caption, row-major values); values are mapped from [low, high] to black..white.
    pub cells: Vec<Vec<(String, Vec<f64>)>>,
    /// The value of the first colour.
    pub low: f64,
    /// The value of the last colour.
    pub high: f64,
    /// What the grey levels mean; given, a grey scale from `low` to `high` with round ticks is
    /// drawn at the right under this label.
    pub scale: Option<String>,
}

/// Width the grey scale of an [`ImageGrid`] adds.
const SCALE_W: u32 = 110;

impl ImageGrid {
    /// Renders the grid as PNG and SVG.
    ///
    /// # Errors
    /// An empty grid, a cell with the wrong number of values, or a drawing error.
    pub fn render(&self) -> Result<Figure, PlotError> {
        register_bundled_font();
        let err = |message: String| PlotError { title: self.title.clone(), message };
        let cols = self.cells.iter().map(Vec::len).max().unwrap_or(0);
        if cols == 0 || self.width == 0 || self.height == 0 {
            return Err(err("nothing to draw".into()));
        }
        if let Some((r, c)) = self
            .cells
            .iter()
            .enumerate()
            .find_map(|(r, row)| row.iter().position(|(_, v)| v.len() != self.width * self.height).map(|c| (r, c)))
        {
            return Err(err(format!("cell ({r}, {c}) does not hold {} x {} values", self.width, self.height)));
        }
        let cell = 14u32 * (8 / self.width.max(1) as u32).max(1);
        let (cw, ch) = (cell * self.width as u32 + 20, cell * self.height as u32 + 30);
        let bar = if self.scale.is_some() { SCALE_W } else { 0 };
        let size = (cw * cols as u32 + 20 + bar, (ch * self.cells.len() as u32 + 50).max(200));
        png_and_svg!(size, |root| self.draw(root, cell, (cw, ch))).map_err(err)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: DrawingArea<DB, plotters::coord::Shift>,
        cell: u32,
        (cw, ch): (u32, u32),
    ) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
        root.draw(&Text::new(self.title.clone(), (10, 10), (FONT, 22))).map_err(e)?;
        let span = if self.high > self.low { self.high - self.low } else { 1.0 };
        for (r, row) in self.cells.iter().enumerate() {
            for (c, (caption, values)) in row.iter().enumerate() {
                let (x0, y0) = (10 + c as i32 * cw as i32, 45 + r as i32 * ch as i32);
                root.draw(&Text::new(caption.clone(), (x0, y0), (FONT, 14))).map_err(e)?;
                for (k, &v) in values.iter().enumerate() {
                    let level = (((v - self.low) / span).clamp(0.0, 1.0) * 255.0).round() as u8;
                    let (px, py) = ((k % self.width) as i32, (k / self.width) as i32);
                    let top = (x0 + px * cell as i32, y0 + 18 + py * cell as i32);
                    let bottom = (top.0 + cell as i32, top.1 + cell as i32);
                    root.draw(&Rectangle::new([top, bottom], RGBColor(level, level, level).filled())).map_err(e)?;
                }
            }
        }
        if let Some(label) = &self.scale {
            let cols = self.cells.iter().map(Vec::len).max().unwrap_or(0) as i32;
            let x = 20 + cols * cw as i32;
            // The label wrapped to the width of the scale's column.
            let mut lines: Vec<String> = vec![];
            for word in label.split_whitespace() {
                match lines.last_mut() {
                    Some(line) if line.chars().count() + 1 + word.chars().count() <= 14 => {
                        line.push(' ');
                        line.push_str(word);
                    }
                    _ => lines.push(word.to_string()),
                }
            }
            for (k, line) in lines.iter().enumerate() {
                root.draw(&Text::new(line.clone(), (x - 10, 45 + 16 * k as i32), (FONT, 13))).map_err(e)?;
            }
            let top = 45 + 16 * lines.len() as i32 + 8;
            let height = (root.dim_in_pixel().1 as i32 - top - 20).clamp(100, 360);
            for i in 0..height {
                let level = (255.0 * (1.0 - f64::from(i) / f64::from(height - 1))).round() as u8;
                root.draw(&Rectangle::new(
                    [(x, top + i), (x + 18, top + i + 1)],
                    RGBColor(level, level, level).filled(),
                ))
                .map_err(e)?;
            }
            root.draw(&Rectangle::new([(x, top), (x + 18, top + height)], BLACK.stroke_width(1))).map_err(e)?;
            for value in nice_ticks(self.low, self.high, 5) {
                let y = top + ((self.high - value) / span * f64::from(height - 1)).round() as i32;
                let style = TextStyle::from((FONT, 13)).pos(Pos::new(HPos::Left, VPos::Center));
                root.draw(&PathElement::new([(x + 18, y), (x + 22, y)], BLACK)).map_err(e)?;
                root.draw(&Text::new(tick(value), (x + 25, y), style)).map_err(e)?;
            }
        }
        root.present().map_err(e)
    }
}

fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, String> {
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
fn tick(v: f64) -> String {
    // Ticks computed as sums of steps land a rounding error away from zero.
    let v = if v.abs() < 1e-12 { 0.0 } else { v };
    if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-3) {
        return format!("{v:.1e}");
    }
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> LineChart {
        LineChart {
            title: "loss".into(),
            x_label: "epoch".into(),
            y_label: "loss".into(),
            legend: Legend::UpperRight,
            y_range: None,
            equal_aspect: false,
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
        assert!(f.svg.contains("(log scale)") && f.svg.contains("1e-2"), "log axis expected");
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

//! Line charts: series over an axis, shaded bands, the legend placed where it hides no point,
//! and grids of charts.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::*;

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
    /// passed over, and when every corner would, the legend goes below the plot.
    pub legend: Legend,
    /// A fixed y range (accuracy: 0 to 1) instead of the data's.
    pub y_range: Option<(f64, f64)>,
    /// One unit is as long on both axes (positions on a plane).
    pub equal_aspect: bool,
    /// A log10 x axis, its ticks labelled with values (settings spaced by factors: learning
    /// rates 0.001, 0.01, 0.1); x must be positive.
    pub x_log: bool,
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

    pub(crate) fn position(self) -> SeriesLabelPosition {
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
pub(crate) fn equal_aspect(
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
pub(crate) fn place_legend(
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
    let (w, h) = (legend_entry_width(labels) / pixels.0, (12.0 + 21.0 * labels.len() as f64) / pixels.1);
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
    ///     x_log: false,
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
        let (mut chart, _) = self.with_log_x(&[]);
        // A positive curve spanning two or more decades (a loss falling towards zero) is drawn
        // on a log axis, where its late progress stays visible.
        let (xs, ys, log) = chart.ranges(&[]).ok_or_else(|| err("no finite points to draw".into()))?;
        let y_tick: &dyn Fn(f64) -> String = if log {
            for p in chart.series.iter_mut().flat_map(|s| s.points.iter_mut()) {
                p.1 = p.1.log10();
            }
            chart.y_label = format!("{} (log scale)", chart.y_label);
            // The values the ticks stand for: 0.01, 0.1, 1.
            &|v: f64| crate::log_tick(v)
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

    /// With `x_log`, the chart and its bands with x as log10(x) (non-positive x dropped) and the
    /// x label saying so; otherwise as they are.
    fn with_log_x(&self, bands: &[Band]) -> (LineChart, Vec<Band>) {
        let (mut chart, mut bands) = (self.clone(), bands.to_vec());
        if self.x_log {
            for s in &mut chart.series {
                s.points = s.points.iter().filter(|p| p.0 > 0.0).map(|&(x, y)| (x.log10(), y)).collect();
            }
            for b in &mut bands {
                b.points = b.points.iter().filter(|p| p.0 > 0.0).map(|&(x, lo, hi)| (x.log10(), lo, hi)).collect();
            }
            chart.x_label = format!("{} (log scale)", self.x_label);
        }
        (chart, bands)
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
        let (legend, raised) = place_legend(&labels, plot, &lines, &xs, &ys, self.legend);
        // No free corner: the legend goes below the plot, where it covers nothing and the axes
        // keep the data's own range (an accuracy axis is not stretched past 1 to make room).
        let below = raised != ys;
        let (columns, rows) = legend_grid(&labels, f64::from(width));
        let legend_height = if below { u32::try_from(rows).unwrap_or(0) * LEGEND_ROW + 8 } else { 0 };
        let (root, legend_area) = root.split_vertically(height.saturating_sub(legend_height));
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, (FONT, 26))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(xs, ys)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .x_label_formatter(&|x| if self.x_log { crate::log_tick(*x) } else { tick(*x) })
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
        if !below {
            chart
                .configure_series_labels()
                .label_font((FONT, 16))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(legend.position())
                .draw()
                .map_err(e)?;
            return Ok(());
        }
        let column_width = (f64::from(width) - 30.0) / columns as f64;
        for (k, label) in labels.iter().enumerate() {
            let color = COLORS[k % COLORS.len()];
            let x = 15 + (column_width * (k % columns) as f64) as i32;
            let y = i32::try_from((k / columns) as u32 * LEGEND_ROW).unwrap_or(0) + 4;
            let mid = y + i32::try_from(LEGEND_ROW / 2).unwrap_or(0);
            legend_area.draw(&PathElement::new([(x, mid), (x + 20, mid)], color.stroke_width(2))).map_err(e)?;
            let style = TextStyle::from((FONT, 16).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
            legend_area.draw(&Text::new((*label).to_string(), (x + 26, mid), style)).map_err(e)?;
        }
        Ok(())
    }
}

/// The pixels a legend entry of the longest of `labels` takes: a 20 px key and the text at about
/// 0.6 em per character (16 px).
fn legend_entry_width(labels: &[&str]) -> f64 {
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64;
    44.0 + 9.6 * longest
}

/// The height of a legend row drawn below a plot.
const LEGEND_ROW: u32 = 21;

/// How a legend of `labels` below a plot `width` pixels wide is laid out: (columns, rows), as
/// many columns of the longest label's width as fit.
pub(crate) fn legend_grid(labels: &[&str], width: f64) -> (usize, usize) {
    let entry = legend_entry_width(labels);
    let columns = (((width - 30.0) / entry).floor() as usize).clamp(1, labels.len().max(1));
    (columns, labels.len().div_ceil(columns))
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
pub(crate) const PANEL: (u32, u32) = (640, 420);

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
            let (mut chart, mut bands) = chart.with_log_x(bands);
            let (xs, ys, log) =
                chart.ranges(&bands).ok_or_else(|| err(format!("`{}`: no finite points", chart.title)))?;
            if log {
                chart.series.iter_mut().flat_map(|s| s.points.iter_mut()).for_each(|p| p.1 = p.1.log10());
                for (_, lo, hi) in bands.iter_mut().flat_map(|b| b.points.iter_mut()) {
                    (*lo, *hi) = (lo.log10(), hi.log10());
                }
                chart.y_label = format!("{} (log scale)", chart.y_label).trim_start().to_string();
            }
            panels.push((chart, bands, xs, ys, log));
        }
        let size = (
            u32::try_from(columns).unwrap_or(u32::MAX).saturating_mul(PANEL.0),
            u32::try_from(rows).unwrap_or(u32::MAX).saturating_mul(PANEL.1).saturating_add(50),
        );
        png_and_svg!(size, |root| {
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            let body = root.titled(&self.title, (FONT, 28)).map_err(|e| e.to_string())?;
            for (area, (chart, bands, xs, ys, log)) in body.split_evenly((rows, columns)).iter().zip(&panels) {
                let y_tick: &dyn Fn(f64) -> String = if *log { &crate::log_tick } else { &tick };
                chart.draw(area, (xs.clone(), ys.clone()), y_tick, bands)?;
            }
            root.present().map_err(|e| e.to_string())
        })
        .map_err(err)
    }
}

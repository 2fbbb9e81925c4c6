//! `cg-plot`: figures from recorded metrics. It knows nothing about solvers: it draws series of
//! points, as PNG and SVG, in memory (the caller decides where and how files are written).
//!
//! Text uses DejaVu Sans, bundled in the crate (`fonts/`, with its licence) and registered with
//! plotters' ab_glyph renderer, so figures render on a machine without fontconfig or freetype.

use std::sync::Once;

use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

/// A drawing failed (plotters' own errors, flattened to a message).
#[derive(Debug, thiserror::Error)]
#[error("plot `{title}`: {message}")]
pub struct PlotError {
    pub title: String,
    pub message: String,
}

/// One named line.
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A line chart with a legend.
#[derive(Clone, Debug)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Where the legend goes: upper right suits falling curves, lower right rising ones.
    pub legend_low: bool,
}

/// A rendered figure.
pub struct Figure {
    pub png: Vec<u8>,
    pub svg: String,
}

const SIZE: (u32, u32) = (800, 500);
const FONT: &str = "sans-serif";
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
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
    /// # Errors
    /// A chart with no finite points, or a drawing error.
    pub fn render(&self) -> Result<Figure, PlotError> {
        register_bundled_font();
        let err = |message: String| PlotError { title: self.title.clone(), message };
        let finite = self.series.iter().flat_map(|s| s.points.iter()).filter(|(x, y)| x.is_finite() && y.is_finite());
        let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
        for &(x, y) in finite {
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
        if x0 > x1 {
            return Err(err("no finite points to draw".into()));
        }
        if x1 == x0 {
            x1 = x0 + 1.0;
        }
        let pad = if y1 > y0 { 0.05 * (y1 - y0) } else { 0.5 };
        let ranges = (x0..x1, (y0 - pad)..(y1 + pad));

        let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
            self.draw(root, ranges.clone()).map_err(err)?;
        }
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            self.draw(root, ranges).map_err(err)?;
        }
        let mut png = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut png, SIZE.0, SIZE.1);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().map_err(|e| err(e.to_string()))?;
            writer.write_image_data(&rgb).map_err(|e| err(e.to_string()))?;
        }
        Ok(Figure { png, svg })
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: DrawingArea<DB, plotters::coord::Shift>,
        (xs, ys): (std::ops::Range<f64>, std::ops::Range<f64>),
    ) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
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
            .x_label_formatter(&|x| tick(*x))
            .y_label_formatter(&|y| tick(*y))
            .y_desc(&self.y_label)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 18))
            .draw()
            .map_err(e)?;
        for (k, s) in self.series.iter().enumerate() {
            let color = COLORS[k % COLORS.len()];
            let pts = s.points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite());
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                .map_err(e)?
                .label(&s.name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(if self.legend_low { SeriesLabelPosition::LowerRight } else { SeriesLabelPosition::UpperRight })
            .draw()
            .map_err(e)?;
        root.present().map_err(e)?;
        Ok(())
    }
}

/// Tick labels without trailing zeros: `2` not `2.0`, `0.25` not `0.250`.
fn tick(v: f64) -> String {
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
            legend_low: false,
            series: vec![
                Series { name: "train".into(), points: (0..20).map(|i| (i as f64, 1.0 / (1.0 + i as f64))).collect() },
                Series { name: "test".into(), points: (0..20).map(|i| (i as f64, 1.2 / (1.0 + i as f64))).collect() },
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
    fn rendering_is_deterministic() {
        let (a, b) = (chart().render().unwrap(), chart().render().unwrap());
        assert!(a.png == b.png && a.svg == b.svg);
    }

    #[test]
    fn empty_chart_is_an_error() {
        let mut c = chart();
        c.series.clear();
        assert_eq!(c.render().err().unwrap().to_string(), "plot `loss`: no finite points to draw");
    }
}

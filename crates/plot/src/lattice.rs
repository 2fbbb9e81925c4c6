//! Values on a lattice of squares or hexagons, one cell per unit: the pictures of a
//! self-organizing map (U-matrix, component planes, hit map, label map, the colours map).

use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{register_bundled_font, Figure, PlotError, COLORS, FONT};

/// One or more maps of the same lattice, side by side, with an optional colour bar and legend.
#[derive(Clone, Debug)]
pub struct LatticeMap {
    /// The figure's title.
    pub title: String,
    /// Rows of the lattice.
    pub rows: usize,
    /// Columns of the lattice.
    pub cols: usize,
    /// Offset rows (odd rows shifted right by half a cell) drawn as hexagons; squares otherwise.
    pub hexagonal: bool,
    /// The panels, side by side.
    pub panels: Vec<Panel>,
    /// Class names and colours, drawn under the panels.
    pub legend: Vec<(String, [u8; 3])>,
    /// What the colours of [`viridis`] mean.
    pub colorbar: Option<ColorBar>,
}

/// One map: a caption and a colour per unit (row-major), with optional text per unit.
#[derive(Clone, Debug)]
pub struct Panel {
    /// The panel's caption.
    pub caption: String,
    /// One colour per unit.
    pub colors: Vec<[u8; 3]>,
    /// Empty, or one string per unit (hit counts, say).
    pub texts: Vec<String>,
}

/// A vertical colour bar from `low` to `high`.
#[derive(Clone, Debug)]
pub struct ColorBar {
    /// The value of the first colour.
    pub low: f64,
    /// The value of the last colour.
    pub high: f64,
    /// What the colours mean.
    pub label: String,
}

/// The viridis colour of `t` in [0, 1] (clamped; NaN is drawn as the low end).
pub fn viridis(t: f64) -> [u8; 3] {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let c: RGBColor = ViridisRGB::get_color(t as f32);
    [c.0, c.1, c.2]
}

/// The colour of class `k` in every figure of the toolkit.
pub fn class_color(k: usize) -> [u8; 3] {
    let c = COLORS[k % COLORS.len()];
    [c.0, c.1, c.2]
}

const TITLE_H: i32 = 44;
const CAPTION_H: i32 = 22;
const GAP: i32 = 16;
const BAR_W: i32 = 110;
const LEGEND_ITEM: (i32, i32) = (160, 26);

/// Where things go, in pixels.
struct Layout {
    cell: f64,
    panel: (i32, i32),
    grid_cols: usize,
    grid_rows: usize,
    size: (u32, u32),
    legend_per_row: usize,
}

impl LatticeMap {
    fn layout(&self) -> Layout {
        let n = self.panels.len();
        let grid_cols = (n as f64).sqrt().ceil() as usize;
        let grid_rows = n.div_ceil(grid_cols);
        let target = if n == 1 { 560.0 } else { (1000.0 / grid_cols as f64).max(110.0) };
        let width_cells = self.cols as f64 + if self.hexagonal { 0.5 } else { 0.0 };
        let cell = (target / width_cells).max(4.0);
        let height_cells = if self.hexagonal {
            (self.rows - 1) as f64 * 3f64.sqrt() / 2.0 + 2.0 / 3f64.sqrt()
        } else {
            self.rows as f64
        };
        let panel = ((width_cells * cell).ceil() as i32, (height_cells * cell).ceil() as i32);
        let bar = if self.colorbar.is_some() { BAR_W } else { 0 };
        let width = GAP + grid_cols as i32 * (panel.0 + GAP) + bar;
        let legend_per_row = ((width - GAP) / LEGEND_ITEM.0).max(1) as usize;
        let legend_rows = self.legend.len().div_ceil(legend_per_row) as i32;
        let height = TITLE_H + grid_rows as i32 * (panel.1 + CAPTION_H + GAP) + legend_rows * LEGEND_ITEM.1 + GAP;
        Layout { cell, panel, grid_cols, grid_rows, size: (width.max(300) as u32, height as u32), legend_per_row }
    }

    /// Renders the figure as PNG and SVG.
    ///
    /// # Errors
    /// No panels, a panel with the wrong number of colours or texts, or a drawing error.
    pub fn render(&self) -> Result<Figure, PlotError> {
        register_bundled_font();
        let err = |message: String| PlotError { title: self.title.clone(), message };
        let units = self.rows * self.cols;
        if self.panels.is_empty() || units == 0 {
            return Err(err("nothing to draw".into()));
        }
        if let Some(p) = self
            .panels
            .iter()
            .find(|p| p.colors.len() != units || !matches!(p.texts.len(), 0) && p.texts.len() != units)
        {
            return Err(err(format!("panel `{}` does not hold one colour (and text) per unit of {units}", p.caption)));
        }
        let layout = self.layout();
        png_and_svg!(layout.size, |root| self.draw(root, &layout)).map_err(err)
    }

    /// Centre of unit (r, c) relative to its panel's corner.
    fn centre(&self, r: usize, c: usize, cell: f64) -> (f64, f64) {
        if self.hexagonal {
            let x = (c as f64 + 0.5 + 0.5 * (r % 2) as f64) * cell;
            (x, (r as f64 * 3f64.sqrt() / 2.0 + 1.0 / 3f64.sqrt()) * cell)
        } else {
            ((c as f64 + 0.5) * cell, (r as f64 + 0.5) * cell)
        }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: DrawingArea<DB, plotters::coord::Shift>,
        l: &Layout,
    ) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
        root.draw(&Text::new(self.title.clone(), (GAP, 12), (FONT, 22))).map_err(e)?;
        let cell = l.cell;
        for (k, panel) in self.panels.iter().enumerate() {
            let (gx, gy) = ((k % l.grid_cols) as i32, (k / l.grid_cols) as i32);
            let x0 = GAP + gx * (l.panel.0 + GAP);
            let y0 = TITLE_H + gy * (l.panel.1 + CAPTION_H + GAP);
            let caption_size = if l.grid_cols > 4 { 12 } else { 16 };
            root.draw(&Text::new(panel.caption.clone(), (x0, y0), (FONT, caption_size))).map_err(e)?;
            let top = y0 + CAPTION_H;
            for u in 0..self.rows * self.cols {
                let (r, c) = (u / self.cols, u % self.cols);
                let (cx, cy) = self.centre(r, c, cell);
                let (cx, cy) = (f64::from(x0) + cx, f64::from(top) + cy);
                let [cr, cg, cb] = panel.colors[u];
                let fill = RGBColor(cr, cg, cb).filled();
                if self.hexagonal {
                    let radius = cell / 3f64.sqrt();
                    let corners: Vec<(i32, i32)> = (0..6)
                        .map(|i| {
                            let a = std::f64::consts::FRAC_PI_6 + std::f64::consts::FRAC_PI_3 * f64::from(i);
                            ((cx + radius * a.cos()).round() as i32, (cy + radius * a.sin()).round() as i32)
                        })
                        .collect();
                    root.draw(&Polygon::new(corners, fill)).map_err(e)?;
                } else {
                    let h = cell / 2.0;
                    let a = ((cx - h).round() as i32, (cy - h).round() as i32);
                    let b = ((cx + h).round() as i32, (cy + h).round() as i32);
                    root.draw(&Rectangle::new([a, b], fill)).map_err(e)?;
                }
                if let Some(text) = panel.texts.get(u).filter(|t| !t.is_empty()) {
                    // Dark text on light cells, light text on dark ones.
                    let light = 0.299 * f64::from(cr) + 0.587 * f64::from(cg) + 0.114 * f64::from(cb) > 140.0;
                    let color = if light { BLACK } else { WHITE };
                    let size = (cell * 0.42).clamp(7.0, 16.0);
                    let style = TextStyle::from((FONT, size)).color(&color).pos(Pos::new(HPos::Center, VPos::Center));
                    root.draw(&Text::new(text.clone(), (cx.round() as i32, cy.round() as i32), style)).map_err(e)?;
                }
            }
        }
        let below = TITLE_H + l.grid_rows as i32 * (l.panel.1 + CAPTION_H + GAP);
        for (k, (name, [r, g, b])) in self.legend.iter().enumerate() {
            let x = GAP + (k % l.legend_per_row) as i32 * LEGEND_ITEM.0;
            let y = below + (k / l.legend_per_row) as i32 * LEGEND_ITEM.1;
            root.draw(&Rectangle::new([(x, y + 3), (x + 16, y + 19)], RGBColor(*r, *g, *b).filled())).map_err(e)?;
            root.draw(&Text::new(name.clone(), (x + 22, y + 3), (FONT, 15))).map_err(e)?;
        }
        if let Some(bar) = &self.colorbar {
            let x = GAP + l.grid_cols as i32 * (l.panel.0 + GAP);
            let (top, height) = (TITLE_H + CAPTION_H, (l.panel.1 * l.grid_rows as i32).clamp(120, 400));
            for i in 0..height {
                let [r, g, b] = viridis(1.0 - f64::from(i) / f64::from(height - 1));
                root.draw(&Rectangle::new([(x, top + i), (x + 18, top + i + 1)], RGBColor(r, g, b).filled()))
                    .map_err(e)?;
            }
            let span = if bar.high > bar.low { bar.high - bar.low } else { 1.0 };
            for value in crate::nice_ticks(bar.low, bar.high, 5) {
                let y = top + ((bar.high - value) / span * f64::from(height - 1)).round() as i32;
                root.draw(&PathElement::new([(x + 18, y), (x + 22, y)], BLACK)).map_err(e)?;
                let style = TextStyle::from((FONT, 13)).pos(Pos::new(HPos::Left, VPos::Center));
                root.draw(&Text::new(crate::tick(value), (x + 24, y), style)).map_err(e)?;
            }
            root.draw(&Text::new(bar.label.clone(), (x - 4, top - 18), (FONT, 13))).map_err(e)?;
        }
        root.present().map_err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(hexagonal: bool) -> LatticeMap {
        let colors: Vec<[u8; 3]> = (0..12).map(|u| viridis(f64::from(u) / 11.0)).collect();
        LatticeMap {
            title: "u-matrix".into(),
            rows: 3,
            cols: 4,
            hexagonal,
            panels: vec![Panel {
                caption: "distances".into(),
                colors,
                texts: (0..12).map(|u| u.to_string()).collect(),
            }],
            legend: vec![("setosa".into(), class_color(0))],
            colorbar: Some(ColorBar { low: 0.0, high: 2.5, label: "mean distance".into() }),
        }
    }

    #[test]
    fn renders_squares_and_hexagons_with_text() {
        for hex in [false, true] {
            let f = map(hex).render().unwrap();
            assert_eq!(&f.png[1..4], b"PNG");
            assert!(f.svg.contains("setosa") && f.svg.contains("mean distance") && f.svg.contains("\n11\n"));
            assert_eq!(f.svg.contains("<polygon"), hex);
        }
    }

    #[test]
    fn wrong_sizes_are_errors() {
        let mut m = map(false);
        m.panels[0].colors.pop();
        assert!(m.render().err().unwrap().to_string().contains("one colour (and text) per unit of 12"));
        let mut m = map(false);
        m.panels.clear();
        assert!(m.render().is_err());
    }

    #[test]
    fn viridis_ends() {
        assert_eq!(viridis(0.0), [68, 1, 84]);
        assert_eq!(viridis(1.0), [254, 232, 37]);
        assert_eq!(viridis(f64::NAN), viridis(-3.0));
    }
}

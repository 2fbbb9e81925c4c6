//! Grids of small grey images with captions and a grey scale.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::*;

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
pub(crate) const SCALE_W: u32 = 110;

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

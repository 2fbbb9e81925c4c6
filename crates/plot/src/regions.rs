//! Decision regions of a classifier on a plane, with the data on top.

use plotters::prelude::*;

use crate::*;

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

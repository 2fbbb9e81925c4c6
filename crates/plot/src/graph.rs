//! Drawings of graphs, so a config's graph can be looked at without Graphviz: a directed acyclic
//! graph in layers from left to right (sources first, each node one layer after its latest
//! argument, as in the chapter's figures), anything else on a circle. Edges may carry a label
//! (the local partial derivative z(i, j) of Figure 11.8, say).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{register_bundled_font, Figure, PlotError, FONT};

/// How a node is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// Inputs and parameters: light blue.
    Source,
    /// Computed or plain nodes: white.
    Inner,
    /// Outputs: light orange.
    Output,
}

/// A node: one or more lines of text in a box, and the name that identifies it in DOT text.
#[derive(Clone, Debug)]
pub struct NodeLabel {
    /// A unique identifier.
    pub id: String,
    /// The label's lines.
    pub lines: Vec<String>,
    /// How the node is drawn.
    pub kind: NodeKind,
}

/// A graph to draw. Edges are (from, to, label) by node index.
#[derive(Clone, Debug)]
pub struct GraphPicture {
    /// The drawing's title.
    pub title: String,
    /// The nodes.
    pub nodes: Vec<NodeLabel>,
    /// The edges (from, to, label).
    pub edges: Vec<(usize, usize, Option<String>)>,
    /// Arrowheads, and the layered layout when the graph has no cycle.
    pub directed: bool,
}

/// Graphs with more nodes than this are not drawn (the picture would be unreadable).
pub const MAX_NODES: usize = 60;

/// Label lines longer than this many characters wrap at spaces (a long loss formula would
/// otherwise make the drawing so wide that a page shrinks its text out of reading).
pub const WRAP_AT: usize = 40;

const LABEL_SIZE: u32 = 14;
const EDGE_LABEL_SIZE: u32 = 12;
/// Approximate advance of one character of DejaVu Sans at `LABEL_SIZE`.
const CHAR_W: f64 = 8.0;
const LINE_H: f64 = 18.0;
/// Approximate advance of one character of the 20-pixel title.
const TITLE_CHAR_W: f64 = 11.0;
const PAD: f64 = 8.0;
const MARGIN: f64 = 30.0;
const TITLE_H: f64 = 40.0;

/// Node centres and box sizes, in pixels, and the canvas size.
struct Placement {
    centres: Vec<(f64, f64)>,
    boxes: Vec<(f64, f64)>,
    size: (u32, u32),
}

impl GraphPicture {
    /// Renders the graph as PNG and SVG.
    ///
    /// # Errors
    /// No nodes, more than [`MAX_NODES`], an edge to a missing node, or a drawing error.
    pub fn render(&self) -> Result<Figure, PlotError> {
        register_bundled_font();
        let err = |message: String| PlotError { title: self.title.clone(), message };
        let n = self.nodes.len();
        if n == 0 {
            return Err(err("nothing to draw".into()));
        }
        if n > MAX_NODES {
            return Err(err(format!("{n} nodes; drawings stop at {MAX_NODES}")));
        }
        if let Some(&(a, b, _)) = self.edges.iter().find(|(a, b, _)| *a >= n || *b >= n) {
            return Err(err(format!("edge ({a}, {b}) names a node beyond the {n} there are")));
        }
        let wrapped = self.wrapped();
        let mut place = wrapped.place();
        // A title wider than the graph widens the canvas (the graph centred), never cut off.
        let title_width = 20.0 + self.title.chars().count() as f64 * TITLE_CHAR_W;
        if title_width > place.size.0 as f64 {
            let shift = (title_width - place.size.0 as f64) / 2.0;
            place.centres.iter_mut().for_each(|c| c.0 += shift);
            place.size.0 = title_width.ceil() as u32;
        }
        png_and_svg!(place.size, |root| wrapped.draw(root, &place)).map_err(err)
    }

    /// The same picture with every label line wrapped at [`WRAP_AT`] characters.
    fn wrapped(&self) -> GraphPicture {
        let mut g = self.clone();
        for node in &mut g.nodes {
            node.lines = node.lines.iter().flat_map(|l| wrap(l, WRAP_AT)).collect();
        }
        g
    }

    /// The same drawing as Graphviz text (`dot -Tpdf`), for graphs too large for `render` or
    /// for users who prefer Graphviz's layout.
    pub fn dot(&self) -> String {
        let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let (kind, link, direction) =
            if self.directed { ("digraph", "->", "  rankdir=LR;\n") } else { ("graph", "--", "") };
        let mut s = format!(
            "{kind} \"{}\" {{\n{direction}  node [fontname=\"DejaVu Sans\", shape=box, style=filled];\n",
            quote(&self.title)
        );
        for node in &self.nodes {
            let fill = match node.kind {
                NodeKind::Source => "#dbe9f6",
                NodeKind::Inner => "white",
                NodeKind::Output => "#fde0be",
            };
            let label: Vec<String> = node.lines.iter().map(|l| quote(l)).collect();
            s.push_str(&format!(
                "  \"{}\" [label=\"{}\", fillcolor=\"{fill}\"];\n",
                quote(&node.id),
                label.join("\\n")
            ));
        }
        for (a, b, label) in &self.edges {
            let (a, b) = (quote(&self.nodes[*a].id), quote(&self.nodes[*b].id));
            match label {
                Some(l) => s.push_str(&format!("  \"{a}\" {link} \"{b}\" [label=\"{}\"];\n", quote(l))),
                None => s.push_str(&format!("  \"{a}\" {link} \"{b}\";\n")),
            }
        }
        s.push_str("}\n");
        s
    }

    fn box_size(label: &NodeLabel) -> (f64, f64) {
        let chars = label.lines.iter().map(|l| l.chars().count()).max().unwrap_or(1).max(2);
        (chars as f64 * CHAR_W + 2.0 * PAD, label.lines.len().max(1) as f64 * LINE_H + PAD)
    }

    /// Layers of a DAG (longest path from a source), or `None` when there is a cycle.
    fn layers(&self) -> Option<Vec<usize>> {
        let n = self.nodes.len();
        let mut indegree = vec![0usize; n];
        let mut children = vec![vec![]; n];
        for &(a, b, _) in &self.edges {
            indegree[b] += 1;
            children[a].push(b);
        }
        let mut layer = vec![0usize; n];
        let mut ready: Vec<usize> = (0..n).filter(|&v| indegree[v] == 0).collect();
        let mut seen = 0;
        while let Some(v) = ready.pop() {
            seen += 1;
            for &c in &children[v] {
                layer[c] = layer[c].max(layer[v] + 1);
                indegree[c] -= 1;
                if indegree[c] == 0 {
                    ready.push(c);
                }
            }
        }
        (seen == n).then_some(layer)
    }

    fn place(&self) -> Placement {
        let n = self.nodes.len();
        let boxes: Vec<(f64, f64)> = self.nodes.iter().map(Self::box_size).collect();
        let widest = boxes.iter().map(|b| b.0).fold(0.0, f64::max);
        let tallest = boxes.iter().map(|b| b.1).fold(0.0, f64::max);
        let layers = if self.directed { self.layers() } else { None };
        let Some(layer) = layers else {
            // A circle with room for every box along it.
            let radius = (n as f64 * (widest.max(tallest) + 20.0) / std::f64::consts::TAU).max(110.0);
            let side = 2.0 * (radius + MARGIN) + widest;
            let centre = (side / 2.0, TITLE_H + side / 2.0);
            let centres = (0..n)
                .map(|k| {
                    let angle = std::f64::consts::TAU * k as f64 / n as f64 - std::f64::consts::FRAC_PI_2;
                    (centre.0 + radius * angle.cos(), centre.1 + radius * angle.sin())
                })
                .collect();
            return Placement { centres, boxes, size: (side.ceil() as u32, (side + TITLE_H).ceil() as u32) };
        };
        let depth = layer.iter().max().map_or(1, |&l| l + 1);
        let mut by_layer: Vec<Vec<usize>> = vec![vec![]; depth];
        for v in 0..n {
            by_layer[layer[v]].push(v);
        }
        // A few barycentre sweeps (each node moved to the mean slot of its neighbours in the
        // previous layer, then the next) to reduce crossings.
        let mut slot = vec![0.0f64; n];
        let renumber = |by_layer: &Vec<Vec<usize>>, slot: &mut Vec<f64>| {
            for nodes in by_layer {
                for (k, &v) in nodes.iter().enumerate() {
                    slot[v] = k as f64 - (nodes.len() as f64 - 1.0) / 2.0;
                }
            }
        };
        renumber(&by_layer, &mut slot);
        for sweep in 0..4 {
            let forward = sweep % 2 == 0;
            for l in 0..depth {
                let l = if forward { l } else { depth - 1 - l };
                let centre_of = |v: usize| -> f64 {
                    let near: Vec<f64> = self
                        .edges
                        .iter()
                        .filter_map(|&(a, b, _)| match forward {
                            true if b == v => Some(slot[a]),
                            false if a == v => Some(slot[b]),
                            _ => None,
                        })
                        .collect();
                    if near.is_empty() {
                        slot[v]
                    } else {
                        near.iter().sum::<f64>() / near.len() as f64
                    }
                };
                let mut keyed: Vec<(f64, usize)> = by_layer[l].iter().map(|&v| (centre_of(v), v)).collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
                by_layer[l] = keyed.into_iter().map(|(_, v)| v).collect();
                renumber(&by_layer, &mut slot);
            }
        }
        let tallest_layer = by_layer.iter().map(Vec::len).max().unwrap_or(1);
        // Each layer as wide as its own widest box, 70 px apart: one long label widens its
        // column only.
        let column: Vec<f64> =
            by_layer.iter().map(|nodes| nodes.iter().map(|&v| boxes[v].0).fold(0.0, f64::max)).collect();
        let mut left = vec![MARGIN; depth];
        for l in 1..depth {
            left[l] = left[l - 1] + column[l - 1] + 70.0;
        }
        // Rows as tall as the tallest box that shares its layer (a wrapped label alone in its
        // layer does not spread every other layer out).
        let stacked =
            by_layer.iter().filter(|nodes| nodes.len() > 1).flatten().map(|&v| boxes[v].1).fold(0.0, f64::max);
        let dy = if stacked > 0.0 { stacked } else { tallest } + 30.0;
        let width = left[depth - 1] + column[depth - 1] + MARGIN;
        let span = (tallest_layer - 1) as f64 * dy;
        let height = TITLE_H + 2.0 * MARGIN + span + tallest;
        let mid = TITLE_H + MARGIN + (span + tallest) / 2.0;
        let centres = (0..n).map(|v| (left[layer[v]] + column[layer[v]] / 2.0, mid + slot[v] * dy)).collect();
        Placement { centres, boxes, size: (width.max(320.0).ceil() as u32, height.ceil() as u32) }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: DrawingArea<DB, plotters::coord::Shift>,
        place: &Placement,
    ) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
        root.draw(&Text::new(self.title.clone(), (10, 10), (FONT, 20))).map_err(e)?;
        let grey = RGBColor(90, 90, 90);
        let px = |p: (f64, f64)| (p.0.round() as i32, p.1.round() as i32);
        let segments: Vec<((f64, f64), (f64, f64))> = self
            .edges
            .iter()
            .map(|&(a, b, _)| {
                let (from, to) = (place.centres[a], place.centres[b]);
                (border(to, from, place.boxes[a]), border(from, to, place.boxes[b]))
            })
            .collect();
        let mut placed: Vec<(f64, f64)> = vec![];
        for (k, (a, b, label)) in self.edges.iter().enumerate() {
            let (start, end) = segments[k];
            let _ = (a, b);
            root.draw(&PathElement::new(vec![px(start), px(end)], grey.stroke_width(1))).map_err(e)?;
            if self.directed {
                let (ux, uy) = unit(start, end);
                let back = (end.0 - 10.0 * ux, end.1 - 10.0 * uy);
                let left = (back.0 - 4.5 * uy, back.1 + 4.5 * ux);
                let right = (back.0 + 4.5 * uy, back.1 - 4.5 * ux);
                root.draw(&Polygon::new(vec![px(end), px(left), px(right)], grey.filled())).map_err(e)?;
            }
            if let Some(label) = label {
                // On its own edge, at the point (from 20% to 60% of the way) farthest from every
                // other edge and label: a label near a crossing could be read as the other
                // edge's.
                let point = |t: f64| (start.0 + t * (end.0 - start.0), start.1 + t * (end.1 - start.1));
                let clearance = |p: (f64, f64)| {
                    let edges = segments.iter().enumerate().filter(|&(j, _)| j != k);
                    let to_edges = edges.map(|(_, &(s, e))| distance_to_segment(p, s, e));
                    let to_labels = placed.iter().map(|&q| 0.5 * ((p.0 - q.0).hypot(p.1 - q.1)));
                    to_edges.chain(to_labels).fold(f64::INFINITY, f64::min)
                };
                let best = (0..=8).map(|i| 0.2 + 0.05 * f64::from(i)).fold((0.3, f64::NEG_INFINITY), |best, t| {
                    let c = clearance(point(t)).min(40.0);
                    if c > best.1 + 0.5 {
                        (t, c)
                    } else {
                        best
                    }
                });
                let at = point(best.0);
                placed.push(at);
                let half = label.chars().count() as f64 * 3.4 + 3.0;
                let corners = [px((at.0 - half, at.1 - 8.0)), px((at.0 + half, at.1 + 8.0))];
                root.draw(&Rectangle::new(corners, WHITE.mix(0.85).filled())).map_err(e)?;
                let style = TextStyle::from((FONT, EDGE_LABEL_SIZE).into_font())
                    .color(&RGBColor(30, 70, 150))
                    .pos(Pos::new(HPos::Center, VPos::Center));
                root.draw(&Text::new(label.clone(), px(at), style)).map_err(e)?;
            }
        }
        for (v, node) in self.nodes.iter().enumerate() {
            let (c, (w, h)) = (place.centres[v], place.boxes[v]);
            let fill = match node.kind {
                NodeKind::Source => RGBColor(219, 233, 246),
                NodeKind::Inner => WHITE,
                NodeKind::Output => RGBColor(253, 224, 190),
            };
            let corners = [px((c.0 - w / 2.0, c.1 - h / 2.0)), px((c.0 + w / 2.0, c.1 + h / 2.0))];
            root.draw(&Rectangle::new(corners, fill.filled())).map_err(e)?;
            root.draw(&Rectangle::new(corners, BLACK.stroke_width(1))).map_err(e)?;
            let top = c.1 - (node.lines.len() as f64 - 1.0) * LINE_H / 2.0;
            for (k, line) in node.lines.iter().enumerate() {
                let style = TextStyle::from((FONT, LABEL_SIZE).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
                root.draw(&Text::new(line.clone(), px((c.0, top + k as f64 * LINE_H)), style)).map_err(e)?;
            }
        }
        root.present().map_err(e)
    }
}

/// `line` broken at spaces into lines of at most `width` characters where it can be (a word
/// longer than `width` keeps a line of its own); the words and their order are kept.
fn wrap(line: &str, width: usize) -> Vec<String> {
    if line.chars().count() <= width {
        return vec![line.to_string()];
    }
    let mut lines: Vec<String> = vec![];
    let mut current = String::new();
    for word in line.split(' ') {
        let fits = current.is_empty() || current.chars().count() + 1 + word.chars().count() <= width;
        if !fits {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    lines.push(current);
    lines
}

/// The distance from `p` to the segment from `a` to `b`.
fn distance_to_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let length2 = dx * dx + dy * dy;
    let t = if length2 > 0.0 { (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / length2).clamp(0.0, 1.0) } else { 0.0 };
    (p.0 - a.0 - t * dx).hypot(p.1 - a.1 - t * dy)
}

/// The unit vector from `a` to `b` (zero when they coincide).
fn unit(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len = dx.hypot(dy);
    if len == 0.0 {
        (0.0, 0.0)
    } else {
        (dx / len, dy / len)
    }
}

/// Where the segment from `from` to the centre `to` of a box of size `size` meets the box.
fn border(from: (f64, f64), to: (f64, f64), size: (f64, f64)) -> (f64, f64) {
    let (dx, dy) = (from.0 - to.0, from.1 - to.1);
    let scale_x = if dx == 0.0 { f64::INFINITY } else { (size.0 / 2.0) / dx.abs() };
    let scale_y = if dy == 0.0 { f64::INFINITY } else { (size.1 / 2.0) / dy.abs() };
    let s = scale_x.min(scale_y).min(1.0);
    (to.0 + s * dx, to.1 + s * dy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(text: &str, kind: NodeKind) -> NodeLabel {
        NodeLabel { id: text.to_string(), lines: vec![text.to_string()], kind }
    }

    #[test]
    fn a_dag_is_drawn_in_layers_left_to_right() {
        // x -> a -> o and x -> o: o sits one layer after a, its latest argument.
        let g = GraphPicture {
            title: "t".into(),
            nodes: vec![node("x", NodeKind::Source), node("a", NodeKind::Inner), node("o", NodeKind::Output)],
            edges: vec![(0, 1, Some("2".into())), (1, 2, None), (0, 2, None)],
            directed: true,
        };
        assert_eq!(g.layers(), Some(vec![0, 1, 2]));
        let place = g.place();
        assert!(place.centres[0].0 < place.centres[1].0 && place.centres[1].0 < place.centres[2].0);
        let fig = g.render().unwrap();
        assert!(fig.png.starts_with(b"\x89PNG") && fig.svg.contains("<svg"));
        let dot = g.dot();
        assert!(dot.starts_with("digraph \"t\" {\n  rankdir=LR;"), "{dot}");
        assert!(dot.contains("  \"x\" -> \"a\" [label=\"2\"];\n  \"a\" -> \"o\";\n"), "{dot}");
        assert!(dot.contains("  \"o\" [label=\"o\", fillcolor=\"#fde0be\"];"), "{dot}");
    }

    #[test]
    fn long_labels_wrap_and_widen_only_their_own_layer() {
        let formula = "loss = softmax_cross_entropy(o, y) + squared_error(r, z) + 0.01 * sum(W1 * W1)";
        let lines = wrap(formula, WRAP_AT);
        assert!(lines.len() > 1 && lines.iter().all(|l| l.chars().count() <= WRAP_AT), "{lines:?}");
        assert_eq!(lines.join(" "), formula, "every word kept, in order");
        assert_eq!(wrap("short", WRAP_AT), vec!["short"]);
        let unbreakable = "x".repeat(50);
        assert_eq!(wrap(&format!("a {unbreakable} b"), 10), vec!["a".to_string(), unbreakable, "b".into()]);
        // x -> h -> loss: the long label widens the last column only, and wrapped it is less
        // narrower by exactly what its box lost.
        let g = GraphPicture {
            title: "t".into(),
            nodes: vec![
                node("x", NodeKind::Source),
                node("h", NodeKind::Inner),
                NodeLabel { id: "loss".into(), lines: vec![formula.into()], kind: NodeKind::Output },
            ],
            edges: vec![(0, 1, None), (1, 2, None)],
            directed: true,
        };
        let one_line = g.place();
        let wrapped = g.wrapped().place();
        let lost = one_line.boxes[2].0 - wrapped.boxes[2].0;
        assert!(wrapped.boxes[2].0 <= WRAP_AT as f64 * CHAR_W + 2.0 * PAD && lost > 300.0, "{lost}");
        assert_eq!(f64::from(one_line.size.0 - wrapped.size.0), lost);
        let gap = |p: &Placement, a: usize, b: usize| p.centres[b].0 - p.centres[a].0;
        let narrow = (GraphPicture::box_size(&g.nodes[0]).0 + GraphPicture::box_size(&g.nodes[1]).0) / 2.0 + 70.0;
        assert!((gap(&wrapped, 0, 1) - narrow).abs() < 1e-9, "the short columns stay narrow");
        assert!(g.render().is_ok());
    }

    #[test]
    fn dot_text_escapes_quotes() {
        let g = GraphPicture {
            title: "say \"hi\"".into(),
            nodes: vec![NodeLabel { id: "a\"b".into(), lines: vec!["x = \"y\"".into()], kind: NodeKind::Inner }],
            edges: vec![],
            directed: false,
        };
        let dot = g.dot();
        assert!(dot.starts_with("graph \"say \\\"hi\\\"\" {\n  node"), "{dot}");
        assert!(dot.contains("\"a\\\"b\" [label=\"x = \\\"y\\\"\""), "{dot}");
    }

    #[test]
    fn cycles_and_undirected_graphs_go_on_a_circle() {
        let nodes = vec![node("a", NodeKind::Inner), node("b", NodeKind::Inner), node("c", NodeKind::Inner)];
        let cycle = GraphPicture {
            title: "c".into(),
            nodes,
            edges: vec![(0, 1, None), (1, 2, None), (2, 0, None)],
            directed: true,
        };
        assert_eq!(cycle.layers(), None);
        let place = cycle.place();
        let centre = (place.size.0 as f64 / 2.0, TITLE_H + (place.size.1 as f64 - TITLE_H) / 2.0);
        let radii: Vec<f64> = place.centres.iter().map(|p| (p.0 - centre.0).hypot(p.1 - centre.1)).collect();
        assert!(radii.iter().all(|r| (r - radii[0]).abs() < 1e-9), "{radii:?}");
        assert!(cycle.render().is_ok());
    }

    #[test]
    fn bad_pictures_are_errors() {
        let one = || vec![node("a", NodeKind::Inner)];
        let g = GraphPicture { title: "g".into(), nodes: one(), edges: vec![(0, 3, None)], directed: false };
        let Err(e) = g.render() else { panic!("an edge to a missing node was drawn") };
        assert!(e.to_string().contains("edge (0, 3)"), "{e}");
        let big = GraphPicture {
            title: "big".into(),
            nodes: (0..=MAX_NODES).map(|k| node(&k.to_string(), NodeKind::Inner)).collect(),
            edges: vec![],
            directed: true,
        };
        assert!(big.render().is_err());
    }

    #[test]
    fn edges_end_on_the_box_border() {
        // From the left, level with the centre: the border is half the width to the left.
        assert_eq!(border((0.0, 50.0), (100.0, 50.0), (40.0, 20.0)), (80.0, 50.0));
        // From above: half the height up.
        assert_eq!(border((100.0, 0.0), (100.0, 50.0), (40.0, 20.0)), (100.0, 40.0));
    }
}

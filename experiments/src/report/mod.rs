//! `experiments report [DIR...]`: one static `index.html` over every result folder, to browse
//! in any browser: no server, no network, no framework, links relative to the page (so the
//! folders can be zipped and shared). A section per experiment: its kind, config text, key
//! metrics (the run's main ones first), a graphical model's query answers, and pictures (SVG
//! where there is one; each opens full size); a section per sweep: its settings and summary
//! tables and plots. Numbers are shown with at most 6 significant digits throughout.
//!
//! Several folders (`report results other/results`) go on one page, each experiment named by
//! its folder's path; any two or more experiments can be compared side by side (tick
//! *compare*, or open `index.html#compare=a,b`).
//!
//! The page's small inline script marks each picture with the width it loaded at
//! (`data-loaded`), so a headless browser's DOM tells a test that every picture rendered, and
//! draws the comparison.

mod compare;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde_json::Value;

/// Text for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A folder's files, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// The metrics a reader looks for first, when a run has them.
const FIRST: [&str; 12] = [
    "final_loss",
    "train_accuracy",
    "test_accuracy",
    "test_loss",
    "quantization_error",
    "topographic_error",
    "pseudo_log_likelihood",
    "ais_log_likelihood",
    "exact_log_likelihood",
    "score",
    "shd",
    "all_within_4_standard_errors",
];

/// The scalar metrics of a metrics file, nested objects flattened (`a.b`), at most `limit`: the
/// run's key metrics ([`FIRST`]) first, node shapes and sizes last.
fn key_metrics(value: &Value, limit: usize) -> Vec<(String, String)> {
    let mut out = vec![];
    crate::sweep::scalars_or_null(value, "", true, &mut out);
    let rank = |k: &str| match FIRST.iter().position(|f| *f == k) {
        Some(p) => p,
        None if k.contains("shape") || k.starts_with("nodes.") => FIRST.len() + 2,
        None => FIRST.len() + 1,
    };
    out.sort_by_key(|(k, _)| rank(k));
    out.into_iter()
        .take(limit)
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                Value::Null => "-".into(),
                Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), |x| format!("{}", Short(x))),
                other => other.to_string(),
            };
            (k, text)
        })
        .collect()
}

/// The key metrics the report shows for the result folder `dir`, as (name, text) (none when
/// it has no readable metrics file).
pub fn key_metrics_of(dir: &Path) -> Vec<(String, String)> {
    crate::read_metrics(dir).map_or_else(Vec::new, |m| key_metrics(&m, 40))
}

/// A number with 6 significant digits at most.
struct Short(f64);

impl std::fmt::Display for Short {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let x = self.0;
        if x.fract() == 0.0 && x.abs() < 1e15 {
            write!(f, "{x}")
        } else if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e6) {
            write!(f, "{x:.4e}")
        } else {
            let s = format!("{x:.6}");
            write!(f, "{}", s.trim_end_matches('0').trim_end_matches('.'))
        }
    }
}

/// The pictures of a folder: each figure's SVG where there is one, else its PNG.
fn pictures(dir: &Path) -> Vec<String> {
    let names = files(dir);
    names
        .iter()
        .filter(|n| n.ends_with(".svg") || (n.ends_with(".png") && !names.contains(&n.replace(".png", ".svg"))))
        .cloned()
        .collect()
}

/// One experiment to show: its section's id, its folder, the folder as a link from the page,
/// and its config file (in the `configs` folder beside its results folder, by name).
struct Run {
    id: String,
    dir: PathBuf,
    href: String,
    config: PathBuf,
}

/// One experiment's section.
fn experiment(out: &mut String, run: &Run, page: &Path) {
    let metrics = crate::read_metrics(&run.dir);
    let config = std::fs::read_to_string(&run.config).ok();
    let kind = kind_of(config.as_deref());
    let _ = write!(
        out,
        "<section id=\"{0}\">\n<h2>{0} <small>{1}</small> <label class=\"pick\"><input type=\"checkbox\" data-run=\"{0}\"> compare</label></h2>\n",
        escape(&run.id),
        escape(&kind)
    );
    if let Some(m) = &metrics {
        out.push_str("<table class=\"metrics\">\n");
        for (k, v) in key_metrics(m, 40) {
            let _ = writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", escape(&k), escape(&v));
        }
        out.push_str("</table>\n");
    } else {
        out.push_str(
            "<p class=\"warning\">The metrics file is unreadable (damaged or cut short): rerun this config.</p>\n",
        );
    }
    if let Some(queries) = metrics.as_ref().and_then(|m| m["queries"].as_array()) {
        answers(out, queries);
    }
    if crate::output::Manifest::read(&run.dir).is_some_and(|m| !m.complete) {
        out.push_str(
            "<p class=\"warning\">An unfinished run (stopped early): continue it with <code>--resume</code>.</p>\n",
        );
    }
    figures(out, &run.dir, &run.href);
    if let Some(text) = config {
        let link = relative(page, &run.config);
        let shown = run.config.file_name().map_or_else(String::new, |f| format!("configs/{}", f.to_string_lossy()));
        let _ = writeln!(
            out,
            "<details><summary>config (<a href=\"{}\">{}</a>)</summary><pre>{}</pre></details>",
            escape(&link),
            escape(&shown),
            escape(&text)
        );
    }
    out.push_str("</section>\n");
}

/// The `kind` a config text names, or `?`.
fn kind_of(config: Option<&str>) -> String {
    config
        .and_then(|c| toml::from_str::<toml::Table>(c).ok())
        .and_then(|t| t.get("kind").and_then(|k| k.as_str().map(str::to_string)))
        .unwrap_or_else(|| "?".into())
}

/// A graphical model's query answers as a table: each state's exact probability and, when the
/// queries were also sampled, the estimate with its standard error and 95% interval.
fn answers(out: &mut String, queries: &[Value]) {
    let sampled = queries.iter().any(|q| q.get("estimate").is_some());
    out.push_str("<table class=\"answers\">\n<tr><th>query</th><th>state</th><th>exact</th>");
    if sampled {
        out.push_str("<th>estimate ± standard error</th><th>95% interval</th>");
    }
    out.push_str("</tr>\n");
    for q in queries {
        let query = q["query"].as_str().unwrap_or("?");
        let Some(exact) = q["exact"].as_object() else {
            let _ = writeln!(out, "<tr><td>{}</td><td colspan=\"4\">impossible evidence</td></tr>", escape(query));
            continue;
        };
        for (state, p) in exact {
            let number = |v: &Value| v.as_f64().map_or_else(|| "-".to_string(), |x| Short(x).to_string());
            let _ = write!(out, "<tr><td>{}</td><td>{}</td><td>{}</td>", escape(query), escape(state), number(p));
            if sampled {
                let (e, se) = (&q["estimate"][state], &q["standard_error"][state]);
                let interval = q["interval_95"][state]
                    .as_array()
                    .map_or_else(|| "-".to_string(), |b| format!("{} to {}", number(&b[0]), number(&b[1])));
                let _ = write!(out, "<td>{} ± {}</td><td>{}</td>", number(e), number(se), interval);
            }
            out.push_str("</tr>\n");
        }
    }
    out.push_str("</table>\n");
}

/// Each picture of `dir` (linked as `rel/<file>`) as a figure that opens its file.
fn figures(out: &mut String, dir: &Path, rel: &str) {
    for picture in pictures(dir) {
        let _ = writeln!(
            out,
            "<figure><a href=\"{0}/{1}\"><img src=\"{0}/{1}\" alt=\"{0}: {1}\" loading=\"eager\"></a><figcaption>{1}</figcaption></figure>",
            escape(rel),
            escape(&picture)
        );
    }
}

/// A sweep's section: the summary table and its plots.
fn sweep(out: &mut String, sweep: &Sweep) {
    let dir = &sweep.dir;
    let _ = write!(out, "<section id=\"{0}\">\n<h2>{0} <small>sweep</small></h2>\n", escape(&sweep.id));
    for (file, class) in [("settings.csv", "settings"), (crate::sweep::SUMMARY, "summary")] {
        let Ok(csv) = std::fs::read_to_string(dir.join(file)) else { continue };
        let _ = writeln!(out, "<div class=\"wide\"><table class=\"{class}\">");
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(csv.as_bytes());
        for (k, record) in reader.records().filter_map(Result::ok).enumerate() {
            let cell = if k == 0 { "th" } else { "td" };
            let cells: Vec<String> = record
                .iter()
                .map(|c| {
                    // Numbers in the report's one format (6 significant digits).
                    let text = match c.parse::<f64>() {
                        Ok(x) if k > 0 && c.contains(['.', 'e']) => Short(x).to_string(),
                        _ => c.to_string(),
                    };
                    format!("<{cell}>{}</{cell}>", escape(&text))
                })
                .collect();
            let _ = writeln!(out, "<tr>{}</tr>", cells.concat());
        }
        out.push_str("</table></div>\n");
    }
    figures(out, dir, &sweep.href);
    out.push_str("</section>\n");
}

/// One sweep to show: its section's id, its `multirun` folder and that folder as a link.
struct Sweep {
    id: String,
    dir: PathBuf,
    href: String,
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:1400px}.warning{color:#a40}\
nav a{margin-right:.8em;white-space:nowrap}section{border-top:1px solid #ccc;margin-top:2em}\
h2 small{color:#777;font-weight:normal}table{border-collapse:collapse;margin:.5em 0}\
th,td{border:1px solid #ddd;padding:2px 6px;text-align:left;font-size:90%}\
figure{display:inline-block;margin:.5em;vertical-align:top}img{max-width:640px;height:auto}\
.wide{overflow-x:auto}pre{background:#f6f6f6;padding:.5em;overflow-x:auto}\
.pick{font-size:60%;font-weight:normal;color:#555;margin-left:1em}#compare svg{margin:.5em;border:1px solid #eee}\
.key span{display:inline-block;width:1.5em;height:.3em;margin:0 .3em .2em 1em}";

/// How the report recognises its own `index.html` (the only file it replaces).
const WRITTEN_BY: &str = "Written by <code>experiments report</code>";

/// Marks every picture with the width it loaded at, for tests in a headless browser.
const SCRIPT: &str =
    "document.querySelectorAll('img').forEach(function(i){function m(){i.dataset.loaded=i.naturalWidth}\
if(i.complete){m()}else{i.addEventListener('load',m);i.addEventListener('error',function(){i.dataset.loaded=0})}});";

/// The experiments and sweeps of one folder given to the report: a folder of result folders
/// (with `sweeps/*/multirun` for sweeps), or one result folder itself. `prefix` names them on a
/// page of several folders; configs are looked up in `configs`.
fn discover(root: &Path, prefix: &str, configs: &Path, page: &Path) -> (Vec<Run>, Vec<Sweep>) {
    let is_run = |dir: &Path| crate::METRICS_FILES.iter().any(|f| dir.join(f).exists());
    let name_of = |dir: &Path| dir.file_name().map_or_else(|| "run".into(), |n| n.to_string_lossy().into_owned());
    let run = |dir: PathBuf, id: String| {
        let config = configs.join(format!("{}.toml", name_of(&dir)));
        Run { id, href: relative(page, &dir), dir, config }
    };
    if is_run(root) {
        let id = if prefix.is_empty() { name_of(root) } else { prefix.to_string() };
        return (vec![run(root.to_path_buf(), id)], vec![]);
    }
    let join = |name: &str| if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") };
    let runs =
        files(root).into_iter().filter(|n| is_run(&root.join(n))).map(|n| run(root.join(&n), join(&n))).collect();
    let sweeps = files(&root.join("sweeps"))
        .into_iter()
        .map(|n| format!("sweeps/{n}/multirun"))
        .filter(|rel| root.join(rel).join(crate::sweep::SUMMARY).exists())
        .map(|rel| {
            let dir = root.join(&rel);
            Sweep { id: join(&rel), href: relative(page, &dir), dir }
        })
        .collect();
    (runs, sweeps)
}

/// `path` made absolute: resolved (links and `..`) where it exists, else joined to the current
/// folder as written.
fn absolute(path: &Path) -> PathBuf {
    path.canonicalize().or_else(|_| std::path::absolute(path)).unwrap_or_else(|_| path.to_path_buf())
}

/// The path from the folder `from` to `to` with `/` between parts (both made absolute first),
/// for links that work wherever the folders are moved together.
fn relative(from: &Path, to: &Path) -> String {
    let (from, to) = (absolute(from), absolute(to));
    let (a, b): (Vec<_>, Vec<_>) = (from.components().collect(), to.components().collect());
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let parts: Vec<String> = std::iter::repeat_n("..".to_string(), a.len() - common)
        .chain(b[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()))
        .collect();
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// The report of the result folders under `root` (experiments: folders with `metrics.json` or
/// `graph.json`; sweeps: `sweeps/*/multirun` with `summary.csv`), as `root/index.html`; configs
/// are looked up in `configs` by folder name.
pub fn render(root: &Path, configs: &Path) -> String {
    let (runs, sweeps) = discover(root, "", configs, root);
    page(&runs, &sweeps, 1, root)
}

/// The report of several folders (each a folder of result folders, or one result folder) as a
/// page in the folder `page`: each experiment is named by its folder's path from `page`, and
/// configs are looked up in the `configs` folder beside each given folder.
pub fn render_many(roots: &[PathBuf], page_dir: &Path) -> String {
    let (mut runs, mut sweeps) = (vec![], vec![]);
    for root in roots {
        let configs = root.canonicalize().ok().and_then(|r| r.parent().map(|p| p.join("configs")));
        let prefix = match relative(page_dir, root) {
            here if here == "." => String::new(),
            path => path,
        };
        let (r, s) = discover(root, &prefix, &configs.unwrap_or_default(), page_dir);
        runs.extend(r);
        sweeps.extend(s);
    }
    page(&runs, &sweeps, roots.len(), page_dir)
}

/// The page in the folder `page_dir` over `runs` and `sweeps` (found in `folders` folders).
fn page(runs: &[Run], sweeps: &[Sweep], folders: usize, page_dir: &Path) -> String {
    let mut out = String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = write!(out, "<title>Results</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>Results</h1>\n");
    let from = if folders > 1 { format!(" from {folders} folders") } else { String::new() };
    let _ = writeln!(
        out,
        "<p>{} experiments and {} sweeps{from}. {WRITTEN_BY}; every picture links to its file; tick <i>compare</i> on two or more experiments to see them side by side.</p>",
        runs.len(),
        sweeps.len()
    );
    out.push_str("<nav>\n");
    for id in runs.iter().map(|r| &r.id).chain(sweeps.iter().map(|s| &s.id)) {
        let _ = writeln!(out, "<a href=\"#{0}\">{0}</a>", escape(id));
    }
    out.push_str("</nav>\n");
    out.push_str(compare::SECTION);
    for run in runs {
        experiment(&mut out, run, page_dir);
    }
    for s in sweeps {
        sweep(&mut out, s);
    }
    compare::data(&mut out, runs.iter().map(|r| (r.id.as_str(), r.dir.as_path())));
    let _ = write!(out, "<script>{SCRIPT}{}</script>\n</body>\n</html>\n", compare::SCRIPT);
    out
}

/// Writes `page_dir/index.html` over several folders ([`render_many`]), creating `page_dir`
/// when it does not exist.
///
/// # Errors
/// A folder is not one, or the page cannot be written.
pub fn write_many(roots: &[PathBuf], page_dir: &Path) -> Result<PathBuf> {
    if let Some(bad) = roots.iter().find(|r| !r.is_dir()) {
        anyhow::bail!("{} is not a folder of results", bad.display());
    }
    std::fs::create_dir_all(page_dir).with_context(|| format!("cannot create {}", page_dir.display()))?;
    put_page(page_dir, &render_many(roots, page_dir), "another --out")
}

/// Writes `html` as `dir/index.html`, replacing only a page the report wrote (`other`: where
/// else the user may send it).
fn put_page(dir: &Path, html: &str, other: &str) -> Result<PathBuf> {
    let path = dir.join("index.html");
    crate::output::replace_file(
        &path,
        html.as_bytes(),
        |old| String::from_utf8_lossy(old).contains(WRITTEN_BY),
        &format!("the report replaces only an index.html it wrote; move that file away or give {other}"),
    )?;
    Ok(path)
}

/// The deepest folder holding every one of `dirs` (where a report over them goes by default).
pub fn common_folder(dirs: &[PathBuf]) -> PathBuf {
    let folders: Vec<PathBuf> = dirs.iter().map(|d| absolute(d)).collect();
    let Some(first) = folders.first() else { return PathBuf::from(".") };
    let mut common: PathBuf = first.clone();
    while !folders.iter().all(|d| d.starts_with(&common)) {
        if !common.pop() {
            break;
        }
    }
    common
}

/// Writes `root/index.html`; configs are looked up in `root/../configs`.
///
/// # Errors
/// The folder cannot be read or the file written.
pub fn write(root: &Path) -> Result<PathBuf> {
    if !root.is_dir() {
        anyhow::bail!("{} is not a folder of results", root.display());
    }
    let configs = root.parent().unwrap_or(Path::new(".")).join("configs");
    put_page(root, &render(root, &configs), "another folder")
}

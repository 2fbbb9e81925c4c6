//! `experiments report`: the shipped `results/index.html` is the report of the stored results,
//! every picture it shows exists, and (where Debian's `chromium` is installed, as `.ci/run`
//! arranges) a real headless browser loads every picture with a non-zero width and draws the
//! comparison of two runs; several folders go on one page with working links.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `src` of every `<img>`.
fn images(html: &str) -> Vec<String> {
    html.split("<img src=\"").skip(1).map(|rest| rest.split('"').next().unwrap().replace("&amp;", "&")).collect()
}

#[test]
fn the_shipped_report_is_the_report_of_the_stored_results() {
    let results = root().join("results");
    let html = experiments::report::render(&results, &root().join("configs"));
    let stored = std::fs::read_to_string(results.join("index.html")).unwrap();
    assert!(html == stored, "results/index.html is stale: run `cargo run --release -p experiments -- report`");
    // A section per result folder, and every picture on disk.
    let folders = std::fs::read_dir(&results)
        .unwrap()
        .filter(|e| {
            e.as_ref().unwrap().path().join("metrics.json").exists()
                || e.as_ref().unwrap().path().join("graph.json").exists()
        })
        .count();
    assert_eq!(
        html.matches("<section id=").count(),
        folders + 4,
        "every experiment, the 3 shipped sweeps and the comparison"
    );
    let srcs = images(&html);
    assert!(srcs.len() > 100, "{} pictures", srcs.len());
    for src in &srcs {
        assert!(results.join(src).is_file(), "{src} is missing");
    }
    assert!(html.contains("<th>test_accuracy</th>") && html.contains("<summary>config ("));
    // The Bayesian networks' answers as tables: asia's P(lung) row with the stored exact value
    // and estimate, in the report's number format.
    let asia: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(results.join("asia/metrics.json")).unwrap()).unwrap();
    let q = &asia["queries"][0];
    let short = |v: &serde_json::Value| {
        let s = format!("{:.6}", v.as_f64().unwrap());
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    let row = format!(
        "<tr><td>{}</td><td>yes</td><td>{}</td><td>{} ± {}</td>",
        q["query"].as_str().unwrap(),
        short(&q["exact"]["yes"]),
        short(&q["estimate"]["yes"]),
        short(&q["standard_error"]["yes"])
    );
    assert!(html.contains(&row), "{row}");
    // Sweep tables show rounded numbers; the settings table comes first.
    assert!(html.contains("<table class=\"settings\">") && !html.contains("0.9411764705882353"));
}

/// The DOM a headless Chromium builds from `url`, or `None` (with a SKIPPED line) where there
/// is no Chromium.
fn dom_of(url: &str, test: &str) -> Option<String> {
    let Some(browser) = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
    else {
        eprintln!("SKIPPED {test}: no chromium here (Debian's `chromium` package; .ci/run installs it)");
        return None;
    };
    let profile = tempfile::tempdir().unwrap();
    let o = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
            "--virtual-time-budget=30000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Some(String::from_utf8(o.stdout).unwrap())
}

#[test]
fn a_headless_browser_shows_every_picture() {
    let index = root().join("results/index.html").canonicalize().unwrap();
    let Some(dom) = dom_of(&format!("file://{}", index.display()), "a_headless_browser_shows_every_picture") else {
        return;
    };
    let expected = images(&std::fs::read_to_string(&index).unwrap()).len();
    let widths: Vec<u64> =
        dom.split("data-loaded=\"").skip(1).map(|rest| rest.split('"').next().unwrap().parse().unwrap()).collect();
    assert_eq!(widths.len(), expected, "pictures marked as loaded, of {expected}");
    assert!(widths.iter().all(|&w| w > 0), "{} pictures did not render", widths.iter().filter(|&&w| w == 0).count());
    assert!(dom.matches("<table class=\"metrics\">").count() > 40);
    // The answers of the Bayesian and Markov networks, as tables the browser built.
    assert!(dom.matches("<table class=\"answers\">").count() >= 3, "asia, sprinkler, misconception");
}

/// The curves of a stored run that the comparison draws: `*_curve` arrays with a number.
fn curve_count(name: &str) -> usize {
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("results").join(name).join("metrics.json")).unwrap())
            .unwrap();
    m.as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| {
            k.ends_with("_curve") && v.as_array().is_some_and(|a| a.len() >= 2 && a.iter().any(|x| x.is_number()))
        })
        .count()
}

#[test]
fn a_headless_browser_compares_two_runs_side_by_side() {
    let index = root().join("results/index.html").canonicalize().unwrap();
    let url = format!("file://{}#compare=xor,model_xor", index.display());
    let Some(dom) = dom_of(&url, "a_headless_browser_compares_two_runs_side_by_side") else { return };
    // The script's own text holds the tags too: look at the DOM after the comparison section.
    let start = dom.find("<section id=\"compare\">").expect("the comparison is shown (not hidden)");
    let shown = &dom[start..dom[start..].find("</section>").unwrap() + start];
    assert!(
        shown.contains("<table class=\"comparison\"><tbody><tr><th>metric</th><th>xor</th><th>model_xor</th></tr>"),
        "{shown}"
    );
    // Each run's final loss in its column, in the report's number format.
    for name in ["xor", "model_xor"] {
        let m = experiments::report::key_metrics_of(&root().join("results").join(name));
        let loss = &m.iter().find(|(k, _)| k == "final_loss").unwrap().1;
        assert!(shown.contains(&format!("<td>{loss}</td>")), "{name}: {loss}");
    }
    // One line per run and curve, in as many charts as curve names.
    let (a, b) = (curve_count("xor"), curve_count("model_xor"));
    assert!(a >= 3 && b >= 3, "{a} {b}");
    assert_eq!(shown.matches("<polyline data-run=\"xor\"").count(), a);
    assert_eq!(shown.matches("<polyline data-run=\"model_xor\"").count(), b);
    assert!(shown.contains("data-curve=\"loss_curve\"") && shown.contains("(log axis)"), "loss spans decades");
    // Without an address the comparison stays hidden.
    let plain = dom_of(&format!("file://{}", index.display()), "compare").unwrap();
    assert!(plain.contains("<section id=\"compare\" hidden=\"\">"));
}

#[test]
fn several_folders_go_on_one_page_with_working_links() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = |from: &std::path::Path, to: &std::path::Path| {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    };
    let stored = root().join("results");
    for (folder, runs) in [("a", ["xor", "model_xor"]), ("b", ["xor", "softmax_iris"])] {
        for run in runs {
            copy(&stored.join(run), &tmp.path().join(folder).join("results").join(run));
        }
    }
    // Only `a` has its configs beside it.
    std::fs::create_dir_all(tmp.path().join("a/configs")).unwrap();
    std::fs::copy(root().join("configs/xor.toml"), tmp.path().join("a/configs/xor.toml")).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_experiments")).current_dir(tmp.path()).args(args).output().unwrap()
    };
    let o = run(&["report", "a/results", "b/results"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(tmp.path().join("index.html")).unwrap();
    for id in ["a/results/xor", "a/results/model_xor", "b/results/xor", "b/results/softmax_iris"] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
        assert!(html.contains(&format!("data-run=\"{id}\"")), "{id}");
    }
    assert!(html.contains("4 experiments and 0 sweeps from 2 folders"));
    let srcs = images(&html);
    assert!(srcs.iter().any(|s| s.starts_with("b/results/softmax_iris/")), "{srcs:?}");
    for src in &srcs {
        assert!(tmp.path().join(src).is_file(), "{src} is missing");
    }
    assert!(html.contains("<a href=\"a/configs/xor.toml\">configs/xor.toml</a>"), "a's config is linked");
    assert_eq!(html.matches("<summary>config (").count(), 1, "b has no configs folder");
    // Into another folder with --out, the links lead back up; run again, the page is replaced.
    for _ in 0..2 {
        let o = run(&["report", "a/results", "b/results/xor", "--out", "pages/all"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let html = std::fs::read_to_string(tmp.path().join("pages/all/index.html")).unwrap();
    assert!(html.contains("<section id=\"../../b/results/xor\">"), "a result folder given itself");
    for src in images(&html) {
        assert!(tmp.path().join("pages/all").join(&src).is_file(), "{src} is missing");
    }
    // A page that is not the report's is never replaced; a missing folder is one line, exit 2.
    std::fs::write(tmp.path().join("mine.html"), "mine").unwrap();
    std::fs::create_dir_all(tmp.path().join("own")).unwrap();
    std::fs::write(tmp.path().join("own/index.html"), "my page").unwrap();
    let o = run(&["report", "a/results", "b/results", "--out", "own"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(tmp.path().join("own/index.html")).unwrap(), "my page");
    let o = run(&["report", "a/results", "nowhere"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.code() == Some(2) && err.lines().count() == 1 && err.contains("nowhere is not a folder"), "{err}");
}

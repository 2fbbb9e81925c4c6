//! `experiments report`: the shipped `results/index.html` is the report of the stored results,
//! every picture it shows exists, and (where Debian's `chromium` is installed, as `.ci/run`
//! arranges) a real headless browser loads every picture with a non-zero width.

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
    assert_eq!(html.matches("<section id=").count(), folders + 3, "every experiment and the 3 shipped sweeps");
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

#[test]
fn a_headless_browser_shows_every_picture() {
    let Some(browser) = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
    else {
        eprintln!("SKIPPED a_headless_browser_shows_every_picture: no chromium here (Debian's `chromium` package; .ci/run installs it)");
        return;
    };
    let index = root().join("results/index.html").canonicalize().unwrap();
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
        .arg(format!("file://{}", index.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dom = String::from_utf8(o.stdout).unwrap();
    let expected = images(&std::fs::read_to_string(&index).unwrap()).len();
    let widths: Vec<u64> =
        dom.split("data-loaded=\"").skip(1).map(|rest| rest.split('"').next().unwrap().parse().unwrap()).collect();
    assert_eq!(widths.len(), expected, "pictures marked as loaded, of {expected}");
    assert!(widths.iter().all(|&w| w > 0), "{} pictures did not render", widths.iter().filter(|&&w| w == 0).count());
    assert!(dom.matches("<table class=\"metrics\">").count() > 40);
    // The answers of the Bayesian and Markov networks, as tables the browser built.
    assert!(dom.matches("<table class=\"answers\">").count() >= 3, "asia, sprinkler, misconception");
}

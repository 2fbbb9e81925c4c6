//! The real binary on bad input: exit code 2, one stderr line naming the config and the place, and
//! no result file written or overwritten. `--check` exits 1 on drift.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::GOOD_GRAPH as GOOD;

fn binary(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_experiments")).args(args).output().unwrap()
}

fn write_config(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs a bad config into a fresh out dir and returns its one stderr line.
fn fails(text: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "bad.toml", text);
    let out = tmp.path().join("out");
    let o = binary(&[config.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line expected: {stderr}");
    assert!(stderr.starts_with(&format!("error: {}: ", config.display())), "{stderr}");
    assert!(!out.exists(), "nothing may be written on error");
    assert!(!stderr.contains("panicked"));
    stderr.trim_end().split(": ").skip(2).collect::<Vec<_>>().join(": ")
}

#[test]
fn malformed_toml() {
    let e = fails("kind = \"graph\"\n[graph\n");
    assert!(e.starts_with("line 2, column"), "{e}");
}

#[test]
fn unknown_name() {
    assert_eq!(
        fails(&GOOD.replace("w * x", "w * z")),
        "[graph.nodes] h: uses `z`, which is not an input, weight or node"
    );
}

#[test]
fn cycle() {
    assert_eq!(fails(&GOOD.replace("w * x", "w * o")), "[graph.nodes] cycle: h -> o -> h");
}

#[test]
fn syntax_error_with_column() {
    assert_eq!(
        fails(&GOOD.replace("w * x", "w * (x")),
        "[graph.nodes] h: column 7: expected `)`, found end of expression"
    );
}

#[test]
fn unknown_function_and_wrong_arity() {
    assert!(fails(&GOOD.replace("sin(h)", "sine(h)")).starts_with("[graph.nodes] o: column 1: unknown function `sine`"));
    assert_eq!(fails(&GOOD.replace("sin(h)", "sin(h, x)")), "[graph.nodes] o: column 1: `sin` takes 1 argument, got 2");
}

#[test]
fn non_finite_values() {
    assert_eq!(fails(&GOOD.replace("x = 1.0", "x = nan")), "[graph.inputs] x: NaN is not a finite number");
    assert_eq!(fails(&GOOD.replace("sin(h)", "log(h - 5)")), "[graph] forward: `o` = log(h - 5) is NaN at h = 2");
}

#[test]
fn unknown_kind_and_field() {
    assert_eq!(
        fails("kind = \"grahp\"\n"),
        format!("kind: unknown kind `grahp`; known kinds: {}", experiments::kinds::names())
    );
    assert!(fails(&GOOD.replace("outputs", "outputz")).contains("unknown field `outputz`"));
}

#[test]
fn kinds_and_help_list_every_registered_kind() {
    let kinds = binary(&["kinds"]);
    assert!(kinds.status.success());
    let listed = String::from_utf8(kinds.stdout).unwrap();
    let help = String::from_utf8(binary(&["--help"]).stdout).unwrap();
    assert_eq!(listed.lines().count(), experiments::kinds::KINDS.len(), "{listed}");
    for k in experiments::kinds::KINDS {
        let line = format!("{}  ", k.name());
        assert!(listed.lines().any(|l| l.trim_start().starts_with(&line) && l.ends_with(k.summary())), "{listed}");
        assert!(help.contains(k.summary()), "--help lacks {}", k.name());
    }
}

#[test]
fn missing_file() {
    let o = binary(&["/nonexistent/config.toml"]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert!(stderr.starts_with("error: /nonexistent/config.toml: cannot read"), "{stderr}");
}

#[test]
fn a_failed_run_leaves_stored_results_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let good = write_config(tmp.path(), "good.toml", GOOD);
    assert!(binary(&[good.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).status.success());
    let stored = std::fs::read(out.join("graph.json")).unwrap();
    let config = write_config(tmp.path(), "bad.toml", &GOOD.replace("sin(h)", "log(-h)"));
    let o = binary(&[config.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read(out.join("graph.json")).unwrap(), stored);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 5, "no temp files left behind");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 3, "no temp folders left behind");
}

#[test]
fn check_passes_on_fresh_results_and_fails_on_drift() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "good.toml", GOOD);
    let out = tmp.path().join("out");
    let (c, o) = (config.to_str().unwrap(), out.to_str().unwrap());
    assert!(binary(&[c, "--out", o]).status.success());
    let check = binary(&[c, "--out", o, "--check"]);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    // Change w: every derivative moves, and --check names the first number that drifted.
    write_config(tmp.path(), "good.toml", &GOOD.replace("w = 2.0", "w = 2.5"));
    let drift = binary(&[c, "--out", o, "--check"]);
    assert_eq!(drift.status.code(), Some(1));
    let stderr = String::from_utf8(drift.stderr).unwrap();
    assert!(stderr.contains("graph.json: values.w: stored 2, got 2.5"), "{stderr}");
}

#[test]
fn a_run_replaces_the_whole_folder_with_files_of_the_umasks_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "good.toml", GOOD);
    let out = tmp.path().join("out");
    // An earlier run's folder (its manifest lists every file) that had a file this run does not write.
    assert!(binary(&[config.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).status.success());
    std::fs::write(out.join("stale.png"), "from another config").unwrap();
    let manifest = std::fs::read_to_string(out.join(".cg-results.json")).unwrap();
    std::fs::write(out.join(".cg-results.json"), manifest.replace("\"graph.dot\",", "\"graph.dot\", \"stale.png\","))
        .unwrap();
    assert!(binary(&[config.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).status.success());
    let mut names: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, [".cg-results.json", "graph.dot", "graph.json", "graph.png", "graph.svg"]);
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 2, "only the config and the folder");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let umask = status
            .lines()
            .find_map(|l| l.strip_prefix("Umask:"))
            .and_then(|m| u32::from_str_radix(m.trim(), 8).ok())
            .unwrap_or(0o022);
        let mode = std::fs::metadata(out.join("graph.json")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o666 & !umask);
    }
}

#[test]
fn two_configs_with_one_name_are_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("a")).unwrap();
    let first = write_config(tmp.path(), "same.toml", GOOD);
    let second = write_config(&tmp.path().join("a"), "same.toml", GOOD);
    let out = tmp.path().join("out");
    let o = binary(&[first.to_str().unwrap(), second.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert!(stderr.contains("both write same"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn several_configs_go_to_their_own_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let a = write_config(tmp.path(), "a.toml", GOOD);
    let b = write_config(tmp.path(), "b.toml", GOOD);
    let out = tmp.path().join("out");
    let o = binary(&[a.to_str().unwrap(), b.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success());
    assert!(o.stdout.is_empty(), "--quiet prints nothing");
    assert!(out.join("a/graph.json").exists() && out.join("b/graph.dot").exists());
}

#[test]
fn training_errors_name_the_table() {
    let mlp = r#"
kind = "mlp"
[data]
inline_x = [[0.0, 1.0], [1.0, 0.0]]
inline_y = [0.0, 1.0]
[model]
layers = [3, 1]
loss = "squared_error"
[optimizer]
learning_rate = 0.1
[train]
epochs = 2
batch_size = 2
"#;
    assert_eq!(fails(mlp), "training: [model] layers: the input width is 3 but the data has 2 features");
    assert_eq!(
        fails(&mlp.replace("learning_rate = 0.1", "learning_rate = -1")),
        "[optimizer] learning_rate = -1 is out of range (> 0)"
    );
    assert_eq!(
        fails(&mlp.replace("inline_y = [0.0, 1.0]", "inline_y = [0.0]")),
        "[data] inline_y: 1 targets for 2 rows of inline_x"
    );
    // A learning rate large enough to overflow: the error names epoch, batch and node.
    let diverges =
        mlp.replace("layers = [3, 1]", "layers = [2, 1]").replace("learning_rate = 0.1", "learning_rate = 1e300");
    let e = fails(&diverges);
    assert!(e.starts_with("training: epoch 2, batch 1: "), "{e}");
    // Two equalities no weights satisfy together are refused before training, naming both.
    let contradictory = mlp.replace("layers = [3, 1]", "layers = [2, 1]")
        + "[[constraints]]\nparams = [\"W1\"]\nkind = \"equality\"\na = [[1.0, 1.0]]\nb = [1.0]\n\
           [[constraints]]\nparams = [\"W1\"]\nkind = \"equality\"\na = [[2.0, 2.0]]\nb = [4.0]\n";
    let e = fails(&contradictory);
    assert!(e.starts_with("[[constraints]] 2 (row 1) cannot hold together with [[constraints]] 1"), "{e}");
}

#[test]
fn hopfield_settings_are_checked() {
    let cap = "kind = \"hopfield_capacity\"\nsizes = [100]\nalphas = [0.1, 0.2]\nrules = [\"hebbian\"]\n";
    assert_eq!(
        fails(&cap.replace("\"hebbian\"", "\"oja\"")),
        "line 4, column 10: unknown variant `oja`, expected `hebbian` or `storkey`"
    );
    assert_eq!(
        fails(&cap.replace("[0.1, 0.2]", "[0.2, 0.1]")),
        "alphas = 0.1 is out of range (increasing loads in (0, 1])"
    );
    let tsp = "kind = \"hopfield_tsp\"\ncities = 30\nruns = 1\n";
    assert_eq!(fails(tsp), "cities must be 3..=16 (Held-Karp is exponential) and runs >= 1");
    let tsp = "kind = \"hopfield_tsp\"\ncities = 5\nruns = 1\n[network]\ndt = 0.0\n";
    assert_eq!(fails(tsp), "[network] dt = 0 is out of range (> 0)");
}

#[test]
fn som_settings_are_checked() {
    let som = "kind = \"som\"\ncolors = 50\n[som]\nrows = 4\ncols = 4\ntraining = \"batch\"\nepochs = 2\n\
               radius = { start = 2.0, end = 0.5 }\n";
    assert_eq!(
        fails(&format!("{som}learning_rate = {{ start = 0.5, end = 0.1 }}\n")),
        "[som] learning_rate: batch training has no learning rate"
    );
    assert_eq!(
        fails(&som.replace("rows = 4", "rows = 5\ntopology = \"hexagonal\"\ntoroidal = true")),
        "[som] rows = 5: a toroidal hexagonal lattice needs an even row count"
    );
    assert!(fails(&som.replace("\"batch\"", "\"stochastic\"")).contains("unknown variant `stochastic`"));
    assert_eq!(fails(&som.replace("colors = 50", "")), "give exactly one of [data] and colors = N");
    assert_eq!(
        fails(&som.replace("colors = 50", "colors = 50\ncheck_epochs = 3")),
        "check_epochs: must be between 1 and epochs = 2"
    );
}

#[test]
fn best_fit_graphs_are_checked() {
    assert_eq!(
        fails("kind = \"best_fit\"\n[graph.nodes]\nx = \"x + 1\"\n"),
        "[graph] node `x`: its function uses the node itself; an undirected graph has no self-loops"
    );
    assert_eq!(
        fails("kind = \"best_fit\"\n[graph.nodes]\nx = \"y + 1\"\n[solver]\ntolerance = 0.0\n"),
        "[graph] node `x`: uses `y`, which is neither a computational nor a fixed node"
    );
    assert_eq!(
        fails("kind = \"best_fit\"\n[graph.nodes]\nx = \"y + 1\"\ny = \"x\"\n[solver]\ntolerance = 0.0\n"),
        "[solver] tolerance = 0 is out of range (finite and > 0)"
    );
    let e = fails("kind = \"best_fit\"\n[graph.nodes]\nx = \"log(y)\"\ny = \"x - 10\"\n");
    assert!(e.starts_with("start: node `x`: its function log(y) is NaN at y = -"), "{e}");
}

#[test]
fn graphical_model_configs_are_checked() {
    let bn = "kind = \"bayes_net\"\n\
              [[variables]]\nname = \"a\"\nstates = [\"f\", \"t\"]\nparents = [\"b\"]\ncpt = [[0.5, 0.5], [0.5, 0.5]]\n\
              [[variables]]\nname = \"b\"\nstates = [\"f\", \"t\"]\nparents = [\"a\"]\ncpt = [[0.5, 0.5], [0.5, 0.5]]\n\
              [[queries]]\ntarget = \"a\"\n[sampler]\nburn_in = 1\nsamples = 10\n";
    assert!(fails(bn).starts_with("[[variables]] cycle: "), "{}", fails(bn));
    let ok_net = bn.replace("parents = [\"b\"]\ncpt = [[0.5, 0.5], [0.5, 0.5]]", "cpt = [[0.5, 0.5]]");
    assert_eq!(
        fails(&ok_net.replace("target = \"a\"", "target = \"a\"\nevidence = { b = \"maybe\" }")),
        "[[queries]] 1: `b` has no state `maybe` (states: f, t)"
    );
    let ising = "kind = \"ising\"\nside = 2\ntemperatures = [2.0]\nburn_in = 10\nsweeps = 100\n";
    assert_eq!(fails(ising), "side = 2 is out of range (>= 3)");
}

#[test]
fn markov_network_factors_are_checked() {
    let net = "kind = \"markov_net\"\n[[variables]]\nname = \"a\"\nstates = [\"0\", \"1\"]\n\
               [[factors]]\nvariables = [\"a\", \"z\"]\nvalues = [1.0, 2.0]\n\
               [[queries]]\ntarget = \"a\"\n[sampler]\nburn_in = 1\nsamples = 10\n";
    assert_eq!(fails(net), "[[factors]] 1: no variable `z`");
    assert_eq!(
        fails(&net.replace("[\"a\", \"z\"]", "[\"a\"]\n").replace("[1.0, 2.0]", "[1.0, 2.0, 3.0]")),
        "[[factors]] 1: table: 3 values for cardinalities [2]"
    );
}

#[test]
fn rnn_constraints_name_known_parameters() {
    let rnn = "kind = \"rnn\"\nhidden = 2\nepochs = 1\nbatch_size = 2\n\
               [task]\nsteps = 3\nahead = 1\nfrequency = 0.3\ntrain_sequences = 4\ntest_sequences = 2\n\
               [optimizer]\nmethod = \"sgd\"\nlearning_rate = 0.1\n\
               [[constraints]]\nparams = [\"W1\"]\nkind = \"box\"\nlower = 0.0\n";
    assert_eq!(fails(rnn), "[[constraints]] 1: params: unknown parameter `W1` (parameters: W, V, U)");
}

/// Inputs that used to run and report a wrong answer are refused, naming what is wrong.
#[test]
fn silent_wrong_answers_are_refused() {
    let mlp = r#"
kind = "mlp"
[data]
inline_x = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
inline_y = [1.0, 2.0, 1.0]
[model]
layers = [2, 1]
loss = "hinge"
[optimizer]
learning_rate = 0.1
[train]
epochs = 2
batch_size = 2
"#;
    assert_eq!(
        fails(mlp),
        "training: [data] a margin loss (logistic, hinge, squared_hinge, widrow_hoff) needs the labels 0 and 1 or -1 and 1, but the targets hold 1, 2"
    );
    let three = mlp.replace(
        "layers = [2, 1]\nloss = \"hinge\"",
        "layers = [2, 3]\noutput = \"softmax\"\nloss = \"softmax_cross_entropy\"",
    );
    assert_eq!(
        fails(&three),
        "[model] output = \"softmax\" with loss = \"softmax_cross_entropy\" applies softmax twice (the loss takes the logits): use output = \"identity\""
    );
    assert_eq!(
        fails(&mlp.replace("[model]", "test_fraction = 0.9\n[model]")),
        "[data] test_fraction = 0.9 is out of range (small enough to leave a training sample)"
    );
    let bn = "kind = \"bayes_net\"\n[[variables]]\nname = \"a\"\nstates = [\"yes\", \"yes\"]\ncpt = [[0.5, 0.5]]\n\
              [[queries]]\ntarget = \"a\"\n[sampler]\nburn_in = 1\nsamples = 10\n";
    assert_eq!(fails(bn), "[[variables]] variable `a`: state `yes` is listed twice");
    let fit = "kind = \"best_fit\"\n[graph.nodes]\nx = \"y + 1\"\n[graph.fixed]\ny = 1.0\nz = 2.0\n";
    assert_eq!(fails(fit), "[graph] node `z`: is fixed but no function uses it (a misspelt name?)");
}

#[test]
fn probability_tables_say_what_is_wrong_and_accept_rounded_rows() {
    let bn = "kind = \"bayes_net\"\n[[variables]]\nname = \"a\"\nstates = [\"f\", \"t\"]\ncpt = [[1.2, -0.2]]\n\
              [[queries]]\ntarget = \"a\"\n[sampler]\nburn_in = 1\nsamples = 10\n";
    assert_eq!(
        fails(bn),
        "[[variables]] variable `a`: cpt row 1: the entry -0.2 is not a probability (negative or not finite)"
    );
    assert_eq!(
        fails(&bn.replace("[1.2, -0.2]", "[0.5, 0.6]")),
        "[[variables]] variable `a`: cpt row 1 is not a distribution (sums to 1.1)"
    );
    // ALARM-style rounding: accepted, renormalised.
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "rounded.toml", &bn.replace("[1.2, -0.2]", "[0.3, 0.6999999]"));
    let out = tmp.path().join("out");
    assert!(binary(&[config.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).status.success());
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let p = m["queries"][0]["exact"]["f"].as_f64().unwrap();
    assert!((p - 0.3 / 0.9999999).abs() < 1e-15, "{p}");
}

#[test]
fn impossible_evidence_and_all_zero_factors_are_named() {
    let bn = "kind = \"bayes_net\"\n[[variables]]\nname = \"either\"\nstates = [\"no\", \"yes\"]\ncpt = [[1.0, 0.0]]\n\
              [[variables]]\nname = \"lung\"\nstates = [\"no\", \"yes\"]\nparents = [\"either\"]\ncpt = [[1.0, 0.0], [0.5, 0.5]]\n\
              [[queries]]\ntarget = \"lung\"\nevidence = { either = \"yes\" }\n[sampler]\nburn_in = 1\nsamples = 10\n";
    assert_eq!(fails(bn), "[[queries]] 1: the evidence either = yes has probability zero");
    let mn = "kind = \"markov_net\"\n[[variables]]\nname = \"a\"\nstates = [\"f\", \"t\"]\n\
              [[factors]]\nvariables = [\"a\"]\nvalues = [0.0, 0.0]\n\
              [[queries]]\ntarget = \"a\"\n[sampler]\nburn_in = 1\nsamples = 10\n";
    assert_eq!(fails(mn), "[[factors]] 1: every entry is zero: the network would give every state probability zero");
}

#[test]
fn a_diverging_map_is_an_error_naming_the_cause() {
    let som = "kind = \"som\"\ncolors = 200\n[som]\nrows = 12\ncols = 12\ntraining = \"online\"\nneighbourhood = \"mexican_hat\"\n\
               epochs = 3\niterations_per_epoch = 500\nlearning_rate = { start = 0.5, end = 0.1 }\nradius = { start = 5.0, end = 1.0 }\n";
    let e = fails(som);
    assert!(e.starts_with("training diverged at step 1: epoch 1: a codebook value became"), "{e}");
    assert!(e.ends_with("set truncate = 1 (beyond the radius the Mexican hat's weights are negative and push units away without bound)"), "{e}");
    // Cut at the radius, the same map trains.
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "hat.toml", &som.replace("epochs = 3", "epochs = 3\ntruncate = 1.0"));
    let out = tmp.path().join("out");
    assert!(binary(&[config.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).status.success());
}

#[test]
fn patterns_that_make_no_square_image_are_drawn_as_a_row() {
    let wine = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/wine.csv");
    let text = format!(
        "kind = \"hopfield_digits\"\ncsv = {:?}\ndigits = [0, 1]\nrules = [\"hebbian\"]\nnoise_levels = [0.0, 0.1]\ntrials = 2\nmax_sweeps = 5\n",
        wine.to_str().unwrap()
    );
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "wine.toml", &text);
    let out = tmp.path().join("out");
    let o = binary(&[config.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("patterns.png").exists());
}

#[test]
fn a_picture_too_large_to_draw_is_skipped_with_a_note() {
    let som = "kind = \"som\"\ncolors = 50\n[som]\nrows = 100000\ncols = 1\ntraining = \"batch\"\nepochs = 1\n\
               radius = { start = 2.0, end = 1.0 }\ninit = \"random\"\n";
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "tall.toml", som);
    let out = tmp.path().join("out");
    let o = binary(&[config.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let note = m["skipped_figures"]["u_matrix"].as_str().unwrap();
    assert!(note.ends_with("pixels; the limit is 1 to 16384 per side"), "{note}");
    assert!(!out.join("u_matrix.png").exists() && out.join("quality.png").exists());
}

#[test]
fn overrides_change_one_run_and_name_themselves_when_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "good.toml", GOOD);
    let (c, out) = (config.to_str().unwrap(), tmp.path().join("out"));
    let o = out.to_str().unwrap();
    assert!(binary(&[c, "graph.weights.w=2.5", "--out", o, "-q"]).status.success());
    let g: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("graph.json")).unwrap()).unwrap();
    assert_eq!(g["values"]["w"], 2.5);
    let one_line = |args: &[&str]| {
        let r = binary(args);
        assert_eq!(r.status.code(), Some(2));
        let e = String::from_utf8(r.stderr).unwrap();
        assert_eq!(e.lines().count(), 1, "{e}");
        e.trim_end().to_string()
    };
    assert_eq!(
        one_line(&[c, "graph.weights.w=abc", "--out", o]),
        format!("error: {c}: graph.weights.w=abc: invalid type: string \"abc\", expected f64")
    );
    assert!(one_line(&[c, "graph.nodez=1", "--out", o]).ends_with("graph.nodez=1: unknown field `nodez`, expected one of `inputs`, `weights`, `outputs`, `loss`, `path_limit`, `finite_difference_step`, `nodes`"));
    assert_eq!(
        one_line(&[c, "seed=1", "--check", "--out", o]),
        "error: --check compares with the stored results of the configs as written: drop the overrides"
    );
}

/// Work that cannot finish and memory no machine has are refused from the config's estimate,
/// before anything is allocated, naming the largest term.
#[test]
fn estimates_refuse_endless_work_and_impossible_memory() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    for (config, arg, expected) in [
        ("rbm_digits.toml", "evaluation.sample_steps=[1000000000000]", "operations, mostly for the sample chains"),
        ("ising.toml", "side=10000000", "of memory, mostly for the lattice"),
        ("digits_mlp.toml", "model.layers=[64,1000000,1000000,10]", "of memory, mostly for the parameters"),
        ("som_digits.toml", "som.epochs=100000000000", "of memory, mostly for the records and curves of the epochs"),
        ("som_digits.toml", "som.epochs=10000000", "operations, mostly for best-matching units"),
        // Tiny epochs, but 10^12 of them: their records and fixed cost count.
        ("xor.toml", "train.epochs=1000000000000", "of memory, mostly for the records and curves of the epochs"),
    ] {
        let o = binary(&[root.join(config).to_str().unwrap(), arg, "--out", out.to_str().unwrap()]);
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(o.status.code(), Some(2), "{config} {arg}: {err}");
        assert!(err.contains(expected) && err.lines().count() == 1, "{config} {arg}: {err}");
        assert!(!out.exists());
    }
    let o = binary(&[root.join("xor.toml").to_str().unwrap(), "--max-work", "1000", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8(o.stderr).unwrap().contains("more than the 1.0e3 allowed (--max-work"));
    // XOR's few multiply-adds per epoch, but each epoch has a fixed cost too.
    let o = binary(&[
        root.join("xor.toml").to_str().unwrap(),
        "train.epochs=100000",
        "--max-work",
        "1e9",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("mostly for the fixed cost of each of the epochs"), "{err}");
}

#[test]
fn a_diverging_loss_stops_the_run_with_one_line_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../configs/linreg_diabetes.toml");
    // Finite all along (the loss reaches about 1e9): only the growth tells.
    let o = binary(&[config.to_str().unwrap(), "optimizer.learning_rate=3", "--out", out.to_str().unwrap()]);
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("training diverged at step") && stderr.contains("lower the learning rate"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn constraints_that_cannot_hold_together_are_warned_about() {
    // A box [0, 1] and w1 + w2 = 5 on the same two weights: no point satisfies both, and the
    // alternating projections end with a violation; the run says so on stderr.
    let mlp = r#"
kind = "mlp"
[data]
inline_x = [[0.0, 1.0], [1.0, 0.0]]
inline_y = [0.0, 1.0]
[model]
layers = [2, 1]
loss = "squared_error"
[optimizer]
learning_rate = 0.1
[train]
epochs = 5
batch_size = 2
[[constraints]]
params = ["W1"]
kind = "box"
lower = 0.0
upper = 1.0
[[constraints]]
params = ["W1"]
kind = "equality"
a = [[1.0, 1.0]]
b = [5.0]
"#;
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), "c.toml", mlp);
    let out = tmp.path().join("out");
    let o = binary(&[config.to_str().unwrap(), "-q", "--out", out.to_str().unwrap()]);
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(stderr.starts_with("warning: ") && stderr.contains("the constraints do not hold at the end"), "{stderr}");
}

//! The `cg._cg` extension module: the experiments library and the graphical-model engine as
//! Python functions and classes. The Python package `cg` (beside this crate) re-exports them
//! with docstrings and type stubs.
//!
//! Every engine call runs with the GIL released; errors become Python exceptions with the
//! binary's one-line messages (`ConfigError`, a `ValueError`, for input that cannot run;
//! `RunError`, a `RuntimeError`, for a run that failed); a panic never crosses into Python
//! (PyO3 turns one into `PanicException`).

use std::path::{Path, PathBuf};

use pyo3::create_exception;
use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

create_exception!(_cg, ConfigError, PyValueError, "A config or input that cannot be run: the message names the place.");
create_exception!(
    _cg,
    RunError,
    PyRuntimeError,
    "A run that started and failed (a divergence, a file that cannot be written)."
);

/// An error of the experiments library as the Python exception of its class.
fn raise(e: anyhow::Error) -> PyErr {
    let message = format!("{e:#}");
    if e.downcast_ref::<experiments::InvalidConfig>().is_some() {
        ConfigError::new_err(message)
    } else {
        RunError::new_err(message)
    }
}

/// Runs `work` on a thread of its own with the GIL released, waking every 20 ms to check
/// Python's signals (and at once when the work ends, so a short call costs no wait): Ctrl-C
/// asks the engine to stop at its next step (`cg_core::interrupt`), waits for it, and raises
/// `KeyboardInterrupt`. A panic of the engine becomes a `RunError`.
fn interruptible<T: Send>(py: Python<'_>, work: impl FnOnce() -> T + Send) -> PyResult<T> {
    use std::sync::mpsc::{channel, RecvTimeoutError};
    cg_core::interrupt::clear();
    std::thread::scope(|scope| {
        let (done, mut finished) = channel::<()>();
        let handle = scope.spawn(move || {
            let out = work();
            let _ = done.send(());
            out
        });
        loop {
            // Disconnected: the work panicked (its sender dropped); join says so.
            // The receiver goes into the GIL-free closure and back (it is Send, not Sync).
            let (waited, receiver) = py.detach(move || {
                let waited = finished.recv_timeout(std::time::Duration::from_millis(20));
                (waited, finished)
            });
            finished = receiver;
            match waited {
                Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {}
            }
            if let Err(signal) = py.check_signals() {
                cg_core::interrupt::request();
                let _ = py.detach(|| handle.join());
                cg_core::interrupt::clear();
                return Err(signal);
            }
        }
        handle.join().map_err(|_| RunError::new_err("internal: the engine panicked"))
    })
}

/// A JSON document as Python objects (dicts keep their order), through the `json` module.
fn from_json(py: Python<'_>, value: &serde_json::Value) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(value).map_err(|e| RunError::new_err(e.to_string()))?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// Overrides from a dict of dotted keys, each value read as TOML (JSON's numbers, strings,
/// booleans and lists read the same).
fn overrides_of(py: Python<'_>, overrides: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<experiments::config::Override>> {
    let mut parsed = vec![];
    if let Some(d) = overrides {
        let json = py.import("json")?;
        for (k, v) in d.iter() {
            let key: String = k.extract()?;
            let text: String = json.call_method1("dumps", (v,))?.extract()?;
            parsed.push(
                experiments::config::Override::parse(&format!("{key}={text}"))
                    .map_err(|e| ConfigError::new_err(format!("{e:#}")))?,
            );
        }
    }
    Ok(parsed)
}

/// A config given as a file's path or as TOML text: (text, the folder its data paths are relative
/// to, the run's title), as the binary takes a file (its folder, its stem) or `base` for text.
fn config_source(config: &str, base: Option<PathBuf>) -> PyResult<(String, PathBuf, String)> {
    let path = Path::new(config);
    if !config.contains('\n') && path.is_file() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new_err(format!("cannot read {}: {e}", path.display())))?;
        let title = path.file_stem().map_or_else(|| "experiment".into(), |s| s.to_string_lossy().into_owned());
        Ok((text, path.parent().unwrap_or(Path::new(".")).to_path_buf(), title))
    } else {
        Ok((config.to_string(), base.unwrap_or_else(|| PathBuf::from(".")), "config".into()))
    }
}

/// Trains a `model` or `mlp` config on rows in memory: the config's `[data]` source (csv,
/// synthetic) is replaced by `n` rows of `X` (row-major float64 bytes, `d` features) and their
/// targets `y`; its other `[data]` settings (standardize, test_fraction, ...) stay. Writes the
/// results folder `out` (with `model.safetensors`) and returns the metrics as JSON text.
#[pyfunction]
#[pyo3(signature = (config, x, y, n, d, out, overrides=None, base=None))]
#[allow(clippy::too_many_arguments)]
fn fit_config(
    py: Python<'_>,
    config: &str,
    x: &[u8],
    y: &[u8],
    n: usize,
    d: usize,
    out: PathBuf,
    overrides: Option<&Bound<'_, PyDict>>,
    base: Option<PathBuf>,
) -> PyResult<String> {
    let parsed = overrides_of(py, overrides)?;
    let (x, y) = (floats(x)?, floats(y)?);
    if x.len() != n * d || y.len() != n || n == 0 || d == 0 {
        return Err(ConfigError::new_err(format!("X has {} numbers and y {} for {n} rows of {d}", x.len(), y.len())));
    }
    let (text, base, _) = config_source(config, base)?;
    let mut table =
        experiments::config::resolved_text(&text, &[]).map_err(|e| ConfigError::new_err(format!("{e:#}")))?;
    let data = table
        .entry("data")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .ok_or_else(|| ConfigError::new_err("[data] is not a table"))?;
    for key in ["csv", "synthetic", "inline_x", "inline_y", "target", "features"] {
        data.remove(key);
    }
    let rows: Vec<toml::Value> =
        x.chunks_exact(d).map(|r| toml::Value::Array(r.iter().map(|&v| toml::Value::Float(v)).collect())).collect();
    data.insert("inline_x".into(), toml::Value::Array(rows));
    data.insert("inline_y".into(), toml::Value::Array(y.iter().map(|&v| toml::Value::Float(v)).collect()));
    let text = toml::to_string(&table).map_err(|e| RunError::new_err(e.to_string()))?;
    let outcome = interruptible(py, || {
        let outcome = experiments::run_text(&text, &base, "model", &parsed, &experiments::RunOptions::default())?;
        experiments::write(&outcome, &out)?;
        Ok::<_, anyhow::Error>(outcome)
    })?
    .map_err(raise)?;
    let (_, metrics) = outcome
        .files
        .iter()
        .find(|(name, _)| name == "metrics.json")
        .ok_or_else(|| RunError::new_err("the run wrote no metrics"))?;
    String::from_utf8(metrics.clone()).map_err(|e| RunError::new_err(e.to_string()))
}

/// Runs a config exactly as `experiments CONFIG KEY=VALUE... [--out DIR]` does and returns its
/// metrics (`metrics.json`, or the kind's main JSON file) as a dict.
///
/// `config` is a path to a TOML file, or TOML text (data paths relative to `base`, the current
/// folder by default); `overrides` maps dotted keys to values (`{"optimizer.learning_rate":
/// 0.1}`); `out`, when given, is the results folder written as the binary writes it.
#[pyfunction]
#[pyo3(signature = (config, overrides=None, out=None, base=None))]
fn run(
    py: Python<'_>,
    config: &str,
    overrides: Option<&Bound<'_, PyDict>>,
    out: Option<PathBuf>,
    base: Option<PathBuf>,
) -> PyResult<Py<PyAny>> {
    let parsed = overrides_of(py, overrides)?;
    let (text, base, title) = config_source(config, base)?;
    let outcome = interruptible(py, || {
        let outcome = experiments::run_text(&text, &base, &title, &parsed, &experiments::RunOptions::default())?;
        if let Some(dir) = &out {
            experiments::write(&outcome, dir)?;
        }
        Ok(outcome)
    })?
    .map_err(raise)?;
    let main = ["metrics.json", "graph.json"]
        .iter()
        .find_map(|name| outcome.files.iter().find(|(n, _)| n == name))
        .ok_or_else(|| RunError::new_err("the run wrote no metrics"))?;
    let value: serde_json::Value =
        serde_json::from_slice(&main.1).map_err(|e| RunError::new_err(format!("{}: {e}", main.0)))?;
    from_json(py, &value)
}

/// A Bayesian network: discrete variables on a DAG with a table each, queried exactly by
/// variable elimination.
#[pyclass(frozen, module = "cg")]
struct BayesianNetwork {
    net: cg_pgm::BayesianNetwork,
}

#[pymethods]
impl BayesianNetwork {
    /// Reads a BIF file (the bnlearn repository's format, as pgmpy writes it).
    #[staticmethod]
    fn from_bif(path: PathBuf) -> PyResult<BayesianNetwork> {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ConfigError::new_err(format!("cannot read {}: {e}", path.display())))?;
        BayesianNetwork::from_bif_text(&text).map_err(|e| ConfigError::new_err(format!("{}: {e}", path.display())))
    }

    /// Reads BIF text.
    #[staticmethod]
    #[pyo3(name = "from_bif_text")]
    fn from_bif_text_py(text: &str) -> PyResult<BayesianNetwork> {
        BayesianNetwork::from_bif_text(text).map_err(ConfigError::new_err)
    }

    /// The variables' names, in the file's order.
    #[getter]
    fn variables(&self) -> Vec<String> {
        self.net.names.clone()
    }

    /// Each variable's states, by name.
    #[getter]
    fn states<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, states) in self.net.names.iter().zip(&self.net.states) {
            d.set_item(name, states.clone())?;
        }
        Ok(d)
    }

    /// P(variable | evidence) exactly, as a dict state -> probability; `evidence` maps
    /// variables to observed states. Evidence of probability zero raises `ValueError`.
    #[pyo3(signature = (variable, evidence=None))]
    fn query<'py>(
        &self,
        py: Python<'py>,
        variable: &str,
        evidence: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let mut given: Vec<(String, String)> = vec![];
        if let Some(e) = evidence {
            for (k, v) in e.iter() {
                given.push((k.extract()?, v.extract()?));
            }
        }
        let answer = py
            .detach(|| {
                let pairs: Vec<(&str, &str)> = given.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
                self.net.query(variable, &pairs)
            })
            .map_err(|e| match e {
                cg_pgm::Error::UnknownVariable { .. } | cg_pgm::Error::UnknownState { .. } => {
                    PyKeyError::new_err(e.to_string())
                }
                e => PyValueError::new_err(e.to_string()),
            })?;
        let d = PyDict::new(py);
        for (state, p) in answer {
            d.set_item(state, p)?;
        }
        Ok(d)
    }

    /// Every variable's distribution given `evidence` (observed variables left out), exactly by
    /// a junction tree: a dict variable -> (state -> probability).
    #[pyo3(signature = (evidence=None))]
    fn marginals<'py>(&self, py: Python<'py>, evidence: Option<&Bound<'py, PyDict>>) -> PyResult<Bound<'py, PyDict>> {
        let mut ids = vec![];
        if let Some(e) = evidence {
            for (k, v) in e.iter() {
                let (name, state): (String, String) = (k.extract()?, v.extract()?);
                let var = self.net.id(&name).map_err(|e| PyKeyError::new_err(e.to_string()))?;
                ids.push((var, self.net.state(var, &state).map_err(|e| PyKeyError::new_err(e.to_string()))?));
            }
        }
        let all = py
            .detach(|| cg_pgm::all_marginals(&self.net.factors, &self.net.cards, &ids))
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let d = PyDict::new(py);
        for (v, m) in all.iter().enumerate() {
            if let Some(m) = m {
                let states = PyDict::new(py);
                for (s, p) in self.net.states[v].iter().zip(&m.values) {
                    states.set_item(s, p)?;
                }
                d.set_item(&self.net.names[v], states)?;
            }
        }
        Ok(d)
    }

    /// `n` joint draws by forward sampling from `seed`: a dict variable -> list of state names
    /// (one column per variable, one entry per draw); with `missing` > 0 each cell is `None`
    /// with that probability (the rows `experiments sample --missing` writes for the seed).
    #[pyo3(signature = (n, seed=0, missing=0.0))]
    fn sample<'py>(&self, py: Python<'py>, n: usize, seed: u64, missing: f64) -> PyResult<Bound<'py, PyDict>> {
        use rand::SeedableRng;
        if !(0.0..1.0).contains(&missing) {
            return Err(ConfigError::new_err(format!("missing = {missing}: a probability in [0, 1)")));
        }
        let data = py.detach(|| {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let mut data = cg_pgm::learn::DiscreteData::from_draws(&self.net, &self.net.sample(n, &mut rng));
            if missing > 0.0 {
                data.hide(missing, &mut rng);
            }
            data
        });
        let d = PyDict::new(py);
        for (v, name) in self.net.names.iter().enumerate() {
            let column: Vec<Option<&str>> = data
                .column(v)
                .iter()
                .map(|&x| (x != cg_pgm::learn::MISSING).then(|| self.net.states[v][x as usize].as_str()))
                .collect();
            d.set_item(name, column)?;
        }
        Ok(d)
    }

    /// The edges (parent, child), sorted.
    #[getter]
    fn edges(&self) -> Vec<(String, String)> {
        cg_pgm::learn::edges(&self.net.parents)
            .into_iter()
            .map(|(p, c)| (self.net.names[p].clone(), self.net.names[c].clone()))
            .collect()
    }

    /// One question as `experiments query` takes it: `P(a | e = x)`, a joint `P(a, b | ...)`
    /// or `MAP(a, b | ...)` (`MAP(* | ...)`: every unobserved variable). P gives a dict
    /// state -> probability (a tuple of states for a joint); MAP gives (dict variable -> state,
    /// probability).
    fn ask<'py>(&self, py: Python<'py>, question: &str) -> PyResult<Bound<'py, PyAny>> {
        let answer =
            py.detach(|| question.parse::<cg_pgm::Question>().and_then(|q| self.net.ask(&q))).map_err(|e| match e {
                cg_pgm::Error::UnknownVariable { .. } | cg_pgm::Error::UnknownState { .. } => {
                    PyKeyError::new_err(e.to_string())
                }
                e => PyValueError::new_err(e.to_string()),
            })?;
        match answer {
            cg_pgm::Answer::Distribution { variables, rows } => {
                let d = PyDict::new(py);
                for (states, p) in rows {
                    if variables.len() == 1 {
                        d.set_item(&states[0], p)?;
                    } else {
                        d.set_item(pyo3::types::PyTuple::new(py, states)?, p)?;
                    }
                }
                Ok(d.into_any())
            }
            cg_pgm::Answer::Map { states, probability } => {
                let d = PyDict::new(py);
                for (v, s) in states {
                    d.set_item(v, s)?;
                }
                Ok((d, probability).into_pyobject(py)?.into_any())
            }
        }
    }

    /// The network as BIF text (numbers that read back to the same bits).
    fn to_bif(&self) -> PyResult<String> {
        cg_pgm::files::write_bif(&self.net).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// A network with the structure `edges` ((parent, child) names) and its tables estimated
    /// from `csv` (CSV text: a header of variables, state names in the cells; empty cells are
    /// missing and fitted by EM). `estimator`: "mle" or "bayes" (with `prior` "bdeu", "k2" or
    /// "pseudo_count", and `ess` / `pseudo_count`).
    #[staticmethod]
    #[pyo3(signature = (csv, edges, estimator="mle", prior="bdeu", ess=10.0, pseudo_count=1.0))]
    fn fit_csv(
        py: Python<'_>,
        csv: &str,
        edges: Vec<(String, String)>,
        estimator: &str,
        prior: &str,
        ess: f64,
        pseudo_count: f64,
    ) -> PyResult<BayesianNetwork> {
        let data =
            cg_pgm::learn::DiscreteData::from_csv(csv).map_err(|e| ConfigError::new_err(format!("data: {e}")))?;
        let parents = parents_of(&data, &edges)?;
        let estimator = estimator_of(estimator, prior, ess, pseudo_count)?;
        let net = py.detach(|| fitted(&data, &parents, estimator)).map_err(|e| ConfigError::new_err(e.to_string()))?;
        Ok(BayesianNetwork { net })
    }

    fn __repr__(&self) -> String {
        format!("BayesianNetwork({} variables)", self.net.names.len())
    }
}

/// A Markov network: discrete variables and non-negative factors over them (a UAI file's
/// MARKOV or BAYES network), queried exactly.
#[pyclass(frozen, module = "cg")]
struct MarkovNetwork {
    net: cg_pgm::MarkovNetwork,
}

#[pymethods]
impl MarkovNetwork {
    /// Reads a UAI file (MARKOV or BAYES); variables are named x0, x1, ... and states 0, 1, ...
    #[staticmethod]
    fn from_uai(path: PathBuf) -> PyResult<MarkovNetwork> {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ConfigError::new_err(format!("cannot read {}: {e}", path.display())))?;
        MarkovNetwork::from_text(&text).map_err(|e| ConfigError::new_err(format!("{}: {e}", path.display())))
    }

    /// Reads UAI text.
    #[staticmethod]
    fn from_uai_text(text: &str) -> PyResult<MarkovNetwork> {
        MarkovNetwork::from_text(text).map_err(ConfigError::new_err)
    }

    /// The variables' names.
    #[getter]
    fn variables(&self) -> Vec<String> {
        self.net.names.clone()
    }

    /// The partition function Z (the sum of the factors' product over every joint state), by
    /// elimination; `None` when its tables would be too large.
    fn partition_function(&self, py: Python<'_>) -> Option<f64> {
        py.detach(|| self.net.partition_function())
    }

    /// P(variable | evidence) exactly (variable elimination), as a dict state -> probability.
    #[pyo3(signature = (variable, evidence=None))]
    fn query<'py>(
        &self,
        py: Python<'py>,
        variable: &str,
        evidence: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let key = |e: cg_pgm::Error| PyKeyError::new_err(e.to_string());
        let target = self.net.id(variable).map_err(key)?;
        let mut ids = vec![];
        if let Some(e) = evidence {
            for (k, v) in e.iter() {
                let (name, state): (String, String) = (k.extract()?, v.extract()?);
                let var = self.net.id(&name).map_err(key)?;
                ids.push((var, self.net.state(var, &state).map_err(key)?));
            }
        }
        let answer = py
            .detach(|| cg_pgm::variable_elimination(&self.net.factors, &self.net.cards, &[target], &ids))
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let d = PyDict::new(py);
        for (state, p) in self.net.states[target].iter().zip(&answer.values) {
            d.set_item(state, p)?;
        }
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!("MarkovNetwork({} variables, {} factors)", self.net.names.len(), self.net.factors.len())
    }
}

impl MarkovNetwork {
    fn from_text(text: &str) -> Result<MarkovNetwork, String> {
        let (variables, factors) = cg_pgm::files::read_uai(text).map_err(|e| e.to_string())?;
        let net = cg_pgm::MarkovNetwork::new(&variables, &factors).map_err(|e| e.to_string())?;
        Ok(MarkovNetwork { net })
    }
}

/// (parent, child) names of `data`'s variables as ids.
fn edge_ids(data: &cg_pgm::learn::DiscreteData, edges: &[(String, String)]) -> PyResult<Vec<(usize, usize)>> {
    let id = |n: &str| data.id(n).map_err(|e| PyKeyError::new_err(format!("{e} in the data")));
    edges.iter().map(|(p, c)| Ok((id(p)?, id(c)?))).collect()
}

/// Parent lists from (parent, child) names of `data`'s variables.
fn parents_of(data: &cg_pgm::learn::DiscreteData, edges: &[(String, String)]) -> PyResult<Vec<Vec<usize>>> {
    let mut parents = vec![vec![]; data.variables()];
    for (p, c) in edge_ids(data, edges)? {
        parents[c].push(p);
    }
    Ok(parents)
}

/// A score by name ("bic", "bdeu" with `ess`, "k2", "log_likelihood"), checked.
fn score_of(name: &str, ess: f64) -> PyResult<cg_pgm::learn::Score> {
    use cg_pgm::learn::Score;
    let score = match name {
        "bic" => Score::Bic,
        "bdeu" => Score::Bdeu { ess },
        "k2" => Score::K2,
        "log_likelihood" => Score::LogLikelihood,
        other => {
            return Err(ConfigError::new_err(format!(
                "score `{other}`: the scores are bic, bdeu, k2 and log_likelihood"
            )))
        }
    };
    score.check().map_err(|e| ConfigError::new_err(e.to_string()))?;
    Ok(score)
}

/// The tables of `parents` from `data`: by `estimator`, or by EM (its prior the estimator's)
/// when cells are missing.
fn fitted(
    data: &cg_pgm::learn::DiscreteData,
    parents: &[Vec<usize>],
    estimator: cg_pgm::learn::Estimator,
) -> Result<cg_pgm::BayesianNetwork, cg_pgm::Error> {
    use cg_pgm::learn::{em, fit, Em, Estimator};
    if data.missing() == 0 {
        return fit(data, parents, estimator);
    }
    let prior = match estimator {
        Estimator::Bayesian(p) => Some(p),
        Estimator::MaximumLikelihood { .. } => None,
    };
    em(data, parents, Em { prior, ..Em::default() }).map(|r| r.net)
}

/// An estimator by name.
fn estimator_of(name: &str, prior: &str, ess: f64, pseudo_count: f64) -> PyResult<cg_pgm::learn::Estimator> {
    use cg_pgm::learn::{Estimator, Prior, Unseen};
    Ok(match (name, prior) {
        ("mle", _) => Estimator::MaximumLikelihood { unseen: Unseen::Uniform },
        ("bayes", "bdeu") if ess > 0.0 && ess.is_finite() => Estimator::Bayesian(Prior::Bdeu { ess }),
        ("bayes", "k2") => Estimator::Bayesian(Prior::K2),
        ("bayes", "pseudo_count") if pseudo_count > 0.0 && pseudo_count.is_finite() => {
            Estimator::Bayesian(Prior::PseudoCount(pseudo_count))
        }
        ("bayes", _) => {
            return Err(ConfigError::new_err(format!(
                "prior `{prior}` (ess {ess}, pseudo_count {pseudo_count}): the priors are bdeu (ess > 0), k2 and pseudo_count (> 0)"
            )))
        }
        _ => return Err(ConfigError::new_err(format!("estimator `{name}`: the estimators are mle and bayes"))),
    })
}

/// A structure learnt from `csv` (CSV text): hill climbing on `score` ("bic", "bdeu" with
/// `ess`, "k2") with its settings, or PC (`method="pc"`, `test`, `alpha`); tables by
/// maximum likelihood. Returns the fitted network, its score and the search's score curve.
#[pyfunction]
#[pyo3(signature = (csv, method="hill_climb", score="bic", ess=10.0, max_indegree=None, tabu=100, epsilon=1e-4, restarts=2, perturbation=0, seed=0, black_list=vec![], white_list=None, test="chi_square", alpha=0.01))]
#[allow(clippy::too_many_arguments)]
fn learn_csv(
    py: Python<'_>,
    csv: &str,
    method: &str,
    score: &str,
    ess: f64,
    max_indegree: Option<usize>,
    tabu: usize,
    epsilon: f64,
    restarts: usize,
    perturbation: usize,
    seed: u64,
    black_list: Vec<(String, String)>,
    white_list: Option<Vec<(String, String)>>,
    test: &str,
    alpha: f64,
) -> PyResult<(BayesianNetwork, f64, Vec<f64>)> {
    use cg_pgm::learn;
    let data = learn::DiscreteData::from_csv(csv).map_err(|e| ConfigError::new_err(format!("data: {e}")))?;
    let ids = |edges: &[(String, String)]| edge_ids(&data, edges);
    let score = match score {
        "bic" | "bdeu" | "k2" => score_of(score, ess)?,
        other => return Err(ConfigError::new_err(format!("score `{other}`: the scores are bic, bdeu and k2"))),
    };
    let (parents, curve) = match method {
        "hill_climb" => {
            let settings = learn::HillClimb {
                score,
                max_indegree,
                tabu_length: tabu,
                epsilon,
                max_iter: 1_000_000,
                restarts,
                perturbation,
                seed,
                white_list: white_list.as_deref().map(ids).transpose()?,
                black_list: ids(&black_list)?,
            };
            let found = py
                .detach(|| learn::Search::new(&data, settings, None).map(learn::Search::run))
                .map_err(|e| ConfigError::new_err(e.to_string()))?;
            (found.parents, found.curve)
        }
        "pc" => {
            let test = match test {
                "chi_square" => learn::CiTest::ChiSquare,
                "g" => learn::CiTest::G,
                other => return Err(ConfigError::new_err(format!("test `{other}`: the tests are chi_square and g"))),
            };
            let found = py
                .detach(|| learn::pc(&data, learn::Pc { test, alpha, max_conditioning: None }))
                .map_err(|e| ConfigError::new_err(e.to_string()))?;
            let dag = found.cpdag.to_dag().ok_or_else(|| RunError::new_err("PC's pattern has no DAG extension"))?;
            (dag, vec![])
        }
        other => return Err(ConfigError::new_err(format!("method `{other}`: the methods are hill_climb and pc"))),
    };
    let total = score.total(&data, &parents);
    let ml = learn::Estimator::MaximumLikelihood { unseen: learn::Unseen::Uniform };
    let net = py.detach(|| fitted(&data, &parents, ml)).map_err(|e| RunError::new_err(e.to_string()))?;
    Ok((BayesianNetwork { net }, total, curve))
}

/// The score ("bic", "bdeu" with `ess`, "k2", "log_likelihood") of the structure `edges` on
/// `csv`.
#[pyfunction]
#[pyo3(signature = (csv, edges, score="bic", ess=10.0))]
fn score_csv(py: Python<'_>, csv: &str, edges: Vec<(String, String)>, score: &str, ess: f64) -> PyResult<f64> {
    use cg_pgm::learn;
    let data = learn::DiscreteData::from_csv(csv).map_err(|e| ConfigError::new_err(format!("data: {e}")))?;
    let parents = parents_of(&data, &edges)?;
    let score = score_of(score, ess)?;
    Ok(py.detach(|| score.total(&data, &parents)))
}

impl BayesianNetwork {
    fn from_bif_text(text: &str) -> Result<BayesianNetwork, String> {
        let specs = cg_pgm::files::read_bif(text).map_err(|e| e.to_string())?;
        let net = cg_pgm::BayesianNetwork::new(&specs).map_err(|e| e.to_string())?;
        Ok(BayesianNetwork { net })
    }
}

/// f64s from native-endian bytes (numpy's `tobytes()` of a float64 array).
fn floats(bytes: &[u8]) -> PyResult<Vec<f64>> {
    if !bytes.len().is_multiple_of(8) {
        return Err(PyValueError::new_err("expected float64 data (a multiple of 8 bytes)"));
    }
    Ok(bytes.chunks_exact(8).map(|c| f64::from_ne_bytes(c.try_into().expect("8 bytes"))).collect())
}

/// The bytes numpy's `frombuffer` reads back as float64.
fn to_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_ne_bytes()).collect()
}

/// `value` into `field`, an error naming `key` when it does not fit the field's type.
fn set<T: serde::de::DeserializeOwned>(field: &mut T, key: &str, value: serde_json::Value) -> PyResult<()> {
    *field = serde_json::from_value(value).map_err(|e| ConfigError::new_err(format!("{key}: {e}")))?;
    Ok(())
}

/// A map's checked settings from the ones given (JSON, by the `[som]` table's names): the
/// defaults are `SomConfig::batch` or `SomConfig::online`, so they live in one place.
fn som_params(rows: usize, cols: usize, epochs: usize, settings: &str) -> PyResult<cg_som::SomParams> {
    use cg_core::Validate;
    let given: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(settings).map_err(|e| ConfigError::new_err(e.to_string()))?;
    let online = given.get("training").and_then(|t| t.as_str()) == Some("online");
    let mut c = if online {
        cg_som::SomConfig::online(rows, cols, epochs)
    } else {
        cg_som::SomConfig::batch(rows, cols, epochs)
    };
    for (k, v) in given {
        let shown = v.to_string();
        match k.as_str() {
            "topology" => set(&mut c.topology, &k, v)?,
            "toroidal" => set(&mut c.toroidal, &k, v)?,
            "neighbourhood" => set(&mut c.neighbourhood, &k, v)?,
            "truncate" => set(&mut c.truncate, &k, v)?,
            "training" => set(&mut c.training, &k, v)?,
            "iterations_per_epoch" => set(&mut c.iterations_per_epoch, &k, v)?,
            "learning_rate" => set(&mut c.learning_rate, &k, v)?,
            "radius" => set(&mut c.radius, &k, v)?,
            "init" => set(&mut c.init, &k, v)?,
            _ => return Err(ConfigError::new_err(format!("unknown setting `{k}` = {shown}"))),
        }
    }
    c.validate().map_err(|e| ConfigError::new_err(format!("[som] {e}")))
}

/// Trains a map on `n` samples of `dim` features (row-major float64 bytes) from `seed`, as the
/// `som` kind does: returns the codebook (units × dim, row-major bytes).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn som_fit(
    py: Python<'_>,
    data: &[u8],
    n: usize,
    dim: usize,
    rows: usize,
    cols: usize,
    epochs: usize,
    settings: &str,
    seed: u64,
) -> PyResult<Vec<u8>> {
    use rand::SeedableRng;
    let params = som_params(rows, cols, epochs, settings)?;
    let x = floats(data)?;
    if x.len() != n * dim || n == 0 || dim == 0 {
        return Err(ConfigError::new_err(format!("X: {} numbers for {n} samples of {dim} features", x.len())));
    }
    let weights = interruptible(py, move || -> anyhow::Result<Vec<f64>> {
        let mut som = cg_som::Som::new(params, x, dim)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut state = som.init(&mut rng);
        let epochs = som.params().epochs;
        experiments::finished(cg_core::run(&mut som, &mut state, epochs, &mut rng, &mut []), "training")?;
        Ok(state.weights)
    })?
    .map_err(|e| ConfigError::new_err(format!("{e:#}")))?;
    Ok(to_bytes(&weights))
}

/// Best-matching units (by index, row-major over the lattice) of samples, and per sample whether
/// its two best units are not adjacent (the topographic error's count), and its distance to the
/// best.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn som_match(
    weights: &[u8],
    dim: usize,
    rows: usize,
    cols: usize,
    settings: &str,
    data: &[u8],
) -> PyResult<(Vec<usize>, Vec<bool>, Vec<f64>)> {
    let params = som_params(rows, cols, 1, settings)?;
    let (w, x) = (floats(weights)?, floats(data)?);
    if dim == 0 || !x.len().is_multiple_of(dim) || w.len() != params.lattice.units() * dim {
        return Err(ConfigError::new_err(format!("X has {} numbers; the map's features are {dim}", x.len())));
    }
    let mut best = vec![];
    let mut apart = vec![];
    let mut distance = vec![];
    for sample in x.chunks_exact(dim) {
        let (b1, b2, d1) = cg_som::quality::best_two(&w, dim, sample);
        best.push(b1);
        apart.push(!params.lattice.adjacent(b1, b2));
        distance.push(d1.sqrt());
    }
    Ok((best, apart, distance))
}

/// The U-matrix of a codebook: per unit, the mean distance to its adjacent units' vectors.
#[pyfunction]
fn som_umatrix(weights: &[u8], dim: usize, rows: usize, cols: usize, settings: &str) -> PyResult<Vec<u8>> {
    let params = som_params(rows, cols, 1, settings)?;
    Ok(to_bytes(&cg_som::quality::u_matrix(&params.lattice, &floats(weights)?, dim)))
}

/// An RBM's checked settings from the ones given (JSON, by the `[rbm]` table's names), the
/// defaults those of `RbmConfig::new`.
fn rbm_params(hidden: usize, settings: &str) -> PyResult<cg_boltzmann::RbmParams> {
    use cg_core::Validate;
    let given: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(settings).map_err(|e| ConfigError::new_err(e.to_string()))?;
    let mut c = cg_boltzmann::RbmConfig::new(hidden);
    for (k, v) in given {
        let shown = v.to_string();
        match k.as_str() {
            "visible" => set(&mut c.visible, &k, v)?,
            "method" => set(&mut c.method, &k, v)?,
            "k" => set(&mut c.k, &k, v)?,
            "learning_rate" => set(&mut c.learning_rate, &k, v)?,
            "momentum" => set(&mut c.momentum, &k, v)?,
            "weight_decay" => set(&mut c.weight_decay, &k, v)?,
            "batch_size" => set(&mut c.batch_size, &k, v)?,
            "epochs" => set(&mut c.epochs, &k, v)?,
            "init_std" => set(&mut c.init_std, &k, v)?,
            _ => return Err(ConfigError::new_err(format!("unknown setting `{k}` = {shown}"))),
        }
    }
    c.validate().map_err(|e| ConfigError::new_err(format!("[rbm] {e}")))
}

/// An RBM's parameters as (W visible × hidden row-major, visible biases, hidden biases), bytes.
type RbmBytes = (Vec<u8>, Vec<u8>, Vec<u8>);

/// Trains an RBM on `n` samples of `dim` features (row-major float64 bytes) from `seed`, as the
/// `rbm` kind does.
#[pyfunction]
fn rbm_fit(
    py: Python<'_>,
    data: &[u8],
    n: usize,
    dim: usize,
    hidden: usize,
    settings: &str,
    seed: u64,
) -> PyResult<RbmBytes> {
    use rand::SeedableRng;
    let params = rbm_params(hidden, settings)?;
    let x = floats(data)?;
    if x.len() != n * dim || n == 0 || dim == 0 {
        return Err(ConfigError::new_err(format!("X: {} numbers for {n} samples of {dim} features", x.len())));
    }
    let rbm = interruptible(py, move || -> anyhow::Result<cg_boltzmann::Rbm> {
        let data = nalgebra::DMatrix::from_row_slice(n, dim, &x);
        let epochs = params.epochs;
        let mut trainer = cg_boltzmann::RbmTrainer::new(params, data)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut state = trainer.init(&mut rng);
        let out = cg_core::run(&mut trainer, &mut state, epochs, &mut rng, &mut []);
        experiments::finished(out, "training")?;
        Ok(state.rbm)
    })?
    .map_err(|e| ConfigError::new_err(format!("{e:#}")))?;
    let w: Vec<f64> = (0..rbm.w.nrows()).flat_map(|i| rbm.w.row(i).iter().copied().collect::<Vec<_>>()).collect();
    Ok((to_bytes(&w), to_bytes(rbm.b.as_slice()), to_bytes(rbm.c.as_slice())))
}

/// The machine of the given parameters.
fn rbm_of(w: &[u8], b: &[u8], c: &[u8], gaussian: bool) -> PyResult<cg_boltzmann::Rbm> {
    let (w, b, c) = (floats(w)?, floats(b)?, floats(c)?);
    if w.len() != b.len() * c.len() {
        return Err(ConfigError::new_err("W must be visible x hidden"));
    }
    Ok(cg_boltzmann::Rbm {
        w: nalgebra::DMatrix::from_row_slice(b.len(), c.len(), &w),
        b: nalgebra::DVector::from_vec(b),
        c: nalgebra::DVector::from_vec(c),
        visible: if gaussian { cg_boltzmann::Visible::Gaussian } else { cg_boltzmann::Visible::Bernoulli },
    })
}

/// Per sample its free energy F(v), and the mean log-likelihood of the samples with the exact
/// partition function (`None` when the smaller layer is too large to enumerate).
#[pyfunction]
fn rbm_score(w: &[u8], b: &[u8], c: &[u8], gaussian: bool, data: &[u8]) -> PyResult<(Vec<f64>, Option<f64>)> {
    let rbm = rbm_of(w, b, c, gaussian)?;
    let x = floats(data)?;
    let nv = rbm.n_visible();
    if !x.len().is_multiple_of(nv) {
        return Err(ConfigError::new_err(format!("X has {} numbers; the machine has {nv} visible units", x.len())));
    }
    let free: Vec<f64> = x.chunks_exact(nv).map(|v| rbm.free_energy(v)).collect();
    let m = nalgebra::DMatrix::from_row_slice(x.len() / nv, nv, &x);
    let ll = rbm.log_partition_exact().ok().map(|z| rbm.mean_log_likelihood(&m, z));
    Ok((free, ll))
}

/// The saved model of a results folder: its metadata and tensors (name, shape, row-major bytes).
#[pyfunction]
#[allow(clippy::type_complexity)]
fn model_load(dir: PathBuf) -> PyResult<(Vec<(String, String)>, Vec<(String, Vec<usize>, Vec<u8>)>)> {
    let model = experiments::predict::SavedModel::load(&dir).map_err(|e| ConfigError::new_err(format!("{e:#}")))?;
    let meta = model.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let tensors = model.tensors.iter().map(|t| (t.0.clone(), t.1.clone(), to_bytes(&t.2))).collect();
    Ok((meta, tensors))
}

/// `experiments predict DIR --data FILE` on rows in memory: `columns` name the `n` rows of
/// `data` (row-major float64 bytes); returns the predictions' column names and row-major bytes.
#[pyfunction]
fn model_predict(
    py: Python<'_>,
    dir: PathBuf,
    columns: Vec<String>,
    data: &[u8],
    n: usize,
) -> PyResult<(Vec<String>, Vec<u8>)> {
    let x = floats(data)?;
    let d = columns.len();
    if x.len() != n * d {
        return Err(ConfigError::new_err(format!("X: {} numbers for {n} rows of {d} columns", x.len())));
    }
    let table = cg_data::Table {
        path: PathBuf::from("<array>"),
        columns,
        rows: if d == 0 { vec![vec![]; n] } else { x.chunks_exact(d).map(<[f64]>::to_vec).collect() },
    };
    let p = interruptible(py, || experiments::predict::predict_table(&dir, &table))?
        .map_err(|e| ConfigError::new_err(format!("{e:#}")))?;
    let flat: Vec<f64> = p.rows.concat();
    Ok((p.columns, to_bytes(&flat)))
}

/// The extension module behind the `cg` package.
#[pymodule]
fn _cg(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_class::<BayesianNetwork>()?;
    m.add_class::<MarkovNetwork>()?;
    m.add_function(wrap_pyfunction!(som_fit, m)?)?;
    m.add_function(wrap_pyfunction!(som_match, m)?)?;
    m.add_function(wrap_pyfunction!(som_umatrix, m)?)?;
    m.add_function(wrap_pyfunction!(rbm_fit, m)?)?;
    m.add_function(wrap_pyfunction!(rbm_score, m)?)?;
    m.add_function(wrap_pyfunction!(model_load, m)?)?;
    m.add_function(wrap_pyfunction!(model_predict, m)?)?;
    m.add_function(wrap_pyfunction!(fit_config, m)?)?;
    m.add_function(wrap_pyfunction!(learn_csv, m)?)?;
    m.add_function(wrap_pyfunction!(score_csv, m)?)?;
    m.add("ConfigError", m.py().get_type::<ConfigError>())?;
    m.add("RunError", m.py().get_type::<RunError>())?;
    Ok(())
}

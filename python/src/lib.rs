//! The `cg._cg` extension module: the experiments library and the graphical-model engine as
//! Python functions and classes. The Python package `cg` (beside this crate) re-exports them
//! with docstrings and type stubs.
//!
//! Every engine call runs with the GIL released; errors become Python exceptions with the
//! binary's one-line messages (`ConfigError`, a `ValueError`, for input that cannot run;
//! `RunError`, a `RuntimeError`, for a run that failed); a panic never crosses into Python
//! (PyO3 turns one into `PanicException`).

use std::path::{Path, PathBuf};

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
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

/// What the engine thread tells the waiting Python thread.
enum Event {
    /// A step: (steps done, steps in all, unit, message).
    Tick(u64, u64, String, String),
    /// The work ended (or panicked: its sender is dropped then).
    Done,
}

/// Runs `work` on a thread of its own with the GIL released, waking every 20 ms to check
/// Python's signals (and at once when the work ends, so a short call costs no wait): Ctrl-C
/// asks the engine to stop at its next step (`cg_core::interrupt`), waits for it, and raises
/// `KeyboardInterrupt`. A panic of the engine becomes a `RunError`.
///
/// With `progress` (a callable), `work` gets a hook whose steps reach it as
/// `progress(step, total, unit, message)`, called on this thread with the GIL held (the latest
/// step only, when several came while it waited); an exception it raises stops the run and is
/// raised.
fn interruptible<T: Send>(
    py: Python<'_>,
    progress: Option<&Bound<'_, PyAny>>,
    work: impl FnOnce(Option<experiments::ProgressHook>) -> T + Send,
) -> PyResult<T> {
    use std::sync::mpsc::{channel, RecvTimeoutError};
    cg_core::interrupt::clear();
    let (events, mut received) = channel::<Event>();
    let hook = progress.map(|_| {
        let events = std::sync::Mutex::new(events.clone());
        experiments::ProgressHook(std::sync::Arc::new(move |t: &experiments::Tick<'_>| {
            let tick = Event::Tick(t.step, t.total, t.unit.to_string(), t.message.to_string());
            let _ = events.lock().map(|e| e.send(tick));
        }))
    });
    std::thread::scope(|scope| {
        let handle = scope.spawn(move || {
            let out = work(hook);
            let _ = events.send(Event::Done);
            out
        });
        let failure = loop {
            // The receiver goes into the GIL-free closure and back (it is Send, not Sync).
            // Steps that came meanwhile are merged: only the latest is shown.
            let (tick, ended, receiver) = py.detach(move || {
                let (mut tick, mut ended) = (None, false);
                let mut next = received.recv_timeout(std::time::Duration::from_millis(20));
                loop {
                    match next {
                        Ok(Event::Tick(step, total, unit, message)) => tick = Some((step, total, unit, message)),
                        // Disconnected: the work panicked (its sender dropped); join says so.
                        Ok(Event::Done) | Err(RecvTimeoutError::Disconnected) => ended = true,
                        Err(RecvTimeoutError::Timeout) => {}
                    }
                    if ended {
                        break;
                    }
                    match received.try_recv() {
                        Ok(event) => next = Ok(event),
                        Err(_) => break,
                    }
                }
                (tick, ended, received)
            });
            received = receiver;
            if let (Some(callback), Some(tick)) = (progress, tick) {
                if let Err(e) = callback.call1(tick) {
                    break Some(e);
                }
            }
            if ended {
                break None;
            }
            if let Err(signal) = py.check_signals() {
                break Some(signal);
            }
        };
        if let Some(error) = failure {
            cg_core::interrupt::request();
            let _ = py.detach(|| handle.join());
            cg_core::interrupt::clear();
            return Err(error);
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

/// A config given as a file's path, as TOML text or as a dict (tables as dicts): (TOML text, the
/// folder its data paths are relative to, the run's title), as the binary takes a file (its
/// folder, its stem) or `base` for text and dicts.
fn config_source(config: &Bound<'_, PyAny>, base: Option<PathBuf>) -> PyResult<(String, PathBuf, String)> {
    let here = || base.clone().unwrap_or_else(|| PathBuf::from("."));
    if let Ok(table) = config.cast::<PyDict>() {
        let text: String = config.py().import("json")?.call_method1("dumps", (table,))?.extract()?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| ConfigError::new_err(e.to_string()))?;
        let table = toml::Value::try_from(value)
            .map_err(|e| ConfigError::new_err(format!("the config dict cannot be TOML: {e}")))?;
        let text = toml::to_string(&table)
            .map_err(|e| ConfigError::new_err(format!("the config dict cannot be TOML: {e}")))?;
        return Ok((text, here(), "config".into()));
    }
    let config: PathBuf = config.extract().map_err(|_| ConfigError::new_err("config: a path, TOML text or a dict"))?;
    let text = config.to_string_lossy();
    if !text.contains('\n') && config.is_file() {
        let read = std::fs::read_to_string(&config)
            .map_err(|e| ConfigError::new_err(format!("cannot read {}: {e}", config.display())))?;
        let title = config.file_stem().map_or_else(|| "experiment".into(), |s| s.to_string_lossy().into_owned());
        Ok((read, config.parent().unwrap_or(Path::new(".")).to_path_buf(), title))
    } else {
        Ok((text.into_owned(), here(), "config".into()))
    }
}

/// Trains a `model` or `mlp` config on arrays: the config's `[data]` source (csv, synthetic,
/// ...) is replaced by the `.npy` files `x` (samples x features) and `y` (their targets), read as
/// `[data] npy` and `labels` are; its other `[data]` settings (standardize, test_fraction, ...)
/// stay. Writes the results folder `out` (with `model.safetensors`) and returns the metrics as
/// JSON text.
#[pyfunction]
#[pyo3(signature = (config, x, y, out, overrides=None, base=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn fit_config<'py>(
    py: Python<'py>,
    config: &Bound<'py, PyAny>,
    x: PathBuf,
    y: PathBuf,
    out: PathBuf,
    overrides: Option<&Bound<'py, PyDict>>,
    base: Option<PathBuf>,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<String> {
    let parsed = overrides_of(py, overrides)?;
    let (text, base, _) = config_source(config, base)?;
    let mut table =
        experiments::config::resolved_text(&text, &[]).map_err(|e| ConfigError::new_err(format!("{e:#}")))?;
    let data = table
        .entry("data")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .ok_or_else(|| ConfigError::new_err("[data] is not a table"))?;
    for key in ["csv", "synthetic", "inline_x", "inline_y", "target", "features", "npy", "labels"] {
        data.remove(key);
    }
    let absolute = |p: PathBuf| std::path::absolute(&p).map(|p| p.to_string_lossy().into_owned());
    data.insert("npy".into(), toml::Value::String(absolute(x)?));
    data.insert("labels".into(), toml::Value::String(absolute(y)?));
    let text = toml::to_string(&table).map_err(|e| RunError::new_err(e.to_string()))?;
    let outcome = interruptible(py, progress, |hook| {
        let options = experiments::RunOptions { on_progress: hook, ..Default::default() };
        let outcome = experiments::run_text(&text, &base, "model", &parsed, &options)?;
        experiments::write(&outcome, &out)?;
        Ok::<_, anyhow::Error>(outcome)
    })?
    .map_err(raise)?;
    let (_, metrics) = main_file(&outcome)?;
    String::from_utf8(metrics.clone()).map_err(|e| RunError::new_err(e.to_string()))
}

/// A run's metrics: `metrics.json`, or the kind's main JSON file (`graph.json`).
fn main_file(outcome: &experiments::Outcome) -> PyResult<&(String, Vec<u8>)> {
    ["metrics.json", "graph.json"]
        .iter()
        .find_map(|name| outcome.files.iter().find(|(n, _)| n == name))
        .ok_or_else(|| RunError::new_err("the run wrote no metrics"))
}

/// Runs a config exactly as `experiments CONFIG KEY=VALUE... [--out DIR]` does and returns its
/// metrics (`metrics.json`, or the kind's main JSON file) as a dict.
///
/// `config` is a path to a TOML file, TOML text or a dict (data paths relative to `base`, the
/// current folder by default); `overrides` maps dotted keys to values
/// (`{"optimizer.learning_rate": 0.1}`); `out`, when given, is the results folder written as the
/// binary writes it; `progress` is called at each step of a long run as
/// `progress(step, total, unit, message)`.
#[pyfunction]
#[pyo3(signature = (config, overrides=None, out=None, base=None, progress=None))]
fn run<'py>(
    py: Python<'py>,
    config: &Bound<'py, PyAny>,
    overrides: Option<&Bound<'py, PyDict>>,
    out: Option<PathBuf>,
    base: Option<PathBuf>,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let parsed = overrides_of(py, overrides)?;
    let (text, base, title) = config_source(config, base)?;
    let outcome = interruptible(py, progress, |hook| {
        let options = experiments::RunOptions { on_progress: hook, ..Default::default() };
        let outcome = experiments::run_text(&text, &base, &title, &parsed, &options)?;
        if let Some(dir) = &out {
            experiments::write(&outcome, dir)?;
        }
        Ok(outcome)
    })?
    .map_err(raise)?;
    let main = main_file(&outcome)?;
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
        read_with(&path, BayesianNetwork::from_bif_text)
    }

    /// Reads BIF text.
    #[staticmethod]
    #[pyo3(name = "from_bif_text")]
    fn from_bif_text_py(text: &str) -> PyResult<BayesianNetwork> {
        BayesianNetwork::from_bif_text(text).map_err(ConfigError::new_err)
    }

    /// Reads a UAI `BAYES` file (each table P(child | parents), the child last in its scope);
    /// variables are named x0, x1, ... and states 0, 1, ...
    #[staticmethod]
    fn from_uai(path: PathBuf) -> PyResult<BayesianNetwork> {
        read_with(&path, BayesianNetwork::from_uai_text)
    }

    /// Reads UAI `BAYES` text.
    #[staticmethod]
    #[pyo3(name = "from_uai_text")]
    fn from_uai_text_py(text: &str) -> PyResult<BayesianNetwork> {
        BayesianNetwork::from_uai_text(text).map_err(ConfigError::new_err)
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
        let ids = evidence_ids(evidence, |n| self.net.id(n), |v, s| self.net.state(v, s))?;
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
        read_with(&path, MarkovNetwork::from_text)
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
        let ids = evidence_ids(evidence, |n| self.net.id(n), |v, s| self.net.state(v, s))?;
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

/// A scalar computational graph written as named expressions (a `kind = "graph"` config's
/// `[graph]` table): its values and derivatives at given inputs and weights.
#[pyclass(frozen, module = "cg")]
struct Graph {
    model: cg_model::scalar::ScalarModel,
}

#[pymethods]
impl Graph {
    /// `config`: a path, TOML text or a dict: a whole `kind = "graph"` config or its `[graph]`
    /// table alone (`inputs`, `weights`, `outputs`, `loss`, `nodes`).
    #[new]
    fn new(config: &Bound<'_, PyAny>) -> PyResult<Graph> {
        let (text, _, _) = config_source(config, None)?;
        let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError::new_err(e.to_string()))?;
        if let Some(toml::Value::Table(graph)) = table.remove("graph") {
            table = graph;
        }
        let graph: cg_model::scalar::ScalarGraphConfig = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::new_err(format!("[graph] {e}")))?;
        let model = graph.build().map_err(|e| ConfigError::new_err(e.to_string()))?;
        Ok(Graph { model })
    }

    /// The inputs' and weights' names, then the computed nodes', in the config's order.
    #[getter]
    fn nodes(&self) -> Vec<String> {
        self.model.ids.iter().map(|&id| self.model.dag.name(id).to_string()).collect()
    }

    /// Evaluates the graph with `inputs` and `weights` (dicts name -> value; the rest keep the
    /// config's values): a dict with `values` (every node), `loss` (the loss, or the single
    /// output) and `gradient` (dloss/dnode for every node by reverse mode: for inputs and weights
    /// the loss-to-input and loss-to-weight derivatives).
    #[pyo3(signature = (inputs=None, weights=None))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        inputs: Option<&Bound<'py, PyDict>>,
        weights: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let dag = &self.model.dag;
        let mut tape = self.model.tape();
        let sources: Vec<(cg_core::NodeId, cg_core::Role)> =
            self.model.source_values.iter().map(|&(id, _)| (id, dag.role(id))).collect();
        for (given, role, what) in [(inputs, cg_core::Role::Input, "input"), (weights, cg_core::Role::Weight, "weight")]
        {
            for (k, v) in given.into_iter().flat_map(|d| d.iter()) {
                let name: String = k.extract()?;
                let value: f64 = v.extract()?;
                let id = sources
                    .iter()
                    .find(|&&(id, r)| r == role && dag.name(id) == name)
                    .map(|&(id, _)| id)
                    .ok_or_else(|| PyKeyError::new_err(format!("`{name}` is not an {what} of the graph")))?;
                if !value.is_finite() {
                    return Err(ConfigError::new_err(format!("{what} {name} = {value}: not a finite number")));
                }
                tape.set(id, value);
            }
        }
        dag.forward(&mut tape).map_err(|e| RunError::new_err(e.to_string()))?;
        let (loss, seeds) = self.model.objective(&tape);
        let gradient = dag.reverse(&tape, &seeds).map_err(|e| RunError::new_err(e.to_string()))?;
        let (values, partials) = (PyDict::new(py), PyDict::new(py));
        for &id in &self.model.ids {
            values.set_item(dag.name(id), tape.value(id))?;
            partials.set_item(dag.name(id), gradient[id])?;
        }
        let out = PyDict::new(py);
        out.set_item("values", values)?;
        out.set_item("loss", loss)?;
        out.set_item("gradient", partials)?;
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!("Graph({} nodes)", self.model.ids.len())
    }
}

/// Evidence given as a dict variable -> state, as (variable, state) ids by `id` and `state` (a
/// Bayesian or a Markov network's); an unknown name is a `KeyError`.
fn evidence_ids(
    evidence: Option<&Bound<'_, PyDict>>,
    id: impl Fn(&str) -> Result<usize, cg_pgm::Error>,
    state: impl Fn(usize, &str) -> Result<usize, cg_pgm::Error>,
) -> PyResult<Vec<(usize, usize)>> {
    let key = |e: cg_pgm::Error| PyKeyError::new_err(e.to_string());
    let mut ids = vec![];
    for (k, v) in evidence.into_iter().flat_map(|e| e.iter()) {
        let (name, observed): (String, String) = (k.extract()?, v.extract()?);
        let var = id(&name).map_err(key)?;
        ids.push((var, state(var, &observed).map_err(key)?));
    }
    Ok(ids)
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
        BayesianNetwork::from_specs(cg_pgm::files::read_bif(text))
    }

    fn from_uai_text(text: &str) -> Result<BayesianNetwork, String> {
        BayesianNetwork::from_specs(cg_pgm::files::read_uai_bayes(text))
    }

    /// The network of a file's variables, or the file's error.
    fn from_specs(
        specs: Result<Vec<cg_pgm::VariableSpec>, cg_pgm::files::FileError>,
    ) -> Result<BayesianNetwork, String> {
        let specs = specs.map_err(|e| e.to_string())?;
        let net = cg_pgm::BayesianNetwork::new(&specs).map_err(|e| e.to_string())?;
        Ok(BayesianNetwork { net })
    }
}

/// A file's text parsed by `parse`; errors name the file.
fn read_with<T>(path: &Path, parse: impl Fn(&str) -> Result<T, String>) -> PyResult<T> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new_err(format!("cannot read {}: {e}", path.display())))?;
    parse(&text).map_err(|e| ConfigError::new_err(format!("{}: {e}", path.display())))
}

/// A samples x features array's numbers in place (row-major: the bytes of the engines'
/// features x samples column-major matrix), its sample and feature counts; `what` names it in
/// errors. The Python layer hands over C-contiguous float64 arrays (`np.ascontiguousarray`, no
/// copy when the array already is one), so nothing is copied here.
fn samples<'a>(x: &'a PyReadonlyArray2<'_, f64>, what: &str) -> PyResult<(&'a [f64], usize, usize)> {
    let (n, d) = (x.shape()[0], x.shape()[1]);
    let values = x.as_slice().map_err(|_| ConfigError::new_err(format!("{what}: not a C-contiguous array")))?;
    if n == 0 || d == 0 {
        return Err(ConfigError::new_err(format!("{what}: {n} samples x {d} features; need at least one of each")));
    }
    Ok((values, n, d))
}

/// A vector's numbers in place.
fn vector<'a>(x: &'a PyReadonlyArray1<'_, f64>, what: &str) -> PyResult<&'a [f64]> {
    x.as_slice().map_err(|_| ConfigError::new_err(format!("{what}: not a contiguous array")))
}

/// The address of the numbers the engines would read for `x`: equal to numpy's own data pointer
/// when the array goes in without a copy (what the tests check).
#[pyfunction]
fn data_address(x: PyReadonlyArray2<'_, f64>) -> PyResult<usize> {
    Ok(samples(&x, "X")?.0.as_ptr() as usize)
}

/// `values` as a numpy array of `shape` (the vector handed over, not copied).
fn array<'py>(py: Python<'py>, values: Vec<f64>, shape: &[usize]) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyArray1::from_vec(py, values).reshape(shape.to_vec())?.into_any())
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

/// Trains a map on the rows of `x` (samples x features, read in place) from `seed`, as the
/// `som` kind does: returns the codebook (units x features). `progress` is called at each
/// epoch as `progress(step, total, unit, message)`.
#[pyfunction]
#[pyo3(signature = (x, rows, cols, epochs, settings, seed, progress=None))]
#[allow(clippy::too_many_arguments)]
fn som_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    rows: usize,
    cols: usize,
    epochs: usize,
    settings: &str,
    seed: u64,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    use rand::SeedableRng;
    let params = som_params(rows, cols, epochs, settings)?;
    let (data, _, dim) = samples(&x, "X")?;
    let weights = interruptible(py, progress, move |hook| -> anyhow::Result<Vec<f64>> {
        let mut som = cg_som::Som::new(params, data, dim)?;
        if hook.is_none() {
            // The quality after each epoch is only for the progress message.
            som = som.without_quality();
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut state = som.init(&mut rng)?;
        let epochs = som.params().epochs;
        let options = experiments::RunOptions { on_progress: hook, ..Default::default() };
        let mut progress = experiments::Progress::new(&options, epochs, "epoch", "som", |r: &cg_som::SomRecord| {
            r.quantization_error.map_or_else(String::new, |q| format!("quantization error {q:.4}"))
        });
        let out = cg_core::run(&mut som, &mut state, epochs, &mut rng, &mut [&mut progress]);
        experiments::finished(out, "training")?;
        Ok(state.weights)
    })?
    .map_err(|e| ConfigError::new_err(format!("{e:#}")))?;
    array(py, weights, &[rows * cols, dim])
}

/// Best-matching units (by index, row-major over the lattice) of samples, and per sample whether
/// its two best units are not adjacent (the topographic error's count), and its distance to the
/// best.
#[pyfunction]
fn som_match(
    weights: PyReadonlyArray2<'_, f64>,
    rows: usize,
    cols: usize,
    settings: &str,
    x: PyReadonlyArray2<'_, f64>,
) -> PyResult<(Vec<usize>, Vec<bool>, Vec<f64>)> {
    let params = som_params(rows, cols, 1, settings)?;
    let (w, units, dim) = samples(&weights, "codebook")?;
    let (x, _, d) = samples(&x, "X")?;
    if d != dim || units != params.lattice.units() {
        return Err(ConfigError::new_err(format!("X has {d} features; the map's are {dim}")));
    }
    let mut best = vec![];
    let mut apart = vec![];
    let mut distance = vec![];
    for sample in x.chunks_exact(dim) {
        let (b1, b2, d1) = cg_som::quality::best_two(w, dim, sample);
        best.push(b1);
        apart.push(!params.lattice.adjacent(b1, b2));
        distance.push(d1.sqrt());
    }
    Ok((best, apart, distance))
}

/// The U-matrix of a codebook: per unit, the mean distance to its adjacent units' vectors.
#[pyfunction]
fn som_umatrix<'py>(
    py: Python<'py>,
    weights: PyReadonlyArray2<'py, f64>,
    rows: usize,
    cols: usize,
    settings: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let params = som_params(rows, cols, 1, settings)?;
    let (w, _, dim) = samples(&weights, "codebook")?;
    array(py, cg_som::quality::u_matrix(&params.lattice, w, dim), &[rows, cols])
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

/// Trains an RBM on the rows of `x` (samples x visible units, read in place) from `seed`, as
/// the `rbm` kind does: returns (W visible x hidden, visible biases, hidden biases).
/// `progress` is called at each epoch as `progress(step, total, unit, message)`.
#[pyfunction]
#[pyo3(signature = (x, hidden, settings, seed, progress=None))]
fn rbm_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    hidden: usize,
    settings: &str,
    seed: u64,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    use rand::SeedableRng;
    let params = rbm_params(hidden, settings)?;
    let (data, _, dim) = samples(&x, "X")?;
    let rbm = interruptible(py, progress, move |hook| -> anyhow::Result<cg_boltzmann::Rbm> {
        let epochs = params.epochs;
        let mut trainer = cg_boltzmann::RbmTrainer::from_rows(params, data, dim)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut state = trainer.init(&mut rng);
        let options = experiments::RunOptions { on_progress: hook, ..Default::default() };
        let mut progress =
            experiments::Progress::new(&options, epochs, "epoch", "rbm", |r: &cg_boltzmann::RbmRecord| {
                r.reconstruction_error.map_or_else(String::new, |e| format!("reconstruction error {e:.4}"))
            });
        let out = cg_core::run(&mut trainer, &mut state, epochs, &mut rng, &mut [&mut progress]);
        experiments::finished(out, "training")?;
        Ok(state.rbm)
    })?
    .map_err(|e| ConfigError::new_err(format!("{e:#}")))?;
    let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
    // W is column-major visible x hidden: its transpose's storage is the row-major matrix.
    let w = rbm.w.transpose().as_slice().to_vec();
    Ok((
        array(py, w, &[nv, nh])?,
        array(py, rbm.b.as_slice().to_vec(), &[nv])?,
        array(py, rbm.c.as_slice().to_vec(), &[nh])?,
    ))
}

/// The machine of the given parameters (W visible x hidden).
fn rbm_of(
    w: &PyReadonlyArray2<'_, f64>,
    b: &PyReadonlyArray1<'_, f64>,
    c: &PyReadonlyArray1<'_, f64>,
    gaussian: bool,
) -> PyResult<cg_boltzmann::Rbm> {
    let (wv, nv, nh) = samples(w, "W")?;
    let (b, c) = (vector(b, "visible biases")?, vector(c, "hidden biases")?);
    if b.len() != nv || c.len() != nh {
        return Err(ConfigError::new_err(format!("W is {nv} x {nh}; the biases number {} and {}", b.len(), c.len())));
    }
    Ok(cg_boltzmann::Rbm {
        w: nalgebra::DMatrix::from_row_slice(nv, nh, wv),
        b: nalgebra::DVector::from_column_slice(b),
        c: nalgebra::DVector::from_column_slice(c),
        visible: if gaussian { cg_boltzmann::Visible::Gaussian } else { cg_boltzmann::Visible::Bernoulli },
    })
}

/// Checks that `x`'s rows fit the machine's visible units.
fn visible_rows<'a>(rbm: &cg_boltzmann::Rbm, x: &'a PyReadonlyArray2<'_, f64>) -> PyResult<&'a [f64]> {
    let (x, _, d) = samples(x, "X")?;
    if d != rbm.n_visible() {
        return Err(ConfigError::new_err(format!(
            "X has {d} features; the machine has {} visible units",
            rbm.n_visible()
        )));
    }
    Ok(x)
}

/// Per sample its free energy F(v).
#[pyfunction]
fn rbm_free_energy(
    w: PyReadonlyArray2<'_, f64>,
    b: PyReadonlyArray1<'_, f64>,
    c: PyReadonlyArray1<'_, f64>,
    gaussian: bool,
    x: PyReadonlyArray2<'_, f64>,
) -> PyResult<Vec<f64>> {
    let rbm = rbm_of(&w, &b, &c, gaussian)?;
    Ok(visible_rows(&rbm, &x)?.chunks_exact(rbm.n_visible()).map(|v| rbm.free_energy(v)).collect())
}

/// log Z of the machine: exact (`chains` = 0; `None` when both layers are too large to
/// enumerate) or by annealed importance sampling with `chains` chains through `temperatures`
/// inverse temperatures from the base model of `x`'s marginals, seeded by `seed`. Returns
/// (log Z, low, high): the AIS interval is +-3 standard errors of the mean importance weight,
/// the exact one a point.
#[pyfunction]
#[pyo3(signature = (w, b, c, gaussian, x, chains=0, temperatures=1000, seed=0))]
#[allow(clippy::too_many_arguments)]
fn rbm_log_partition(
    py: Python<'_>,
    w: PyReadonlyArray2<'_, f64>,
    b: PyReadonlyArray1<'_, f64>,
    c: PyReadonlyArray1<'_, f64>,
    gaussian: bool,
    x: PyReadonlyArray2<'_, f64>,
    chains: usize,
    temperatures: usize,
    seed: u64,
) -> PyResult<Option<(f64, f64, f64)>> {
    use rand::SeedableRng;
    let rbm = rbm_of(&w, &b, &c, gaussian)?;
    let rows = visible_rows(&rbm, &x)?;
    if chains == 0 {
        return Ok(py.detach(|| rbm.log_partition_exact().ok().map(|z| (z, z, z))));
    }
    let data = nalgebra::DMatrix::from_row_slice(rows.len() / rbm.n_visible(), rbm.n_visible(), rows);
    let estimate = interruptible(py, None, |_| {
        let base = cg_boltzmann::ais_base(&data, rbm.visible);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        rbm.ais_log_partition(&base, &cg_boltzmann::ais_betas(temperatures), chains, &mut rng)
    })?
    .map_err(|e| ConfigError::new_err(e.to_string()))?;
    Ok(Some((estimate.log_z, estimate.log_z_low, estimate.log_z_high)))
}

/// The saved model of a results folder: its metadata and tensors (name, numpy array).
#[pyfunction]
#[allow(clippy::type_complexity)]
fn model_load(py: Python<'_>, dir: PathBuf) -> PyResult<(Vec<(String, String)>, Vec<(String, Bound<'_, PyAny>)>)> {
    let model = experiments::predict::SavedModel::load(&dir).map_err(|e| ConfigError::new_err(format!("{e:#}")))?;
    let meta = model.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let tensors = model
        .tensors
        .into_iter()
        .map(|(name, shape, values)| Ok((name, array(py, values, &shape)?)))
        .collect::<PyResult<_>>()?;
    Ok((meta, tensors))
}

/// `experiments predict DIR --data FILE` on rows in memory: `columns` name the columns of `x`
/// (rows x columns); returns the predictions' column names and values (rows x columns).
#[pyfunction]
fn model_predict<'py>(
    py: Python<'py>,
    dir: PathBuf,
    columns: Vec<String>,
    x: PyReadonlyArray2<'py, f64>,
) -> PyResult<(Vec<String>, Bound<'py, PyAny>)> {
    let (n, d) = (x.shape()[0], x.shape()[1]);
    if d != columns.len() {
        return Err(ConfigError::new_err(format!("X has {d} columns and {} names", columns.len())));
    }
    let values = x.as_slice().map_err(|_| ConfigError::new_err("X: not a C-contiguous array"))?;
    let table = cg_data::Table {
        path: PathBuf::from("<array>"),
        columns,
        rows: if d == 0 { vec![vec![]; n] } else { values.chunks_exact(d).map(<[f64]>::to_vec).collect() },
    };
    let p = interruptible(py, None, |_| experiments::predict::predict_table(&dir, &table))?
        .map_err(|e| ConfigError::new_err(format!("{e:#}")))?;
    let width = p.columns.len();
    let out = array(py, p.rows.concat(), &[n, width])?;
    Ok((p.columns, out))
}

/// The extension module behind the `cg` package.
#[pymodule]
fn _cg(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_class::<BayesianNetwork>()?;
    m.add_class::<MarkovNetwork>()?;
    m.add_class::<Graph>()?;
    m.add_function(wrap_pyfunction!(som_fit, m)?)?;
    m.add_function(wrap_pyfunction!(som_match, m)?)?;
    m.add_function(wrap_pyfunction!(som_umatrix, m)?)?;
    m.add_function(wrap_pyfunction!(rbm_fit, m)?)?;
    m.add_function(wrap_pyfunction!(rbm_free_energy, m)?)?;
    m.add_function(wrap_pyfunction!(rbm_log_partition, m)?)?;
    m.add_function(wrap_pyfunction!(data_address, m)?)?;
    m.add_function(wrap_pyfunction!(model_load, m)?)?;
    m.add_function(wrap_pyfunction!(model_predict, m)?)?;
    m.add_function(wrap_pyfunction!(fit_config, m)?)?;
    m.add_function(wrap_pyfunction!(learn_csv, m)?)?;
    m.add_function(wrap_pyfunction!(score_csv, m)?)?;
    m.add("ConfigError", m.py().get_type::<ConfigError>())?;
    m.add("RunError", m.py().get_type::<RunError>())?;
    Ok(())
}

//! `--stop-after N` and `--resume DIR`: a training run stopped after N epochs writes its results
//! so far plus `state.json` and `state.safetensors` (everything the next epoch reads); resumed,
//! it finishes with the same bytes as the run never stopped.
//!
//! A kind opts in by driving its training loop through [`drive`] (its solver implements
//! [`Resumable`], its observers save what they remember) and setting `KindConfig::RESUMABLE`.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use cg_core::checkpoint::{self, Checkpoint, RngPosition, Snapshot, Tensor};
use cg_core::{run_steps, Observer, Resumable, RunOutcome, Stop};
use cg_nn::artifact::NamedTensor;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

use crate::RunOptions;

pub const STATE_JSON: &str = "state.json";
pub const STATE_TENSORS: &str = "state.safetensors";

/// A stopped run read back from its folder.
#[derive(Clone, Debug)]
pub struct SavedRun {
    /// The folder it was read from, for messages.
    pub dir: std::path::PathBuf,
    pub kind: String,
    /// [`fingerprint`] of the config (with overrides) the run was started from.
    pub config: String,
    pub checkpoint: Checkpoint,
}

/// A driven run's result, and its checkpoint when it stopped at `--stop-after` before the end.
pub(crate) type Driven<E> = (Result<RunOutcome, E>, Option<Checkpoint>);

/// Runs a resumable solver's loop for at most `max_steps` steps, as `options` say: from the
/// start or from `--resume`'s checkpoint (restored into the freshly built run), to the end or to
/// `--stop-after`. Returns the run's result and, when it stopped at `--stop-after` before the
/// end, its checkpoint.
///
/// # Errors
/// A checkpoint that does not fit this run, or one already at or past `--stop-after`.
pub(crate) fn drive<S: Resumable>(
    solver: &mut S,
    state: &mut S::State,
    max_steps: usize,
    rng: &mut ChaCha8Rng,
    observers: &mut [&mut dyn Observer<S::State, S::Record>],
    options: &RunOptions,
) -> Result<Driven<S::Error>> {
    let done = match &options.resume {
        Some(saved) => {
            let done = checkpoint::restore(solver, state, rng, observers, &saved.checkpoint)
                .map_err(|e| anyhow!("--resume: {e}"))?;
            if done >= max_steps {
                bail!("--resume: the saved run has done {done} of {max_steps} steps already");
            }
            done
        }
        None => 0,
    };
    let last = options.stop_after.map_or(max_steps, |n| n.min(max_steps));
    if last <= done {
        bail!("--stop-after {last}: the resumed run has done {done} steps already");
    }
    let out = run_steps(solver, state, done, last, rng, observers);
    let paused = matches!(&out, Ok(o) if o.stop == Stop::StepLimit && o.steps < max_steps);
    let saved = paused.then(|| checkpoint::save(solver, state, last, rng, observers));
    Ok((out, saved))
}

/// A config's identity for `--resume`: a 64-bit FNV-1a hash of its TOML with the overrides
/// applied (`config::resolved`), tables' keys sorted (so comments, spacing and key order do not
/// count).
pub fn fingerprint(table: &toml::Table) -> String {
    let mut text = String::new();
    canonical(&toml::Value::Table(table.clone()), &mut text);
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("fnv1a64:{hash:016x}")
}

/// TOML values as text with every table's keys in order.
fn canonical(value: &toml::Value, out: &mut String) {
    match value {
        toml::Value::Table(t) => {
            let mut keys: Vec<&String> = t.keys().collect();
            keys.sort();
            out.push('{');
            for k in keys {
                out.push_str(&format!("{k:?}="));
                canonical(&t[k], out);
                out.push(',');
            }
            out.push('}');
        }
        toml::Value::Array(a) => {
            out.push('[');
            for v in a {
                canonical(v, out);
                out.push(',');
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The files of a stopped run: `state.json` (kind, config fingerprint, steps, random stream,
/// small values) and `state.safetensors` (arrays, F64).
///
/// # Errors
/// A tensor file that cannot be written.
pub(crate) fn files(kind: &str, config: &str, cp: &Checkpoint) -> Result<Vec<(String, Vec<u8>)>> {
    let mut tensors = vec![];
    let mut part = |prefix: String, s: &Snapshot| -> Value {
        for (name, t) in &s.tensors {
            tensors.push(NamedTensor {
                name: format!("{prefix}/{name}"),
                shape: t.shape.clone(),
                values: t.data.clone(),
            });
        }
        Value::Object(s.values.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Map<_, _>>())
    };
    let solver = part("solver".into(), &cp.solver);
    let observers: Vec<Value> = cp.observers.iter().enumerate().map(|(k, s)| part(format!("observer{k}"), s)).collect();
    let state = json!({
        "kind": kind,
        "config": config,
        "steps": cp.steps,
        "rng": cp.rng,
        "solver": solver,
        "observers": observers,
    });
    let bytes = cg_nn::artifact::save_tensors(&tensors, true, &[("kind", kind.to_string())])
        .map_err(|e| anyhow!("{STATE_TENSORS}: {e}"))?;
    Ok(vec![crate::json_file(STATE_JSON, &state)?, (STATE_TENSORS.to_string(), bytes)])
}

/// Reads the stopped run in `dir`.
///
/// # Errors
/// A missing or malformed state file, naming it.
pub fn load(dir: &Path) -> Result<SavedRun> {
    let json_path = dir.join(STATE_JSON);
    let text = std::fs::read_to_string(&json_path).with_context(|| {
        format!("cannot read {}: --resume takes the folder of a run stopped with --stop-after", json_path.display())
    })?;
    let bad = |what: &str| anyhow!("{}: {what}", json_path.display());
    let state: Value = serde_json::from_str(&text).map_err(|e| bad(&e.to_string()))?;
    let text_field = |k: &str| state[k].as_str().map(str::to_string).ok_or_else(|| bad(&format!("no `{k}`")));
    let (kind, config) = (text_field("kind")?, text_field("config")?);
    let steps = state["steps"].as_u64().ok_or_else(|| bad("no `steps`"))? as usize;
    let rng: RngPosition = serde_json::from_value(state["rng"].clone()).map_err(|e| bad(&format!("rng: {e}")))?;
    let tensor_path = dir.join(STATE_TENSORS);
    let bytes = std::fs::read(&tensor_path).with_context(|| format!("cannot read {}", tensor_path.display()))?;
    let tensors = cg_nn::artifact::load(&bytes).map_err(|e| anyhow!("{}: {e}", tensor_path.display()))?;
    let part = |prefix: &str, values: &Value| -> Result<Snapshot> {
        let values = values.as_object().ok_or_else(|| bad(&format!("`{prefix}` is not an object")))?;
        let mut s =
            Snapshot { values: values.iter().map(|(k, v)| (k.clone(), v.clone())).collect(), ..Snapshot::default() };
        for (name, shape, data) in &tensors {
            if let Some(rest) = name.strip_prefix(&format!("{prefix}/")) {
                s.tensors.insert(rest.to_string(), Tensor { shape: shape.clone(), data: data.clone() });
            }
        }
        Ok(s)
    };
    let solver = part("solver", &state["solver"])?;
    let observers = state["observers"]
        .as_array()
        .ok_or_else(|| bad("no `observers`"))?
        .iter()
        .enumerate()
        .map(|(k, v)| part(&format!("observer{k}"), v))
        .collect::<Result<Vec<_>>>()?;
    Ok(SavedRun { dir: dir.to_path_buf(), kind, config, checkpoint: Checkpoint { steps, rng, solver, observers } })
}

//! `--stop-after N` and `--resume DIR`: a training run stopped after N epochs writes its results
//! so far plus `state.json` and `state.safetensors` (everything the next epoch reads); resumed,
//! it finishes with the same bytes as the run never stopped.
//!
//! A kind opts in by driving its training loop through `drive` (its solver implements
//! [`Resumable`], its observers save what they remember) and setting `KindConfig::RESUMABLE`.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use cg_core::checkpoint::{self, Checkpoint, RngPosition, Snapshot, Tensor};
use cg_core::{run_guarded, DivergenceGuard, Objective, Observer, Resumable, RunOutcome, Stop};
use cg_nn::artifact::NamedTensor;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

use crate::RunOptions;

/// The state file of a stopped run.
pub const STATE_JSON: &str = "state.json";
/// The tensors of a stopped run.
pub const STATE_TENSORS: &str = "state.safetensors";

/// A stopped run read back from its folder.
#[derive(Clone, Debug)]
pub struct SavedRun {
    /// The folder it was read from, for messages.
    pub dir: std::path::PathBuf,
    /// The kind that wrote it.
    pub kind: String,
    /// [`fingerprint`] of the config (with overrides) the run was started from.
    pub config: String,
    /// The solver's state.
    pub checkpoint: Checkpoint,
}

/// What a driven run saved of its state: a checkpoint, and why it was taken.
#[derive(Clone, Debug)]
pub struct Saved {
    /// The solver's state.
    pub checkpoint: Checkpoint,
    /// The run reached its end: the state is kept (under `--checkpoint-every`) so that a larger
    /// budget can continue it later.
    pub finished: bool,
    /// An interrupt (Ctrl-C, SIGTERM) stopped the run before its end.
    pub interrupted: bool,
}

/// A driven run's result, and its saved state when it stopped before the end (`--stop-after`,
/// an interrupt) or when it keeps its final state (`--checkpoint-every`).
pub type Driven<E> = (Result<RunOutcome, E>, Option<Saved>);

/// Runs a resumable solver's loop for at most `max_steps` steps, as `options` say: from the
/// start or from `--resume`'s checkpoint (restored into the freshly built run), to the end, to
/// `--stop-after` or to an interrupt, writing a checkpoint every `--checkpoint-every` steps.
/// The run is the same step for step however it is cut: every segment continues the one state.
///
/// # Errors
/// A checkpoint that does not fit this run, or one already at or past `--stop-after`; a
/// periodic checkpoint that cannot be written.
pub fn drive<S: Resumable>(
    solver: &mut S,
    state: &mut S::State,
    max_steps: usize,
    rng: &mut ChaCha8Rng,
    observers: &mut [&mut dyn Observer<S::State, S::Record>],
    options: &RunOptions,
) -> Result<Driven<S::Error>>
where
    S::Record: Objective,
{
    let done = match &options.resume {
        Some(saved) => {
            let done = checkpoint::restore(solver, state, rng, observers, &saved.checkpoint)
                .map_err(|e| anyhow!("--resume: {e}"))?;
            if done >= max_steps {
                let raise = options.identity.as_ref().and_then(|i| i.budget).map_or(String::new(), |k| {
                    format!(": give a larger {k} to continue it (for example {k}={})", 2 * done.max(1))
                });
                bail!("--resume: the saved run has done {done} of {max_steps} steps already{raise}");
            }
            done
        }
        None => 0,
    };
    let last = options.stop_after.map_or(max_steps, |n| n.min(max_steps));
    if last <= done {
        bail!("--stop-after {last}: the resumed run has done {done} steps already");
    }
    let every = options.checkpoint_every.filter(|_| options.identity.is_some());
    let mut at = done;
    // Watches the objective for divergence; not part of the checkpoint (it restarts with the
    // run's next value after a resume).
    let mut guard = DivergenceGuard::new();
    let out = loop {
        let until = every.map_or(last, |n| at.saturating_add(n).min(last));
        let out = run_guarded(solver, state, at, until, rng, observers, &mut guard);
        match &out {
            Ok(o) if o.stop == Stop::StepLimit && o.steps < last => {
                at = o.steps;
                let cp = checkpoint::save(solver, state, at, rng, observers);
                write_checkpoint(&cp, options)?;
            }
            _ => break out,
        }
    };
    let saved = match &out {
        Ok(o) if o.steps < max_steps && o.stop == Stop::StepLimit => Some((o.steps, false)),
        Ok(o) if o.steps < max_steps && o.stop == (Stop::Requested { by: cg_core::interrupt::BY.into() }) => {
            Some((o.steps, true))
        }
        Ok(o) if every.is_some() && o.stop == Stop::StepLimit => Some((o.steps, false)),
        _ => None,
    };
    let saved = saved.map(|(steps, interrupted)| Saved {
        checkpoint: checkpoint::save(solver, state, steps, rng, observers),
        finished: steps >= max_steps,
        interrupted,
    });
    Ok((out, saved))
}

/// Writes a periodic checkpoint as the whole of the run's folder (an unfinished run's folder:
/// the state files and the manifest), so that a killed run loses at most `--checkpoint-every`
/// steps.
fn write_checkpoint(cp: &Checkpoint, options: &RunOptions) -> Result<()> {
    let (Some(identity), Some(dir)) = (&options.identity, &options.checkpoint_dir) else { return Ok(()) };
    crate::output::write_folder(&files(identity.kind, &identity.config, cp)?, false, dir)
        .map_err(|e| anyhow!("--checkpoint-every: {e:#}"))
}

/// Who a resumable run is: its kind, its config's [`fingerprint`] and the key that only stops
/// its loop (a resumed run may raise it).
#[derive(Clone, Debug)]
pub struct Identity {
    /// The kind's name.
    pub kind: &'static str,
    /// The config's text.
    pub config: String,
    /// Why the run stopped early, if it did.
    pub budget: Option<&'static str>,
}

/// A config's identity for `--resume`: a 64-bit FNV-1a hash of its TOML with the overrides
/// applied (`config::resolved`), tables' keys sorted (so comments, spacing and key order do not
/// count), and without the `budget` key (dotted), which only says when the loop stops: a
/// finished run continued with a larger budget is the run made with that budget from the start.
pub fn fingerprint(table: &toml::Table, budget: Option<&str>) -> String {
    let mut table = table.clone();
    if let Some(key) = budget {
        remove_dotted(&mut table, key);
    }
    let mut text = String::new();
    canonical(&toml::Value::Table(table), &mut text);
    format!("fnv1a64:{:016x}", fnv1a(text.as_bytes()))
}

/// Removes `a.b.c` from a table.
fn remove_dotted(table: &mut toml::Table, key: &str) {
    match key.split_once('.') {
        None => {
            table.remove(key);
        }
        Some((head, rest)) => {
            if let Some(toml::Value::Table(t)) = table.get_mut(head) {
                remove_dotted(t, rest);
            }
        }
    }
}

/// 64-bit FNV-1a: a digest to tell a file changed, not a defence against forgery.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
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
    let mut state = json!({
        "kind": kind,
        "config": config,
        "steps": cp.steps,
        "rng": cp.rng,
        "solver": solver,
        "observers": observers,
    });
    let bytes = cg_nn::artifact::save_tensors(&tensors, true, &[("kind", kind.to_string())])
        .map_err(|e| anyhow!("{STATE_TENSORS}: {e}"))?;
    state["digest"] = Value::String(digest(&state, &bytes));
    Ok(vec![crate::json_file(STATE_JSON, &state)?, (STATE_TENSORS.to_string(), bytes)])
}

/// The digest that ties `state.json` (without its `digest`) to `state.safetensors`: an edited or
/// mismatched pair is refused by [`load`].
fn digest(state: &Value, tensors: &[u8]) -> String {
    let mut state = state.clone();
    if let Some(o) = state.as_object_mut() {
        o.remove("digest");
    }
    let mut bytes = serde_json::to_vec(&state).expect("internal: JSON values serialise");
    bytes.extend_from_slice(&fnv1a(tensors).to_le_bytes());
    format!("fnv1a64:{:016x}", fnv1a(&bytes))
}

/// Reads the stopped run in `dir`.
///
/// # Errors
/// A missing or malformed state file, naming it.
pub fn load(dir: &Path) -> Result<SavedRun> {
    let json_path = dir.join(STATE_JSON);
    let text = std::fs::read_to_string(&json_path).with_context(|| {
        format!(
            "cannot read {}: --resume takes the folder of a run stopped early (Ctrl-C, --stop-after) or run with --checkpoint-every (which keeps its final state)",
            json_path.display()
        )
    })?;
    let bad = |what: &str| anyhow!("{}: {what}", json_path.display());
    let state: Value = serde_json::from_str(&text).map_err(|e| bad(&e.to_string()))?;
    let text_field = |k: &str| state[k].as_str().map(str::to_string).ok_or_else(|| bad(&format!("no `{k}`")));
    let (kind, config) = (text_field("kind")?, text_field("config")?);
    let steps = state["steps"].as_u64().ok_or_else(|| bad("no `steps`"))? as usize;
    let rng: RngPosition = serde_json::from_value(state["rng"].clone()).map_err(|e| bad(&format!("rng: {e}")))?;
    let tensor_path = dir.join(STATE_TENSORS);
    let bytes = std::fs::read(&tensor_path).with_context(|| format!("cannot read {}", tensor_path.display()))?;
    if state["digest"].as_str() != Some(digest(&state, &bytes).as_str()) {
        bail!(
            "{} and {} do not belong together (edited, damaged, or from two runs): resume from a folder as the run left it",
            json_path.display(),
            tensor_path.display()
        );
    }
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
    // A recorder keeps one record per step done.
    for (k, o) in observers.iter().enumerate() {
        if let Some(records) = o.values.get("records").and_then(Value::as_array) {
            if records.len() != steps {
                bail!("{}: {steps} steps done, but observer {k} recorded {}", json_path.display(), records.len());
            }
        }
    }
    Ok(SavedRun { dir: dir.to_path_buf(), kind, config, checkpoint: Checkpoint { steps, rng, solver, observers } })
}

//! Comparing a fresh run with stored results: JSON numbers within a relative tolerance, every
//! other text file byte for byte.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::{CheckScope, Outcome};

/// Relative tolerance for numbers: |a - b| <= REL · max(|a|, |b|) + ABS. The absolute part only
/// matters for numbers that are zero up to rounding (differences of equal derivatives).
pub const REL: f64 = 1e-12;
/// See [`REL`].
pub const ABS: f64 = 1e-15;

/// Files never compared: timings vary between runs (and are not committed), and figures are
/// drawn from numbers that are compared.
fn compared(name: &str) -> bool {
    name != "timing.json" && !name.ends_with(".png") && !name.ends_with(".svg")
}

/// Checks `outcome` against the files stored in `dir`.
///
/// # Errors
/// The first difference, as `FILE: PATH: stored X, got Y`, or a missing stored file.
pub fn against_stored(outcome: &Outcome, dir: &Path) -> Result<()> {
    for (name, bytes) in outcome.files.iter().filter(|(n, _)| compared(n)) {
        let path = dir.join(name);
        let stored = std::fs::read(&path).with_context(|| format!("no stored result {}", path.display()))?;
        if name.ends_with(".json") {
            let a: Value =
                serde_json::from_slice(&stored).with_context(|| format!("{} is not JSON", path.display()))?;
            let b: Value = serde_json::from_slice(bytes)?;
            let diff = match outcome.check {
                CheckScope::Full => first_difference(&a, &b, ""),
                CheckScope::CurvePrefix(n) => curve_prefix_difference(&a, &b, n),
                CheckScope::Subset => subset_difference(&a, &b, ""),
            };
            if let Some(diff) = diff {
                bail!("{}: {diff}", path.display());
            }
        } else if name.ends_with(".safetensors") {
            // The trained parameters: a shortened run's are not the stored full run's; a full
            // run's must match number for number.
            if outcome.check == CheckScope::Full {
                if let Some(diff) = tensor_difference(&stored, bytes) {
                    bail!("{}: {diff}", path.display());
                }
            }
        } else if stored != *bytes {
            bail!("{}: differs from this run", path.display());
        }
    }
    Ok(())
}

/// The first tensor entry that differs beyond the tolerance, or a different set of tensors.
fn tensor_difference(stored: &[u8], fresh: &[u8]) -> Option<String> {
    let (a, b) = match (cg_nn::artifact::load(stored), cg_nn::artifact::load(fresh)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Some(e.to_string()),
    };
    if a.iter().map(|t| (&t.0, &t.1)).ne(b.iter().map(|t| (&t.0, &t.1))) {
        return Some("the tensors' names or shapes differ".into());
    }
    for ((name, _, x), (_, _, y)) in a.iter().zip(&b) {
        if let Some(k) = x.iter().zip(y).position(|(p, q)| (p - q).abs() > REL * p.abs().max(q.abs()) + ABS) {
            return Some(format!("{name}[{k}]: stored {}, got {}", x[k], y[k]));
        }
    }
    None
}

/// Compares the first `n` values of every `*_curve` array of a shortened run with the stored
/// full run.
fn curve_prefix_difference(stored: &Value, fresh: &Value, n: usize) -> Option<String> {
    let fresh = fresh.as_object()?;
    for (k, v) in fresh.iter().filter(|(k, _)| k.ends_with("_curve")) {
        let (Some(s), Some(f)) = (stored.get(k).and_then(Value::as_array), v.as_array()) else {
            if stored.get(k) != Some(v) {
                return Some(format!("{k}: stored {}, got {v}", stored.get(k).unwrap_or(&Value::Null)));
            }
            continue;
        };
        if s.len() < n || f.len() != n {
            return Some(format!("{k}: stored {} values, a {n}-epoch check run made {}", s.len(), f.len()));
        }
        let (s, f) = (Value::Array(s[..n].to_vec()), Value::Array(f.clone()));
        if let Some(d) = first_difference(&s, &f, k) {
            return Some(d);
        }
    }
    None
}

/// Like [`first_difference`], but `fresh` may leave keys out and its arrays may be shorter: the
/// stored results of a full run must contain the shortened run.
fn subset_difference(stored: &Value, fresh: &Value, at: &str) -> Option<String> {
    match (stored, fresh) {
        (Value::Object(a), Value::Object(b)) => b.iter().find_map(|(k, v)| match a.get(k) {
            Some(s) => subset_difference(s, v, &join(at, k)),
            None => Some(format!("{}: `{k}` is not in the stored results", if at.is_empty() { "(top)" } else { at })),
        }),
        (Value::Array(a), Value::Array(b)) if b.len() <= a.len() => {
            a.iter().zip(b).enumerate().find_map(|(k, (x, y))| subset_difference(x, y, &join(at, &k.to_string())))
        }
        _ => first_difference(stored, fresh, at),
    }
}

/// The first place where `stored` and `fresh` differ beyond the tolerance, if any.
pub fn first_difference(stored: &Value, fresh: &Value, at: &str) -> Option<String> {
    let here = if at.is_empty() { "(top)".to_string() } else { at.to_string() };
    match (stored, fresh) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64()?, b.as_f64()?);
            let ok = (a - b).abs() <= REL * a.abs().max(b.abs()) + ABS;
            (!ok).then(|| format!("{here}: stored {a}, got {b}"))
        }
        (Value::Object(a), Value::Object(b)) => {
            if let Some(k) = a.keys().find(|k| !b.contains_key(*k)) {
                return Some(format!("{here}: `{k}` is stored but missing from this run"));
            }
            if let Some(k) = b.keys().find(|k| !a.contains_key(*k)) {
                return Some(format!("{here}: `{k}` is new in this run"));
            }
            a.iter().find_map(|(k, v)| first_difference(v, &b[k], &join(at, k)))
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Some(format!("{here}: stored {} items, got {}", a.len(), b.len()));
            }
            a.iter().zip(b).enumerate().find_map(|(k, (x, y))| first_difference(x, y, &join(at, &k.to_string())))
        }
        (a, b) if a == b => None,
        (a, b) => Some(format!("{here}: stored {a}, got {b}")),
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_within_tolerance_match_and_others_are_reported_with_their_path() {
        let a = json!({"x": {"y": [1.0, 2.0]}, "s": "a"});
        assert_eq!(first_difference(&a, &json!({"x": {"y": [1.0, 2.0 + 1e-13]}, "s": "a"}), ""), None);
        assert_eq!(
            first_difference(&a, &json!({"x": {"y": [1.0, 2.1]}, "s": "a"}), ""),
            Some("x.y.1: stored 2, got 2.1".into())
        );
        assert_eq!(
            first_difference(&a, &json!({"x": {"y": [1.0, 2.0]}}), ""),
            Some("(top): `s` is stored but missing from this run".into())
        );
    }
}

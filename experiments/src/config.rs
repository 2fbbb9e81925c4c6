//! Reading a config file: TOML syntax, then the `kind`, then the kind's own fields. Reading never
//! runs anything; every error is one line that says where the problem is.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use serde::de::DeserializeOwned;

use crate::kinds::{self, Experiment};

/// Reads and validates the config at `path`.
///
/// # Errors
/// A missing or unreadable file, malformed TOML (with line and column), an unknown kind or field,
/// or a value that fails validation (naming the field).
pub fn load(path: &Path) -> Result<Box<dyn Experiment>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&text, path.parent().unwrap_or(Path::new(".")))
}

/// One `key.path=value` from the command line: the value is read as TOML (`0.05`, `true`,
/// `[1, 2]`, `"text"`), or taken as text when it is not TOML (`method=adam`).
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// The keys leading to the value.
    pub path: Vec<String>,
    /// The value.
    pub value: toml::Value,
    /// As written, for messages.
    pub text: String,
}

impl Override {
    /// Parses `key.path=value`.
    ///
    /// # Errors
    /// No `=`, or an empty key or path segment.
    pub fn parse(arg: &str) -> Result<Override> {
        let Some((key, raw)) = arg.split_once('=') else { bail!("{arg}: an override is key.path=value") };
        let path: Vec<String> = key.trim().split('.').map(|s| s.trim().to_string()).collect();
        if path.iter().any(String::is_empty) {
            bail!("{arg}: an empty key");
        }
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.to_string()));
        Ok(Override { path, value, text: arg.to_string() })
    }

    /// Sets the value in `table`, creating missing tables; a number takes the type (integer or
    /// float) of the value it replaces.
    fn apply(&self, table: &mut toml::Table) -> Result<()> {
        let (last, parents) = self.path.split_last().expect("internal: a non-empty path");
        let mut at = table;
        for (k, key) in parents.iter().enumerate() {
            let entry = at.entry(key.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            at = match entry {
                toml::Value::Table(t) => t,
                _ => bail!("{}: `{}` is not a table", self.text, self.path[..=k].join(".")),
            };
        }
        let value = match (at.get(last), &self.value) {
            (Some(toml::Value::Float(_)), toml::Value::Integer(i)) => toml::Value::Float(*i as f64),
            _ => self.value.clone(),
        };
        at.insert(last.clone(), value);
        Ok(())
    }
}

/// Reads the config at `path`, applies `overrides` in order, and validates the result: an
/// unknown key or a value of the wrong type is one line naming the override.
///
/// # Errors
/// As [`load`], or an override that does not fit the kind's config.
pub fn load_with(path: &Path, overrides: &[Override]) -> Result<Box<dyn Experiment>> {
    if overrides.is_empty() {
        return load(path);
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    load_text_with(&text, path.parent().unwrap_or(Path::new(".")), overrides)
}

/// As [`load_with`] for config text whose data paths are relative to `base`.
///
/// # Errors
/// As [`parse`], or an override that does not fit the kind's config.
pub fn load_text_with(text: &str, base: &Path, overrides: &[Override]) -> Result<Box<dyn Experiment>> {
    if overrides.is_empty() {
        return parse(text, base);
    }
    let table = resolved_text(text, overrides)?;
    let resolved = toml::to_string(&table)?;
    parse(&resolved, base).map_err(|e| {
        // Name the override whose key the message or its line mentions.
        let message = format!("{e:#}");
        let line = message
            .strip_prefix("line ")
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| resolved.lines().nth(n - 1))
            .unwrap_or("");
        let culprit = overrides.iter().rev().find(|o| {
            let key = o.path.last().expect("internal: a non-empty path");
            line.trim_start().starts_with(&format!("{key} ")) || message.contains(&format!("`{key}`"))
        });
        match culprit {
            Some(o) => anyhow!("{}: {}", o.text, message.split_once(": ").map_or(message.as_str(), |(_, m)| m)),
            None => anyhow!("with the overrides: {message}"),
        }
    })
}

/// The config at `path` as a TOML table, with `overrides` applied in order.
///
/// # Errors
/// An unreadable file, malformed TOML, or an override into a value that is not a table.
pub fn resolved(path: &Path, overrides: &[Override]) -> Result<toml::Table> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    resolved_text(&text, overrides)
}

/// Config text as a TOML table, with `overrides` applied in order.
///
/// # Errors
/// Malformed TOML, or an override into a value that is not a table.
pub fn resolved_text(text: &str, overrides: &[Override]) -> Result<toml::Table> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| located(text, &e))?;
    for o in overrides {
        o.apply(&mut table)?;
    }
    Ok(table)
}

/// Parses and validates config text; data paths are relative to `base`.
///
/// # Errors
/// As [`load`], without the file part.
pub fn parse(text: &str, base: &Path) -> Result<Box<dyn Experiment>> {
    let table: toml::Table = toml::from_str(text).map_err(|e| located(text, &e))?;
    let kind = match table.get("kind") {
        Some(toml::Value::String(kind)) => kind.as_str(),
        Some(_) => bail!("kind: must be a string, one of {}", kinds::names()),
        None => bail!("kind: missing; one of {}", kinds::names()),
    };
    match kinds::find(kind) {
        Some(k) => k.load(text, base),
        None => bail!("kind: unknown kind `{kind}`; known kinds: {}", kinds::names()),
    }
}

/// The whole config text as `T`, errors located by line and column.
pub(crate) fn typed<T: DeserializeOwned>(text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| located(text, &e))
}

/// `line L, column C: message` on one line.
fn located(text: &str, e: &toml::de::Error) -> anyhow::Error {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            anyhow!("line {line}, column {column}: {message}")
        }
        None => anyhow!("{message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        format!("{:#}", parse(text, Path::new(".")).err().unwrap())
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let e = err("kind = \"graph\"\n[graph\n");
        assert!(e.starts_with("line 2, column"), "{e}");
    }

    #[test]
    fn unknown_kind_lists_the_known_ones() {
        assert_eq!(err("kind = \"hopfeld\""), format!("kind: unknown kind `hopfeld`; known kinds: {}", kinds::names()));
        assert_eq!(err("x = 1"), format!("kind: missing; one of {}", kinds::names()));
        assert!(kinds::names().starts_with("graph, mlp, "));
    }

    #[test]
    fn unknown_fields_are_rejected_with_their_place() {
        let e = err("kind = \"graph\"\n[graph]\noutputs = [\"y\"]\nnodez = 3\n[graph.nodes]\ny = \"1\"\n");
        assert!(e.starts_with("line 4, column 1: unknown field `nodez`"), "{e}");
    }
}

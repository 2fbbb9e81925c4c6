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

//! BIF: tokens, the blocks of a file, conditional tables row by row, and writing.

use std::fmt::Write as _;

use crate::bayes::{row_fault, RowFault};
use crate::{BayesianNetwork, VariableSpec};

use super::*;

/// A word of a network file and the line it is on.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Token {
    text: String,
    line: usize,
}

/// Splits BIF text into words and the punctuation `{ } ( ) [ ] , ; |`, dropping comments.
pub(super) fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = vec![];
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let start = line;
                let mut last = ' ';
                loop {
                    match chars.next() {
                        Some('/') if last == '*' => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            last = c;
                        }
                        None => return Err(format!("line {start}: a comment that never ends")),
                    }
                }
            }
            '{' | '}' | '(' | ')' | '[' | ']' | ',' | ';' | '|' => out.push(Token { text: c.to_string(), line }),
            '"' => {
                let mut word = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\n') | None => return Err(format!("line {line}: a quoted name that never ends")),
                        Some(c) => word.push(c),
                    }
                }
                out.push(Token { text: word, line });
            }
            c => {
                let mut word = c.to_string();
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || "{}()[],;|\"".contains(n) {
                        break;
                    }
                    word.push(n);
                    chars.next();
                }
                out.push(Token { text: word, line });
            }
        }
    }
    Ok(out)
}

/// A cursor over the tokens with located errors.
pub(super) struct Cursor {
    tokens: Vec<Token>,
    at: usize,
}

impl Cursor {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(|t| t.text.as_str())
    }

    fn line(&self) -> usize {
        self.tokens.get(self.at).or(self.tokens.last()).map_or(1, |t| t.line)
    }

    fn next(&mut self, what: &str) -> Result<String, String> {
        let t = self
            .tokens
            .get(self.at)
            .ok_or_else(|| format!("line {}: the file ends where {what} was expected", self.line()))?;
        self.at += 1;
        Ok(t.text.clone())
    }

    fn expect(&mut self, text: &str) -> Result<(), String> {
        let line = self.line();
        let got = self.next(&format!("`{text}`"))?;
        if got == text {
            Ok(())
        } else {
            Err(format!("line {line}: expected `{text}`, found `{got}`"))
        }
    }

    fn name(&mut self, what: &str) -> Result<String, String> {
        let line = self.line();
        let got = self.next(what)?;
        if got.len() == 1 && "{}()[],;|".contains(got.as_str()) {
            return Err(format!("line {line}: expected {what}, found `{got}`"));
        }
        Ok(got)
    }

    /// Skips to the end of the current `;`-terminated statement.
    fn skip_statement(&mut self) -> Result<(), String> {
        while self.next("`;`")? != ";" {}
        Ok(())
    }

    /// Skips a `{ ... }` block, nested ones included.
    fn skip_block(&mut self) -> Result<(), String> {
        self.expect("{")?;
        let mut depth = 1;
        while depth > 0 {
            match self.next("`}`")?.as_str() {
                "{" => depth += 1,
                "}" => depth -= 1,
                _ => {}
            }
        }
        Ok(())
    }

    /// Numbers up to `;`, separated by commas or spaces.
    fn numbers(&mut self) -> Result<Vec<f64>, String> {
        let mut out = vec![];
        loop {
            let line = self.line();
            let t = self.next("a number or `;`")?;
            match t.as_str() {
                ";" => return Ok(out),
                "," => {}
                _ => out.push(t.parse::<f64>().map_err(|_| format!("line {line}: `{t}` is not a number"))?),
            }
        }
    }
}

/// The variables of a BIF file, in the order the file declares them, with their tables.
///
/// ```
/// let text = "variable rain { type discrete [ 2 ] { no, yes }; }\n\
///             probability ( rain ) { table 0.8, 0.2; }";
/// let specs = cg_pgm::files::read_bif(text).unwrap();
/// assert_eq!(specs[0].cpt, vec![vec![0.8, 0.2]]);
/// let e = cg_pgm::files::read_bif("variable rain {").unwrap_err();
/// assert!(matches!(e, cg_pgm::files::FileError::Bif { line: Some(1), .. }), "{e}");
/// ```
///
/// # Errors
/// A syntax error or a table that does not fit its variables ([`FileError::Bif`], with the
/// line).
pub fn read_bif(text: &str) -> Result<Vec<VariableSpec>, FileError> {
    bif_specs(text).map_err(|m| {
        let (line, message) = place(m, "line ");
        FileError::Bif { line, message }
    })
}

pub(super) fn bif_specs(text: &str) -> Result<Vec<VariableSpec>, String> {
    let mut c = Cursor { tokens: tokens(text)?, at: 0 };
    let mut specs: Vec<VariableSpec> = vec![];
    let mut tables: Vec<(usize, String, Vec<String>, Vec<Row>)> = vec![];
    // Each declared variable's place in `specs`, by name.
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    while let Some(word) = c.peek() {
        let line = c.line();
        match word {
            "network" => {
                c.next("network")?;
                while c.peek() != Some("{") {
                    c.next("`{`")?;
                }
                c.skip_block()?;
            }
            "variable" => {
                c.next("variable")?;
                let name = c.name("a variable name")?;
                c.expect("{")?;
                let mut states = None;
                loop {
                    match c.next("`type`, `property` or `}`")?.as_str() {
                        "}" => break,
                        "type" => {
                            let l = c.line();
                            let kind = c.next("`discrete`")?;
                            if kind != "discrete" {
                                return Err(format!(
                                    "line {l}: variable `{name}` is `{kind}`; only discrete variables are read"
                                ));
                            }
                            c.expect("[")?;
                            let l = c.line();
                            let k = c.next("a number of states")?;
                            let k: usize =
                                k.parse().map_err(|_| format!("line {l}: `{k}` is not a number of states"))?;
                            c.expect("]")?;
                            c.expect("{")?;
                            let mut names = vec![];
                            loop {
                                let t = c.next("a state name or `}`")?;
                                match t.as_str() {
                                    "}" => break,
                                    "," => {}
                                    _ => names.push(t),
                                }
                            }
                            c.expect(";")?;
                            if names.len() != k {
                                return Err(format!(
                                    "line {l}: variable `{name}` declares {k} states and lists {}",
                                    names.len()
                                ));
                            }
                            states = Some(names);
                        }
                        _ => c.skip_statement()?,
                    }
                }
                let states =
                    states.ok_or_else(|| format!("line {line}: variable `{name}` has no `type discrete` line"))?;
                if index.insert(name.clone(), specs.len()).is_some() {
                    return Err(format!("line {line}: variable `{name}` is declared twice"));
                }
                specs.push(VariableSpec { name, states, parents: vec![], cpt: vec![] });
            }
            "probability" => {
                c.next("probability")?;
                c.expect("(")?;
                let child = c.name("a variable name")?;
                let mut parents = vec![];
                if c.peek() == Some("|") {
                    c.next("`|`")?;
                    loop {
                        parents.push(c.name("a parent name")?);
                        match c.next("`,` or `)`")?.as_str() {
                            "," => {}
                            ")" => break,
                            t => return Err(format!("line {}: expected `,` or `)`, found `{t}`", c.line())),
                        }
                    }
                } else {
                    c.expect(")")?;
                }
                c.expect("{")?;
                let mut rows = vec![];
                loop {
                    let l = c.line();
                    match c.next("a table entry or `}`")?.as_str() {
                        "}" => break,
                        "table" => rows.push(Row::Table(c.numbers()?, l)),
                        "default" => rows.push(Row::Default(c.numbers()?, l)),
                        "(" => {
                            let mut config = vec![];
                            loop {
                                let t = c.next("a parent state or `)`")?;
                                match t.as_str() {
                                    ")" => break,
                                    "," => {}
                                    _ => config.push(t),
                                }
                            }
                            rows.push(Row::Given(config, c.numbers()?, l));
                        }
                        _ => c.skip_statement()?,
                    }
                }
                tables.push((line, child, parents, rows));
            }
            other => {
                return Err(format!("line {line}: expected `network`, `variable` or `probability`, found `{other}`"))
            }
        }
    }
    for (line, child, parents, rows) in tables {
        let k = index
            .get(&child)
            .copied()
            .ok_or_else(|| format!("line {line}: probability of `{child}`, which no `variable` block declares"))?;
        if !specs[k].cpt.is_empty() {
            return Err(format!("line {line}: a second probability block for `{child}`"));
        }
        if let Some(p) = crate::repeated(&parents) {
            return Err(format!("line {line}: `{p}` is listed twice among the parents of `{child}`"));
        }
        if parents.contains(&child) {
            return Err(format!("line {line}: `{child}` is listed among its own parents"));
        }
        let parent_states: Vec<Vec<String>> = parents
            .iter()
            .map(|p| {
                index
                    .get(p)
                    .map(|&j| specs[j].states.clone())
                    .ok_or_else(|| format!("line {line}: unknown parent `{p}` of `{child}`"))
            })
            .collect::<Result<_, _>>()?;
        let cpt = conditional_table(line, &child, specs[k].states.len(), &parent_states, rows)?;
        specs[k].parents = parents;
        specs[k].cpt = cpt;
    }
    if let Some(s) = specs.iter().find(|s| s.cpt.is_empty()) {
        return Err(format!("variable `{}` has no probability block", s.name));
    }
    Ok(specs)
}

/// An entry of a probability block.
pub(super) enum Row {
    Table(Vec<f64>, usize),
    Default(Vec<f64>, usize),
    Given(Vec<String>, Vec<f64>, usize),
}

/// The rows P(child | configuration), configurations in order (last parent fastest).
pub(super) fn conditional_table(
    line: usize,
    child: &str,
    k: usize,
    parent_states: &[Vec<String>],
    rows: Vec<Row>,
) -> Result<Vec<Vec<f64>>, String> {
    let configurations = parent_states.iter().try_fold(1usize, |n, s| n.checked_mul(s.len()));
    let entries = configurations.and_then(|c| c.checked_mul(k));
    let Some(configurations) = configurations.filter(|_| entries.is_some_and(|e| e <= crate::bayes::MAX_TABLE_ENTRIES))
    else {
        let size = entries.map_or_else(|| "more than 2^64".to_string(), |e| e.to_string());
        return Err(format!(
            "line {line}: the table of `{child}` would hold {size} entries, more than the {} allowed",
            crate::bayes::MAX_TABLE_ENTRIES
        ));
    };
    let mut cpt: Vec<Option<Vec<f64>>> = vec![None; configurations];
    // The line each configuration's row came from, to name a row given twice.
    let mut given_on: Vec<Option<usize>> = vec![None; configurations];
    let mut default = None;
    // One rule for every format (TOML, BIF, UAI): each row a distribution, said with its line.
    let distribution = |row: &[f64], l: usize| -> Result<(), String> {
        match row_fault(row) {
            Some(RowFault::Entry(p)) => {
                Err(format!("line {l}: {p} in a row of `{child}` is not a probability (negative or not finite)"))
            }
            Some(RowFault::Sum(sum)) => Err(format!("line {l}: a row of `{child}` sums to {sum}, not 1")),
            None => Ok(()),
        }
    };
    let describe = |r: usize| -> String {
        let mut rest = r;
        let mut names = vec![""; parent_states.len()];
        for (j, states) in parent_states.iter().enumerate().rev() {
            names[j] = &states[rest % states.len()];
            rest /= states.len();
        }
        format!("( {} )", names.join(", "))
    };
    for row in rows {
        match row {
            Row::Table(values, l) => {
                if values.len() != k * configurations {
                    return Err(format!(
                        "line {l}: the table of `{child}` has {} numbers for {k} states x {configurations} parent configurations",
                        values.len()
                    ));
                }
                // The child's states slowest: values[s * configurations + r].
                for (r, slot) in cpt.iter_mut().enumerate() {
                    let row: Vec<f64> = (0..k).map(|s| values[s * configurations + r]).collect();
                    distribution(&row, l)?;
                    *slot = Some(row);
                }
            }
            Row::Default(values, l) => {
                if values.len() != k {
                    return Err(format!(
                        "line {l}: the default row of `{child}` has {} numbers for {k} states",
                        values.len()
                    ));
                }
                distribution(&values, l)?;
                default = Some(values);
            }
            Row::Given(config, values, l) => {
                if config.len() != parent_states.len() || values.len() != k {
                    return Err(format!(
                        "line {l}: a row of `{child}` needs {} parent states and {k} numbers",
                        parent_states.len()
                    ));
                }
                let mut r = 0;
                for (name, states) in config.iter().zip(parent_states) {
                    let s = states
                        .iter()
                        .position(|x| x == name)
                        .ok_or_else(|| format!("line {l}: `{name}` is not a state of a parent of `{child}`"))?;
                    r = r * states.len() + s;
                }
                if let Some(first) = given_on[r] {
                    return Err(format!(
                        "line {l}: the row {} of `{child}` is given twice (first on line {first})",
                        describe(r)
                    ));
                }
                distribution(&values, l)?;
                given_on[r] = Some(l);
                cpt[r] = Some(values);
            }
        }
    }
    cpt.into_iter()
        .enumerate()
        .map(|(r, row)| {
            row.or_else(|| default.clone())
                .ok_or_else(|| format!("line {line}: `{child}` has no row for {} (and no `default` row)", describe(r)))
        })
        .collect()
}

/// A name BIF can carry unquoted, as a network, variable or state name (a `/` is fine, as in
/// child's `Asy/Patch`, unless it starts a comment).
pub fn plain(name: &str) -> bool {
    !name.is_empty()
        && !name.chars().any(|c| c.is_whitespace() || "{}()[],;|\"".contains(c))
        && !name.contains("//")
        && !name.contains("/*")
}

/// The network as BIF: variables in id order, explicit rows for conditional tables.
///
/// # Errors
/// A variable or state name BIF cannot hold (spaces, punctuation): [`FileError::Unwritable`].
pub fn write_bif(bn: &BayesianNetwork) -> Result<String, FileError> {
    write_bif_named(bn, "unknown")
}

/// The name a BIF file gives its network (`network alarm { ... }`), when it gives one.
pub fn bif_name(text: &str) -> Option<String> {
    let tokens = tokens(text).ok()?;
    let at = tokens.iter().position(|t| t.text == "network")?;
    tokens.get(at + 1).map(|t| t.text.clone()).filter(|n| n != "{" && plain(n))
}

/// [`write_bif`] with the network named `name` (`unknown` when the name is not a plain BIF word).
///
/// # Errors
/// As [`write_bif`].
pub fn write_bif_named(bn: &BayesianNetwork, name: &str) -> Result<String, FileError> {
    for (name, states) in bn.names.iter().zip(&bn.states) {
        if let Some(bad) = std::iter::once(name).chain(states).find(|n| !plain(n)) {
            return Err(FileError::Unwritable(format!(
                "`{bad}` (of variable `{name}`) cannot be written to BIF: no spaces or punctuation"
            )));
        }
    }
    let name = if plain(name) { name } else { "unknown" };
    let mut out = format!("network {name} {{\n}}\n");
    for (name, states) in bn.names.iter().zip(&bn.states) {
        let _ =
            writeln!(out, "variable {name} {{\n  type discrete [ {} ] {{ {} }};\n}}", states.len(), states.join(", "));
    }
    for (v, name) in bn.names.iter().enumerate() {
        let parents = &bn.parents[v];
        let factor = &bn.factors[v];
        // The table's entry for (parent states, child state), whatever order its variables sit in.
        let value = |config: &[usize], x: usize| {
            let mut index = 0;
            for (&u, &card) in factor.vars.iter().zip(&factor.cards) {
                let s =
                    if u == v { x } else { config[parents.iter().position(|&p| p == u).expect("internal: a parent")] };
                index = index * card + s;
            }
            factor.values[index]
        };
        let row = |config: &[usize]| {
            (0..bn.cards[v]).map(|x| format!("{:?}", value(config, x))).collect::<Vec<_>>().join(", ")
        };
        if parents.is_empty() {
            let _ = writeln!(out, "probability ( {name} ) {{\n  table {};\n}}", row(&[]));
            continue;
        }
        let names: Vec<&str> = parents.iter().map(|&p| bn.names[p].as_str()).collect();
        let _ = writeln!(out, "probability ( {name} | {} ) {{", names.join(", "));
        let cards: Vec<usize> = parents.iter().map(|&p| bn.cards[p]).collect();
        let mut config = vec![0; parents.len()];
        loop {
            let states: Vec<&str> = parents.iter().zip(&config).map(|(&p, &s)| bn.states[p][s].as_str()).collect();
            let _ = writeln!(out, "  ( {} ) {};", states.join(", "), row(&config));
            if !crate::factor::advance(&mut config, &cards) {
                break;
            }
        }
        out.push_str("}\n");
    }
    Ok(out)
}

//! The network files other tools exchange: BIF for Bayesian networks (the bnlearn repository,
//! pgmpy, R's bnlearn, GeNIe) and UAI for Markov networks (the UAI inference competitions).
//!
//! BIF as read here: `network` blocks (skipped), `variable NAME { type discrete [ K ] { s1, ...
//! }; property ...; }` and `probability ( CHILD | PARENT, ... ) { ... }` holding rows
//! `( parent states ) p1, ..., pK;`, a `default` row for configurations not listed, or one
//! `table` of all numbers: for a variable without parents its distribution, with parents the
//! child's states slowest and the parent configurations fastest (what pgmpy reads and writes).
//! `//` and `/* */` comments are skipped and names may be quoted. Written: rows for every
//! conditional table, numbers in Rust's shortest round-trip form, so reading back is exact.

use std::fmt::Write as _;

use crate::bayes::{row_fault, RowFault};
use crate::{BayesianNetwork, FactorSpec, MarkovNetwork, StatesSpec, VariableSpec};

/// A word of a network file and the line it is on.
#[derive(Clone, Debug, PartialEq)]
struct Token {
    text: String,
    line: usize,
}

/// Splits BIF text into words and the punctuation `{ } ( ) [ ] , ; |`, dropping comments.
fn tokens(text: &str) -> Result<Vec<Token>, String> {
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
struct Cursor {
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

/// Why a network file cannot be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// A BIF file that does not follow the format or whose tables do not fit; `line` is 1-based
    /// when the fault has one.
    #[error("{}{message}", line.map_or(String::new(), |l| format!("line {l}: ")))]
    Bif {
        /// The line, from 1, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A UAI file that does not follow the format; `word` is 1-based when the fault has one.
    #[error("{}{message}", word.map_or(String::new(), |w| format!("word {w}: ")))]
    Uai {
        /// The word, from 1, when known.
        word: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A network the format cannot hold (a name with spaces or punctuation in BIF).
    #[error("{0}")]
    Unwritable(String),
}

/// `prefix N: rest` as (Some(N), rest); anything else as (None, all of it).
fn place(message: String, prefix: &str) -> (Option<usize>, String) {
    let parsed = message.strip_prefix(prefix).and_then(|rest| {
        let (n, rest) = rest.split_once(": ")?;
        Some((n.parse().ok()?, rest.to_string()))
    });
    match parsed {
        Some((n, rest)) => (Some(n), rest),
        None => (None, message),
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

fn bif_specs(text: &str) -> Result<Vec<VariableSpec>, String> {
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
enum Row {
    Table(Vec<f64>, usize),
    Default(Vec<f64>, usize),
    Given(Vec<String>, Vec<f64>, usize),
}

/// The rows P(child | configuration), configurations in order (last parent fastest).
fn conditional_table(
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

/// A name BIF can carry unquoted (a `/` is fine, as in child's `Asy/Patch`, unless it starts a
/// comment).
fn plain(name: &str) -> bool {
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
    for (name, states) in bn.names.iter().zip(&bn.states) {
        if let Some(bad) = std::iter::once(name).chain(states).find(|n| !plain(n)) {
            return Err(FileError::Unwritable(format!(
                "`{bad}` (of variable `{name}`) cannot be written to BIF: no spaces or punctuation"
            )));
        }
    }
    let mut out = String::from("network unknown {\n}\n");
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

/// A UAI file (`MARKOV` or `BAYES`): variables named x0, x1, ... with states 0, 1, ...; each
/// function table over its scope as listed, the last variable fastest.
///
/// # Errors
/// A file that does not follow the format, with what was expected ([`FileError::Uai`]).
pub fn read_uai(text: &str) -> Result<(Vec<StatesSpec>, Vec<FactorSpec>), FileError> {
    uai_specs(text).map_err(|m| {
        let (word, message) = place(m, "word ");
        FileError::Uai { word, message }
    })
}

fn uai_specs(text: &str) -> Result<(Vec<StatesSpec>, Vec<FactorSpec>), String> {
    let mut w = Words { words: text.split_whitespace().collect(), at: 0 };
    let kind = w.word("MARKOV or BAYES")?;
    if kind != "MARKOV" && kind != "BAYES" {
        return Err(format!("the first word is `{kind}`, not MARKOV or BAYES"));
    }
    // Every declared size is checked against the words the file holds before anything of that
    // size is allocated: a tiny file cannot ask for a huge table or state list.
    let n = w.count("the number of variables")?;
    let cards: Vec<usize> = (0..n).map(|_| w.count("a cardinality")).collect::<Result<_, _>>()?;
    let m = w.count("the number of functions")?;
    let mut scopes = vec![];
    for f in 0..m {
        let k = w.count("a scope size")?;
        let scope: Vec<usize> = (0..k).map(|_| w.int("a variable index")).collect::<Result<_, _>>()?;
        if let Some(&v) = scope.iter().find(|&&v| v >= n) {
            return Err(format!("function {f}: variable {v} of {n}"));
        }
        scopes.push(scope);
    }
    let mut factors = vec![];
    for (f, scope) in scopes.into_iter().enumerate() {
        let size = w.count("a table size")?;
        let expected = scope.iter().try_fold(1usize, |n, &v| n.checked_mul(cards[v]));
        if expected != Some(size) {
            let states = expected.map_or_else(|| "more than 2^64".to_string(), |e| e.to_string());
            return Err(format!("function {f}: table of {size} entries for a scope of {states} states"));
        }
        let values: Vec<f64> = (0..size).map(|_| w.real("a table entry")).collect::<Result<_, _>>()?;
        if kind == "BAYES" {
            bayes_rows(f, &scope, &cards, &values)?;
        }
        factors.push(FactorSpec { variables: scope.iter().map(|v| format!("x{v}")).collect(), values });
    }
    if let Some(extra) = w.words.get(w.at) {
        return Err(format!("word {}: `{extra}` after the last table (the file should end there)", w.at + 1));
    }
    let variables = cards
        .iter()
        .enumerate()
        .map(|(v, &k)| StatesSpec { name: format!("x{v}"), states: (0..k).map(|s| s.to_string()).collect() })
        .collect();
    Ok((variables, factors))
}

/// Checks a `BAYES` table: P(child | parents) with the child last in its scope (the fastest
/// index), so each run of `cards[child]` entries is one row, a distribution by the rule BIF and
/// TOML tables follow ([`row_fault`]).
fn bayes_rows(f: usize, scope: &[usize], cards: &[usize], values: &[f64]) -> Result<(), String> {
    let Some(&child) = scope.last() else { return Err(format!("function {f}: a BAYES table needs a child")) };
    for (r, row) in values.chunks(cards[child].max(1)).enumerate() {
        match row_fault(row) {
            Some(RowFault::Entry(p)) => {
                return Err(format!("function {f} (child x{child}): row {}: the entry {p} is not a probability", r + 1))
            }
            Some(RowFault::Sum(sum)) => {
                return Err(format!(
                    "function {f} (child x{child}): row {} sums to {sum}, not 1: a BAYES table holds P(child | parents) (use MARKOV for unnormalised factors)",
                    r + 1
                ))
            }
            None => {}
        }
    }
    Ok(())
}

/// The words of a UAI file, read in order.
struct Words<'a> {
    words: Vec<&'a str>,
    at: usize,
}

impl<'a> Words<'a> {
    fn word(&mut self, what: &str) -> Result<&'a str, String> {
        self.at += 1;
        self.words
            .get(self.at - 1)
            .copied()
            .ok_or_else(|| format!("the file ends where {what} was expected (word {})", self.at))
    }

    fn int(&mut self, what: &str) -> Result<usize, String> {
        let w = self.word(what)?;
        w.parse().map_err(|_| format!("word {}: `{w}` is not {what}", self.at))
    }

    /// A count of things the file must then list (variables, states, entries): at most the
    /// words the file holds, so no declared size can be larger than the file.
    fn count(&mut self, what: &str) -> Result<usize, String> {
        let n = self.int(what)?;
        if n > self.words.len() {
            return Err(format!(
                "word {}: {what} of {n}, more than the file's {} words could ever describe",
                self.at,
                self.words.len()
            ));
        }
        Ok(n)
    }

    fn real(&mut self, what: &str) -> Result<f64, String> {
        let w = self.word(what)?;
        w.parse().map_err(|_| format!("word {}: `{w}` is not {what}", self.at))
    }
}

/// The network as a UAI `MARKOV` file (names and state names are not part of the format).
pub fn write_uai(net: &MarkovNetwork) -> String {
    let mut out = format!("MARKOV\n{}\n", net.cards.len());
    out += &net.cards.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
    let _ = write!(out, "\n{}\n", net.factors.len());
    for f in &net.factors {
        let _ =
            writeln!(out, "{} {}", f.vars.len(), f.vars.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "));
    }
    for f in &net.factors {
        let _ = write!(
            out,
            "\n{}\n{}\n",
            f.values.len(),
            f.values.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(" ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asia as pgmpy's BIFWriter writes it: properties, `table` for the roots, rows in any
    /// order for the rest.
    const ASIA: &str = "network unknown {\n}\n\
variable asia {\n    type discrete [ 2 ] { yes, no };\n    property weight = None ;\n}\n\
variable tub {\n    type discrete [ 2 ] { yes, no };\n}\n\
variable smoke {\n    type discrete [ 2 ] { yes, no };\n}\n\
variable lung {\n    type discrete [ 2 ] { yes, no };\n}\n\
variable bronc {\n    type discrete [ 2 ] { yes, no };\n}\n\
variable either {\n    type discrete [ 2 ] { yes, no };\n}\n\
variable xray {\n    type discrete [ 2 ] { yes, no };\n}\n\
variable dysp {\n    type discrete [ 2 ] { yes, no };\n}\n\
probability ( asia ) {\n    table 0.01, 0.99 ;\n}\n\
probability ( tub | asia ) {\n    ( yes ) 0.05, 0.95;\n    ( no ) 0.01, 0.99;\n}\n\
probability ( smoke ) {\n    table 0.5, 0.5 ;\n}\n\
probability ( lung | smoke ) {\n    ( yes ) 0.1, 0.9;\n    ( no ) 0.01, 0.99;\n}\n\
probability ( bronc | smoke ) {\n    ( yes ) 0.6, 0.4;\n    ( no ) 0.3, 0.7;\n}\n\
/* either = lung OR tub */\n\
probability ( either | lung, tub ) {\n    ( yes, yes ) 1.0, 0.0;\n    ( no, yes ) 1.0, 0.0;\n    ( yes, no ) 1.0, 0.0;\n    ( no, no ) 0.0, 1.0;\n}\n\
probability ( xray | either ) {\n    ( yes ) 0.98, 0.02;\n    ( no ) 0.05, 0.95;\n}\n\
probability ( dysp | bronc, either ) {\n    table 0.9, 0.8, 0.7, 0.1, 0.1, 0.2, 0.3, 0.9 ;\n}\n";

    #[test]
    fn reads_asia_as_pgmpy_writes_it() {
        let specs = read_bif(ASIA).unwrap();
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["asia", "tub", "smoke", "lung", "bronc", "either", "xray", "dysp"]);
        let either = &specs[5];
        assert_eq!(either.parents, ["lung", "tub"]);
        assert_eq!(either.cpt, vec![vec![1.0, 0.0], vec![1.0, 0.0], vec![1.0, 0.0], vec![0.0, 1.0]]);
        // The table form, child states slowest: rows (bronc, either) = (yes, yes), (yes, no), ...
        assert_eq!(specs[7].cpt, vec![vec![0.9, 0.1], vec![0.8, 0.2], vec![0.7, 0.3], vec![0.1, 0.9]]);
        let bn = BayesianNetwork::new(&specs).unwrap();
        let again = read_bif(&write_bif(&bn).unwrap()).unwrap();
        assert_eq!(again, specs);
    }

    #[test]
    fn bad_files_say_where() {
        let e = read_bif("variable a {\n type discrete [ 3 ] { x, y };\n}\n").unwrap_err().to_string();
        assert_eq!(e, "line 2: variable `a` declares 3 states and lists 2");
        let e =
            read_bif("variable a {\n type discrete [ 2 ] { x, y };\n}\nprobability ( a | b ) {\n table 0.5, 0.5;\n}\n")
                .unwrap_err()
                .to_string();
        assert_eq!(e, "line 4: unknown parent `b` of `a`");
        let e =
            read_bif("variable a {\n type discrete [ 2 ] { x, y };\n}\nprobability ( a ) {\n table 0.5, zero;\n}\n")
                .unwrap_err()
                .to_string();
        assert_eq!(e, "line 5: `zero` is not a number");
        assert!(read_bif("variable a {\n type discrete [ 2 ] { x, y };\n}\n")
            .unwrap_err()
            .to_string()
            .contains("no probability block"));
        assert!(read_bif("/* open").unwrap_err().to_string().contains("never ends"));
    }

    #[test]
    fn uai_round_trip_is_exact() {
        let text = "MARKOV\n3\n2 2 3\n2\n2 0 1\n2 1 2\n\n4\n 0.1 0.9 1e-300 0.8\n6\n 1 2 3 4 5 6\n";
        let (vars, factors) = read_uai(text).unwrap();
        let net = MarkovNetwork::new(&vars, &factors).unwrap();
        let back =
            MarkovNetwork::new(&read_uai(&write_uai(&net)).unwrap().0, &read_uai(&write_uai(&net)).unwrap().1).unwrap();
        assert_eq!(back.factors, net.factors);
        assert!(read_uai("MARKOV\n2\n2 2\n1\n2 0 5\n").unwrap_err().to_string().contains("variable 5 of 2"));
    }

    #[test]
    fn uai_files_follow_the_rules_of_every_format_and_their_declared_sizes() {
        // BAYES: P(x1 | x0), rows over x1 (last, fastest): one rule with BIF and TOML.
        let good = "BAYES\n2\n2 2\n2\n1 0\n2 0 1\n2\n0.3 0.7\n4\n0.9 0.1 0.2 0.8\n";
        assert!(read_uai(good).is_ok());
        let err = read_uai(&good.replace("0.2 0.8", "0.7 0.8")).unwrap_err().to_string();
        assert!(err.contains("function 1 (child x1): row 2 sums to 1.5"), "{err}");
        // The same numbers as MARKOV factors are fine: a factor need not sum to 1.
        assert!(read_uai(&good.replace("BAYES", "MARKOV").replace("0.2 0.8", "0.7 0.8")).is_ok());
        // Trailing words are not ignored.
        let err = read_uai(&format!("{good} 0.5")).unwrap_err().to_string();
        assert!(err.contains("`0.5` after the last table"), "{err}");
        // Declared sizes beyond the file: no allocation, no overflow.
        let err = read_uai("MARKOV\n1\n10000000000\n0\n").unwrap_err().to_string();
        assert!(err.contains("a cardinality of 10000000000"), "{err}");
        let err = read_uai("MARKOV\n4\n4 4 4 4\n1\n4 0 1 2 3\n18446744073709551615\n").unwrap_err().to_string();
        assert!(err.contains("a table size of 18446744073709551615"), "{err}");
        let huge = "MARKOV\n9\n9 9 9 9 9 9 9 9 9\n1\n9 0 1 2 3 4 5 6 7 8\n1\n0.5\n";
        let err = read_uai(huge).unwrap_err().to_string();
        assert!(err.contains("table of 1 entries for a scope of 387420489 states"), "{err}");
    }

    #[test]
    fn a_small_bif_cannot_ask_for_a_huge_table() {
        // Twelve parents of 10 states: a default row over 10^12 configurations.
        let mut text = String::from("network big {\n}\n");
        for p in 0..12 {
            text += &format!("variable p{p} {{\n  type discrete [ 10 ] {{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }};\n}}\n");
        }
        text += "variable c {\n  type discrete [ 2 ] { a, b };\n}\n";
        let parents: Vec<String> = (0..12).map(|p| format!("p{p}")).collect();
        text += &format!("probability ( c | {} ) {{\n  default 0.5, 0.5;\n}}\n", parents.join(", "));
        let err = read_bif(&text).map(|_| ()).unwrap_err().to_string();
        assert!(err.contains("the table of `c` would hold 2000000000000 entries"), "{err}");
        // 2^64 and beyond: no overflow.
        let wide = text.replace(
            "[ 10 ] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }",
            &format!("[ 100 ] {{ {} }}", (0..100).map(|i| i.to_string()).collect::<Vec<_>>().join(", ")),
        );
        let err = read_bif(&wide).map(|_| ()).unwrap_err().to_string();
        assert!(err.contains("more than 2^64 entries"), "{err}");
    }

    #[test]
    fn bif_errors_name_the_line_and_the_variable() {
        let lines: Vec<&str> = ASIA.lines().collect();
        let find = |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap();
        let edit = |needle: &str, from: &str, to: &str| -> (String, usize) {
            let k = find(needle);
            let mut copy = lines.clone();
            let changed = copy[k].replacen(from, to, 1);
            copy[k] = &changed;
            (copy.join("\n"), k + 1)
        };
        let cases = [
            (edit("( no ) 0.01, 0.99;", "0.01, 0.99", "0.5, 0.99"), "a row of `tub` sums to 1.49, not 1"),
            (edit("( yes ) 0.1, 0.9;", "0.1, 0.9", "-0.1, 1.1"), "-0.1 in a row of `lung` is not a probability"),
            (edit("table 0.5, 0.5", "0.5, 0.5", "0.5, 0.4"), "a row of `smoke` sums to 0.9, not 1"),
            (
                edit("probability ( either | lung, tub )", "lung, tub", "lung, lung"),
                "`lung` is listed twice among the parents of `either`",
            ),
            (
                edit("( no, yes ) 1.0, 0.0;", "( no, yes )", "( yes, no )"),
                "the row ( yes, no ) of `either` is given twice (first on line",
            ),
        ];
        for ((text, line), says) in cases {
            let err = read_bif(&text).map(|_| ()).unwrap_err().to_string();
            assert!(err.starts_with(&format!("line {line}: ")) || says.contains("is given twice"), "{says}: {err}");
            assert!(err.contains(says), "{says}: {err}");
        }
        let (text, _) = edit("( no ) 0.01, 0.99;", "( no ) 0.01, 0.99;", "");
        let err = read_bif(&text).map(|_| ()).unwrap_err().to_string();
        assert!(err.contains("`tub` has no row for ( no ) (and no `default` row)"), "{err}");
    }
}

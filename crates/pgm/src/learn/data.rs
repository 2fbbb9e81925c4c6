//! A table of discrete observations: one column per variable, each cell a state index or missing.

use crate::BayesianNetwork;

/// A cell with no observation.
pub const MISSING: u16 = u16::MAX;

/// What a CSV cell must say to be missing: empty, `NA`, `NaN`, `nan`, `?` or `null`.
pub fn is_missing_token(cell: &str) -> bool {
    matches!(cell.trim(), "" | "NA" | "NaN" | "nan" | "?" | "null" | "N/A")
}

/// Why a data table cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    /// A fault at a place in the file (`line` counts the header as line 1).
    #[error("line {line}: {message}")]
    Line {
        /// The line, from 1.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A fault of the whole table.
    #[error("{0}")]
    Table(String),
}

/// Discrete observations, stored by column (each variable's states as indices, [`MISSING`] where
/// not observed): 2 bytes a cell, so 10^6 rows of 40 variables take 80 MB.
#[derive(Clone, Debug, PartialEq)]
pub struct DiscreteData {
    /// The variables, in column order.
    pub names: Vec<String>,
    /// Each variable's states; a cell holds an index into them.
    pub states: Vec<Vec<String>>,
    columns: Vec<Vec<u16>>,
    /// Each column's number of missing cells.
    gaps: Vec<usize>,
    rows: usize,
}

impl DiscreteData {
    /// Reads CSV text with a header of variable names; states are the distinct values of each
    /// column, in numeric order when all are numbers and in text order otherwise (as pgmpy and
    /// pandas order them). Missing cells: see [`is_missing_token`].
    ///
    /// ```
    /// let data = cg_pgm::learn::DiscreteData::from_csv("smoke,cough\nyes,no\nno,\nyes,yes\n").unwrap();
    /// assert_eq!(data.states[0], ["no", "yes"]);
    /// assert_eq!((data.rows(), data.missing()), (3, 1));
    /// ```
    ///
    /// # Errors
    /// No header, a repeated name, a row of the wrong length, a column with more than 65,534
    /// states or none observed, or no rows.
    pub fn from_csv(text: &str) -> Result<DiscreteData, DataError> {
        let (names, read) = read_columns(text)?;
        let rows = read.first().map_or(0, |c| c.codes.len());
        let mut states = vec![];
        let mut columns = vec![];
        for (name, column) in names.iter().zip(read) {
            let seen = &column.seen;
            let mut order: Vec<usize> = (0..seen.len()).collect();
            let numbers: Option<Vec<f64>> = seen.iter().map(|s| s.parse::<f64>().ok()).collect();
            match numbers {
                Some(x) => order.sort_by(|&a, &b| x[a].total_cmp(&x[b])),
                None => order.sort_by(|&a, &b| seen[a].cmp(&seen[b])),
            }
            if seen.is_empty() {
                return Err(DataError::Table(format!("column `{name}` has no observed value")));
            }
            let mut rank = vec![0u16; seen.len()];
            for (k, &o) in order.iter().enumerate() {
                rank[o] = k as u16;
            }
            columns.push(column.codes.iter().map(|&c| if c == MISSING { MISSING } else { rank[c as usize] }).collect());
            states.push(order.iter().map(|&o| seen[o].clone()).collect());
        }
        Ok(DiscreteData::assemble(names, states, columns, rows))
    }

    /// Reads CSV text whose columns are `net`'s variables (by name, in any order; other columns
    /// are ignored) and whose cells are their states: the table has the network's variables, in
    /// its order, with its states.
    ///
    /// # Errors
    /// A variable with no column, a state the network does not have (line and column named).
    pub fn from_csv_for(text: &str, net: &BayesianNetwork) -> Result<DiscreteData, DataError> {
        let (names, read) = read_columns(text)?;
        let rows = read.first().map_or(0, |c| c.codes.len());
        let mut columns = vec![];
        for (v, name) in net.names.iter().enumerate() {
            let c = names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| DataError::Table(format!("no column `{name}` (a variable of the network)")))?;
            let column = &read[c];
            let map = column
                .seen
                .iter()
                .zip(&column.first)
                .map(|(state, &row)| {
                    net.states[v].iter().position(|s| s == state).map(|k| k as u16).ok_or_else(|| DataError::Line {
                        line: row + 2,
                        message: format!(
                            "column `{name}`: `{state}` is not a state of the network's `{name}` (states: {})",
                            net.states[v].join(", ")
                        ),
                    })
                })
                .collect::<Result<Vec<u16>, DataError>>()?;
            columns.push(column.codes.iter().map(|&c| if c == MISSING { MISSING } else { map[c as usize] }).collect());
        }
        Ok(DiscreteData::assemble(net.names.clone(), net.states.clone(), columns, rows))
    }

    /// A table from rows of state indices (as [`BayesianNetwork::sample`] draws them), with the
    /// network's names and states.
    ///
    /// # Panics
    /// A row of the wrong length or an index out of its variable's states.
    pub fn from_draws(net: &BayesianNetwork, draws: &[Vec<usize>]) -> DiscreteData {
        let n = net.names.len();
        let columns = (0..n)
            .map(|v| {
                draws
                    .iter()
                    .map(|row| {
                        assert!(row.len() == n && row[v] < net.cards[v], "a draw out of the network's states");
                        row[v] as u16
                    })
                    .collect()
            })
            .collect();
        DiscreteData::assemble(net.names.clone(), net.states.clone(), columns, draws.len())
    }

    fn assemble(names: Vec<String>, states: Vec<Vec<String>>, columns: Vec<Vec<u16>>, rows: usize) -> DiscreteData {
        let gaps = columns.iter().map(|c| c.iter().filter(|&&x| x == MISSING).count()).collect();
        DiscreteData { names, states, columns, gaps, rows }
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The number of variables.
    pub fn variables(&self) -> usize {
        self.names.len()
    }

    /// Each variable's number of states.
    pub fn cards(&self) -> Vec<usize> {
        self.states.iter().map(Vec::len).collect()
    }

    /// Variable `v`'s column: state indices, [`MISSING`] where unobserved.
    pub fn column(&self, v: usize) -> &[u16] {
        &self.columns[v]
    }

    /// How many cells are missing.
    pub fn missing(&self) -> usize {
        self.gaps.iter().sum()
    }

    /// How many cells of variable `v` are missing.
    pub fn missing_in(&self, v: usize) -> usize {
        self.gaps[v]
    }

    /// The position of variable `name`.
    ///
    /// # Errors
    /// [`crate::Error::UnknownVariable`].
    pub fn id(&self, name: &str) -> crate::Result<usize> {
        crate::variable_id(&self.names, name)
    }

    /// Hides each cell independently with probability `p` (missing completely at random), from
    /// `rng`.
    pub fn hide(&mut self, p: f64, rng: &mut rand_chacha::ChaCha8Rng) {
        use rand::Rng;
        for r in 0..self.rows {
            for (column, gaps) in self.columns.iter_mut().zip(&mut self.gaps) {
                if rng.random::<f64>() < p && column[r] != MISSING {
                    column[r] = MISSING;
                    *gaps += 1;
                }
            }
        }
    }

    /// The table as CSV: a header of names, then each row's state names (missing cells empty).
    pub fn to_csv(&self) -> String {
        let mut out = csv::Writer::from_writer(vec![]);
        // Writing to memory cannot fail.
        out.write_record(&self.names).expect("CSV in memory");
        let mut record = Vec::with_capacity(self.names.len());
        for r in 0..self.rows {
            record.clear();
            for (v, column) in self.columns.iter().enumerate() {
                let x = column[r];
                record.push(if x == MISSING { "" } else { self.states[v][x as usize].as_str() });
            }
            out.write_record(&record).expect("CSV in memory");
        }
        String::from_utf8(out.into_inner().expect("CSV in memory")).expect("UTF-8 names and states")
    }
}

/// One column as read: its distinct values in order of first appearance, the row where each
/// first appears, and each cell as an index into them ([`MISSING`] where empty).
struct ReadColumn {
    seen: Vec<String>,
    first: Vec<usize>,
    codes: Vec<u16>,
}

/// The header and each column, values interned as read (10^5 rows never hold 10^5 strings).
fn read_columns(text: &str) -> Result<(Vec<String>, Vec<ReadColumn>), DataError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let names: Vec<String> = reader
        .headers()
        .map_err(|e| DataError::Line { line: 1, message: e.to_string() })?
        .iter()
        .map(|s| s.trim().to_string())
        .collect();
    if names.is_empty() || names.iter().all(String::is_empty) {
        return Err(DataError::Line { line: 1, message: "no header of variable names".into() });
    }
    if let Some(dup) = crate::repeated(&names) {
        return Err(DataError::Line { line: 1, message: format!("column `{dup}` is named twice") });
    }
    let mut index: Vec<std::collections::HashMap<String, u16>> = vec![Default::default(); names.len()];
    let mut columns: Vec<ReadColumn> =
        names.iter().map(|_| ReadColumn { seen: vec![], first: vec![], codes: vec![] }).collect();
    let mut record = csv::StringRecord::new();
    let mut r = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(r + 2, |p| p.line() as usize);
                return Err(DataError::Line { line, message: e.to_string() });
            }
        }
        for (v, cell) in record.iter().enumerate() {
            let column = &mut columns[v];
            if is_missing_token(cell) {
                column.codes.push(MISSING);
                continue;
            }
            let cell = cell.trim();
            let code = match index[v].get(cell) {
                Some(&c) => c,
                None => {
                    if column.seen.len() + 1 >= MISSING as usize {
                        return Err(DataError::Line {
                            line: r + 2,
                            message: format!("column `{}` has more than 65,534 states", names[v]),
                        });
                    }
                    let c = column.seen.len() as u16;
                    index[v].insert(cell.to_string(), c);
                    column.seen.push(cell.to_string());
                    column.first.push(r);
                    c
                }
            };
            column.codes.push(code);
        }
        r += 1;
    }
    if r == 0 {
        return Err(DataError::Table("no rows of data under the header".into()));
    }
    Ok((names, columns))
}

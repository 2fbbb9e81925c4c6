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

mod bif;
mod uai;

pub use bif::{bif_name, plain as bif_word, read_bif, write_bif, write_bif_named};
pub use uai::{read_uai, read_uai_bayes, write_uai};

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
pub(super) fn place(message: String, prefix: &str) -> (Option<usize>, String) {
    let parsed = message.strip_prefix(prefix).and_then(|rest| {
        let (n, rest) = rest.split_once(": ")?;
        Some((n.parse().ok()?, rest.to_string()))
    });
    match parsed {
        Some((n, rest)) => (Some(n), rest),
        None => (None, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BayesianNetwork, MarkovNetwork};

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
    fn a_bayes_uai_file_is_a_bayesian_network_with_each_tables_child_last() {
        // P(x0) = (0.3, 0.7), P(x1 | x0) rows (0.9, 0.1) and (0.2, 0.8); x1's table is listed
        // first and x0 comes after it in its scope.
        let text = "BAYES\n2\n2 2\n2\n2 0 1\n1 0\n4\n0.9 0.1 0.2 0.8\n2\n0.3 0.7\n";
        let net = crate::BayesianNetwork::new(&read_uai_bayes(text).unwrap()).unwrap();
        assert_eq!(net.parents, vec![vec![], vec![0]]);
        // P(x1 = 0) = 0.3 * 0.9 + 0.7 * 0.2 by the sum rule; Bayes' rule for P(x0 = 0 | x1 = 1).
        let p = net.query("x1", &[]).unwrap();
        assert!((p[0].1 - (0.3 * 0.9 + 0.7 * 0.2)).abs() < 1e-15);
        let q = net.query("x0", &[("x1", "1")]).unwrap();
        assert!((q[0].1 - 0.3 * 0.1 / (0.3 * 0.1 + 0.7 * 0.8)).abs() < 1e-15);
        let markov = text.replace("BAYES", "MARKOV");
        assert!(read_uai_bayes(&markov).unwrap_err().to_string().contains("needs a BAYES file"));
        let twice = "BAYES\n1\n2\n2\n1 0\n1 0\n2\n0.5 0.5\n2\n0.5 0.5\n";
        assert!(read_uai_bayes(twice).unwrap_err().to_string().contains("function 1: x0 already has a table"));
        let none = "BAYES\n2\n2 2\n1\n1 0\n2\n0.5 0.5\n";
        assert!(read_uai_bayes(none).unwrap_err().to_string().contains("x1 has no table"));
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

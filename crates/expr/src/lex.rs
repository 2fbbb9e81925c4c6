//! The tokens every expression language of the toolkit shares: numbers (with exponents), names,
//! and single-character symbols, each with its 1-based column.

/// A token.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A number.
    Num(f64),
    /// A name.
    Name(String),
    /// An operator or bracket.
    Sym(char),
    /// The end of the text.
    End,
}

impl Tok {
    /// How a message names the token.
    pub fn describe(&self) -> String {
        match self {
            Tok::Num(x) => format!("number `{x}`"),
            Tok::Name(n) => format!("name `{n}`"),
            Tok::Sym(c) => format!("`{c}`"),
            Tok::End => "end of expression".to_string(),
        }
    }
}

/// A character no token starts with, or digits that are no number.
#[derive(Clone, Debug, PartialEq)]
pub enum LexError {
    /// A character no token starts with.
    UnexpectedChar {
        /// The column, from 1.
        column: usize,
        /// The character.
        c: char,
    },
    /// A number that does not parse.
    BadNumber {
        /// The column, from 1.
        column: usize,
        /// The text.
        text: String,
    },
}

/// Tokens with their 1-based columns, ending with [`Tok::End`]; `symbols` lists the characters
/// that are tokens of their own.
///
/// # Errors
/// The first character that is not whitespace, part of a number or name, or a symbol.
pub fn tokenize_with(src: &str, symbols: &str) -> Result<Vec<(Tok, usize)>, LexError> {
    let chars: Vec<char> = src.chars().collect();
    let mut toks = vec![];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            // An exponent only if digits follow, so `2e` stays `2` then the constant `e`.
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let text: String = chars[start..i].iter().collect();
            let value = text.parse::<f64>().map_err(|_| LexError::BadNumber { column, text: text.clone() })?;
            toks.push((Tok::Num(value), column));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            toks.push((Tok::Name(chars[start..i].iter().collect()), column));
        } else if symbols.contains(c) {
            toks.push((Tok::Sym(c), column));
            i += 1;
        } else {
            return Err(LexError::UnexpectedChar { column, c });
        }
    }
    toks.push((Tok::End, chars.len() + 1));
    Ok(toks)
}

//! The one convention for settings: a serde `*Config` as written in a config file (unknown
//! fields rejected, defaults filled by serde) becomes checked `*Params` through [`Validate`];
//! only `*Params` reach an algorithm, so every range check lives in one place. A number outside
//! its range is an [`OutOfRange`], the same type in every crate.

/// A setting outside its allowed range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{param} = {value} is out of range ({expected})")]
pub struct OutOfRange {
    /// The setting's name.
    pub param: &'static str,
    /// Its value.
    pub value: f64,
    /// The values allowed, in words.
    pub expected: &'static str,
}

impl OutOfRange {
    /// `Ok` when `ok` holds and `value` is finite; otherwise the error naming `param`.
    ///
    /// # Errors
    /// `value` fails the test or is not finite.
    pub fn check(param: &'static str, value: f64, ok: bool, expected: &'static str) -> Result<(), OutOfRange> {
        if ok && value.is_finite() {
            Ok(())
        } else {
            Err(OutOfRange { param, value, expected })
        }
    }

    /// `Ok` when the count is at least `min`.
    ///
    /// # Errors
    /// `value` < `min`.
    pub fn at_least(param: &'static str, value: usize, min: usize, expected: &'static str) -> Result<(), OutOfRange> {
        if value >= min {
            Ok(())
        } else {
            Err(OutOfRange { param, value: value as f64, expected })
        }
    }
}

/// A config as written turned into checked parameters.
pub trait Validate {
    /// The validated form.
    type Params;
    /// Why validation fails.
    type Error;

    /// Checks every field.
    ///
    /// # Errors
    /// The first field out of range or unknown, named.
    fn validate(&self) -> Result<Self::Params, Self::Error>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_names_the_setting() {
        assert_eq!(OutOfRange::check("rate", 0.5, true, "> 0"), Ok(()));
        let e = OutOfRange::check("rate", f64::NAN, true, "> 0").unwrap_err();
        assert_eq!(e.to_string(), "rate = NaN is out of range (> 0)");
        assert_eq!(
            OutOfRange::at_least("epochs", 0, 1, ">= 1").unwrap_err().to_string(),
            "epochs = 0 is out of range (>= 1)"
        );
    }
}

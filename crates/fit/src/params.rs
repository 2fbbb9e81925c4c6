//! `[solver]` of a best_fit config, and the checked settings a fit runs with.

use cg_core::{OutOfRange, Validate};
use serde::Deserialize;

use crate::{FitParams, Result};

/// `[solver]`.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SolverConfig {
    /// Stop when the gradient norm of the summed squared violation falls to this.
    #[serde(default = "tolerance")]
    pub tolerance: f64,
    /// Free values start uniform in [-init_scale, init_scale] (from the seed).
    #[serde(default = "one")]
    pub init_scale: f64,
    /// Gradient steps at most.
    #[serde(default = "max_iters")]
    pub max_iters: usize,
    /// A residual at or below this means every constraint holds: an exact solution exists.
    #[serde(default = "exact_tolerance")]
    pub exact_tolerance: f64,
}

impl Default for SolverConfig {
    fn default() -> Self {
        SolverConfig {
            tolerance: tolerance(),
            init_scale: one(),
            max_iters: max_iters(),
            exact_tolerance: exact_tolerance(),
        }
    }
}

fn tolerance() -> f64 {
    1e-10
}
fn one() -> f64 {
    1.0
}
fn max_iters() -> usize {
    100_000
}
fn exact_tolerance() -> f64 {
    1e-12
}

/// Checked solver settings: the descent's, its step limit, and the residual that counts as exact.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SolverSettings {
    /// The descent's tolerance and starting spread.
    pub params: FitParams,
    /// Gradient steps at most.
    pub max_iters: usize,
    /// A residual at or below this is an exact solution.
    pub exact_tolerance: f64,
}

impl Validate for SolverConfig {
    type Params = SolverSettings;
    type Error = crate::Error;

    /// ```
    /// use cg_core::Validate;
    /// let s = cg_fit::SolverConfig { max_iters: 50, ..Default::default() }.validate().unwrap();
    /// assert_eq!((s.max_iters, s.params.tolerance), (50, 1e-10));
    /// let never = cg_fit::SolverConfig { max_iters: 0, ..Default::default() };
    /// assert_eq!(never.validate().unwrap_err().to_string(), "max_iters = 0 is out of range (>= 1)");
    /// ```
    ///
    /// # Errors
    /// A tolerance or scale that is negative or not finite, no steps, or a negative exact
    /// tolerance.
    fn validate(&self) -> Result<SolverSettings> {
        let params = FitParams::new(self.tolerance, self.init_scale)?;
        OutOfRange::at_least("max_iters", self.max_iters, 1, ">= 1")?;
        OutOfRange::check("exact_tolerance", self.exact_tolerance, self.exact_tolerance >= 0.0, "finite and >= 0")?;
        Ok(SolverSettings { params, max_iters: self.max_iters, exact_tolerance: self.exact_tolerance })
    }
}

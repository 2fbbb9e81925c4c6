//! The samplers' and loopy belief propagation's settings as a config writes them (`[sampler]`,
//! `[lbp]`), checked into the [`Settings`] and [`LbpSettings`] the algorithms run on.

use cg_core::Validate;
use serde::Deserialize;

use crate::sampling::{Method, Settings};
use crate::{Error, LbpSettings, Result};

/// `[lbp]`: loopy belief propagation's settings.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LbpConfig {
    /// New message = (1 - damping) x computed + damping x previous (0 <= d < 1; default 0.5).
    #[serde(default = "half")]
    pub damping: f64,
    /// Iterations at most (default 1000).
    #[serde(default = "thousand")]
    pub max_iterations: usize,
    /// Converged when no message moves by more than this (default 1e-10).
    #[serde(default = "tiny")]
    pub tolerance: f64,
}

impl Default for LbpConfig {
    /// Damping 0.5, 1000 iterations at most, tolerance 1e-10 (what a config leaves out).
    fn default() -> LbpConfig {
        LbpConfig { damping: half(), max_iterations: thousand(), tolerance: tiny() }
    }
}

fn half() -> f64 {
    0.5
}
fn thousand() -> usize {
    1000
}
fn tiny() -> f64 {
    1e-10
}

/// `[sampler]` (formerly `[gibbs]`, still read).
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SamplerConfig {
    /// gibbs (Markov chains, any network), likelihood_weighting or forward (rejection; both for
    /// Bayesian networks only).
    #[serde(default)]
    pub method: MethodName,
    /// gibbs: independent chains from dispersed starts, compared by R-hat; the others: batches
    /// drawn in parallel. Default 4.
    #[serde(default = "four")]
    #[schemars(range(min = 1))]
    pub chains: usize,
    /// gibbs only: sweeps each chain discards before sampling (default 1000).
    pub burn_in: Option<usize>,
    /// gibbs: samples kept per chain; likelihood_weighting and forward: draws in all.
    #[schemars(range(min = 1))]
    pub samples: usize,
    /// gibbs only: sweeps between kept samples (default 1).
    #[schemars(range(min = 1))]
    pub thin: Option<usize>,
}

/// The sampler's name in a config.
#[derive(Clone, Copy, Debug, Default, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MethodName {
    /// Markov chains.
    #[default]
    Gibbs,
    /// Weighted forward draws with the evidence clamped.
    LikelihoodWeighting,
    /// Forward draws kept when they match the evidence.
    Forward,
}

fn four() -> usize {
    4
}

impl SamplerConfig {
    /// `samples` draws by `method` with the defaults a config gets (4 chains; Gibbs: 1000
    /// burn-in sweeps, no thinning).
    ///
    /// ```
    /// use cg_core::Validate;
    /// use cg_pgm::params::{MethodName, SamplerConfig};
    /// let s = SamplerConfig::new(MethodName::Gibbs, 5000).validate().unwrap();
    /// assert_eq!((s.chains, s.burn_in, s.samples), (4, 1000, 5000));
    /// ```
    pub fn new(method: MethodName, samples: usize) -> SamplerConfig {
        SamplerConfig { method, chains: four(), burn_in: None, samples, thin: None }
    }
}

impl Validate for SamplerConfig {
    type Params = Settings;
    type Error = Error;

    /// # Errors
    /// A count of 0, one Gibbs chain (R-hat compares chains), or a Gibbs setting for another
    /// method.
    fn validate(&self) -> Result<Settings> {
        let method = match self.method {
            MethodName::Gibbs => Method::Gibbs,
            MethodName::LikelihoodWeighting => Method::LikelihoodWeighting,
            MethodName::Forward => Method::Forward,
        };
        let bad = |message: &str| Err(Error::Setting { table: "sampler", message: message.to_string() });
        if method != Method::Gibbs && (self.burn_in.is_some() || self.thin.is_some()) {
            return bad("burn_in and thin are settings of gibbs only");
        }
        let s = Settings {
            method,
            chains: self.chains,
            burn_in: self.burn_in.unwrap_or(1000),
            samples: self.samples,
            thin: self.thin.unwrap_or(1),
            blocks: true,
        };
        if s.samples == 0 || s.thin == 0 || s.chains == 0 {
            return bad("samples, chains and thin must be >= 1");
        }
        if method == Method::Gibbs && s.chains == 1 {
            return bad("chains = 1: R-hat compares chains, give 2 or more");
        }
        Ok(s)
    }
}

impl Validate for LbpConfig {
    type Params = LbpSettings;
    type Error = Error;

    /// # Errors
    /// A damping outside [0, 1), no iterations, or a negative tolerance.
    fn validate(&self) -> Result<LbpSettings> {
        if !(0.0..1.0).contains(&self.damping)
            || self.max_iterations == 0
            || self.tolerance.is_nan()
            || self.tolerance < 0.0
        {
            return Err(Error::Setting {
                table: "lbp",
                message: "needs 0 <= damping < 1, max_iterations >= 1 and tolerance >= 0".into(),
            });
        }
        Ok(LbpSettings { damping: self.damping, max_iterations: self.max_iterations, tolerance: self.tolerance })
    }
}

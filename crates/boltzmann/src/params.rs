//! `[rbm]` and `[bm]` as written in a config, and the checked parameters.

use cg_core::{OutOfRange, Validate};
use serde::Deserialize;

use crate::rbm::Visible;
use crate::{Error, Result};

/// How the negative phase is sampled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Contrastive divergence: k Gibbs steps from the data batch.
    #[default]
    Cd,
    /// Persistent CD: k Gibbs steps from chains kept between updates (one per batch row).
    Pcd,
}

/// `[rbm]` of a config.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RbmConfig {
    /// Hidden units.
    pub hidden: usize,
    /// Binary or Gaussian visible units.
    #[serde(default)]
    pub visible: Visible,
    /// The training method (CD-k or PCD).
    #[serde(default)]
    pub method: Method,
    /// Gibbs steps per update.
    #[serde(default = "one")]
    pub k: usize,
    /// Step size of each update.
    pub learning_rate: f64,
    /// Fraction of the last update kept (0: none).
    #[serde(default)]
    pub momentum: f64,
    /// L2 penalty on the weights (not the biases).
    #[serde(default)]
    pub weight_decay: f64,
    /// Samples per update.
    pub batch_size: usize,
    /// Passes over the training split.
    pub epochs: usize,
    /// Initial weights ~ N(0, init_std²).
    #[serde(default = "init_std")]
    pub init_std: f64,
}

impl RbmConfig {
    /// A binary RBM with `hidden` units trained by CD-1 with scikit-learn's `BernoulliRBM`
    /// defaults (learning rate 0.1, batches of 10, 10 epochs, weights from N(0, 0.01²)); change
    /// any field before [`Validate::validate`].
    ///
    /// ```
    /// use cg_core::Validate;
    /// use cg_boltzmann::{Method, RbmConfig};
    /// let params = RbmConfig { method: Method::Pcd, epochs: 20, ..RbmConfig::new(64) }.validate().unwrap();
    /// assert_eq!((params.hidden, params.k, params.epochs), (64, 1, 20));
    /// assert!(RbmConfig::new(0).validate().is_err());
    /// ```
    pub fn new(hidden: usize) -> RbmConfig {
        RbmConfig {
            hidden,
            visible: Visible::default(),
            method: Method::Cd,
            k: 1,
            learning_rate: 0.1,
            momentum: 0.0,
            weight_decay: 0.0,
            batch_size: 10,
            epochs: 10,
            init_std: init_std(),
        }
    }
}

fn one() -> usize {
    1
}
fn init_std() -> f64 {
    0.01
}

/// Checked RBM training settings.
#[derive(Clone, Debug, PartialEq)]
pub struct RbmParams {
    /// Hidden units.
    pub hidden: usize,
    /// Binary or Gaussian visible units.
    pub visible: Visible,
    /// Contrastive divergence or persistent contrastive divergence.
    pub method: Method,
    /// Gibbs steps per negative sample.
    pub k: usize,
    /// The step size.
    pub learning_rate: f64,
    /// The momentum coefficient (0 for none).
    pub momentum: f64,
    /// L2 penalty on the weights.
    pub weight_decay: f64,
    /// Samples per mini-batch.
    pub batch_size: usize,
    /// Passes over the data.
    pub epochs: usize,
    /// The standard deviation of the initial weights.
    pub init_std: f64,
}

impl Validate for RbmConfig {
    type Params = RbmParams;
    type Error = Error;

    /// # Errors
    /// The first setting out of range, named.
    fn validate(&self) -> Result<RbmParams> {
        OutOfRange::check("hidden", self.hidden as f64, self.hidden >= 1, ">= 1")?;
        OutOfRange::check("k", self.k as f64, self.k >= 1, ">= 1")?;
        OutOfRange::check("learning_rate", self.learning_rate, self.learning_rate > 0.0, "> 0")?;
        OutOfRange::check("momentum", self.momentum, (0.0..1.0).contains(&self.momentum), "0 <= momentum < 1")?;
        OutOfRange::check("weight_decay", self.weight_decay, self.weight_decay >= 0.0, ">= 0")?;
        OutOfRange::check("batch_size", self.batch_size as f64, self.batch_size >= 1, ">= 1")?;
        OutOfRange::check("epochs", self.epochs as f64, self.epochs >= 1, ">= 1")?;
        OutOfRange::check("init_std", self.init_std, self.init_std >= 0.0, ">= 0")?;
        Ok(RbmParams {
            hidden: self.hidden,
            visible: self.visible,
            method: self.method,
            k: self.k,
            learning_rate: self.learning_rate,
            momentum: self.momentum,
            weight_decay: self.weight_decay,
            batch_size: self.batch_size,
            epochs: self.epochs,
            init_std: self.init_std,
        })
    }
}

/// `[evaluation]` of an `rbm` config: how often and how precisely the log-likelihood is
/// estimated, and the sample chains drawn at the end.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationConfig {
    /// Estimate the log-likelihood by AIS every this many epochs (and after the last).
    #[serde(default = "five")]
    pub ais_every: usize,
    /// AIS chains (importance samples) per estimate.
    #[serde(default = "hundred")]
    pub ais_chains: usize,
    /// Intermediate temperatures of each AIS chain.
    #[serde(default = "thousand")]
    pub ais_temperatures: usize,
    /// Gibbs steps after which samples are drawn.
    #[serde(default = "gibbs_steps")]
    pub sample_steps: Vec<usize>,
    /// Sampling chains in the picture (each starts from uniform noise).
    #[serde(default = "eight")]
    pub sample_chains: usize,
}

impl Default for EvaluationConfig {
    fn default() -> Self {
        EvaluationConfig {
            ais_every: five(),
            ais_chains: hundred(),
            ais_temperatures: thousand(),
            sample_steps: gibbs_steps(),
            sample_chains: eight(),
        }
    }
}

fn five() -> usize {
    5
}
fn eight() -> usize {
    8
}
fn hundred() -> usize {
    100
}
fn thousand() -> usize {
    1000
}
fn gibbs_steps() -> Vec<usize> {
    vec![1, 10, 100, 1000]
}

impl Validate for EvaluationConfig {
    type Params = EvaluationConfig;
    type Error = OutOfRange;

    /// ```
    /// use cg_core::Validate;
    /// let e = cg_boltzmann::EvaluationConfig { ais_chains: 10, ..Default::default() };
    /// assert_eq!(e.validate().unwrap().ais_temperatures, 1000);
    /// let few = cg_boltzmann::EvaluationConfig { ais_temperatures: 3, ..Default::default() };
    /// assert_eq!(few.validate().unwrap_err().to_string(), "ais_temperatures = 3 is out of range (>= 4)");
    /// ```
    ///
    /// # Errors
    /// No estimates, chains or sample chains, or fewer than 4 temperatures.
    fn validate(&self) -> std::result::Result<EvaluationConfig, OutOfRange> {
        OutOfRange::at_least("ais_every", self.ais_every, 1, ">= 1")?;
        OutOfRange::at_least("ais_chains", self.ais_chains, 1, ">= 1")?;
        OutOfRange::at_least("ais_temperatures", self.ais_temperatures, 4, ">= 4")?;
        OutOfRange::at_least("sample_chains", self.sample_chains, 1, ">= 1")?;
        Ok(self.clone())
    }
}

//! `[optimizer]` as written in a config, and the checked settings the update runs with.

use cg_core::{OutOfRange, Validate};
use serde::Deserialize;

/// The update rule, with its own settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// Plain gradient descent.
    Sgd,
    /// Heavy-ball momentum.
    Momentum {
        /// The momentum coefficient.
        beta: f64,
    },
    /// Adam (Kingma and Ba).
    Adam {
        /// The first moment's decay.
        beta1: f64,
        /// The second moment's decay.
        beta2: f64,
        /// Added to the denominator.
        epsilon: f64,
    },
}

/// How the learning rate changes with the epoch, with its own settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    /// The same rate throughout.
    Constant,
    /// The rate times `factor` every `every` steps.
    Step {
        /// Steps between drops.
        every: usize,
        /// The factor of each drop.
        factor: f64,
    },
    /// rate / (1 + decay · step).
    InverseTime {
        /// The decay.
        decay: f64,
    },
    /// A linear warm-up from rate / warmup to rate over the first `warmup` epochs, then a half
    /// cosine from rate down to `min_rate` at epoch `epochs` (and `min_rate` after).
    Cosine {
        /// The epoch the cosine reaches `min_rate` (usually the run's epochs).
        epochs: usize,
        /// The lowest rate.
        min_rate: f64,
        /// Epochs of linear warm-up (0 for none).
        warmup: usize,
    },
}

/// `[optimizer]` as written in a config: `method` names the rule and carries its settings
/// (`momentum` for momentum; `beta1`, `beta2`, `epsilon` for Adam), `schedule` likewise
/// (`step_every`, `step_factor` for step; `decay` for inverse_time). A setting of another method
/// or schedule is an error, not ignored. Defaults: method sgd, momentum 0.9, beta1 0.9, beta2
/// 0.999, epsilon 1e-8, schedule constant, step_every 10, step_factor 0.5, decay 0, weight_decay 0.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(try_from = "OptimizerFields")]
pub struct OptimizerConfig {
    /// The update rule.
    pub method: Method,
    /// The initial step size.
    pub learning_rate: f64,
    /// How the step size changes.
    pub schedule: Schedule,
    /// L2 penalty λ: λ w is added to the gradient.
    pub weight_decay: f64,
}

impl OptimizerConfig {
    /// `method` at a constant `learning_rate`, no weight decay; change any field before
    /// [`Validate::validate`].
    ///
    /// ```
    /// use cg_core::Validate;
    /// use cg_optim::{Method, OptimizerConfig, Schedule};
    /// let adam = OptimizerConfig::adam(1e-3).validate().unwrap();
    /// assert_eq!(adam.method, Method::Adam { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    /// let decayed = OptimizerConfig { schedule: Schedule::InverseTime { decay: 0.1 }, ..OptimizerConfig::sgd(0.5) };
    /// assert_eq!(decayed.validate().unwrap().schedule, Schedule::InverseTime { decay: 0.1 });
    /// // A step size of zero never moves: refused, naming the setting.
    /// assert!(OptimizerConfig::sgd(0.0).validate().unwrap_err().to_string().contains("learning_rate"));
    /// ```
    pub fn new(method: Method, learning_rate: f64) -> OptimizerConfig {
        OptimizerConfig { method, learning_rate, schedule: Schedule::Constant, weight_decay: 0.0 }
    }

    /// Plain gradient descent at `learning_rate`.
    pub fn sgd(learning_rate: f64) -> OptimizerConfig {
        OptimizerConfig::new(Method::Sgd, learning_rate)
    }

    /// Heavy-ball momentum (β = 0.9) at `learning_rate`.
    pub fn momentum(learning_rate: f64) -> OptimizerConfig {
        OptimizerConfig::new(Method::Momentum { beta: 0.9 }, learning_rate)
    }

    /// Adam with β1 = 0.9, β2 = 0.999, ε = 1e-8 (Kingma and Ba's values) at `learning_rate`.
    pub fn adam(learning_rate: f64) -> OptimizerConfig {
        OptimizerConfig::new(Method::Adam { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, learning_rate)
    }
}

/// A config's `[optimizer]` is read as `OptimizerFields`, so that is its schema.
impl schemars::JsonSchema for OptimizerConfig {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "OptimizerConfig".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        OptimizerFields::json_schema(generator)
    }
}

/// The table's fields as written, before they are sorted into the method and the schedule.
/// (Its doc comments are the help `experiments explain` prints.)
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(description = "The optimiser: an update rule with its settings, a learning-rate schedule, an L2 penalty.")]
pub(crate) struct OptimizerFields {
    /// The update rule: plain gradient descent, heavy-ball momentum, or Adam.
    #[serde(default)]
    method: MethodName,
    /// Step size α (the first epoch's, under a schedule).
    learning_rate: f64,
    /// momentum only: β, the fraction of the last step kept (default 0.9).
    momentum: Option<f64>,
    /// adam only: decay of the first-moment average (default 0.9).
    beta1: Option<f64>,
    /// adam only: decay of the second-moment average (default 0.999).
    beta2: Option<f64>,
    /// adam only: added to the root of the second moment (default 1e-8).
    epsilon: Option<f64>,
    /// How the learning rate changes with the epoch.
    #[serde(default)]
    schedule: ScheduleName,
    /// step schedule only: epochs between reductions (default 10).
    step_every: Option<usize>,
    /// step schedule only: factor applied at each reduction (default 0.5).
    step_factor: Option<f64>,
    /// inverse_time schedule only: α / (1 + decay · epoch) (default 0).
    decay: Option<f64>,
    /// cosine schedule only (required): the epoch the cosine reaches min_learning_rate, usually
    /// train.epochs.
    cosine_epochs: Option<usize>,
    /// cosine schedule only: the rate at the end (default 0).
    min_learning_rate: Option<f64>,
    /// cosine schedule only: epochs of linear warm-up before the cosine (default 0).
    warmup_epochs: Option<usize>,
    /// L2 penalty λ: λ w is added to each gradient (biases too unless the model says otherwise).
    #[serde(default)]
    weight_decay: f64,
}

#[derive(Clone, Copy, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
enum MethodName {
    #[default]
    Sgd,
    Momentum,
    Adam,
}

#[derive(Clone, Copy, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
enum ScheduleName {
    #[default]
    Constant,
    Step,
    InverseTime,
    Cosine,
}

/// `Err` naming a setting given for a method or schedule that does not take it.
pub(crate) fn only(owner: &str, given: &[(&str, bool)], takes: &str) -> Result<(), String> {
    match given.iter().find(|(_, present)| *present) {
        Some((name, _)) => Err(format!("`{name}` is not a setting of {owner} (its settings: {takes})")),
        None => Ok(()),
    }
}

impl TryFrom<OptimizerFields> for OptimizerConfig {
    type Error = String;

    fn try_from(f: OptimizerFields) -> Result<OptimizerConfig, String> {
        let (m, b1, b2, e) = (f.momentum.is_some(), f.beta1.is_some(), f.beta2.is_some(), f.epsilon.is_some());
        let method = match f.method {
            MethodName::Sgd => {
                only("method `sgd`", &[("momentum", m), ("beta1", b1), ("beta2", b2), ("epsilon", e)], "none")?;
                Method::Sgd
            }
            MethodName::Momentum => {
                only("method `momentum`", &[("beta1", b1), ("beta2", b2), ("epsilon", e)], "momentum")?;
                Method::Momentum { beta: f.momentum.unwrap_or(0.9) }
            }
            MethodName::Adam => {
                only("method `adam`", &[("momentum", m)], "beta1, beta2, epsilon")?;
                Method::Adam {
                    beta1: f.beta1.unwrap_or(0.9),
                    beta2: f.beta2.unwrap_or(0.999),
                    epsilon: f.epsilon.unwrap_or(1e-8),
                }
            }
        };
        let (every, factor, decay) = (f.step_every.is_some(), f.step_factor.is_some(), f.decay.is_some());
        let cosine = [
            ("cosine_epochs", f.cosine_epochs.is_some()),
            ("min_learning_rate", f.min_learning_rate.is_some()),
            ("warmup_epochs", f.warmup_epochs.is_some()),
        ];
        if !matches!(f.schedule, ScheduleName::Cosine) {
            only("any schedule but `cosine`", &cosine, "see the schedule")?;
        }
        let schedule = match f.schedule {
            ScheduleName::Constant => {
                only(
                    "schedule `constant`",
                    &[("step_every", every), ("step_factor", factor), ("decay", decay)],
                    "none",
                )?;
                Schedule::Constant
            }
            ScheduleName::Step => {
                only("schedule `step`", &[("decay", decay)], "step_every, step_factor")?;
                Schedule::Step { every: f.step_every.unwrap_or(10), factor: f.step_factor.unwrap_or(0.5) }
            }
            ScheduleName::InverseTime => {
                only("schedule `inverse_time`", &[("step_every", every), ("step_factor", factor)], "decay")?;
                Schedule::InverseTime { decay: f.decay.unwrap_or(0.0) }
            }
            ScheduleName::Cosine => {
                only(
                    "schedule `cosine`",
                    &[("step_every", every), ("step_factor", factor), ("decay", decay)],
                    "cosine_epochs, min_learning_rate, warmup_epochs",
                )?;
                Schedule::Cosine {
                    epochs: f.cosine_epochs.ok_or("schedule `cosine` needs cosine_epochs (usually train.epochs)")?,
                    min_rate: f.min_learning_rate.unwrap_or(0.0),
                    warmup: f.warmup_epochs.unwrap_or(0),
                }
            }
        };
        Ok(OptimizerConfig { method, learning_rate: f.learning_rate, schedule, weight_decay: f.weight_decay })
    }
}

/// Checked optimiser settings: what the update rule runs with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OptimizerParams {
    /// The update rule.
    pub method: Method,
    /// The initial step size.
    pub learning_rate: f64,
    /// How the step size changes.
    pub schedule: Schedule,
    /// The L2 penalty added to the gradient.
    pub weight_decay: f64,
}

impl Validate for OptimizerConfig {
    type Params = OptimizerParams;
    type Error = OutOfRange;

    /// Checks every number.
    ///
    /// # Errors
    /// The first setting out of range.
    fn validate(&self) -> Result<OptimizerParams, OutOfRange> {
        OutOfRange::check("learning_rate", self.learning_rate, self.learning_rate > 0.0, "> 0")?;
        OutOfRange::check("weight_decay", self.weight_decay, self.weight_decay >= 0.0, ">= 0")?;
        match self.method {
            Method::Sgd => {}
            Method::Momentum { beta } => {
                OutOfRange::check("momentum", beta, (0.0..1.0).contains(&beta), "0 <= momentum < 1")?;
            }
            Method::Adam { beta1, beta2, epsilon } => {
                OutOfRange::check("beta1", beta1, (0.0..1.0).contains(&beta1), "0 <= beta1 < 1")?;
                OutOfRange::check("beta2", beta2, (0.0..1.0).contains(&beta2), "0 <= beta2 < 1")?;
                OutOfRange::check("epsilon", epsilon, epsilon > 0.0, "> 0")?;
            }
        }
        match self.schedule {
            Schedule::Constant => {}
            Schedule::Step { every, factor } => {
                OutOfRange::at_least("step_every", every, 1, ">= 1")?;
                OutOfRange::check("step_factor", factor, factor > 0.0 && factor <= 1.0, "0 < factor <= 1")?;
            }
            Schedule::InverseTime { decay } => OutOfRange::check("decay", decay, decay >= 0.0, ">= 0")?,
            Schedule::Cosine { epochs, min_rate, warmup } => {
                OutOfRange::at_least("cosine_epochs", epochs, warmup + 1, "> warmup_epochs")?;
                let fits = (0.0..self.learning_rate).contains(&min_rate);
                OutOfRange::check("min_learning_rate", min_rate, fits, "0 <= min_learning_rate < learning_rate")?;
            }
        }
        let OptimizerConfig { method, learning_rate, schedule, weight_decay } = *self;
        Ok(OptimizerParams { method, learning_rate, schedule, weight_decay })
    }
}

impl OptimizerParams {
    /// The learning rate in `epoch` (0-based).
    pub fn learning_rate_at(&self, epoch: usize) -> f64 {
        match self.schedule {
            Schedule::Constant => self.learning_rate,
            Schedule::Step { every, factor } => self.learning_rate * factor.powi((epoch / every) as i32),
            Schedule::InverseTime { decay } => self.learning_rate / (1.0 + decay * epoch as f64),
            Schedule::Cosine { epochs, min_rate, warmup } => {
                if epoch < warmup {
                    return self.learning_rate * (epoch + 1) as f64 / warmup as f64;
                }
                let t = ((epoch - warmup) as f64 / (epochs - warmup) as f64).min(1.0);
                min_rate + 0.5 * (self.learning_rate - min_rate) * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

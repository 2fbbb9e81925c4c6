//! `[som]` as written in a config, and the checked parameters the algorithm runs on.

use cg_core::numeric::exp_or_zero;
use cg_core::Validate;
use serde::Deserialize;

use crate::lattice::{Lattice, Topology};
use crate::{Error, Result};

/// `[som]` of a config file.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SomConfig {
    /// Rows of the lattice.
    pub rows: usize,
    /// Columns of the lattice.
    pub cols: usize,
    /// Rectangular or hexagonal.
    #[serde(default)]
    pub topology: Topology,
    /// Glue opposite edges together (no border units).
    #[serde(default)]
    pub toroidal: bool,
    /// The neighbourhood function.
    #[serde(default)]
    pub neighbourhood: Neighbourhood,
    /// Cut the neighbourhood to zero beyond `truncate` x radius (somoclu's compact support is a
    /// Gaussian of σ = radius/2 truncated at 2σ). No cut when absent.
    pub truncate: Option<f64>,
    /// Online or batch.
    pub training: Training,
    /// Training epochs (batch: one pass each; online: iterations_per_epoch draws each).
    pub epochs: usize,
    /// Online training: samples drawn per epoch (default: the number of samples).
    pub iterations_per_epoch: Option<usize>,
    /// Online training only: the step size of the update w += rate h (x - w).
    pub learning_rate: Option<ScheduleConfig>,
    /// The neighbourhood's width σ over the run, in lattice units.
    pub radius: ScheduleConfig,
    /// How the prototypes start.
    #[serde(default)]
    pub init: Init,
}

impl SomConfig {
    /// A batch-trained `rows` x `cols` map with the usual choices: rectangular and planar,
    /// Gaussian neighbourhood, PCA start, radius from half the longer side down to 1 (linear);
    /// change any field before [`Validate::validate`].
    ///
    /// ```
    /// use cg_core::Validate;
    /// let params = cg_som::SomConfig::batch(6, 8, 20).validate().unwrap();
    /// assert_eq!(params.lattice.units(), 48);
    /// ```
    pub fn batch(rows: usize, cols: usize, epochs: usize) -> SomConfig {
        SomConfig {
            rows,
            cols,
            topology: Topology::default(),
            toroidal: false,
            neighbourhood: Neighbourhood::Gaussian,
            truncate: None,
            training: Training::Batch,
            epochs,
            iterations_per_epoch: None,
            learning_rate: None,
            radius: ScheduleConfig { start: (rows.max(cols) as f64 / 2.0).max(1.0), end: 1.0, decay: Decay::Linear },
            init: Init::Pca,
        }
    }

    /// An online (one sample at a time) `rows` x `cols` map: as [`SomConfig::batch`], with a
    /// learning rate from 0.5 down to 0.01 (linear) and one pass over the data per epoch.
    pub fn online(rows: usize, cols: usize, epochs: usize) -> SomConfig {
        SomConfig {
            training: Training::Online,
            learning_rate: Some(ScheduleConfig { start: 0.5, end: 0.01, decay: Decay::Linear }),
            ..SomConfig::batch(rows, cols, epochs)
        }
    }
}

/// How a unit's update falls off with its lattice distance d to the best-matching unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Neighbourhood {
    /// exp(-d² / 2σ²).
    #[default]
    Gaussian,
    /// 1 within distance σ, 0 beyond.
    Bubble,
    /// (1 - d²/σ²) exp(-d² / 2σ²): pulls near units in, pushes a ring further out away.
    MexicanHat,
}

/// Online: the chapter's competitive learning, one sample at a time. Batch: every unit moves to
/// the neighbourhood-weighted mean of the data each epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Training {
    /// One sample at a time.
    Online,
    /// All samples per epoch.
    Batch,
}

/// Starting codebook.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// Each unit a random sample of the data (MiniSom's `random_weights_init`).
    Random,
    /// Each value uniform between its feature's minimum and maximum (somoclu's random codebook
    /// on data in [0, 1]).
    Uniform,
    /// Units spread over the plane of the first two principal components (mean ± one standard
    /// deviation along each), the longer lattice axis along the first.
    #[default]
    Pca,
}

/// `{ start = .., end = .., decay = "linear" | "exponential" | "inverse_time" }`.
#[derive(Clone, Copy, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Value at the first step (> 0).
    pub start: f64,
    /// Value at the last step (> 0).
    pub end: f64,
    /// How the value falls.
    #[serde(default)]
    pub decay: Decay,
}

/// How a scheduled value goes from `start` (first step) to `end` (last step).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decay {
    /// Linearly.
    #[default]
    Linear,
    /// Exponentially.
    Exponential,
    /// start / (1 + c p) with c set so the value is `end` at the last step; MiniSom's default
    /// (`asymptotic_decay`) is the case end = start / 3.
    InverseTime,
}

/// A checked schedule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    /// The first value.
    pub start: f64,
    /// The last value.
    pub end: f64,
    /// How it falls between them.
    pub decay: Decay,
}

impl Schedule {
    /// The value at step `t` of `total` (the first step gives `start`, the last `end`).
    pub fn at(&self, t: usize, total: usize) -> f64 {
        let p = if total > 1 { t as f64 / (total - 1) as f64 } else { 0.0 };
        let (a, b) = (self.start, self.end);
        match self.decay {
            Decay::Linear => a + (b - a) * p,
            Decay::Exponential => a * (b / a).powf(p),
            Decay::InverseTime => a / (1.0 + (a / b - 1.0) * p),
        }
    }
}

impl ScheduleConfig {
    fn validate(self, param: &'static str) -> Result<Schedule> {
        for v in [self.start, self.end] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::OutOfRange(cg_core::OutOfRange { param, value: v, expected: "finite and > 0" }));
            }
        }
        Ok(Schedule { start: self.start, end: self.end, decay: self.decay })
    }
}

impl Neighbourhood {
    /// h(d²) for width `sigma`, zero beyond `cut2` (a squared distance) when given. The Gaussian
    /// factor uses the branch-free exponential of `cg_core::numeric` (so that loops over units
    /// vectorise), and is exactly zero once it falls below e^-500 ≈ 7e-218
    /// ([`cg_core::numeric::NEGLIGIBLE_EXPONENT`]: the online SOM on digits ran 3-4x slower on
    /// Intel than on AMD while every far unit's weight was a subnormal number).
    #[inline(always)]
    pub fn weight(self, d2: f64, sigma: f64, cut2: Option<f64>) -> f64 {
        let s2 = sigma * sigma;
        let a = -d2 / (2.0 * s2);
        let gauss = exp_or_zero(a);
        let h = match self {
            Neighbourhood::Gaussian => gauss,
            // The tolerance keeps units exactly at distance σ (σ = 1, √2, ...) inside.
            Neighbourhood::Bubble => f64::from(u8::from(d2 <= s2 * (1.0 + 1e-12))),
            Neighbourhood::MexicanHat => (1.0 - d2 / s2) * gauss,
        };
        if cut2.is_some_and(|c| d2 > c) {
            0.0
        } else {
            h
        }
    }

    /// Replaces each squared distance in `d2` by `scale` h(d²), one loop per neighbourhood so
    /// that it vectorises.
    #[inline(always)]
    pub fn weights_in_place(self, d2: &mut [f64], sigma: f64, cut2: Option<f64>, scale: f64) {
        match self {
            Neighbourhood::Gaussian => {
                d2.iter_mut().for_each(|x| *x = scale * Neighbourhood::Gaussian.weight(*x, sigma, cut2))
            }
            Neighbourhood::Bubble => {
                d2.iter_mut().for_each(|x| *x = scale * Neighbourhood::Bubble.weight(*x, sigma, cut2))
            }
            Neighbourhood::MexicanHat => {
                d2.iter_mut().for_each(|x| *x = scale * Neighbourhood::MexicanHat.weight(*x, sigma, cut2))
            }
        }
    }
}

/// Checked parameters of a map and its training.
#[derive(Clone, Debug, PartialEq)]
pub struct SomParams {
    /// The units' arrangement.
    pub lattice: Lattice,
    /// The neighbourhood function.
    pub neighbourhood: Neighbourhood,
    /// The neighbourhood is zero beyond `truncate` × radius (`None`: never).
    pub truncate: Option<f64>,
    /// Online or batch.
    pub training: Training,
    /// Passes over the data.
    pub epochs: usize,
    /// Samples per online epoch (all when absent).
    pub iterations_per_epoch: Option<usize>,
    /// `None` for batch training.
    pub learning_rate: Option<Schedule>,
    /// The neighbourhood radius over time.
    pub radius: Schedule,
    /// How the prototypes start.
    pub init: Init,
}

impl Validate for SomConfig {
    type Params = SomParams;
    type Error = Error;

    /// Checks every setting; the errors name the setting.
    ///
    /// # Errors
    /// A value out of range, or settings that do not go together (a learning rate for batch
    /// training, a Mexican hat for batch training).
    fn validate(&self) -> Result<SomParams> {
        let lattice = Lattice::new(self.rows, self.cols, self.topology, self.toroidal)?;
        if self.epochs == 0 {
            return Err(Error::OutOfRange(cg_core::OutOfRange { param: "epochs", value: 0.0, expected: ">= 1" }));
        }
        if let Some(t) = self.truncate {
            if !(t.is_finite() && t > 0.0) {
                return Err(Error::OutOfRange(cg_core::OutOfRange {
                    param: "truncate",
                    value: t,
                    expected: "finite and > 0",
                }));
            }
        }
        let radius = self.radius.validate("radius")?;
        let learning_rate = match (self.training, self.learning_rate) {
            (Training::Online, Some(lr)) => Some(lr.validate("learning_rate")?),
            (Training::Online, None) => return Err(Error::Missing { param: "learning_rate", why: "online training" }),
            (Training::Batch, Some(_)) => {
                return Err(Error::Conflict { what: "learning_rate", why: "batch training has no learning rate" })
            }
            (Training::Batch, None) => None,
        };
        if self.training == Training::Batch {
            if self.neighbourhood == Neighbourhood::MexicanHat {
                return Err(Error::Conflict {
                    what: "neighbourhood = \"mexican_hat\"",
                    why: "its negative weights can leave a batch unit's weighted mean undefined; use online training",
                });
            }
            if self.iterations_per_epoch.is_some() {
                return Err(Error::Conflict {
                    what: "iterations_per_epoch",
                    why: "a batch epoch always uses every sample once",
                });
            }
        }
        if self.iterations_per_epoch == Some(0) {
            return Err(Error::OutOfRange(cg_core::OutOfRange {
                param: "iterations_per_epoch",
                value: 0.0,
                expected: ">= 1",
            }));
        }
        Ok(SomParams {
            lattice,
            neighbourhood: self.neighbourhood,
            truncate: self.truncate,
            training: self.training,
            epochs: self.epochs,
            iterations_per_epoch: self.iterations_per_epoch,
            learning_rate,
            radius,
            init: self.init,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> SomConfig {
        toml::from_str(text).unwrap()
    }

    const BASE: &str = "rows = 4\ncols = 5\nepochs = 3\nradius = { start = 2.0, end = 0.5 }\n";

    #[test]
    fn schedules_run_from_start_to_end() {
        for decay in [Decay::Linear, Decay::Exponential, Decay::InverseTime] {
            let s = Schedule { start: 0.5, end: 0.01, decay };
            assert_eq!(s.at(0, 11), 0.5);
            assert!((s.at(10, 11) - 0.01).abs() < 1e-15, "{decay:?}");
            assert!(s.at(5, 11) < 0.5 && s.at(5, 11) > 0.01);
        }
        // Linear midpoint; exponential midpoint is the geometric mean.
        assert!((Schedule { start: 2.0, end: 1.0, decay: Decay::Linear }.at(1, 3) - 1.5).abs() < 1e-15);
        assert!((Schedule { start: 4.0, end: 1.0, decay: Decay::Exponential }.at(1, 3) - 2.0).abs() < 1e-15);
        // MiniSom's asymptotic decay: lr / (1 + t / (T/2)) ends at lr / 3.
        let s = Schedule { start: 0.5, end: 0.5 / 3.0, decay: Decay::InverseTime };
        assert!((s.at(50, 101) - 0.5 / 2.0).abs() < 1e-15);
    }

    #[test]
    fn neighbourhood_values() {
        let g = Neighbourhood::Gaussian;
        assert_eq!(g.weight(0.0, 2.0, None), 1.0);
        assert!((g.weight(4.0, 2.0, None) - (-0.5f64).exp()).abs() < 1e-16);
        assert_eq!(g.weight(4.0, 1.0, Some(3.9)), 0.0);
        let b = Neighbourhood::Bubble;
        assert_eq!((b.weight(1.0, 1.0, None), b.weight(1.01, 1.0, None)), (1.0, 0.0));
        assert_eq!(b.weight(2.0, 2f64.sqrt(), None), 1.0, "a unit exactly at distance σ is inside");
        let m = Neighbourhood::MexicanHat;
        assert_eq!(m.weight(0.0, 1.0, None), 1.0);
        assert_eq!(m.weight(1.0, 1.0, None), 0.0);
        assert!((m.weight(4.0, 1.0, None) + 3.0 * (-2.0f64).exp()).abs() < 1e-16);
    }

    #[test]
    fn online_needs_a_learning_rate_and_batch_refuses_one() {
        let e = config(&format!("{BASE}training = \"online\"")).validate().unwrap_err();
        assert_eq!(e.to_string(), "learning_rate: missing (online training needs it)");
        let text = format!("{BASE}training = \"batch\"\nlearning_rate = {{ start = 0.5, end = 0.1 }}");
        assert_eq!(
            config(&text).validate().unwrap_err().to_string(),
            "learning_rate: batch training has no learning rate"
        );
    }

    #[test]
    fn rejects_bad_values() {
        let e = config(&BASE.replace("epochs = 3", "epochs = 0").replace("rows", "training = \"batch\"\nrows"))
            .validate()
            .unwrap_err();
        assert_eq!(e.to_string(), "epochs = 0 is out of range (>= 1)");
        let e = config(&format!("{}training = \"batch\"", BASE.replace("end = 0.5", "end = 0.0"))).validate();
        assert_eq!(e.unwrap_err().to_string(), "radius = 0 is out of range (finite and > 0)");
        let e = config(&format!("{BASE}training = \"batch\"\nneighbourhood = \"mexican_hat\"")).validate();
        assert!(e.unwrap_err().to_string().starts_with("neighbourhood = \"mexican_hat\": its negative"));
        let e = config(&format!("{BASE}training = \"batch\"\ntopology = \"hexagonal\"\ntoroidal = true"));
        assert!(e.clone().validate().is_ok(), "4 rows: fine");
        let mut odd = e;
        odd.rows = 5;
        assert_eq!(
            odd.validate().unwrap_err().to_string(),
            "rows = 5: a toroidal hexagonal lattice needs an even row count"
        );
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let e =
            toml::from_str::<SomConfig>(&format!("{BASE}training = \"batch\"\nneighbourhood = \"cone\"")).unwrap_err();
        assert!(e.message().contains("expected one of `gaussian`, `bubble`, `mexican_hat`"), "{}", e.message());
    }
}

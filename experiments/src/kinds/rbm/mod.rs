//! `kind = "rbm"`: a restricted Boltzmann machine trained on a data file by CD-k or PCD, watched
//! by `cg_boltzmann::LikelihoodMonitor` (pseudo-log-likelihood per epoch, exact or AIS
//! log-likelihood), with its filters and chains sampled from noise.

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use cg_boltzmann::{EvaluationConfig, MatrixRows, RbmConfig, RbmParams, Visible};
use cg_core::{MapValues, RowChunks, Validate};
use cg_data::stream::StreamedRows;
use cg_data::{DataConfig, InputTransform, Table};
use nalgebra::{DMatrix, DVector};
use serde::Deserialize;

use crate::kinds::KindConfig;
use crate::predict::{Predictions, SavedModel};

mod run;

/// `kind = "rbm"`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RbmFile {
    #[allow(dead_code)]
    kind: String,
    /// Seeds every random choice of the run: the same seed gives the same numbers.
    #[serde(default)]
    seed: u64,
    /// The data: exactly one of `csv`, `npy`, `parquet`, `inline_x` with `inline_y`, or
    /// `[data.synthetic]`; the split and the feature transforms. `stream = true` reads an `.npy`
    /// file chunk by chunk (data larger than memory) with the same numbers.
    data: DataConfig,
    /// Values above this become 1, the rest 0 (after `[data] scale`); needed for Bernoulli units
    /// whose pseudo-likelihood is reported.
    binarize: Option<f64>,
    /// The machine and its training.
    rbm: RbmConfig,
    /// How the log-likelihood is estimated and what is sampled for the pictures.
    #[serde(default)]
    evaluation: EvaluationConfig,
    /// Epochs of the shortened regression check run.
    check_epochs: Option<usize>,
}

/// The training samples: in memory (samples as rows, binarized), or an `.npy` file read chunk
/// by chunk (`[data] stream`), binarized as it is read.
enum Samples {
    Memory(DMatrix<f64>),
    Streamed(StreamedRows),
}

/// Values above `t` become 1, the rest 0; no threshold leaves them.
fn binarized(t: Option<f64>) -> impl Fn(f64) -> f64 + Send + Sync {
    move |x| match t {
        Some(t) => f64::from(u8::from(x > t)),
        None => x,
    }
}

/// The first value of `data` outside [0, 1], and the first that is not 0 or 1, in one pass (it
/// ends at the first outside [0, 1]).
fn first_not_binary(data: &dyn RowChunks) -> Result<(Option<f64>, Option<f64>)> {
    let (mut outside, mut fractional) = (None, None);
    data.for_each_chunk(&mut |_, chunk| {
        for &x in chunk {
            if !(0.0..=1.0).contains(&x) {
                outside = Some(x);
                return Err(String::new());
            }
            if x != 0.0 && x != 1.0 && fractional.is_none() {
                fractional = Some(x);
            }
        }
        Ok(())
    })
    .or_else(|e| if outside.is_some() { Ok(()) } else { Err(anyhow!("[data] npy: {e}")) })?;
    Ok((outside, fractional))
}

/// A validated RBM experiment.
pub struct RbmExperiment {
    seed: u64,
    data: Samples,
    /// How the data's columns became the visible units (saved with the model, for `predict`).
    inputs: InputTransform,
    binarize: Option<f64>,
    params: RbmParams,
    evaluation: EvaluationConfig,
    check_epochs: Option<usize>,
}

impl RbmExperiment {
    /// The samples as the trainer and the monitor read them (a streamed file binarized as it is
    /// read; a matrix in memory was binarized when loaded).
    fn view(data: &Samples, binarize: Option<f64>) -> Box<dyn RowChunks + '_> {
        match data {
            Samples::Memory(m) => Box::new(MatrixRows(m)),
            Samples::Streamed(rows) => Box::new(MapValues { source: rows, f: binarized(binarize) }),
        }
    }
}

impl KindConfig for RbmFile {
    const NAME: &'static str = "rbm";
    const SUMMARY: &'static str =
        "a restricted Boltzmann machine trained by CD-k or PCD, with exact or AIS log-likelihood";
    const RESUMABLE: bool = true;
    const PREDICTS: bool = true;
    type Experiment = RbmExperiment;

    /// Loads the data (rows are samples) and checks the settings.
    ///
    /// # Errors
    /// A data problem, a setting out of range, or data that Bernoulli units cannot take.
    fn validate(self, base: &Path) -> Result<RbmExperiment> {
        let params = self.rbm.validate().map_err(|e| anyhow!("[rbm] {e}"))?;
        let (data, inputs) = if self.data.stream {
            let (rows, inputs) = self.data.open_stream(base)?;
            (Samples::Streamed(rows), inputs)
        } else {
            let splits = self.data.load(base, self.seed)?;
            let mut data = splits.train.features.transpose();
            data.iter_mut().for_each(|x| *x = binarized(self.binarize)(*x));
            (Samples::Memory(data), splits.transform)
        };
        if params.visible == Visible::Bernoulli {
            // One pass over a streamed file (the trainer makes its own).
            let (outside, fractional) = first_not_binary(&RbmExperiment::view(&data, self.binarize))?;
            if let Some(x) = outside {
                bail!("[data] {x} is outside [0, 1]: scale the data or set binarize for Bernoulli visible units");
            }
            // A likelihood of binary units is only defined on binary data.
            if let Some(x) = fractional {
                bail!("[data] {x} is not 0 or 1: Bernoulli visible units model binary data; set binarize = threshold (or visible = \"gaussian\")");
            }
        }
        self.evaluation.validate().map_err(|e| anyhow!("[evaluation] {e}"))?;
        if self.check_epochs.is_some_and(|n| n == 0 || n > params.epochs) {
            bail!("check_epochs: must be between 1 and epochs = {}", params.epochs);
        }
        Ok(RbmExperiment {
            seed: self.seed,
            data,
            inputs,
            binarize: self.binarize,
            params,
            evaluation: self.evaluation,
            check_epochs: self.check_epochs,
        })
    }

    /// Each row's hidden-unit probabilities p(h_j = 1 | v) and free energy F(v).
    fn predict(model: &SavedModel, data: &Table) -> Result<Predictions> {
        let bad = |what: String| anyhow!("{}: {what}", model.path.display());
        let (shape, w) = model.tensor("W")?;
        let &[nv, nh] = shape else { return Err(bad(format!("W has shape {shape:?}, not visible x hidden"))) };
        let (b, c) = (model.tensor("visible_bias")?.1, model.tensor("hidden_bias")?.1);
        if b.len() != nv || c.len() != nh {
            return Err(bad(format!("biases of {} and {} units for W of {nv} x {nh}", b.len(), c.len())));
        }
        let visible = match model.meta("visible_units")? {
            "bernoulli" => Visible::Bernoulli,
            "gaussian" => Visible::Gaussian,
            other => return Err(bad(format!("visible_units = {other}"))),
        };
        let rbm = cg_boltzmann::Rbm {
            w: DMatrix::from_row_slice(nv, nh, w),
            b: DVector::from_column_slice(b),
            c: DVector::from_column_slice(c),
            visible,
        };
        let mut v = model.inputs_for(nv)?.features_of(data)?.transpose();
        if v.ncols() != nv {
            return Err(bad(format!("{} features for {nv} visible units", v.ncols())));
        }
        if let Some(t) = model.metadata.get("binarize") {
            let t: f64 = t.parse().map_err(|_| bad(format!("binarize = {t}")))?;
            v.iter_mut().for_each(|x| *x = f64::from(u8::from(*x > t)));
        }
        let h = rbm.hidden_probs(&v);
        let rows = (0..v.nrows())
            .map(|r| {
                let row: Vec<f64> = v.row(r).iter().copied().collect();
                h.row(r).iter().copied().chain([rbm.free_energy(&row)]).collect()
            })
            .collect();
        let mut columns: Vec<String> = (0..nh).map(|j| format!("h_{j}")).collect();
        columns.push("free_energy".into());
        Ok(Predictions { columns, rows, class_names: vec![] })
    }
}

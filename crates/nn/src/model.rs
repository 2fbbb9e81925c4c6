//! The network graph, its parameters' initialisation, and target encoding.

use std::sync::Arc;

use cg_autodiff::vector::{
    Activation, Linear, Loss, Mat, Real, Softmax, VectorDag, VectorDagBuilder, VectorOp, VectorTape,
};
use cg_core::NodeId;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::Deserialize;

/// `[model]` as written in a config.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Layer widths from input to output, e.g. [64, 64, 10]. The first must equal the number of
    /// features.
    pub layers: Vec<usize>,
    /// Hidden activation: sigmoid, tanh, relu, hardtanh.
    #[serde(default = "relu")]
    pub hidden: String,
    /// Output activation: identity, sigmoid, tanh, softmax.
    #[serde(default = "identity")]
    pub output: String,
    /// squared_error, neg_log, logistic, widrow_hoff, hinge, squared_hinge, softmax_cross_entropy,
    /// weston_watkins.
    pub loss: String,
    /// xavier (uniform) or he (normal); default he for relu, xavier otherwise.
    pub init: Option<String>,
    /// Reconstruct the input (targets = features): with identity activations and a narrow hidden
    /// layer this is rank-k matrix factorisation (exercise 19).
    #[serde(default)]
    pub autoencoder: bool,
}

fn relu() -> String {
    "relu".into()
}
fn identity() -> String {
    "identity".into()
}

/// Weight initialisation. Biases start at zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// Uniform on ±sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010).
    Xavier,
    /// Normal with variance 2 / fan_in (He et al., 2015).
    He,
}

/// The output layer's function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    Activation(Activation),
    Softmax,
}

/// A checked model description.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelParams {
    pub layers: Vec<usize>,
    pub hidden: Activation,
    pub output: OutputKind,
    pub loss: Loss,
    pub init: Init,
    pub autoencoder: bool,
}

fn activation(name: &str, field: &str) -> Result<Activation, String> {
    [Activation::Sigmoid, Activation::Tanh, Activation::Relu, Activation::HardTanh, Activation::Identity]
        .into_iter()
        .find(|a| Activation::name(*a) == name)
        .ok_or_else(|| {
            format!("[model] {field}: unknown activation `{name}`; one of sigmoid, tanh, relu, hardtanh, identity")
        })
}

impl ModelParams {
    /// Names and sizes of the parameters, in [`Mlp::params`] order (W_i is out × in, stored
    /// column-major; b_i is out).
    pub fn param_sizes(&self) -> Vec<(String, usize)> {
        self.layers
            .windows(2)
            .enumerate()
            .flat_map(|(i, w)| [(format!("W{}", i + 1), w[1] * w[0]), (format!("b{}", i + 1), w[1])])
            .collect()
    }
}

impl ModelConfig {
    /// Checks names and sizes.
    ///
    /// # Errors
    /// Fewer than two layers, a zero width, or an unknown activation, loss or initialiser.
    pub fn validate(&self) -> Result<ModelParams, String> {
        if self.layers.len() < 2 || self.layers.contains(&0) {
            return Err(format!(
                "[model] layers: {:?} needs at least an input and an output width, all >= 1",
                self.layers
            ));
        }
        let hidden = activation(&self.hidden, "hidden")?;
        let output = match self.output.as_str() {
            "softmax" => OutputKind::Softmax,
            name => OutputKind::Activation(activation(name, "output")?),
        };
        let loss = Loss::from_name(&self.loss).ok_or_else(|| {
            let names: Vec<&str> = Loss::ALL.iter().map(|l| l.name()).collect();
            format!("[model] loss: unknown `{}`; one of {}", self.loss, names.join(", "))
        })?;
        let init = match self.init.as_deref() {
            None if hidden == Activation::Relu => Init::He,
            None => Init::Xavier,
            Some("xavier") => Init::Xavier,
            Some("he") => Init::He,
            Some(other) => return Err(format!("[model] init: unknown `{other}`; one of xavier, he")),
        };
        if self.autoencoder && (self.layers.last() != self.layers.first() || loss != Loss::SquaredError) {
            return Err(
                "[model] autoencoder: needs the output width equal to the input width and loss = \"squared_error\""
                    .into(),
            );
        }
        Ok(ModelParams { layers: self.layers.clone(), hidden, output, loss, init, autoencoder: self.autoencoder })
    }
}

/// The number types a network can be trained in: f64 or f32.
pub trait Float: Real + cg_optim::Scalar {}

impl<T: Real + cg_optim::Scalar> Float for T {}

/// A network as a vector DAG: input node `x`, parameters W1, b1, W2, b2, ..., output node.
pub struct Mlp<T: Float = f64> {
    pub spec: ModelParams,
    pub dag: VectorDag<T>,
    pub input: NodeId,
    pub output: NodeId,
    /// W1, b1, W2, b2, ... in layer order.
    pub params: Vec<NodeId>,
}

impl<T: Float> Mlp<T> {
    /// Builds the graph of `spec`.
    pub fn new(spec: ModelParams) -> Mlp<T> {
        let build = || -> cg_autodiff::Result<Mlp<T>> {
            let mut b = VectorDagBuilder::<T>::new();
            let input = b.input("x")?;
            let mut h = input;
            let mut params = vec![];
            let n = spec.layers.len() - 1;
            for i in 1..=n {
                let w = b.param(&format!("W{i}"))?;
                let bias = b.param(&format!("b{i}"))?;
                params.extend([w, bias]);
                let last = i == n;
                let a = b.op(&format!("a{i}"), Arc::new(Linear), &[w, h, bias], false)?;
                let op: Arc<dyn VectorOp<T>> = match (last, spec.output) {
                    (false, _) => Arc::new(spec.hidden),
                    (true, OutputKind::Softmax) => Arc::new(Softmax),
                    (true, OutputKind::Activation(act)) => Arc::new(act),
                };
                h = b.op(if last { "o".to_string() } else { format!("h{i}") }.as_str(), op, &[a], last)?;
            }
            Ok(Mlp { spec: spec.clone(), dag: b.build()?, input, output: h, params })
        };
        build().expect("internal: an MLP graph has fresh names and no cycles")
    }

    /// A tape with freshly initialised parameters (drawn from `rng`).
    pub fn init(&self, rng: &mut ChaCha8Rng) -> VectorTape<T> {
        let mut tape = self.dag.tape();
        for (i, pair) in self.params.chunks(2).enumerate() {
            let (fan_in, fan_out) = (self.spec.layers[i], self.spec.layers[i + 1]);
            let w = match self.spec.init {
                Init::Xavier => {
                    let a = (6.0 / (fan_in + fan_out) as f64).sqrt();
                    Mat::from_fn(fan_out, fan_in, |_, _| T::cast(rng.random_range(-a..=a)))
                }
                Init::He => {
                    let normal = Normal::new(0.0, (2.0 / fan_in as f64).sqrt()).expect("internal: positive variance");
                    Mat::from_fn(fan_out, fan_in, |_, _| T::cast(normal.sample(rng)))
                }
            };
            tape.set(pair[0], w);
            tape.set(pair[1], Mat::<T>::zeros(fan_out, 1));
        }
        tape
    }

    /// Number of learnable numbers.
    pub fn parameter_count(&self) -> usize {
        self.spec.layers.windows(2).map(|w| w[1] * (w[0] + 1)).sum()
    }

    /// Width of the output layer.
    pub fn n_outputs(&self) -> usize {
        *self.spec.layers.last().expect("internal: validated layers")
    }

    /// The margin losses (and Widrow-Hoff) take ±1 targets and classify by the sign of the output.
    pub fn margin(&self) -> bool {
        matches!(self.spec.loss, Loss::Logistic | Loss::WidrowHoff | Loss::Hinge | Loss::SquaredHinge)
    }

    /// Targets as the loss expects them: one-hot columns for several outputs (class labels), ±1
    /// for margin losses on labels 0/1, the values themselves otherwise.
    ///
    /// # Errors
    /// A label outside the output layer's classes.
    pub fn encode_targets(&self, targets: &[f64]) -> Result<Mat<T>, String> {
        let k = self.n_outputs();
        if k == 1 {
            return Ok(Mat::from_fn(1, targets.len(), |_, j| {
                let t = targets[j];
                T::cast(if self.margin() && (t == 0.0 || t == 1.0) { 2.0 * t - 1.0 } else { t })
            }));
        }
        if let Some(bad) = targets.iter().find(|&&t| t < 0.0 || t.fract() != 0.0 || t >= k as f64) {
            return Err(format!("target {bad} is not a class label below the output width {k}"));
        }
        Ok(Mat::from_fn(k, targets.len(), |i, j| if targets[j] as usize == i { T::one() } else { T::zero() }))
    }

    /// The predicted class of each column of an output matrix: the argmax for several outputs,
    /// otherwise output >= 0 (margin losses) or >= 0.5.
    pub fn predict_classes(&self, out: &Mat<T>) -> Vec<f64> {
        if out.nrows() > 1 {
            return out.column_iter().map(|c| c.argmax().0 as f64).collect();
        }
        let threshold = if self.margin() { 0.0 } else { 0.5 };
        out.iter().map(|&o| f64::from(u8::from(o.as_f64() >= threshold))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn spec(layers: &[usize], loss: &str) -> ModelParams {
        ModelConfig {
            layers: layers.to_vec(),
            hidden: "tanh".into(),
            output: "identity".into(),
            loss: loss.into(),
            init: None,
            autoencoder: false,
        }
        .validate()
        .unwrap()
    }

    #[test]
    fn rejects_unknown_names_and_bad_layers() {
        let mut c = ModelConfig {
            layers: vec![2, 1],
            hidden: "tanh".into(),
            output: "identity".into(),
            loss: "l2".into(),
            init: None,
            autoencoder: false,
        };
        assert!(c.validate().unwrap_err().starts_with("[model] loss: unknown `l2`; one of squared_error"));
        c.loss = "hinge".into();
        c.layers = vec![2];
        assert!(c.validate().unwrap_err().starts_with("[model] layers"));
        c.layers = vec![2, 1];
        c.hidden = "swish".into();
        assert!(c.validate().unwrap_err().starts_with("[model] hidden: unknown activation `swish`"));
        c.hidden = "tanh".into();
        c.autoencoder = true;
        assert!(c.validate().unwrap_err().starts_with("[model] autoencoder: needs the output width"));
    }

    #[test]
    fn initial_weights_have_the_prescribed_spread() {
        // Xavier on 200 -> 300: uniform on ±sqrt(6/500), variance a²/3 = 2/500 = 0.004.
        let mlp = Mlp::<f64>::new(spec(&[200, 300, 1], "squared_error"));
        let tape = mlp.init(&mut ChaCha8Rng::seed_from_u64(1));
        let w = tape.get(mlp.params[0]).unwrap();
        let var = w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64;
        assert!((var - 0.004).abs() < 0.0002, "{var}");
        assert!(w.iter().all(|v| v.abs() <= (6.0f64 / 500.0).sqrt()));
        assert!(tape.get(mlp.params[1]).unwrap().iter().all(|&b| b == 0.0));
        assert_eq!(mlp.parameter_count(), 300 * 201 + 301);
    }

    #[test]
    fn targets_are_encoded_for_the_loss() {
        let mlp = Mlp::<f64>::new(spec(&[2, 3], "softmax_cross_entropy"));
        assert_eq!(
            mlp.encode_targets(&[2.0, 0.0]).unwrap(),
            Mat::from_row_slice(3, 2, &[0.0, 1.0, 0.0, 0.0, 1.0, 0.0])
        );
        assert!(mlp.encode_targets(&[3.0]).is_err());
        let hinge = Mlp::<f64>::new(spec(&[2, 1], "hinge"));
        assert_eq!(hinge.encode_targets(&[0.0, 1.0]).unwrap(), Mat::from_row_slice(1, 2, &[-1.0, 1.0]));
        assert_eq!(hinge.predict_classes(&Mat::from_row_slice(1, 2, &[-0.2, 0.1])), vec![0.0, 1.0]);
    }
}

//! The network graph, its parameters' initialisation, and target encoding.

use std::sync::Arc;

use cg_autodiff::vector::{
    Activation, Linear, Loss, LossNode, Mat, Real, Softmax, VectorDagBuilder, VectorOp, VectorTape,
};
use cg_core::NodeId;
use cg_core::Validate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::Deserialize;

use crate::network::{Decision, LossTerm, Network, TargetSource, TargetSpec};
use crate::{Error, Result};

/// `[model]` as written in a config.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Layer widths from input to output, e.g. [64, 64, 10]. The first must equal the number of
    /// features.
    pub layers: Vec<usize>,
    /// Hidden activation: sigmoid, tanh, relu, hardtanh, identity.
    #[serde(default = "relu")]
    pub hidden: Activation,
    /// Output activation: identity, sigmoid, tanh, relu, hardtanh, softmax.
    #[serde(default = "identity")]
    pub output: OutputKind,
    /// squared_error, neg_log, logistic, widrow_hoff, hinge, squared_hinge, softmax_cross_entropy,
    /// weston_watkins.
    pub loss: Loss,
    /// xavier (uniform) or he (normal); default he for relu, xavier otherwise.
    pub init: Option<Init>,
    /// Reconstruct the input (targets = features): with identity activations and a narrow hidden
    /// layer this is rank-k matrix factorisation (exercise 19).
    #[serde(default)]
    pub autoencoder: bool,
    /// Whether weight decay applies to the biases too (default, the chapter's convention) or to
    /// the weights only (`false`, scikit-learn's: an unstandardised target keeps its intercept).
    #[serde(default = "yes")]
    pub penalize_bias: bool,
}

impl ModelConfig {
    /// A feed-forward network of `layers` widths (input first) under `loss`, with relu hidden
    /// units, an identity output, the default initialisation for the activation, and weight
    /// decay on biases too; change any field before [`Validate::validate`].
    ///
    /// ```
    /// use cg_core::Validate;
    /// use cg_autodiff::vector::Loss;
    /// let spec = cg_nn::ModelConfig::new(vec![4, 8, 3], Loss::SoftmaxCrossEntropy).validate().unwrap();
    /// assert_eq!(spec.layers, [4, 8, 3]);
    /// // A layer of width zero is refused.
    /// assert!(cg_nn::ModelConfig::new(vec![4, 0, 3], Loss::SoftmaxCrossEntropy).validate().is_err());
    /// ```
    pub fn new(layers: Vec<usize>, loss: Loss) -> ModelConfig {
        ModelConfig {
            layers,
            hidden: relu(),
            output: identity(),
            loss,
            init: None,
            autoencoder: false,
            penalize_bias: true,
        }
    }
}

fn yes() -> bool {
    true
}

fn relu() -> Activation {
    Activation::Relu
}
fn identity() -> OutputKind {
    OutputKind::Activation(Activation::Identity)
}

/// Weight initialisation. Biases start at zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// Uniform on ±sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010).
    Xavier,
    /// Normal with variance 2 / fan_in (He et al., 2015).
    He,
}

impl Init {
    /// A rows x cols weight matrix (fan out x fan in) drawn from `rng` element by element in
    /// column-major order.
    pub fn matrix<T: Float>(self, rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Mat<T> {
        match self {
            Init::Xavier => {
                let a = (6.0 / (rows + cols) as f64).sqrt();
                Mat::from_fn(rows, cols, |_, _| T::cast(rng.random_range(-a..=a)))
            }
            Init::He => {
                let normal = Normal::new(0.0, (2.0 / cols as f64).sqrt()).expect("internal: positive variance");
                Mat::from_fn(rows, cols, |_, _| T::cast(normal.sample(rng)))
            }
        }
    }
}

/// The output layer's function: an activation's name or `softmax`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String")]
pub enum OutputKind {
    /// An elementwise activation.
    Activation(Activation),
    /// A softmax over each column.
    Softmax,
}

impl TryFrom<String> for OutputKind {
    type Error = String;

    fn try_from(name: String) -> Result<OutputKind, String> {
        if name == "softmax" {
            return Ok(OutputKind::Softmax);
        }
        [Activation::Identity, Activation::Sigmoid, Activation::Tanh, Activation::Relu, Activation::HardTanh]
            .into_iter()
            .find(|&a| Activation::name(a) == name)
            .map(OutputKind::Activation)
            .ok_or_else(|| {
                format!("unknown output `{name}`, expected one of identity, sigmoid, tanh, relu, hardtanh, softmax")
            })
    }
}

/// A checked model description.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelParams {
    /// Layer widths, input first.
    pub layers: Vec<usize>,
    /// The activation of hidden layers.
    pub hidden: Activation,
    /// The output layer's function.
    pub output: OutputKind,
    /// The loss.
    pub loss: Loss,
    /// The initialisation of weights.
    pub init: Init,
    /// Train to reproduce the input.
    pub autoencoder: bool,
    /// Include biases in the weight penalty.
    pub penalize_bias: bool,
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

    /// The indices (in [`ModelParams::param_sizes`] order) of the parameters weight decay
    /// leaves alone: the biases, unless they are penalised.
    pub fn undecayed(&self) -> Vec<usize> {
        if self.penalize_bias {
            vec![]
        } else {
            (1..2 * (self.layers.len() - 1)).step_by(2).collect()
        }
    }
}

impl Validate for ModelConfig {
    type Params = ModelParams;
    type Error = Error;

    /// Checks sizes and the combination of settings.
    ///
    /// # Errors
    /// Fewer than two layers, a zero width, or an autoencoder whose output differs from its input.
    fn validate(&self) -> Result<ModelParams> {
        // Zero widths, and parameter counts beyond counting (their sizes are multiplied later).
        let countable = self
            .layers
            .windows(2)
            .try_fold(0usize, |total, w| w[1].checked_mul(w[0].checked_add(1)?)?.checked_add(total))
            .is_some();
        if self.layers.len() < 2 || self.layers.contains(&0) || !countable {
            return Err(Error::Layers { layers: self.layers.clone() });
        }
        let init = self.init.unwrap_or(if self.hidden == Activation::Relu { Init::He } else { Init::Xavier });
        if self.autoencoder && (self.layers.last() != self.layers.first() || self.loss != Loss::SquaredError) {
            return Err(Error::Autoencoder);
        }
        if self.output == OutputKind::Softmax && self.loss == Loss::SoftmaxCrossEntropy {
            return Err(Error::DoubleSoftmax);
        }
        Ok(ModelParams {
            layers: self.layers.clone(),
            hidden: self.hidden,
            output: self.output,
            loss: self.loss,
            init,
            autoencoder: self.autoencoder,
            penalize_bias: self.penalize_bias,
        })
    }
}

/// The number types a network can be trained in: f64 or f32.
pub trait Float: Real + cg_optim::Scalar {}

impl<T: Real + cg_optim::Scalar> Float for T {}

/// A feed-forward network as a vector DAG: input node `x`, parameters W1, b1, W2, b2, ...,
/// output node `o`, and the loss node `loss(o, y)`: a [`Network`] like any model.
pub struct Mlp<T: Float = f64> {
    /// The settings the network was built from.
    pub spec: ModelParams,
    /// The network.
    pub net: Network<T>,
    /// The input node.
    pub input: NodeId,
    /// The output node.
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
            let mut param_names = vec![];
            let n = spec.layers.len() - 1;
            for i in 1..=n {
                let w = b.param(&format!("W{i}"))?;
                let bias = b.param(&format!("b{i}"))?;
                params.extend([w, bias]);
                param_names.extend([format!("W{i}"), format!("b{i}")]);
                let last = i == n;
                let a = b.op(&format!("a{i}"), Arc::new(Linear), &[w, h, bias], false)?;
                let op: Arc<dyn VectorOp<T>> = match (last, spec.output) {
                    (false, _) => Arc::new(spec.hidden),
                    (true, OutputKind::Softmax) => Arc::new(Softmax),
                    (true, OutputKind::Activation(act)) => Arc::new(act),
                };
                h = b.op(if last { "o".to_string() } else { format!("h{i}") }.as_str(), op, &[a], last)?;
            }
            let y = b.input("y")?;
            let batch_size = b.input("batch_size")?;
            let fraction = b.input("fraction")?;
            let loss = b.op("loss", Arc::new(LossNode(spec.loss)), &[h, y, batch_size], false)?;
            let d = spec.layers[0];
            let source = if spec.autoencoder { TargetSource::Features(0..d) } else { TargetSource::Labels };
            let net = Network {
                dag: b.build()?,
                inputs: vec![(input, 0..d)],
                targets: vec![TargetSpec { node: y, width: spec.layers[n], source, plus_minus: margin(spec.loss) }],
                batch_size,
                fraction,
                loss,
                terms: Some(vec![LossTerm::Samples { coefficient: 1.0, loss: spec.loss, prediction: h, target: y }]),
                predict: h,
                decision: if spec.layers[n] > 1 {
                    Decision::Argmax
                } else {
                    Decision::Above(if margin(spec.loss) { 0.0 } else { 0.5 })
                },
                noise: None,
                running: vec![],
                params: params.clone(),
                param_names,
                frozen: vec![],
            };
            Ok(Mlp { spec: spec.clone(), net, input, output: h, params })
        };
        build().expect("internal: an MLP graph has fresh names and no cycles")
    }

    /// A tape with freshly initialised parameters (drawn from `rng`).
    pub fn init(&self, rng: &mut ChaCha8Rng) -> VectorTape<T> {
        let mut tape = self.net.dag.tape();
        for (i, pair) in self.params.chunks(2).enumerate() {
            let (fan_in, fan_out) = (self.spec.layers[i], self.spec.layers[i + 1]);
            tape.set(pair[0], self.spec.init.matrix(fan_out, fan_in, rng));
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
        margin(self.spec.loss)
    }

    /// Targets as the loss expects them (see [`Network::encode_labels`]).
    ///
    /// # Errors
    /// A label outside the output layer's classes.
    pub fn encode_targets(&self, targets: &[f64]) -> Result<Mat<T>> {
        Network::<T>::encode_labels(targets, self.n_outputs(), self.margin())
    }

    /// The predicted class of each column of an output matrix (see [`Network::predict_classes`]).
    pub fn predict_classes(&self, out: &Mat<T>) -> Vec<f64> {
        self.net.predict_classes(out)
    }
}

/// The losses that take ±1 targets and classify by the sign of the output.
pub fn margin(loss: Loss) -> bool {
    matches!(loss, Loss::Logistic | Loss::WidrowHoff | Loss::Hinge | Loss::SquaredHinge)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn config(text: &str) -> std::result::Result<ModelConfig, String> {
        toml::from_str(text).map_err(|e| e.message().to_string())
    }

    fn spec(layers: &[usize], loss: &str) -> ModelParams {
        config(&format!("layers = {layers:?}\nhidden = \"tanh\"\nloss = \"{loss}\"")).unwrap().validate().unwrap()
    }

    #[test]
    fn rejects_unknown_names_and_bad_layers() {
        let e = config("layers = [2, 1]\nloss = \"l2\"").unwrap_err();
        assert!(e.starts_with("unknown variant `l2`, expected one of `squared_error`"), "{e}");
        let e = config("layers = [2, 1]\nloss = \"hinge\"\nhidden = \"swish\"").unwrap_err();
        assert!(e.starts_with("unknown variant `swish`, expected one of `sigmoid`"), "{e}");
        let e = config("layers = [2, 1]\nloss = \"hinge\"\noutput = \"swish\"").unwrap_err();
        assert!(e.starts_with("unknown output `swish`, expected one of identity"), "{e}");
        let c = config("layers = [2]\nloss = \"hinge\"").unwrap();
        assert!(c.validate().unwrap_err().to_string().starts_with("[model] layers"));
        let c = config("layers = [2, 1]\nloss = \"hinge\"\nautoencoder = true").unwrap();
        assert!(c.validate().unwrap_err().to_string().starts_with("[model] autoencoder: needs the output width"));
        let c = config("layers = [2, 3, 1]\nloss = \"hinge\"\noutput = \"softmax\"").unwrap();
        assert_eq!(c.validate().unwrap().output, OutputKind::Softmax);
        assert_eq!(c.validate().unwrap().init, Init::He);
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

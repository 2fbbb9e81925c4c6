//! Why a network cannot be built or trained.

/// Everything cg-nn reports, each naming the config table or the place in training.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Fewer than two layers, or a layer of width 0.
    #[error("[model] layers: {layers:?} needs at least an input and an output width, all >= 1, and a parameter count that fits in memory addresses")]
    Layers {
        /// The widths given.
        layers: Vec<usize>,
    },
    /// An autoencoder whose output width is not its input width.
    #[error("[model] autoencoder: needs the output width equal to the input width and loss = \"squared_error\"")]
    Autoencoder,
    /// Data of a different width from the input layer.
    #[error("[model] layers: the input width is {expected} but the data has {found} features")]
    InputWidth {
        /// The input layer's width.
        expected: usize,
        /// The data's width.
        found: usize,
    },
    /// A margin loss with labels other than 0/1 or ±1.
    #[error("[data] a margin loss (logistic, hinge, squared_hinge, widrow_hoff) needs the labels 0 and 1 or -1 and 1, but the targets hold {found}")]
    MarginLabels {
        /// The labels found.
        found: String,
    },
    /// A softmax output under a loss that applies softmax itself.
    #[error("[model] output = \"softmax\" with loss = \"softmax_cross_entropy\" applies softmax twice (the loss takes the logits): use output = \"identity\"")]
    DoubleSoftmax,
    /// A target that is not a class the output can predict.
    #[error("[data] target {value} is not a class label below the output width {classes}")]
    NotAClass {
        /// The target.
        value: f64,
        /// The output's classes.
        classes: usize,
    },
    /// (Not a `source`: the message already holds the range.)
    #[error("[train] {0}")]
    Train(cg_core::OutOfRange),
    /// A check_epochs longer than the run.
    #[error("[train] check_epochs = {check} is out of range (1..={epochs})")]
    CheckEpochs {
        /// Epochs to check.
        check: usize,
        /// Epochs of the run.
        epochs: usize,
    },
    /// A loss that is not finite.
    #[error("the {loss} loss is {value}{origin}")]
    NonFiniteLoss {
        /// The loss.
        loss: &'static str,
        /// Its value.
        value: f64,
        /// Where the first non-finite value arose (", first at node ..."), or "".
        origin: String,
    },
    /// Training diverged; says where.
    #[error("diverged: {0}")]
    Diverged(String),
    /// A parameter file that cannot be written or read, or does not fit the model.
    #[error("{0}")]
    Artifact(String),
    /// Where in training a failure happened: `epoch 3, batch 7` or `epoch 3: evaluating`.
    #[error("{at}: {inner}")]
    At {
        /// The place.
        at: String,
        /// The error.
        inner: Box<Error>,
    },
    /// Samples streamed from a file that cannot be read or used; says why.
    #[error("[data] stream = true: {0}")]
    Stream(String),
    /// The gradient engine's error.
    #[error(transparent)]
    Graph(#[from] cg_autodiff::Error),
}

impl Error {
    /// This error, located.
    pub fn at(self, at: impl Into<String>) -> Error {
        Error::At { at: at.into(), inner: Box::new(self) }
    }
}

impl From<cg_core::OutOfRange> for Error {
    fn from(e: cg_core::OutOfRange) -> Error {
        Error::Train(e)
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

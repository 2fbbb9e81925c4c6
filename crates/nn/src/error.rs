//! Why a network cannot be built or trained.

/// Everything cg-nn reports, each naming the config table or the place in training.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("[model] layers: {layers:?} needs at least an input and an output width, all >= 1, and a parameter count that fits in memory addresses")]
    Layers { layers: Vec<usize> },
    #[error("[model] autoencoder: needs the output width equal to the input width and loss = \"squared_error\"")]
    Autoencoder,
    #[error("[model] layers: the input width is {expected} but the data has {found} features")]
    InputWidth { expected: usize, found: usize },
    #[error("[data] a margin loss (logistic, hinge, squared_hinge, widrow_hoff) needs the labels 0 and 1 or -1 and 1, but the targets hold {found}")]
    MarginLabels { found: String },
    #[error("[model] output = \"softmax\" with loss = \"softmax_cross_entropy\" applies softmax twice (the loss takes the logits): use output = \"identity\"")]
    DoubleSoftmax,
    #[error("[data] target {value} is not a class label below the output width {classes}")]
    NotAClass { value: f64, classes: usize },
    /// (Not a `source`: the message already holds the range.)
    #[error("[train] {0}")]
    Train(cg_core::OutOfRange),
    #[error("[train] check_epochs = {check} is out of range (1..={epochs})")]
    CheckEpochs { check: usize, epochs: usize },
    #[error("the {loss} loss is {value}")]
    NonFiniteLoss { loss: &'static str, value: f64 },
    #[error("diverged: {0}")]
    Diverged(String),
    /// A parameter file that cannot be written or read, or does not fit the model.
    #[error("{0}")]
    Artifact(String),
    /// Where in training a failure happened: `epoch 3, batch 7` or `epoch 3: evaluating`.
    #[error("{at}: {inner}")]
    At { at: String, inner: Box<Error> },
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

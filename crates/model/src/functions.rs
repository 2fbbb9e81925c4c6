//! Every function of the model language, one entry each: its name, signature, what it does, how
//! many node arguments and trailing numbers it takes, how its output's shape follows from its
//! arguments', and the vector operation it builds. The emitter, the reserved names, the error
//! that suggests a near name, and `experiments explain model` all read this one table, so a new
//! function is its operation (in `cg_autodiff::vector`) plus one entry here.

use std::sync::{Arc, LazyLock};

use cg_autodiff::vector::{
    Activation, AnyOp, Axis, Clip, Concat, Elementwise, Embed, LayerNorm, LogSoftmax, LogSumExp, Loss, Power, Reduce,
    Rows, Sign, Softmax, Sqrt, Step, StopGradient, SumAll, Transpose, Unary, Where,
};

/// How a function's output shape follows from its arguments' shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Elementwise (or per column) on one argument: the output has its shape.
    Same,
    /// Elementwise on arguments broadcast together: equal shapes, or a column (p x 1), a row
    /// (1 x batch) or a 1 x 1 stretched over the other.
    Broadcast,
    /// Rows and columns swapped.
    Transpose,
    /// A reduction along the axis given as a trailing number: none gives 1 x 1, 0 gives one
    /// number per column (1 x batch), 1 gives one number per row (p x 1, over the batch).
    Reduce,
    /// One number per column: 1 x batch.
    PerColumn,
    /// Arguments stacked: the same columns, rows adding up.
    Stack,
    /// (prediction, target) of one shape with a column per sample: 1 x 1, the batch mean.
    Loss,
    /// Per-sample values (k x batch): 1 x 1, their sum over the batch divided by its size.
    BatchMean,
    /// A table (d x n) and a row of codes (1 x batch): d x batch.
    Lookup,
    /// Rows start..end (the two numbers) of the argument: end - start rows, its columns.
    RowRange,
}

impl Rule {
    /// The rule in words, for `explain model`.
    pub fn describe(self) -> &'static str {
        match self {
            Rule::Same => "same shape as its argument",
            Rule::Broadcast => "arguments broadcast: equal, or a column, a row or a 1 x 1 stretched",
            Rule::Transpose => "rows and columns swapped",
            Rule::Reduce => "no axis: 1 x 1; axis 0: 1 x columns (per sample); axis 1: rows x 1 (over the batch)",
            Rule::PerColumn => "1 x columns (one number per sample)",
            Rule::Stack => "the same columns, rows added up",
            Rule::Loss => "1 x 1; prediction and target of one shape, a column per sample",
            Rule::BatchMean => "1 x 1; its argument has a column per sample",
            Rule::Lookup => "rows of the table x columns of the ids (one code per sample, 1 x batch)",
            Rule::RowRange => "end - start rows, the argument's columns",
        }
    }
}

/// Builds a function's operation from its trailing numbers, or says why they do not fit.
pub type MakeOp = fn(&[f64]) -> Result<Arc<dyn AnyOp>, String>;

/// What a function builds.
#[derive(Clone, Copy)]
pub enum Make {
    /// A vector operation from the trailing numbers, or why the numbers do not fit.
    Op(MakeOp),
    /// A loss node (with the batch size as its last argument).
    Loss(Loss),
    /// The batch mean of per-sample values (with the batch size as its last argument).
    BatchMean,
    /// Dropout with this probability (with the trainer's seed and sample indices as arguments).
    Dropout,
    /// Batch normalisation with running statistics (frozen parameters the trainer keeps).
    BatchNorm,
    /// The elementwise maximum or minimum of two or more arguments.
    Extremum {
        /// Maximum (else minimum).
        max: bool,
    },
}

/// One function of the language.
#[derive(Clone, Copy)]
pub struct Function {
    /// The name it is called by.
    pub name: &'static str,
    /// How it is written, with its arguments.
    pub signature: &'static str,
    /// What it computes.
    pub doc: &'static str,
    /// Node arguments: at least, at most.
    pub nodes: (usize, usize),
    /// Trailing numbers: at least, at most.
    pub numbers: (usize, usize),
    /// The output's shape.
    pub rule: Rule,
    /// The operation.
    pub make: Make,
}

const ANY: usize = usize::MAX;

fn op(o: impl AnyOp + 'static) -> Result<Arc<dyn AnyOp>, String> {
    Ok(Arc::new(o))
}

const fn f(
    name: &'static str,
    signature: &'static str,
    doc: &'static str,
    nodes: (usize, usize),
    numbers: (usize, usize),
    rule: Rule,
    make: MakeOp,
) -> Function {
    Function { name, signature, doc, nodes, numbers, rule, make: Make::Op(make) }
}

fn axis(n: &[f64], mean: bool) -> Result<Arc<dyn AnyOp>, String> {
    let axis = match n {
        [] => Axis::All,
        [a] if *a == 0.0 => Axis::Rows,
        [a] if *a == 1.0 => Axis::Columns,
        [a] => return Err(format!("axis {a} is neither 0 (per sample) nor 1 (over the batch)")),
        _ => unreachable!("internal: at most one number"),
    };
    if axis == Axis::All && !mean {
        // The sum of everything keeps its own operation (penalties since the first models).
        return op(SumAll);
    }
    op(Reduce { axis, mean })
}

const ONE: (usize, usize) = (1, 1);
const NONE: (usize, usize) = (0, 0);

static TABLE: [Function; 36] = [
    f("sigmoid", "sigmoid(x)", "1 / (1 + e^-x)", ONE, NONE, Rule::Same, |_| op(Activation::Sigmoid)),
    f("tanh", "tanh(x)", "hyperbolic tangent", ONE, NONE, Rule::Same, |_| op(Activation::Tanh)),
    f("relu", "relu(x)", "max(x, 0)", ONE, NONE, Rule::Same, |_| op(Activation::Relu)),
    f("hardtanh", "hardtanh(x)", "x limited to [-1, 1]", ONE, NONE, Rule::Same, |_| op(Activation::HardTanh)),
    f("softplus", "softplus(x)", "log(1 + e^x), computed stably", ONE, NONE, Rule::Same, |_| op(Unary::Softplus)),
    f("exp", "exp(x)", "e^x", ONE, NONE, Rule::Same, |_| op(Unary::Exp)),
    f("log", "log(x)", "natural logarithm", ONE, NONE, Rule::Same, |_| op(Unary::Log)),
    f("abs", "abs(x)", "|x| (derivative 0 at 0)", ONE, NONE, Rule::Same, |_| op(Unary::Abs)),
    f("sqrt", "sqrt(x)", "square root", ONE, NONE, Rule::Same, |_| op(Sqrt)),
    f("sin", "sin(x)", "sine", ONE, NONE, Rule::Same, |_| op(Elementwise::Sin)),
    f("cos", "cos(x)", "cosine", ONE, NONE, Rule::Same, |_| op(Elementwise::Cos)),
    f("silu", "silu(x)", "x sigmoid(x) (swish)", ONE, NONE, Rule::Same, |_| op(Elementwise::Silu)),
    f("softsign", "softsign(x)", "x / (1 + |x|)", ONE, NONE, Rule::Same, |_| op(Elementwise::Softsign)),
    f("leaky_relu", "leaky_relu(x[, a])", "x for x > 0, a x otherwise (a = 0.01 unless given)", ONE, (0, 1), Rule::Same, |n| {
        op(Elementwise::LeakyRelu(n.first().copied().unwrap_or(0.01)))
    }),
    f("elu", "elu(x[, a])", "x for x > 0, a (e^x - 1) otherwise (a = 1 unless given)", ONE, (0, 1), Rule::Same, |n| {
        op(Elementwise::Elu(n.first().copied().unwrap_or(1.0)))
    }),
    f("sign", "sign(x)", "-1, 0 or 1 (derivative 0)", ONE, NONE, Rule::Same, |_| op(Sign)),
    f("step", "step(x)", "1 where x > 0, else 0 (derivative 0)", ONE, NONE, Rule::Same, |_| op(Step)),
    f("pow", "pow(x, p)", "x^p for a number p, also written x ^ p", ONE, ONE, Rule::Same, |n| op(Power(n[0]))),
    f("clip", "clip(x, lo, hi)", "x limited to [lo, hi] (numbers)", ONE, (2, 2), Rule::Same, |n| {
        if n[0] > n[1] {
            return Err(format!("the bounds {} > {}", n[0], n[1]));
        }
        op(Clip { lo: n[0], hi: n[1] })
    }),
    f(
        "stop_gradient",
        "stop_gradient(x)",
        "x, with no gradient flowing back through it",
        ONE,
        NONE,
        Rule::Same,
        |_| op(StopGradient),
    ),
    f("softmax", "softmax(x)", "softmax of each column", ONE, NONE, Rule::Same, |_| op(Softmax)),
    f(
        "log_softmax",
        "log_softmax(x)",
        "log of the softmax of each column, computed stably",
        ONE,
        NONE,
        Rule::Same,
        |_| op(LogSoftmax),
    ),
    f("logsumexp", "logsumexp(x)", "log Σ e^x of each column, computed stably", ONE, NONE, Rule::PerColumn, |_| {
        op(LogSumExp)
    }),
    f("layer_norm", "layer_norm(x[, eps])", "each column (a sample) minus its mean, over sqrt(its variance + eps), eps 1e-5 unless given; scale and shift with parameters", ONE, (0, 1), Rule::Same, |n| {
        let eps = n.first().copied().unwrap_or(1e-5);
        if eps.is_nan() || eps <= 0.0 {
            return Err(format!("eps = {eps} must be > 0"));
        }
        op(LayerNorm { eps })
    }),
    f("transpose", "transpose(x)", "rows and columns swapped", ONE, NONE, Rule::Transpose, |_| op(Transpose)),
    f(
        "sum",
        "sum(x[, axis])",
        "sum of all entries, or along axis 0 (per sample) or 1 (over the batch)",
        ONE,
        (0, 1),
        Rule::Reduce,
        |n| axis(n, false),
    ),
    f(
        "mean",
        "mean(x[, axis])",
        "mean of all entries, or along axis 0 (per sample) or 1 (over the batch)",
        ONE,
        (0, 1),
        Rule::Reduce,
        |n| axis(n, true),
    ),
    f("concat", "concat(a, b, ...)", "the arguments' rows stacked", (2, ANY), NONE, Rule::Stack, |_| op(Concat)),
    f("embed", "embed(P, ids)", "column ids[j] of P for each sample j: an embedding lookup (ids: a 1-wide input of codes 0..n-1, kept as they are by [data] ids); P's gradient is a scatter-add", (2, 2), NONE, Rule::Lookup, |_| op(Embed)),
    f("rows", "rows(x, start, end)", "rows start..end of x (from 0, end excluded), also written x[start:end]; x[i] is rows(x, i, i + 1)", ONE, (2, 2), Rule::RowRange, |n| {
        let whole = |v: f64| v >= 0.0 && v.fract() == 0.0;
        if !(whole(n[0]) && whole(n[1]) && n[0] < n[1]) {
            return Err(format!("rows {}..{} are not whole numbers with start < end", n[0], n[1]));
        }
        op(Rows { start: n[0] as usize, end: n[1] as usize })
    }),
    f("where", "where(c, a, b)", "a where c > 0, else b (c gets no gradient)", (3, 3), NONE, Rule::Broadcast, |_| {
        op(Where)
    }),
    Function {
        name: "max",
        signature: "max(a, b, ...)",
        doc: "elementwise maximum (numbers allowed: max(0, x)); the gradient goes to the first largest",
        nodes: (2, ANY),
        numbers: NONE,
        rule: Rule::Broadcast,
        make: Make::Extremum { max: true },
    },
    Function {
        name: "min",
        signature: "min(a, b, ...)",
        doc: "elementwise minimum (numbers allowed: min(x, 1)); the gradient goes to the first smallest",
        nodes: (2, ANY),
        numbers: NONE,
        rule: Rule::Broadcast,
        make: Make::Extremum { max: false },
    },
    Function {
        name: "dropout",
        signature: "dropout(x, p)",
        doc: "in training, each entry zeroed with probability p (a number) and the rest divided by 1 - p, a fresh mask every mini-batch (the same on any thread count); x itself in evaluation and predict",
        nodes: ONE,
        numbers: ONE,
        rule: Rule::Same,
        make: Make::Dropout,
    },
    Function {
        name: "batch_norm",
        signature: "batch_norm(x[, momentum])",
        doc: "in training, each row (feature) normalised by the batch's mean and variance (the batch is then computed whole); in evaluation and predict by running statistics, moved towards each batch's by momentum (0.1 unless given) and saved with the model as frozen parameters NODE_bn_mean, NODE_bn_var",
        nodes: ONE,
        numbers: (0, 1),
        rule: Rule::Same,
        make: Make::BatchNorm,
    },
    Function {
        name: "batch_mean",
        signature: "batch_mean(v)",
        doc: "a per-sample loss's value: Σ v over the batch / batch size (right under mini-batches and on test sets)",
        nodes: ONE,
        numbers: NONE,
        rule: Rule::BatchMean,
        make: Make::BatchMean,
    },
];

/// The losses, one function each.
static LOSSES: LazyLock<Vec<Function>> = LazyLock::new(|| {
    Loss::ALL
        .iter()
        .map(|&loss| Function {
            name: loss.name(),
            signature: loss_signature(loss),
            doc: loss_doc(loss),
            nodes: (2, 2),
            numbers: NONE,
            rule: Rule::Loss,
            make: Make::Loss(loss),
        })
        .collect()
});

/// The per-sample loss, summed over the rows; the function is its mean over the batch.
fn loss_doc(loss: Loss) -> &'static str {
    match loss {
        Loss::SquaredError => "batch mean of Σ (o - y)²",
        Loss::SoftmaxCrossEntropy => "batch mean of Σ y (logsumexp(o) - o): the softmax is applied inside",
        Loss::Logistic => "batch mean of log(1 + e^(-y o)), y = ±1 (labels 0/1 become ±1)",
        Loss::Hinge => "batch mean of max(0, 1 - y o), y = ±1 (labels 0/1 become ±1)",
        Loss::SquaredHinge => "batch mean of max(0, 1 - y o)², y = ±1 (labels 0/1 become ±1)",
        Loss::NegLog => "batch mean of -Σ y log o (o already probabilities)",
        Loss::WidrowHoff => "batch mean of (1 - y o)², y = ±1 (labels 0/1 become ±1)",
        Loss::WestonWatkins => "batch mean of Σ_(r ≠ c) max(0, 1 + o_r - o_c), c the true class",
    }
}

fn loss_signature(loss: Loss) -> &'static str {
    match loss {
        Loss::SquaredError => "squared_error(prediction, target)",
        Loss::SoftmaxCrossEntropy => "softmax_cross_entropy(logits, one_hot)",
        Loss::Logistic => "logistic(score, plus_minus_one)",
        Loss::Hinge => "hinge(score, plus_minus_one)",
        Loss::SquaredHinge => "squared_hinge(score, plus_minus_one)",
        Loss::NegLog => "neg_log(probabilities, one_hot)",
        Loss::WidrowHoff => "widrow_hoff(score, plus_minus_one)",
        Loss::WestonWatkins => "weston_watkins(scores, one_hot)",
    }
}

/// Every function, the losses last.
pub fn all() -> impl Iterator<Item = &'static Function> {
    TABLE.iter().chain(LOSSES.iter())
}

/// The function called `name`.
pub fn find(name: &str) -> Option<&'static Function> {
    all().find(|f| f.name == name)
}

/// The language written out: operators, then every function with its signature, its shape rule
/// and what it computes (`experiments explain model`).
pub fn reference() -> String {
    let mut out = String::from(
        "The model language (node expressions and the loss)\n\
         Values are rows x columns, a column per sample (batch columns); parameters and constants are fixed shapes.\n\
         Operators, loosest first: + -   then * / @   then unary -   then ^ (a number exponent, groups to the right).\n\
         + - * / broadcast: equal shapes, or a column (p x 1), a row (1 x batch) or a 1 x 1 stretched over the other.\n\
         @ is the matrix product. Numbers may stand wherever a node goes (max(0, x), 2 / x).\n\
         Indexing: x[i] (row i), x[a:b] (rows a..b), P[:, ids] (embed(P, ids)).\n\
         Names: [model] inputs and targets, [model.params] (learnt), [model.constants] (fixed: a number, [column],\n\
         [[rows]], { fill = x, shape = [r, c] }, { identity = n }), [model.nodes], and these functions:\n\n",
    );
    let width = all().map(|f| f.signature.len()).max().unwrap_or(0);
    for f in all() {
        out.push_str(&format!(
            "  {:width$}  {}\n  {:width$}    shape: {}\n",
            f.signature,
            f.doc,
            "",
            f.rule.describe()
        ));
    }
    out.push_str(
        "\nThe loss: an expression reducing to 1 x 1, or { per_sample = \"...\", reduce = \"mean\" } (= batch_mean(...)).\n\
         A sum of loss functions, batch_mean terms and terms no data reaches (penalties) is cut into parts of a\n\
         mini-batch computed in parallel, unless some node mixes the samples of a batch (sum(x), mean(h, 1),\n\
         transpose(x), ...): then each batch, and each whole set, is computed at once.\n\
         [model] decision = \"argmax\" | \"sign\" | \"threshold\" (with threshold = t) turns predictions into classes.\n",
    );
    out
}

/// The known name nearest to `name` (edit distance at most 2, or one contains the other).
pub fn nearest(name: &str) -> Option<&'static str> {
    let mut best: Option<(usize, &str)> = None;
    for f in all() {
        let d = edit_distance(name, f.name);
        if (d <= 2 || (name.len() >= 3 && f.name.contains(name))) && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, f.name));
        }
    }
    best.map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_near_names_are_found() {
        let names: Vec<&str> = all().map(|f| f.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        assert_eq!(nearest("sigmoyd"), Some("sigmoid"));
        assert_eq!(nearest("logsoftmax"), Some("log_softmax"));
        assert_eq!(nearest("squared"), Some("squared_error"));
        assert_eq!(nearest("zzzzzz"), None);
        assert!(find("where").is_some() && find("nope").is_none());
    }
}

//! The capability a computed node needs from whoever supplies its function.

/// The local function of a computed node: `y(j) = f(y(i_1), ..., y(i_k))`, with the local partial
/// derivatives `z(i_r, j) = ∂f/∂y(i_r)` that label the edges of the graph (Figure 11.8).
///
/// Implementations must be pure: the same arguments give the same results, bit for bit, so stored
/// results stay reproducible. `scratch` is a buffer the caller keeps between calls so that
/// evaluating a node does not allocate; implementations may resize it freely.
pub trait LocalFunction: Send + Sync {
    /// Number of arguments.
    fn arity(&self) -> usize;

    /// The value at `args` (`args.len() == arity()`).
    fn eval(&self, args: &[f64], scratch: &mut Vec<f64>) -> f64;

    /// The value at `args`, writing `∂f/∂args[r]` into `partials[r]` (`partials.len() == arity()`).
    /// An argument used several times gets the sum over its uses (`a * a` gives `2a`).
    fn eval_with_partials(&self, args: &[f64], partials: &mut [f64], scratch: &mut Vec<f64>) -> f64;

    /// A human-readable form of the function, for error messages and drawings.
    fn describe(&self) -> String;
}

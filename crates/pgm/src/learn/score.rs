//! Decomposable scores of a structure given complete data: log-likelihood, BIC, BDeu and K2.

use statrs::function::gamma::ln_gamma;

use super::counts::{count, FamilyCounts};
use super::data::DiscreteData;

/// A score of how well a structure explains the data: a sum over the variables of a local score
/// of each variable and its parents, each computed from the counts of that family.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Score {
    /// Σ N_jk ln(N_jk / N_j): the maximised log-likelihood (no penalty; grows with every edge).
    LogLikelihood,
    /// The log-likelihood less ½ ln N per free parameter, q (r − 1) for a child of r states
    /// with q parent configurations (Schwarz's criterion; MDL).
    Bic,
    /// The log marginal likelihood under a Dirichlet prior of `ess` imaginary rows spread evenly
    /// over each table (Bayesian Dirichlet, equivalent and uniform; Heckerman et al. 1995).
    Bdeu {
        /// The equivalent sample size (pgmpy's default is 10).
        ess: f64,
    },
    /// The log marginal likelihood with every Dirichlet pseudo-count 1 (Cooper and
    /// Herskovits 1992).
    K2,
}

impl Score {
    /// The local score of one family from its counts.
    ///
    /// Configurations that never occur add nothing to any of these scores (each of their terms
    /// is zero), so only those counted are visited.
    pub fn local(&self, c: &FamilyCounts) -> f64 {
        let r = c.child_card as f64;
        match *self {
            Score::LogLikelihood => log_likelihood(c),
            Score::Bic => log_likelihood(c) - 0.5 * (c.total.max(1) as f64).ln() * c.configs * (r - 1.0),
            Score::Bdeu { ess } => dirichlet(c, ess / c.configs, ess / (c.configs * r)),
            Score::K2 => dirichlet(c, r, 1.0),
        }
    }

    /// The score of the structure `parents` (each variable's parents) on `data`.
    ///
    /// ```
    /// use cg_pgm::learn::{DiscreteData, Score};
    /// let data = DiscreteData::from_csv("a,b\n0,0\n0,0\n1,1\n1,0\n").unwrap();
    /// // Alone, each variable's log-likelihood is N Σ p ln p: a is 2/2, b is 3/1.
    /// let alone = Score::LogLikelihood.total(&data, &[vec![], vec![]]);
    /// let exact = 4.0 * (0.5f64.ln()) + 3.0 * (0.75f64).ln() + (0.25f64).ln();
    /// assert!((alone - exact).abs() < 1e-12);
    /// ```
    pub fn total(&self, data: &DiscreteData, parents: &[Vec<usize>]) -> f64 {
        parents.iter().enumerate().map(|(v, ps)| self.local(&count(data, v, ps))).sum()
    }

    /// The score's name in configs and reports (`bic`, `bdeu`, `k2`, `log_likelihood`).
    pub fn name(&self) -> &'static str {
        match self {
            Score::LogLikelihood => "log_likelihood",
            Score::Bic => "bic",
            Score::Bdeu { .. } => "bdeu",
            Score::K2 => "k2",
        }
    }

    /// Checks the score's settings.
    ///
    /// # Errors
    /// An equivalent sample size that is not a finite positive number.
    pub fn check(&self) -> Result<(), cg_core::OutOfRange> {
        if let Score::Bdeu { ess } = *self {
            cg_core::OutOfRange::check("ess", ess, ess > 0.0, "a number > 0")?;
        }
        Ok(())
    }
}

/// Σ_jk N_jk ln(N_jk / N_j).
fn log_likelihood(c: &FamilyCounts) -> f64 {
    let mut sum = 0.0;
    for (_, row) in c.rows() {
        let n: u64 = row.iter().map(|&x| x as u64).sum();
        let ln_n = (n as f64).ln();
        for &x in row.iter().filter(|&&x| x > 0) {
            sum += x as f64 * ((x as f64).ln() - ln_n);
        }
    }
    sum
}

/// Σ_j [ln Γ(α) − ln Γ(N_j + α) + Σ_k (ln Γ(N_jk + β) − ln Γ(β))], over the configurations
/// that occur (the others' terms are zero).
fn dirichlet(c: &FamilyCounts, alpha: f64, beta: f64) -> f64 {
    let (ln_alpha, ln_beta) = (ln_gamma(alpha), ln_gamma(beta));
    let mut sum = 0.0;
    for (_, row) in c.rows() {
        let n: u64 = row.iter().map(|&x| x as u64).sum();
        sum += ln_alpha - ln_gamma(n as f64 + alpha);
        for &x in row.iter().filter(|&&x| x > 0) {
            sum += ln_gamma(x as f64 + beta) - ln_beta;
        }
    }
    sum
}

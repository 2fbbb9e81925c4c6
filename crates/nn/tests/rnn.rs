//! Backpropagation through time on the unrolled graph equals the closed-form recurrences of
//! exercises 11 and 12, and central finite differences.

use cg_autodiff::vector::{Loss, Mat};
use cg_nn::Rnn;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Mat {
    Mat::from_fn(rows, cols, |_, _| rng.random_range(-1.0..1.0))
}

/// The recurrences written out by hand (no graph): with D_p = diag(1 - h_p ⊙ h_p) and
/// e_p = ∂L/∂o_p,
///   ∂L/∂h_t = Uᵀ e_t,   ∂L/∂h_{p-1} = Wᵀ D_p ∂L/∂h_p + Uᵀ e_{p-1}          (exercise 11)
///   ∂L/∂U = Σ_p e_p h_pᵀ,   ∂L/∂W = Σ_{p≥2} D_p ∂L/∂h_p h_{p-1}ᵀ,   ∂L/∂V = Σ_p D_p ∂L/∂h_p x_pᵀ
/// (exercise 12; the book writes the tanh derivative that multiplies ∂L/∂h_p as Δ_{p-1}, an
/// index shift: it is the derivative at step p, the one used here).
fn closed_form(w: &Mat, v: &Mat, u: &Mat, xs: &[Mat], ys: &[Mat]) -> [Mat; 3] {
    let t = xs.len();
    let b = xs[0].ncols() as f64;
    let mut hs = vec![Mat::zeros(w.nrows(), xs[0].ncols())];
    for x in xs {
        let a = w * hs.last().unwrap() + v * x;
        hs.push(a.map(f64::tanh));
    }
    let es: Vec<Mat> = (0..t).map(|p| (u * &hs[p + 1] - &ys[p]) * (2.0 / b)).collect();
    let (mut gw, mut gv, mut gu) =
        (Mat::zeros(w.nrows(), w.ncols()), Mat::zeros(v.nrows(), v.ncols()), Mat::zeros(u.nrows(), u.ncols()));
    let mut dh = u.transpose() * &es[t - 1];
    for p in (1..=t).rev() {
        let d = hs[p].map(|h| 1.0 - h * h);
        let delta = d.component_mul(&dh);
        gu += &es[p - 1] * hs[p].transpose();
        gw += &delta * hs[p - 1].transpose();
        gv += &delta * xs[p - 1].transpose();
        if p > 1 {
            dh = w.transpose() * &delta + u.transpose() * &es[p - 2];
        }
    }
    [gw, gv, gu]
}

#[test]
fn bptt_matches_the_closed_form_recurrences_and_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let (t, d, m, k, batch) = (6, 2, 4, 3, 3);
    let rnn = Rnn::new(t, d, m, k);
    let mut tape = rnn.init(&mut rng);
    let xs: Vec<Mat> = (0..t).map(|_| random(d, batch, &mut rng)).collect();
    let ys: Vec<Mat> = (0..t).map(|_| random(k, batch, &mut rng)).collect();
    let (_, grads) = rnn.loss_and_grads(&mut tape, &xs, &ys, Loss::SquaredError).unwrap();
    let (w, v, u) =
        (tape.get(rnn.w).unwrap().clone(), tape.get(rnn.v).unwrap().clone(), tape.get(rnn.u).unwrap().clone());
    let want = closed_form(&w, &v, &u, &xs, &ys);
    for (g, c) in grads.iter().zip(&want) {
        assert!((g - c).amax() < 1e-13, "{g} vs {c}");
    }
    // Central differences on every entry of W, V, U.
    for (which, id) in [rnn.w, rnn.v, rnn.u].into_iter().enumerate() {
        for idx in 0..grads[which].len() {
            let h = 1e-6;
            let probe = |delta: f64| {
                let mut tp = tape.clone();
                tp.get_mut(id).unwrap()[idx] += delta;
                rnn.loss_and_grads(&mut tp, &xs, &ys, Loss::SquaredError).unwrap().0
            };
            let fd = (probe(h) - probe(-h)) / (2.0 * h);
            let g = grads[which][idx];
            assert!((fd - g).abs() <= 1e-6 * (1.0 + g.abs()), "param {which} entry {idx}: {g} vs {fd}");
        }
    }
}

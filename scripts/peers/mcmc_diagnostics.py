"""Reference values of rank-normalised split-R-hat and bulk/tail ESS from ArviZ, for
crates/pgm/src/sampling/diagnostics.rs (its test `agrees_with_arviz_on_autocorrelated_chains`).

    python -m venv /tmp/az && /tmp/az/bin/pip install arviz==0.20.0 matplotlib==3.9.2
    /tmp/az/bin/python scripts/peers/mcmc_diagnostics.py > crates/pgm/src/sampling/arviz_reference.in

The chains come from the same 64-bit LCG and AR(1) filter as the Rust test, so both sides see
the same draws bit for bit.
"""

import arviz as az
import numpy as np

MASK = (1 << 64) - 1


def ar1_chains(phi, shift):
    state = 12345

    def uniform():
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) & MASK
        return (state >> 11) / float(1 << 53) - 0.5

    chains = []
    for k in range(4):
        x, chain = 0.0, []
        for _ in range(1000):
            x = phi * x + uniform()
            chain.append(x + (shift if k == 3 else 0.0))
        chains.append(chain)
    return np.array(chains)


print(f"// ArviZ {az.__version__}: (phi, shift, rank R-hat, bulk ESS, tail ESS)")
print("[")
for phi in (0.0, 0.5, 0.9, 0.99):
    for shift in (0.0, 1.0):
        x = ar1_chains(phi, shift)
        r = az.rhat(x, method="rank")
        b = az.ess(x, method="bulk")
        t = az.ess(x, method="tail")
        print(f"    ({phi!r}, {shift!r}, {float(r)!r}, {float(b)!r}, {float(t)!r}),")
print("]")

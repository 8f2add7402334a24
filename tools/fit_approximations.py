#!/usr/bin/env python3
"""Fits the float32 approximations the CPU backend uses in its vectorized loops.

Development tool only (the product has no Python). Prints the coefficients that
engine/src/main/java/dev/flora/engine/cpu/Gelu.java and FastExp.java carry, and the
maximum error of each when evaluated in float32 by Horner's rule.

  erf(y) ~ y * P(y^2) / Q(y^2) on |y| <= 4 (clamped beyond; erf(4) = 1 - 1.5e-8),
           P and Q of degree 5, Q(0) = 1, Sanathanan-Koerner iterations of a
           linearised least-squares fit of the absolute error.
  2^f    ~ degree-6 polynomial on [-0.5, 0.5], Lawson iterations toward the
           minimax relative error.

Usage: /usr/bin/python3 tools/fit_approximations.py   (needs numpy)
"""
from math import erf

import numpy as np


def fit_erf(deg_p=5, deg_q=5, clamp=4.0, iters=30):
    ys = np.linspace(1e-6, clamp, 20000)
    ts = ys ** 2
    f = np.array([erf(y) for y in ys]) / ys
    w = np.ones_like(ts)
    for _ in range(iters):
        powers_p = np.vstack([ts ** k for k in range(deg_p + 1)]).T
        powers_q = np.vstack([ts ** k for k in range(1, deg_q + 1)]).T
        a = np.hstack([powers_p, -f[:, None] * powers_q]) * (w * ys)[:, None]
        sol, *_ = np.linalg.lstsq(a, f * w * ys, rcond=None)
        p = sol[:deg_p + 1]
        q = np.concatenate([[1.0], sol[deg_p + 1:]])
        w = 1 / np.abs(np.polyval(q[::-1], ts))
    return p, q


def horner32(coeffs, x):
    acc = np.zeros_like(x)
    for c in np.asarray(coeffs, dtype=np.float32)[::-1]:
        acc = (acc * x + c).astype(np.float32)
    return acc


def fit_exp2(deg=6, n=4000, iters=50):
    f = 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)
    a = np.vstack([f ** k for k in range(deg + 1)]).T / (2.0 ** f)[:, None]
    w = np.ones(n)
    for _ in range(iters):
        c, *_ = np.linalg.lstsq(a * w[:, None], w, rcond=None)
        err = np.abs(a @ c - 1)
        w = w * (err / err.max()) ** 0.5 + 1e-12
        w /= w.max()
    return c


def main():
    p, q = fit_erf()
    y = np.linspace(-5, 5, 200001).astype(np.float32)
    yc = np.clip(y, -4, 4).astype(np.float32)
    t = (yc * yc).astype(np.float32)
    approx = yc * horner32(p, t) / horner32(q, t)
    exact = np.array([erf(float(v)) for v in y])
    print("erf P:", ", ".join("%.10e" % v for v in p))
    print("erf Q:", ", ".join("%.10e" % v for v in q))
    print("erf max abs error (float32):", np.max(np.abs(approx - exact)))

    c = fit_exp2()
    ff = np.linspace(-0.5, 0.5, 100001).astype(np.float32)
    rel = np.max(np.abs(horner32(c, ff) / 2.0 ** ff.astype(np.float64) - 1))
    print("exp2 C:", ", ".join("%.9e" % v for v in c))
    print("exp2 max rel error (float32):", rel)


if __name__ == "__main__":
    main()

"""Derives the polynomial coefficients of the eight-lane erf in
Sources/Tensor/VectorMath.swift and reports the float32 error of the formulas.

  |x| < 0.875:   erf(x) = x + x · P(x²)              P fitted to erf(√s)/√s − 1 on s ∈ [0, 0.875²]
  |x| ≥ 0.875:   erfc(|x|) = e^(−x²) · u · S(u − m)   u = 1/|x|, S fitted to erfc(1/u)·e^(1/u²)/u on
                                                      u ∈ [0, 1/0.875], m the middle of that range;
                 erf(x) = sign(x) · (1 − erfc(|x|))

Least squares on Chebyshev nodes against Python's double-precision math.erf
and math.erfc (relative error for S, so erfc keeps its relative accuracy far
into the tail; the asymptotic series stands in for e^(a²) where it overflows).
The check evaluates the formulas in float32 as the Swift code does (Horner
for P, Estrin's scheme for S, no FMA) and prints the
largest error of erf in ulps and of erfc relatively.

Run: .venv/bin/python tools/derive/erf_coefficients.py
"""
import math

import numpy as np

F = np.float32
SPLIT = 0.875
MIDDLE = 1 / SPLIT / 2


def fit(f, lo, hi, degree, relative, n=4000):
    t = np.cos(np.pi * (np.arange(n) + 0.5) / n)
    x = (lo + hi) / 2 + (hi - lo) / 2 * t
    y = np.array([f(v) for v in x])
    v = np.vander(x, degree + 1, increasing=True)
    c, *_ = np.linalg.lstsq(v / y[:, None] if relative else v, np.ones_like(y) if relative else y, rcond=None)
    return c


def scaled_erfc(u):
    """erfc(1/u) · e^(1/u²) / u, the function S approximates."""
    if u == 0:
        return 1 / math.sqrt(math.pi)
    a = 1 / u
    if a > 20:  # asymptotic series, exact to double precision here
        z = 1 / (2 * a * a)
        return (1 - z + 3 * z * z - 15 * z ** 3 + 105 * z ** 4) / math.sqrt(math.pi)
    return math.erfc(a) * math.exp(a * a) * a


def horner(c, x):
    p = np.full_like(x, F(c[-1]))
    for v in c[-2::-1]:
        p = (p * x + F(v)).astype(F)
    return p


def estrin(c, w):
    """S of degree 12 as the Swift code evaluates it (Estrin's scheme)."""
    c = [F(v) for v in c]
    mul, add = (lambda a, b: (a * b).astype(F)), (lambda a, b: (a + b).astype(F))
    w2 = mul(w, w)
    w4 = mul(w2, w2)
    w8 = mul(w4, w4)
    q = [add(c[2 * i], mul(c[2 * i + 1], w)) for i in range(6)]
    r = [add(q[2 * i], mul(q[2 * i + 1], w2)) for i in range(3)]
    return add(add(r[0], mul(r[1], w4)), mul(add(r[2], mul(c[12], w4)), w8))


def main():
    small = fit(lambda s: (math.erf(math.sqrt(s)) / math.sqrt(s) if s > 0 else 2 / math.sqrt(math.pi)) - 1,
                0, SPLIT * SPLIT, 6, relative=False)
    large = fit(lambda w: scaled_erfc(w + MIDDLE), -MIDDLE, 1 / SPLIT - MIDDLE, 12, relative=True)
    show = lambda v: np.format_float_scientific(F(v), unique=True)
    print("middle", show(MIDDLE))
    print("P:", ", ".join(show(v) for v in small))
    print("S:", ", ".join(show(v) for v in large))
    x = np.linspace(1e-6, 9, 900_001).astype(F)
    q = horner(small, (x * x).astype(F))
    near = (x + (x * q).astype(F)).astype(F)
    u = (F(1) / x).astype(F)
    with np.errstate(over="ignore", invalid="ignore"):  # S at tiny x, which the blend drops
        tail = (u * estrin(large, (u - F(MIDDLE)).astype(F))).astype(F)
    # e^(−x²) exact to float rounding, as the Swift code gets it from x² split into two floats.
    erfc = (np.exp(-(x.astype(np.float64) ** 2)).astype(F) * tail).astype(F)
    approx = np.where(x < SPLIT, near, (F(1) - erfc).astype(F))
    exact = np.array([math.erf(float(v)) for v in x])
    ulps = np.abs(approx - exact) / np.spacing(np.abs(exact).astype(F))
    print(f"erf: largest error on (0, 9]: {ulps.max():.2f} ulp (at x = {x[ulps.argmax()]})")
    far = (x >= SPLIT) & (x < 9)
    exact_c = np.array([math.erfc(float(v)) for v in x[far]])
    rel = np.abs(erfc[far] - exact_c) / exact_c
    print(f"erfc: largest relative error on [{SPLIT}, 9): {rel.max():.2e} (at x = {x[far][rel.argmax()]})")


if __name__ == "__main__":
    main()

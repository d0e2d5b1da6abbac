"""Toy stochastic simulators with known answers, for the tests and for timing the machinery: a nonlinear one
(3 parameters, 5 outputs, noise) whose truth is known, and a linear-Gaussian one whose posterior is known in
closed form."""

from __future__ import annotations

import math

import numpy as np

# The nonlinear toy: parameters a in [0, 2], b in [0, 2], c in [0.5, 3]; truth below.
TRUTH = {"a": 1.2, "b": 0.7, "c": 1.8}
NOISE_SD = {"y1": 0.02, "y2": 0.03, "y3": 0.02, "y4": 0.04, "y5": 0.02}


def nonlinear_means(a: float, b: float, c: float) -> dict:
    return {"y1": a + b, "y2": a * c, "y3": math.exp(0.5 * b) - 0.5 * c, "y4": a * a + 0.5 * c,
            "y5": math.sin(b) + 0.3 * a, "v1": a * b * c, "v2": b - 0.2 * c}


def nonlinear(params: dict, seed: int, noise: float = 1.0) -> dict:
    """Five calibration outputs y1-y5 and two outputs kept for validation, v1 and v2, each the mean plus
    Gaussian replicate noise (noise × NOISE_SD; v1, v2 with sd 0.03) drawn from the seed."""
    rng = np.random.default_rng(seed)
    mean = nonlinear_means(params["a"], params["b"], params["c"])
    sd = {**NOISE_SD, "v1": 0.03, "v2": 0.03}
    return {k: m + noise * sd[k] * rng.standard_normal() for k, m in mean.items()}


# The linear-Gaussian toy: y = A theta + noise, theta = (p, q). With uniform priors far wider than the
# likelihood, the posterior is normal with covariance (A' S^-1 A)^-1 and mean at the truth when the
# observations are A theta_true, where S holds the targets' sd^2.
LINEAR_A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -0.5]])
LINEAR_TRUTH = {"p": 0.3, "q": -0.2}


def linear(params: dict, seed: int, noise_sd: float = 0.0) -> dict:
    theta = np.array([params["p"], params["q"]])
    y = LINEAR_A @ theta
    if noise_sd:
        y = y + noise_sd * np.random.default_rng(seed).standard_normal(len(y))
    return {f"y{i + 1}": float(v) for i, v in enumerate(y)}


def linear_posterior(sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of the linear toy's posterior for observations at the truth with these sds."""
    S_inv = np.diag(1.0 / np.asarray(sd) ** 2)
    cov = np.linalg.inv(LINEAR_A.T @ S_inv @ LINEAR_A)
    return np.array([LINEAR_TRUTH["p"], LINEAR_TRUTH["q"]]), cov


def failing(params: dict, seed: int) -> dict:
    """Fails on purpose where a > 1.5 (to test how failures are reported)."""
    if params["a"] > 1.5:
        raise RuntimeError("a > 1.5 is not supported by this toy")
    return nonlinear(params, seed)


# The scalable toy: k parameters x1..xk in [0, 1] and m outputs y1..ym, y_i = sum_j W_ij x_j +
# 0.3 sin(3 x_(i mod k)) + noise, with W fixed by (k, m). For timing the machinery against k.
def scalable_weights(k: int, m: int) -> np.ndarray:
    return np.random.default_rng(1000 * k + m).uniform(-1.0, 1.0, size=(m, k))


def scalable_means(x: np.ndarray, m: int) -> np.ndarray:
    k = len(x)
    W = scalable_weights(k, m)
    return W @ x + 0.3 * np.sin(3.0 * x[np.arange(m) % k])


def scalable(params: dict, seed: int, outputs: int = 5, noise: float = 0.02) -> dict:
    x = np.array([params[f"x{j + 1}"] for j in range(len(params))])
    y = scalable_means(x, outputs) + noise * np.random.default_rng(seed).standard_normal(outputs)
    return {f"y{i + 1}": float(v) for i, v in enumerate(y)}

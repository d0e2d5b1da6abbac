"""Gaussian-process emulators of the simulator's mean output, one per target, on design coordinates in
[0, 1]^k: a regression mean (constant or linear) plus a Matérn 5/2 process with one length scale per
parameter, and a white-noise term that absorbs the replicate noise of a stochastic simulator."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel


class Emulator:
    """E[f(x)] and its variance for one target. `predict` returns the emulator's mean and variance of the
    simulator's *mean* (the white-noise part, the replicate noise, is left out: it is `noise_var`)."""

    def __init__(self, mean: str = "linear", restarts: int = 2, random_state: int = 0):
        self.mean = mean
        self.restarts = restarts
        self.random_state = random_state

    def _basis(self, U: np.ndarray) -> np.ndarray:
        ones = np.ones((U.shape[0], 1))
        return ones if self.mean == "constant" else np.hstack([ones, U])

    def fit(self, U: np.ndarray, y: np.ndarray) -> "Emulator":
        U = np.asarray(U, dtype=float)
        y = np.asarray(y, dtype=float)
        H = self._basis(U)
        if H.shape[1] >= len(y):  # too few runs for a regression surface: a constant mean only
            self.mean = "constant"
            H = self._basis(U)
        self.beta, *_ = np.linalg.lstsq(H, y, rcond=None)
        resid = y - H @ self.beta
        self.scale = float(np.std(resid)) or 1.0
        k = U.shape[1]
        kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * Matern(length_scale=np.full(k, 0.5),
                                                             length_scale_bounds=(1e-2, 1e2), nu=2.5)
                  + WhiteKernel(1e-2, (1e-10, 1e1)))
        self.gp = GaussianProcessRegressor(kernel=kernel, alpha=1e-10, normalize_y=False,
                                           n_restarts_optimizer=self.restarts, random_state=self.random_state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.gp.fit(U, resid / self.scale)
        self.white = float(self.gp.kernel_.k2.noise_level)
        self.noise_var = self.white * self.scale ** 2
        self.n_train = len(y)
        # What prediction needs, kept as plain arrays: the sampler calls predict hundreds of thousands of times
        # and sklearn's per-call checks would dominate.
        k1 = self.gp.kernel_.k1
        self._signal = float(k1.k1.constant_value)
        self._ell = np.atleast_1d(np.asarray(k1.k2.length_scale, dtype=float)) * np.ones(k)
        self._Xs = U / self._ell
        self._alpha = np.ravel(self.gp.alpha_)
        self._Linv = np.linalg.inv(self.gp.L_)
        return self

    def predict(self, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of E[f(x)] at each row of U (the white-noise term left out: the emulator's own
        uncertainty about the simulator's mean, not the replicate noise)."""
        U = np.atleast_2d(np.asarray(U, dtype=float))
        d2 = (np.sum((U / self._ell) ** 2, axis=1)[:, None] + np.sum(self._Xs ** 2, axis=1)[None, :]
              - 2.0 * (U / self._ell) @ self._Xs.T)
        r = np.sqrt(5.0 * np.maximum(d2, 0.0))
        Ks = self._signal * (1.0 + r + r * r / 3.0) * np.exp(-r)   # Matérn 5/2
        v = Ks @ self._Linv.T
        var = np.maximum(self._signal - np.sum(v * v, axis=1), 1e-12) * self.scale ** 2
        return self._basis(U) @ self.beta + (Ks @ self._alpha) * self.scale, var

    def predict_reference(self, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The same through sklearn's own predict (the reference the fast path is tested against)."""
        U = np.atleast_2d(np.asarray(U, dtype=float))
        m, sd = self.gp.predict(U, return_std=True)
        # sklearn's predictive sd includes the white noise on the diagonal: remove it.
        var = np.maximum(sd ** 2 - self.white, 1e-12) * self.scale ** 2
        return self._basis(U) @ self.beta + m * self.scale, var

    def describe(self) -> dict:
        k = self.gp.kernel_
        return {"mean": self.mean, "beta": [float(b) for b in self.beta], "scale": self.scale,
                "signal_sd": float(np.sqrt(k.k1.k1.constant_value)) * self.scale,
                "length_scales": [float(v) for v in np.atleast_1d(k.k1.k2.length_scale)],
                "noise_sd": float(np.sqrt(self.noise_var)), "n_train": self.n_train}


class EmulatorSet:
    """One emulator per calibration target, fitted on the same runs; predicts all targets in one batched
    computation."""

    def __init__(self, emulators: list[Emulator]):
        self.emulators = emulators
        self._ell = np.stack([e._ell for e in emulators])              # m × k
        self._Xs = np.stack([e._Xs for e in emulators])                # m × N × k
        self._Linv_T = np.stack([e._Linv.T for e in emulators])        # m × N × N
        self._alpha = np.stack([e._alpha for e in emulators])          # m × N
        self._signal = np.array([e._signal for e in emulators])
        self._scale = np.array([e.scale for e in emulators])
        k = self._ell.shape[1]
        # Regression coefficients on the basis [1, u]; a constant-mean emulator has zero slopes.
        self._beta = np.zeros((len(emulators), k + 1))
        for j, e in enumerate(emulators):
            self._beta[j, :len(e.beta)] = e.beta

    @classmethod
    def fit(cls, U: np.ndarray, Y: np.ndarray, mean: str, restarts: int, seeds: list[int]) -> "EmulatorSet":
        return cls([Emulator(mean, restarts, int(s)).fit(U, Y[:, j]) for j, s in zip(range(Y.shape[1]), seeds)])

    def predict(self, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(means, variances), each runs × targets; the computation of Emulator.predict for all targets, in
        blocks of rows small enough to keep the intermediate arrays to a few tens of megabytes."""
        U = np.atleast_2d(np.asarray(U, dtype=float))
        m, N = self._alpha.shape
        block = max(1, 2_000_000 // max(1, m * N))
        if len(U) > block:
            parts = [self._predict(U[i:i + block]) for i in range(0, len(U), block)]
            return np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts])
        return self._predict(U)

    def _predict(self, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Us = U[None, :, :] / self._ell[:, None, :]                                     # m × n × k
        d2 = (np.sum(Us ** 2, axis=2)[:, :, None] + np.sum(self._Xs ** 2, axis=2)[:, None, :]
              - 2.0 * Us @ self._Xs.transpose(0, 2, 1))                               # m × n × N
        r = np.sqrt(5.0 * np.maximum(d2, 0.0))
        Ks = self._signal[:, None, None] * (1.0 + r + r * r / 3.0) * np.exp(-r)
        v = Ks @ self._Linv_T
        var = np.maximum(self._signal[:, None] - np.sum(v * v, axis=2), 1e-12) * (self._scale ** 2)[:, None]
        gp_mean = np.einsum("mnN,mN->mn", Ks, self._alpha) * self._scale[:, None]
        reg = self._beta[:, 0][None, :] + U @ self._beta[:, 1:].T
        return reg + gp_mean.T, var.T

    @property
    def noise_var(self) -> np.ndarray:
        return np.array([e.noise_var for e in self.emulators])

"""Prior distributions of the fitted parameters, each on a finite range, and the map between a parameter's
value and its design coordinate in [0, 1] on which designs, emulators and the sampler work."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats

DISTRIBUTIONS = {
    # distribution: (required keys besides min and max, design scale)
    "uniform": ((), "linear"),
    "loguniform": ((), "log"),
    "normal": (("mean", "sd"), "linear"),
    "lognormal": (("median", "log_sd"), "log"),
    "beta": (("alpha", "beta"), "linear"),
}


@dataclass(frozen=True)
class Prior:
    """A prior on [lower, upper]: uniform, log-uniform, normal or log-normal truncated to the range, or a beta
    scaled to it. Log-scale priors are designed and sampled on log(value), so a range of 0.01-1 is explored
    evenly across its decades."""

    distribution: str
    lower: float
    upper: float
    shape: dict = field(default_factory=dict)

    @property
    def log_scale(self) -> bool:
        return DISTRIBUTIONS[self.distribution][1] == "log"

    # design coordinate u in [0, 1] <-> value x
    def to_value(self, u):
        u = np.asarray(u, dtype=float)
        if self.log_scale:
            lo, hi = math.log(self.lower), math.log(self.upper)
            return np.exp(lo + u * (hi - lo))
        return self.lower + u * (self.upper - self.lower)

    def to_unit(self, x):
        x = np.asarray(x, dtype=float)
        if self.log_scale:
            lo, hi = math.log(self.lower), math.log(self.upper)
            return (np.log(x) - lo) / (hi - lo)
        return (x - self.lower) / (self.upper - self.lower)

    def _frozen(self):
        d, s = self.distribution, self.shape
        if d == "normal":
            a, b = (self.lower - s["mean"]) / s["sd"], (self.upper - s["mean"]) / s["sd"]
            return stats.truncnorm(a, b, loc=s["mean"], scale=s["sd"]), False
        if d == "lognormal":
            mu = math.log(s["median"])
            a = (math.log(self.lower) - mu) / s["log_sd"]
            b = (math.log(self.upper) - mu) / s["log_sd"]
            return stats.truncnorm(a, b, loc=mu, scale=s["log_sd"]), True  # on log(x)
        if d == "beta":
            return stats.beta(s["alpha"], s["beta"], loc=self.lower, scale=self.upper - self.lower), False
        if d == "loguniform":
            return stats.uniform(math.log(self.lower), math.log(self.upper) - math.log(self.lower)), True
        return stats.uniform(self.lower, self.upper - self.lower), False

    def log_density_unit(self, u):
        """Log density of the design coordinate u (the prior pushed through the map to [0, 1]); -inf outside.
        In closed form: the sampler calls it for every proposal (log_density_unit_reference is scipy's)."""
        u = np.asarray(u, dtype=float)
        inside = (u >= 0.0) & (u <= 1.0)
        uc = np.clip(u, 1e-300, 1.0 - 1e-16)
        d, s = self.distribution, self.shape
        if d in ("uniform", "loguniform"):
            out = np.zeros_like(uc)
        elif d == "beta":
            out = ((s["alpha"] - 1.0) * np.log(uc) + (s["beta"] - 1.0) * np.log1p(-uc)
                   - special.betaln(s["alpha"], s["beta"]))
        else:
            # normal on x (or on log x for lognormal), truncated to the range, as a density of u
            if d == "normal":
                lo, hi, mu, sd = self.lower, self.upper, s["mean"], s["sd"]
            else:
                lo, hi, mu, sd = math.log(self.lower), math.log(self.upper), math.log(s["median"]), s["log_sd"]
            mass = special.ndtr((hi - mu) / sd) - special.ndtr((lo - mu) / sd)
            t = lo + uc * (hi - lo)
            out = -0.5 * ((t - mu) / sd) ** 2 + math.log((hi - lo) / (sd * math.sqrt(2 * math.pi) * mass))
        return np.where(inside, out, -np.inf)

    def log_density_unit_reference(self, u):
        """The same through scipy.stats (the reference the closed form is tested against)."""
        u = np.asarray(u, dtype=float)
        dist, on_log = self._frozen()
        inside = (u >= 0.0) & (u <= 1.0)
        uc = np.clip(u, 0.0, 1.0)
        if on_log:
            lo, hi = math.log(self.lower), math.log(self.upper)
            out = dist.logpdf(lo + uc * (hi - lo)) + math.log(hi - lo)
        else:
            out = dist.logpdf(self.to_value(uc)) + math.log(self.upper - self.lower)
        return np.where(inside, out, -np.inf)

    def quantile_unit(self, q) -> np.ndarray:
        """Prior quantiles, as design coordinates."""
        dist, on_log = self._frozen()
        v = dist.ppf(np.asarray(q, dtype=float))
        if on_log:
            lo, hi = math.log(self.lower), math.log(self.upper)
            return np.clip((v - lo) / (hi - lo), 0.0, 1.0)
        return np.clip(self.to_unit(v), 0.0, 1.0)

    def quantile(self, q) -> np.ndarray:
        return self.to_value(self.quantile_unit(q))

    def sample_unit(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n prior draws, as design coordinates."""
        return self.quantile_unit(rng.uniform(size=n))

    def describe(self) -> str:
        shape = ", ".join(f"{k}={v:g}" for k, v in self.shape.items())
        core = f"{self.distribution}({shape})" if shape else self.distribution
        return f"{core} on [{self.lower:g}, {self.upper:g}]"

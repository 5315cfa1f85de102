"""The variational autoencoder (thesis 1.3, Kingma & Welling 2013).

Encoder q_φ(z|x) = N(μ(x), diag σ²(x)); decoder p_θ(x|z) Bernoulli (or Gaussian); prior
p(z) = N(0, I). Trained by Algorithm 2 (minibatch AEVB) on the lower bound, estimated with
estimator A or B from L reparameterised samples per datapoint.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .. import losses
from ..config import Schedule, VAEConfig
from ..data import Dataset
from ..nets import mlp
from . import elbo as gaussian
from .base import ELBOTerms, GenerativeModel, Phase

__all__ = ["VAE", "ELBOTerms"]


class VAE(GenerativeModel):
    config_class = VAEConfig
    config: VAEConfig
    has_posterior = True
    defines_likelihood = True

    def __init__(self, config: VAEConfig):
        super().__init__(config)
        c = config
        h = c.hidden_dims
        self.encoder = nn.Sequential(
            nn.Flatten(), mlp([self.data_dim, *h], final_activation=True), nn.Linear(h[-1], 2 * c.latent_dim)
        )
        self.decoder = mlp([c.latent_dim, *reversed(h), self.data_dim])
        if c.decoder == "gaussian":
            self.decoder_logvar = nn.Parameter(torch.zeros(self.data_dim))
        self.n_data = 50_000  # N of Algorithm 2's N/M scaling; set from the data by :meth:`setup`

    # -- the model -------------------------------------------------------------------
    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """q_φ(z|x): the mean and log-variance of the Gaussian posterior approximation."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def encode(self, x: Tensor) -> Tensor:
        """One z ~ q_φ(z|x) per example, by reparameterisation."""
        return losses.reparameterize(*self.posterior(x))[0]

    def embed(self, x: Tensor) -> Tensor:
        """The posterior mean μ(x)."""
        return self.posterior(x)[0]

    def decode_raw(self, z: Tensor) -> Tensor:
        """Decoder output for z of shape (..., D): Bernoulli logits or the Gaussian mean, shape (..., *data_shape)."""
        return self.decoder(z).view(*z.shape[:-1], *self.data_shape)

    @property
    def has_bernoulli_decoder(self) -> bool:
        return self.config.decoder == "bernoulli"

    def bernoulli_logits(self, z: Tensor) -> Tensor:
        """The Bernoulli decoder's logits for z of shape (..., D) (decoder ``bernoulli`` only)."""
        if not self.has_bernoulli_decoder:
            raise ValueError(f"bernoulli_logits needs decoder 'bernoulli', got decoder {self.config.decoder!r}")
        return self.decode_raw(z)

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """The decoder's mean E[x|z] in data space (the VAE takes no labels)."""
        raw = self.decode_raw(z)
        return torch.sigmoid(raw) if self.config.decoder == "bernoulli" else raw

    def log_px_given_z(self, x: Tensor, z: Tensor) -> Tensor:
        """log p_θ(x|z) for z of shape (L, B, D); returns (L, B)."""
        raw = self.decode_raw(z)
        if self.config.decoder == "bernoulli":
            return losses.bernoulli_log_likelihood(x, raw)
        return losses.gaussian_log_likelihood(x, raw, self.decoder_logvar.view(self.data_shape))

    def log_prior(self, z: Tensor) -> Tensor:
        """log p(z) = log N(z; 0, I)."""
        return losses.standard_normal_log_density(z)

    def log_weights(self, x: Tensor, n_samples: int) -> tuple[Tensor, Tensor, Tensor]:
        """log p(x|z), log p(z), log q(z|x) for ``n_samples`` z ~ q(z|x) each; shapes (L, B)."""
        return gaussian.log_weights(self.log_px_given_z, x, *self.posterior(x), n_samples)

    def elbo(self, x: Tensor, n_samples: int | None = None, estimator: str | None = None) -> ELBOTerms:
        """The per-example lower bound L(θ, φ; x_i) by estimator A or B with L samples
        (:func:`thesis_lib.models.elbo.elbo`)."""
        n_samples = n_samples or self.config.n_samples
        return gaussian.elbo(self.log_px_given_z, x, *self.posterior(x), n_samples, estimator or self.config.estimator)

    # -- training: Algorithm 2 -------------------------------------------------------
    def setup(self, data: Dataset) -> None:
        self.n_data = len(data)

    def configure_optimizers(self, schedule: Schedule) -> dict[str, torch.optim.Optimizer]:
        return {"vae": self.make_optimizer(self.parameters(), schedule)}

    def phases(self) -> list[Phase]:
        return [Phase("-elbo", "vae", self.elbo_step)]

    def elbo_step(self, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        """One step of Algorithm 2: descend minus the minibatch estimate of the lower bound.

        The loss logged as ``-elbo`` is per example; what the optimiser descends (``objective``:
        the minibatch sum or Algorithm 2's N/M-scaled sum) is logged apart.
        """
        t = self.elbo(x)
        out = {"loss": -t.elbo.mean(), "kl": t.kl.mean(), "recon": -t.log_px_given_z.mean()}
        beta = self.config.kl_weight
        target = t.elbo if beta == 1 else losses.kl_weighted_bound(t.log_px_given_z, t.kl, beta)
        if self.config.objective == "dataset":
            out["objective"] = -losses.minibatch_objective(target, self.n_data)
        elif self.config.objective == "sum":
            out["objective"] = -target.sum()
        elif self.config.objective == "mean" and beta != 1:
            out["objective"] = -target.mean()
        elif self.config.objective == "pixel-mean":
            out["objective"] = losses.pixel_mean_loss(-out["recon"], out["kl"], self.data_dim)
        return out

    @torch.no_grad()
    def evaluate(self, x: Tensor, y: Tensor) -> dict[str, float]:
        t = self.elbo(x, n_samples=1, estimator="B")
        return {"-elbo": -t.elbo.mean().item(), "kl": t.kl.mean().item(), "recon": -t.log_px_given_z.mean().item()}

    def sample_prior(self, n: int, labels: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        """z ~ p(z) = N(0, I) (samples decode to the decoder's mean, pixel probabilities)."""
        return self._randn(n, self.config.latent_dim, generator=generator)

"""The adversarial autoencoder (thesis 1.4, Makhzani et al. 2016).

An autoencoder whose aggregated posterior q(z) = ∫ q(z|x) p_d(x) dx is matched to a prior p(z)
by adversarial training: the encoder is the generator, a discriminator on z tells prior samples
from codes. Every minibatch gets two phases: reconstruction, then regularisation
(discriminator step, then encoder step).

Encoders (the thesis's three kinds of q(z|x)):

* ``deterministic``: z = f(x); the only randomness in q(z) comes from the data;
* ``gaussian``: z ~ N(μ(x), σ²(x)) by reparameterisation;
* ``universal``: z = f(x, η) with η ~ N(0, I) an extra input (universal approximator posterior).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import losses
from ..config import AAEConfig, AAESchedule
from ..nets import mlp, one_hot
from ..priors import GaussianPrior, MixturePrior, Prior, SwissRollPrior, make_prior
from . import elbo as gaussian
from .base import ELBOTerms, GenerativeModel, Phase


class AdversarialAutoencoder(GenerativeModel):
    config_class = AAEConfig
    config: AAEConfig
    has_bernoulli_decoder = True

    def __init__(self, config: AAEConfig, prior: Prior | None = None):
        """``prior`` overrides ``config.prior`` with any sampler ``prior(n, labels=None, generator=None)``."""
        super().__init__(config)
        c = config
        n_in = self.data_dim + (c.noise_dim if c.encoder == "universal" else 0)
        n_out = 2 * c.latent_dim if c.encoder == "gaussian" else c.latent_dim
        self.encoder = mlp([n_in, *c.hidden_dims, n_out], dropout=c.dropout)
        self.decoder = mlp([c.latent_dim, *reversed(c.hidden_dims), self.data_dim], dropout=c.dropout)
        n_cond = self.n_classes if c.label_prior else 0
        self.discriminator = mlp([c.latent_dim + n_cond, *c.d_hidden, 1], dropout=c.dropout)
        self.prior: Prior = (
            prior if prior is not None else make_prior(c.prior, c.latent_dim, c.prior_std, c.n_components)
        )

    # -- the model -------------------------------------------------------------------
    def encode(self, x: Tensor) -> Tensor:
        """A sample z ~ q(z|x) from the configured kind of encoder."""
        h = x.flatten(1)
        kind = self.config.encoder
        if kind == "universal":
            h = torch.cat([h, torch.randn(h.shape[0], self.config.noise_dim, device=h.device)], dim=1)
        out = self.encoder(h)
        if kind == "gaussian":
            mu, logvar = out.chunk(2, dim=1)
            return losses.reparameterize(mu, logvar)[0]
        return out

    def embed(self, x: Tensor) -> Tensor:
        """A deterministic code for plots: μ(x) (Gaussian), f(x, 0) (universal) or f(x)."""
        h = x.flatten(1)
        if self.config.encoder == "universal":
            h = torch.cat([h, h.new_zeros(h.shape[0], self.config.noise_dim)], dim=1)
        out = self.encoder(h)
        return out.chunk(2, dim=1)[0] if self.config.encoder == "gaussian" else out

    @property
    def has_posterior(self) -> bool:
        """Whether q(z|x) has a density to use as a proposal: a Gaussian encoder (with the Gaussian prior, for the
        ELBO's KL)."""
        return self.config.encoder == "gaussian" and isinstance(self.prior, GaussianPrior)

    @property
    def defines_likelihood(self) -> bool:
        """Whether p(x) = ∫ p(x|z) p(z) dz is defined: the decoder is Bernoulli, so it is whenever the
        prior has a density (Gaussian or mixture; not the swiss roll), whatever the encoder."""
        return self.images and hasattr(self.prior, "log_density")

    def log_prior(self, z: Tensor) -> Tensor:
        """log p(z) of the prior (the marginal over the labels for a label prior)."""
        if not self.defines_likelihood:
            raise ValueError(
                f"the prior {self.prior_name!r} has no density (only samples), so the model defines no likelihood"
            )
        return self.prior.log_density(z)

    def log_px_given_z(self, x: Tensor, z: Tensor) -> Tensor:
        """The Bernoulli decoder's log p(x|z), z (L, B, D) -> (L, B)."""
        return losses.bernoulli_log_likelihood(x, self.decode_raw(z))

    def _posterior(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """μ(x), log σ²(x) of a Gaussian encoder, and the prior's log-variance (shaped like μ)."""
        if not self.has_posterior:
            raise ValueError(
                f"the lower bound needs encoder 'gaussian' and prior 'gaussian', got encoder {self.config.encoder!r} "
                f"and prior {self.prior_name!r}"
            )
        mu, logvar = self.encoder(x.flatten(1)).chunk(2, dim=1)
        return mu, logvar, torch.full_like(mu, 2 * math.log(self.prior.std))

    def log_weights(self, x: Tensor, n_samples: int) -> tuple[Tensor, Tensor, Tensor]:
        """log p(x|z), log p(z), log q(z|x) for ``n_samples`` z ~ q(z|x) each, shapes (L, B).

        Only for a Gaussian encoder with the Gaussian prior (see :attr:`has_posterior`).
        """
        mu, logvar, prior_logvar = self._posterior(x)
        return gaussian.log_weights(self.log_px_given_z, x, mu, logvar, n_samples, prior_logvar)

    def elbo(self, x: Tensor, n_samples: int | None = None, estimator: str | None = None) -> ELBOTerms:
        """The lower bound of the AAE read as a latent-variable model (Gaussian encoder and prior),
        by estimator B (analytic KL to N(0, std² I)) or A, with ``n_samples`` (default 1) samples
        (:func:`thesis_lib.models.elbo.elbo`)."""
        mu, logvar, prior_logvar = self._posterior(x)
        return gaussian.elbo(self.log_px_given_z, x, mu, logvar, n_samples or 1, estimator or "B", prior_logvar)

    def decode_raw(self, z: Tensor) -> Tensor:
        """Decoder logits for z of shape (..., D): (..., *data_shape)."""
        return self.decoder(z).view(*z.shape[:-1], *self.data_shape)

    def bernoulli_logits(self, z: Tensor) -> Tensor:
        """The decoder's logits (its p(x|z) is Bernoulli): :meth:`decode_raw`."""
        return self.decode_raw(z)

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """p(x|z): pixel probabilities (the label, if any, enters the prior, not the decoder)."""
        return torch.sigmoid(self.decode_raw(z))

    def discriminate(self, z: Tensor, labels: Tensor) -> Tensor:
        """Logit of D(z): the probability that z came from the prior rather than the encoder."""
        if self.config.label_prior:
            z = torch.cat([z, one_hot(labels, self.n_classes)], dim=1)
        return self.discriminator(z).squeeze(1)

    def sample_prior(self, n: int, labels: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        """z ~ p(z) (from class ``labels``' region when ``label_prior``)."""
        use = labels.cpu() if (labels is not None and self.config.label_prior) else None
        return self.prior(n, labels=use, generator=generator).to(self.device)

    @property
    def class_conditional(self) -> bool:
        """With ``label_prior`` each class has its region of the prior, so samples can be asked for a class."""
        return self.config.label_prior

    @property
    def prior_name(self) -> str:
        """The configured prior's name, or a user sampler's (passed as ``prior=``)."""
        if isinstance(self.prior, (GaussianPrior, MixturePrior, SwissRollPrior)):
            return self.config.prior
        return getattr(self.prior, "__name__", type(self.prior).__name__)

    # -- training: reconstruction, then regularisation --------------------------------
    def configure_optimizers(self, schedule: AAESchedule) -> dict[str, torch.optim.Optimizer]:
        return {
            "autoencoder": self.make_optimizer([*self.encoder.parameters(), *self.decoder.parameters()], schedule),
            "discriminator": self.make_optimizer(self.discriminator.parameters(), schedule, lr=schedule.reg_lr),
            "encoder": self.make_optimizer(self.encoder.parameters(), schedule, lr=schedule.reg_lr),
        }

    def phases(self) -> list[Phase]:
        """Per minibatch: reconstruction; then regularisation = discriminator, then encoder."""
        return [
            Phase("recon", "autoencoder", self.reconstruction_step, new_batch=True),
            Phase("D", "discriminator", self.discriminator_step, new_batch=False),
            Phase("E", "encoder", self.encoder_step, new_batch=False),
        ]

    def reconstruction_step(self, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        """Update encoder and decoder to reduce the reconstruction error."""
        return {"loss": losses.aae_reconstruction_loss(self.decode_raw(self.encode(x)), x)}

    def discriminator_step(self, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        """Update D to tell prior samples (positive) from codes q(z|x) (negative)."""
        with torch.no_grad():
            z_q = self.encode(x)
        z_p = self.sample_prior(x.shape[0], y)
        d_prior, d_post = self.discriminate(z_p, y), self.discriminate(z_q, y)
        return {
            "loss": losses.aae_discriminator_loss(d_prior, d_post),
            "D(z~p)": torch.sigmoid(d_prior).mean(),
            "D(z~q)": torch.sigmoid(d_post).mean(),
        }

    def encoder_step(self, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        """Update the encoder (the generator) to make D take its codes for prior samples."""
        return {"loss": losses.aae_encoder_loss(self.discriminate(self.encode(x), y))}

    @torch.no_grad()
    def evaluate(self, x: Tensor, y: Tensor) -> dict[str, float]:
        raw = self.decode_raw(self.encode(x))
        return {"recon": losses.reconstruction_bce(raw, x).mean().item()}

"""The lower bound of a model with a Gaussian encoder and a centred Gaussian prior: one definition
for the VAE (prior N(0, I)) and the AAE read as a latent-variable model (prior N(0, std² I)).

Both encoders give q_φ(z|x) = N(μ(x), diag σ²(x)); z is reparameterised (eq. 4 of Kingma &
Welling), and the bound is estimated per example by

* estimator A (:func:`~thesis_lib.losses.elbo_estimator_a`): the Monte Carlo log p(x, z) - log q(z|x);
* estimator B (:func:`~thesis_lib.losses.elbo_estimator_b`): the KL term in closed form and only
  the reconstruction term sampled.

``prior_logvar=None`` is the standard normal prior, computed with
:func:`~thesis_lib.losses.gaussian_kl` and :func:`~thesis_lib.losses.standard_normal_log_density`
(the VAE chapter's formulas); otherwise the prior is N(0, diag exp(prior_logvar)).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .. import losses
from .base import ELBOTerms

LogLikelihood = Callable[[Tensor, Tensor], Tensor]  # log p(x|z): x (B, ...), z (L, B, D) -> (L, B)


def log_prior(z: Tensor, prior_logvar: Tensor | None) -> Tensor:
    """log p(z) of the centred Gaussian prior (standard normal for ``prior_logvar=None``); (L, B)."""
    if prior_logvar is None:
        return losses.standard_normal_log_density(z)
    return losses.diagonal_gaussian_log_density(z, torch.zeros_like(prior_logvar), prior_logvar)


def log_weights(
    log_px_given_z: LogLikelihood,
    x: Tensor,
    mu: Tensor,
    logvar: Tensor,
    n_samples: int,
    prior_logvar: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """log p(x|z), log p(z), log q(z|x) for ``n_samples`` z ~ q(z|x) per example; shapes (L, B)."""
    z = losses.reparameterize(mu, logvar, n_samples)
    return (
        log_px_given_z(x, z),
        log_prior(z, prior_logvar),
        losses.diagonal_gaussian_log_density(z, mu, logvar),
    )


def elbo(
    log_px_given_z: LogLikelihood,
    x: Tensor,
    mu: Tensor,
    logvar: Tensor,
    n_samples: int,
    estimator: str,
    prior_logvar: Tensor | None = None,
) -> ELBOTerms:
    """The per-example lower bound L(θ, φ; x) by estimator ``"A"`` or ``"B"`` with ``n_samples`` samples."""
    z = losses.reparameterize(mu, logvar, n_samples)
    log_px_z = log_px_given_z(x, z)
    if estimator == "A":
        log_pz = log_prior(z, prior_logvar)
        log_qz = losses.diagonal_gaussian_log_density(z, mu, logvar)
        return ELBOTerms(losses.elbo_estimator_a(log_px_z, log_pz, log_qz), (log_qz - log_pz).mean(0), log_px_z.mean(0))
    if prior_logvar is None:
        kl = losses.gaussian_kl(mu, logvar)
    else:
        kl = losses.gaussian_kl_two(mu, logvar, torch.zeros_like(mu), prior_logvar)
    return ELBOTerms(losses.elbo_estimator_b(kl, log_px_z), kl, log_px_z.mean(0))

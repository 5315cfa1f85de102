r"""The thesis's losses as pure functions, each named after its quantity.

Conventions, stated once:

* Discriminators return **logits** a; D = sigmoid(a). We use log D = logsigmoid(a) and
  log(1 - D) = logsigmoid(-a), which are exact and never take log(0).
* Decoders return Bernoulli **logits** (or a Gaussian mean and log-variance).
* Per-example quantities are summed over pixels and latent dimensions: they are in **nats per
  example**, the unit of the papers' tables. Minibatch reductions are explicit (``.mean()`` over
  the batch, or :func:`minibatch_objective` for Algorithm 2's N/M scaling).
* Monte Carlo sample axes come first: ``z`` of shape ``(L, B, D)`` for L samples per datapoint.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

LOG_2PI = math.log(2 * math.pi)


# ============================================================================ likelihoods
def _sum_features(t: Tensor, n_feature: int) -> Tensor:
    """Sum the last ``n_feature`` axes (the pixels of one example), keeping sample and batch axes."""
    return t.flatten(start_dim=t.dim() - n_feature).sum(-1)


def bernoulli_log_likelihood(x: Tensor, logits: Tensor) -> Tensor:
    r"""log p(x|z) of a Bernoulli decoder, summed over pixels.

    .. math:: \log p_\theta(x|z) = \sum_j x_j \log y_j + (1 - x_j)\log(1 - y_j),\quad y = \sigma(\text{logits})

    ``x`` may be real-valued in [0, 1] (then this is minus the binary cross-entropy).
    Broadcasts over leading sample axes: ``x`` (B, ...) with ``logits`` (L, B, ...) gives (L, B).
    """
    ll = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none")
    return _sum_features(ll, x.dim() - 1)


def gaussian_log_likelihood(x: Tensor, mean: Tensor, logvar: Tensor) -> Tensor:
    r"""log N(x; mean, diag(exp(logvar))), summed over the trailing (feature) dimensions of ``x``.

    .. math:: \log \mathcal N(x;\mu,\sigma^2) = -\tfrac12 \sum_j \Big[\log 2\pi + \log\sigma_j^2 + \frac{(x_j-\mu_j)^2}{\sigma_j^2}\Big]
    """
    lp = -0.5 * (LOG_2PI + logvar + (x - mean) ** 2 * torch.exp(-logvar))
    lp = lp.expand(torch.broadcast_shapes(lp.shape, x.shape))
    return _sum_features(lp, x.dim() - 1)


def standard_normal_log_density(z: Tensor) -> Tensor:
    r"""log p(z) for the prior p(z) = N(0, I), summed over the last axis.

    .. math:: \log p(z) = -\tfrac12 \sum_j (\log 2\pi + z_j^2)
    """
    return -0.5 * (LOG_2PI + z**2).sum(-1)


def diagonal_gaussian_log_density(z: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    r"""log q_φ(z|x) for q = N(μ, diag σ²), summed over the last axis (broadcasts over samples).

    .. math:: \log q_\phi(z|x) = -\tfrac12 \sum_j \Big[\log 2\pi + \log\sigma_j^2 + \frac{(z_j-\mu_j)^2}{\sigma_j^2}\Big]
    """
    return -0.5 * (LOG_2PI + logvar + (z - mu) ** 2 * torch.exp(-logvar)).sum(-1)


# ============================================================================ 1.1 autoencoder
def reconstruction_bce(logits: Tensor, x: Tensor) -> Tensor:
    r"""Reconstruction error as a Bernoulli negative log-likelihood, per example (nats).

    .. math:: \ell(x, \hat x) = -\sum_j \big[x_j \log \hat x_j + (1-x_j)\log(1-\hat x_j)\big]

    Returns shape (B,).
    """
    return -bernoulli_log_likelihood(x, logits)


def reconstruction_mse(x_hat: Tensor, x: Tensor) -> Tensor:
    r"""Squared reconstruction error per example (twice the NLL of a unit-variance Gaussian, minus a constant).

    .. math:: \ell(x, \hat x) = \sum_j (x_j - \hat x_j)^2

    Returns shape (B,).
    """
    return ((x_hat - x) ** 2).flatten(1).sum(-1)


# ============================================================================ 1.2 GAN
def gan_value(d_real_logits: Tensor, d_fake_logits: Tensor) -> Tensor:
    r"""Minibatch estimate of the GAN value function V(D, G) (Goodfellow et al., eq. 1).

    .. math:: V(D,G) = \frac1m\sum_{i=1}^m \Big[\log D\big(x^{(i)}\big) + \log\Big(1 - D\big(G(z^{(i)})\big)\Big)\Big]
    """
    return F.logsigmoid(d_real_logits).mean() + F.logsigmoid(-d_fake_logits).mean()


def discriminator_loss(d_real_logits: Tensor, d_fake_logits: Tensor) -> Tensor:
    r"""Loss that D *descends*: minus the value function (Algorithm 1 ascends V in θ_d).

    .. math:: \mathcal L_D = -\frac1m\sum_{i=1}^m \Big[\log D\big(x^{(i)}\big) + \log\Big(1 - D\big(G(z^{(i)})\big)\Big)\Big]
    """
    return -gan_value(d_real_logits, d_fake_logits)


def generator_loss_minimax(d_fake_logits: Tensor) -> Tensor:
    r"""The generator loss of Algorithm 1: G descends the second term of V.

    .. math:: \mathcal L_G^{\text{minimax}} = \frac1m\sum_{i=1}^m \log\Big(1 - D\big(G(z^{(i)})\big)\Big)

    Saturates when D confidently rejects the samples (D(G(z)) → 0): the gradient vanishes.
    """
    return F.logsigmoid(-d_fake_logits).mean()


def generator_loss_nonsaturating(d_fake_logits: Tensor) -> Tensor:
    r"""The non-saturating generator loss: G maximises log D(G(z)) instead.

    .. math:: \mathcal L_G^{\text{NS}} = -\frac1m\sum_{i=1}^m \log D\big(G(z^{(i)})\big)

    Same fixed point as the minimax loss, but strong gradients early in training.
    """
    return -F.logsigmoid(d_fake_logits).mean()


def optimal_discriminator(p_data: Tensor, p_g: Tensor) -> Tensor:
    r"""The optimal discriminator for a fixed G (Goodfellow et al., Proposition 1).

    .. math:: D^*_G(x) = \frac{p_{\text{data}}(x)}{p_{\text{data}}(x) + p_g(x)}
    """
    return p_data / (p_data + p_g)


# ============================================================================ 1.3 VAE
def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    r"""Analytic KL of the encoder from the standard normal prior, per example (nats).

    .. math:: D_{KL}\big(\mathcal N(\mu,\sigma^2)\,\|\,\mathcal N(0,I)\big) = -\tfrac12\sum_{j=1}^{J}\big(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\big)

    (Kingma & Welling, Appendix B.) Returns shape (B,).
    """
    return -0.5 * (1 + logvar - mu**2 - torch.exp(logvar)).sum(-1)


def gaussian_kl_two(mu_q: Tensor, logvar_q: Tensor, mu_p: Tensor, logvar_p: Tensor) -> Tensor:
    r"""KL between two diagonal Gaussians, summed over the last axis.

    .. math:: D_{KL}(q\|p) = \tfrac12\sum_j\Big[\log\frac{\sigma_{p,j}^2}{\sigma_{q,j}^2} + \frac{\sigma_{q,j}^2 + (\mu_{q,j}-\mu_{p,j})^2}{\sigma_{p,j}^2} - 1\Big]
    """
    return 0.5 * (logvar_p - logvar_q + (torch.exp(logvar_q) + (mu_q - mu_p) ** 2) * torch.exp(-logvar_p) - 1).sum(-1)


def reparameterize(mu: Tensor, logvar: Tensor, n_samples: int = 1, generator: torch.Generator | None = None) -> Tensor:
    r"""The reparameterisation z = g_φ(ε, x) = μ + σ ⊙ ε with ε ~ N(0, I).

    .. math:: z^{(l)} = \mu + \sigma \odot \varepsilon^{(l)},\qquad \varepsilon^{(l)} \sim \mathcal N(0, I),\; l = 1..L

    Returns shape ``(L, *mu.shape)``. Gradients flow to μ and σ through the sample.
    """
    eps = torch.randn((n_samples, *mu.shape), dtype=mu.dtype, device=mu.device, generator=generator)
    return mu + torch.exp(0.5 * logvar) * eps


def elbo_estimator_a(log_px_given_z: Tensor, log_pz: Tensor, log_qz_given_x: Tensor) -> Tensor:
    r"""The generic SGVB estimator L̃^A (Kingma & Welling, eq. 6), per example.

    .. math:: \tilde{\mathcal L}^A(\theta,\phi;x_i) = \frac1L\sum_{l=1}^L \big[\log p_\theta(x_i, z_{i,l}) - \log q_\phi(z_{i,l}|x_i)\big],\quad \log p_\theta(x,z) = \log p_\theta(x|z) + \log p_\theta(z)

    All inputs have shape (L, B); returns (B,).
    """
    return (log_px_given_z + log_pz - log_qz_given_x).mean(0)


def elbo_estimator_b(kl: Tensor, log_px_given_z: Tensor) -> Tensor:
    r"""The second SGVB estimator L̃^B (Kingma & Welling, eq. 7): analytic KL, sampled reconstruction.

    .. math:: \tilde{\mathcal L}^B(\theta,\phi;x_i) = -D_{KL}\big(q_\phi(z|x_i)\,\|\,p_\theta(z)\big) + \frac1L\sum_{l=1}^L \log p_\theta(x_i|z_{i,l})

    ``kl`` has shape (B,), ``log_px_given_z`` (L, B); returns (B,).
    """
    return -kl + log_px_given_z.mean(0)


def minibatch_objective(elbo_per_example: Tensor, n_total: int) -> Tensor:
    r"""Algorithm 2's minibatch estimate of the full-dataset lower bound.

    .. math:: \mathcal L(\theta,\phi;X) \simeq \tilde{\mathcal L}^M(\theta,\phi;X^M) = \frac{N}{M}\sum_{i=1}^M \tilde{\mathcal L}(\theta,\phi;x_i)
    """
    return elbo_per_example.sum() * (n_total / elbo_per_example.shape[0])


def importance_weighted_bound(log_px_given_z: Tensor, log_pz: Tensor, log_qz_given_x: Tensor) -> Tensor:
    r"""The k-sample importance-weighted bound on log p(x) (Burda et al. 2016), per example.

    .. math:: \log p(x) \approx \log \frac1k\sum_{l=1}^k \frac{p_\theta(x, z_l)}{q_\phi(z_l|x)},\qquad z_l \sim q_\phi(z|x)

    A max-subtracted log-mean-exp over the sample axis; inputs (k, B), returns (B,). Equals
    estimator A for k = 1 and tends to log p(x) as k grows.
    """
    log_w = log_px_given_z + log_pz - log_qz_given_x
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])


# ============================================================================ 1.4 AAE
def aae_reconstruction_loss(logits: Tensor, x: Tensor) -> Tensor:
    r"""Reconstruction phase: the autoencoder descends the mean reconstruction NLL.

    .. math:: \mathcal L_{\text{rec}} = \frac1m\sum_{i=1}^m -\log p\big(x_i \mid z_i\big),\qquad z_i \sim q(z|x_i)
    """
    return reconstruction_bce(logits, x).mean()


def aae_discriminator_loss(d_prior_logits: Tensor, d_posterior_logits: Tensor) -> Tensor:
    r"""Regularisation phase, step 1: D learns to tell prior samples (positive) from codes (negative).

    .. math:: \mathcal L_D = -\frac1m\sum_{i=1}^m\Big[\log D\big(z'_i\big) + \log\big(1 - D(z_i)\big)\Big],\qquad z'_i\sim p(z),\; z_i\sim q(z|x_i)
    """
    return discriminator_loss(d_prior_logits, d_posterior_logits)


def aae_encoder_loss(d_posterior_logits: Tensor) -> Tensor:
    r"""Regularisation phase, step 2: the encoder, as generator, learns to fool D (non-saturating form).

    .. math:: \mathcal L_E = -\frac1m\sum_{i=1}^m \log D(z_i),\qquad z_i\sim q(z|x_i)
    """
    return generator_loss_nonsaturating(d_posterior_logits)

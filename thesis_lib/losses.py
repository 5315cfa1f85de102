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


# Below |logit| = 0.1 the log-normaliser is its Taylor series (the closed form is 0/0 at logit 0);
# the first term left out, 0.0022 u^10 with u = logit / 2, is under 3e-16 there.
_CB_TAYLOR_BAND = 0.1
_CB_TAYLOR = (1 / 3, -7 / 90, 62 / 2835, -127 / 18900)  # log(u coth u) = Σ_k c_k u^{2k}, k = 1..4


def continuous_bernoulli_log_norm(logits: Tensor) -> Tensor:
    r"""log C(λ), the log-normaliser of the continuous Bernoulli (Loaiza-Ganem & Cunningham 2019), per pixel.

    .. math::

        C(\lambda) = \frac{2\operatorname{artanh}(1 - 2\lambda)}{1 - 2\lambda}\ (\lambda \ne \tfrac12),
        \quad C(\tfrac12) = 2,
        \qquad\text{so that}\quad \int_0^1 C(\lambda)\,\lambda^x (1-\lambda)^{1-x}\,dx = 1 .

    From the logit η = log(λ / (1 - λ)), with 1 - 2λ = -tanh(η/2) and 2 artanh(1 - 2λ) = -η:

    .. math:: C = \frac{\eta}{\tanh(\eta/2)} = 2u\coth u,\ u = \eta/2,\qquad
        \log C = \log|\eta| - \log\bigl(1 - e^{-|\eta|}\bigr) + \log\bigl(1 + e^{-|\eta|}\bigr)

    which is exact and finite for every |η| ≥ 0.1 (for large |η|, log C → log|η|). At λ = 1/2 the
    closed form is 0/0, and near it its gradient cancels, so for |η| < 0.1 the series
    log C = log 2 + u²/3 - 7u⁴/90 + 62u⁶/2835 - 127u⁸/18900 is used (smooth, gradient 0 at η = 0).
    Returns the shape of ``logits``.
    """
    band = torch.as_tensor(_CB_TAYLOR_BAND, dtype=logits.dtype, device=logits.device)
    a = logits.abs()
    small = a < band
    a_far = torch.where(small, band, a)  # the closed form only where it is used: no 0/0, no NaN gradient
    closed = torch.log(a_far) - torch.log(-torch.expm1(-a_far)) + torch.log1p(torch.exp(-a_far))
    s = (logits.clamp(-band, band) / 2) ** 2
    series = s * (_CB_TAYLOR[0] + s * (_CB_TAYLOR[1] + s * (_CB_TAYLOR[2] + s * _CB_TAYLOR[3]))) + math.log(2)
    return torch.where(small, series, closed)


def continuous_bernoulli_log_likelihood(x: Tensor, logits: Tensor) -> Tensor:
    r"""log p(x|z) of the decoder read as a continuous Bernoulli on [0, 1], summed over pixels.

    .. math::

        \log p_\theta(x|z) = \sum_j \big[x_j \log\lambda_j + (1 - x_j)\log(1 - \lambda_j) + \log C(\lambda_j)\big],\quad
        \lambda = \sigma(\text{logits})

    A proper density of ``x`` ∈ [0, 1]^D (Loaiza-Ganem & Cunningham 2019): the Bernoulli
    log-likelihood of grey levels plus :func:`continuous_bernoulli_log_norm`. Broadcasts as
    :func:`bernoulli_log_likelihood`: ``x`` (B, ...) with ``logits`` (L, B, ...) gives (L, B).
    """
    return bernoulli_log_likelihood(x, logits) + _sum_features(continuous_bernoulli_log_norm(logits), x.dim() - 1)


def gaussian_log_likelihood(x: Tensor, mean: Tensor, logvar: Tensor) -> Tensor:
    r"""log N(x; mean, diag(exp(logvar))), summed over the trailing (feature) dimensions of ``x``.

    .. math::

        \log \mathcal N(x;\mu,\sigma^2) = -\tfrac12 \sum_j \Big[\log 2\pi + \log\sigma_j^2 +
        \frac{(x_j-\mu_j)^2}{\sigma_j^2}\Big]
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

    .. math::

        \log q_\phi(z|x) = -\tfrac12 \sum_j \Big[\log 2\pi + \log\sigma_j^2 + \frac{(z_j-\mu_j)^2}{\sigma_j^2}\Big]
    """
    return -0.5 * (LOG_2PI + logvar + (z - mu) ** 2 * torch.exp(-logvar)).sum(-1)


# ============================================================================ 1.1 autoencoder
def reconstruction_bce(logits: Tensor, x: Tensor) -> Tensor:
    r"""Reconstruction error as a Bernoulli negative log-likelihood, per example (nats).

    .. math:: \ell(x, \hat x) = -\sum_j \big[x_j \log \hat x_j + (1-x_j)\log(1-\hat x_j)\big]

    Returns shape (B,).
    """
    return -bernoulli_log_likelihood(x, logits)


def reconstruction_continuous_bernoulli(logits: Tensor, x: Tensor) -> Tensor:
    r"""Reconstruction error as a continuous-Bernoulli negative log-likelihood, per example (nats).

    .. math:: \ell(x, \hat x) = -\sum_j \big[x_j \log \hat x_j + (1-x_j)\log(1-\hat x_j) + \log C(\hat x_j)\big]

    :func:`reconstruction_bce` minus the log-normalisers, which makes it minus a log-density on
    [0, 1]^D (it can be negative). Returns shape (B,), or (L, B) for logits (L, B, ...).
    """
    return -continuous_bernoulli_log_likelihood(x, logits)


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

    .. math::

        \mathcal L_D = -\frac1m\sum_{i=1}^m \Big[\log D\big(x^{(i)}\big) + \log\Big(1 - D\big(G(z^{(i)})\big)\Big)\Big]
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

    .. math::

        D_{KL}\big(\mathcal N(\mu,\sigma^2)\,\|\,\mathcal N(0,I)\big) = -\tfrac12\sum_{j=1}^{J}\big(1 + \log\sigma_j^2 -
        \mu_j^2 - \sigma_j^2\big)

    (Kingma & Welling, Appendix B.) Returns shape (B,).
    """
    return -0.5 * (1 + logvar - mu**2 - torch.exp(logvar)).sum(-1)


def gaussian_kl_two(mu_q: Tensor, logvar_q: Tensor, mu_p: Tensor, logvar_p: Tensor) -> Tensor:
    r"""KL between two diagonal Gaussians, summed over the last axis.

    .. math::

        D_{KL}(q\|p) = \tfrac12\sum_j\Big[\log\frac{\sigma_{p,j}^2}{\sigma_{q,j}^2} + \frac{\sigma_{q,j}^2 +
        (\mu_{q,j}-\mu_{p,j})^2}{\sigma_{p,j}^2} - 1\Big]
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

    .. math::

        \tilde{\mathcal L}^A(\theta,\phi;x_i) = \frac1L\sum_{l=1}^L \big[\log p_\theta(x_i, z_{i,l}) - \log
        q_\phi(z_{i,l}|x_i)\big],\quad \log p_\theta(x,z) = \log p_\theta(x|z) + \log p_\theta(z)

    All inputs have shape (L, B); returns (B,).
    """
    return (log_px_given_z + log_pz - log_qz_given_x).mean(0)


def elbo_estimator_b(kl: Tensor, log_px_given_z: Tensor) -> Tensor:
    r"""The second SGVB estimator L̃^B (Kingma & Welling, eq. 7): analytic KL, sampled reconstruction.

    .. math::

        \tilde{\mathcal L}^B(\theta,\phi;x_i) = -D_{KL}\big(q_\phi(z|x_i)\,\|\,p_\theta(z)\big) + \frac1L\sum_{l=1}^L
        \log p_\theta(x_i|z_{i,l})

    ``kl`` has shape (B,), ``log_px_given_z`` (L, B); returns (B,).
    """
    return -kl + log_px_given_z.mean(0)


def minibatch_objective(elbo_per_example: Tensor, n_total: int) -> Tensor:
    r"""Algorithm 2's minibatch estimate of the full-dataset lower bound.

    .. math::

        \mathcal L(\theta,\phi;X) \simeq \tilde{\mathcal L}^M(\theta,\phi;X^M) = \frac{N}{M}\sum_{i=1}^M \tilde{\mathcal
        L}(\theta,\phi;x_i)
    """
    return elbo_per_example.sum() * (n_total / elbo_per_example.shape[0])


def pixel_mean_loss(log_px_given_z: Tensor, kl: Tensor, n_pixels: int) -> Tensor:
    r"""A common mistake, not the bound: the reconstruction term averaged over the D pixels, the KL summed.

    .. math::

        \ell = -\frac1D \log p_\theta(x|z) + D_{KL}\big(q_\phi(z|x)\,\|\,p(z)\big)
        = \frac1D\Big[-\log p_\theta(x|z) + D\cdot D_{KL}\Big]

    what ``F.binary_cross_entropy(x_hat, x)`` (whose default reduction is a mean over every pixel)
    plus a summed KL descends. Up to the factor 1/D, which an adaptive optimiser ignores, it is minus
    the bound with its KL term weighted D times (β = D = 784 on MNIST): the codes pay D times too
    much for carrying information, so they carry little (the posterior collapses towards the prior).
    Inputs per example, or their means; returns the same shape.
    """
    return -log_px_given_z / n_pixels + kl


def kl_weighted_bound(log_px_given_z: Tensor, kl: Tensor, beta: float) -> Tensor:
    r"""The bound with its KL term weighted β times (the β-VAE of Higgins et al. 2017), per example.

    .. math::

        \mathcal L_\beta(\theta,\phi;x) = \mathbb E_{q_\phi(z|x)}\big[\log p_\theta(x|z)\big]
        - \beta\, D_{KL}\big(q_\phi(z|x)\,\|\,p(z)\big)

    For β = 1 it is the bound (estimator B); for β > 1 it is below the bound, and a maximiser trades
    a nat of KL for β nats of reconstruction: a latent unit that buys less than β nats of
    reconstruction per nat it carries is worth more switched off (q(z_i|x) = p(z_i)).
    ``log_px_given_z`` and ``kl`` per example, shape (B,); returns (B,).
    """
    return log_px_given_z - beta * kl


def importance_weighted_bound(log_px_given_z: Tensor, log_pz: Tensor, log_qz_given_x: Tensor) -> Tensor:
    r"""The k-sample importance-weighted bound on log p(x) (Burda et al. 2016), per example.

    .. math::

        \log p(x) \approx \log \frac1k\sum_{l=1}^k \frac{p_\theta(x, z_l)}{q_\phi(z_l|x)},\qquad z_l \sim q_\phi(z|x)

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

    .. math::

        \mathcal L_D = -\frac1m\sum_{i=1}^m\Big[\log D\big(z'_i\big) + \log\big(1 - D(z_i)\big)\Big],\qquad z'_i\sim
        p(z),\; z_i\sim q(z|x_i)
    """
    return discriminator_loss(d_prior_logits, d_posterior_logits)


def aae_encoder_loss(d_posterior_logits: Tensor) -> Tensor:
    r"""Regularisation phase, step 2: the encoder, as generator, learns to fool D (non-saturating form).

    .. math:: \mathcal L_E = -\frac1m\sum_{i=1}^m \log D(z_i),\qquad z_i\sim q(z|x_i)
    """
    return generator_loss_nonsaturating(d_posterior_logits)

"""Likelihood-based metrics, in nats per example so that numbers compare with the papers.

* :func:`reconstruction_error`: mean reconstruction BCE (nats) and squared error per image;
* :func:`test_elbo`: the evidence lower bound on a test set;
* :func:`importance_sampled_nll`: -log p(x) estimated with k importance samples from a proposal
  (Burda et al. 2016): the model's trained q(z|x), or N(f(x), s² I) around its code f(x);
* :func:`continuous_bernoulli_bound`: the test ELBO of a Bernoulli decoder on grey levels, and
  the same model read as a continuous Bernoulli (a proper density on [0, 1]^D; it needs the
  decoder's logits, ``bernoulli_logits``);
* :func:`bits_per_dim`: nats per example in bits per dimension; :func:`dequantized` data.

Every model whose decoder and prior have densities defines a likelihood
p(x) = ∫ p(x|z) p(z) dz (``model.defines_likelihood``: the VAE, the AE with its fitted Gaussian,
the AAE with a Gaussian or mixture prior). What differs is the *proposal*: the VAE (and an AAE
with a Gaussian encoder and Gaussian prior, ``model.has_posterior``) trained one, q(z|x), which
:func:`test_elbo` and the default :func:`importance_sampled_nll` use; for the others
``proposal_scale=s`` puts a Gaussian of width s around the deterministic code, and scanning s
finds a usable one.
"""

from __future__ import annotations

import math

import torch

from .. import losses
from ..data import Dataset, binarize
from ..models import GenerativeModel


def _batches(data: Dataset, batch_size: int, device: torch.device):
    for start in range(0, len(data), batch_size):
        yield data.x[start : start + batch_size].to(device), data.y[start : start + batch_size].to(device)


@torch.no_grad()
def reconstruction_error(model: GenerativeModel, data: Dataset, batch_size: int = 1000) -> dict[str, float]:
    """Mean per-image reconstruction error of x -> decode(embed(x)): BCE in nats and squared error.

    For a Bernoulli decoder (``model.has_bernoulli_decoder``) the BCE is computed from the decoder's
    logits, :func:`~thesis_lib.losses.reconstruction_bce`, as in training: probabilities rounded to
    0 or 1 would make it wrong (or infinite). Any other decoder's output is read as probabilities,
    clipped to [1e-6, 1 - 1e-6]: the cross-entropy of its mean image, not its own likelihood.
    """
    bce = mse = 0.0
    for x, _ in _batches(data, batch_size, model.device):
        z = model.embed(x)
        if model.has_bernoulli_decoder:
            logits = model.bernoulli_logits(z)
            bce += losses.reconstruction_bce(logits, x).sum().item()
            x_hat = torch.sigmoid(logits)
        else:
            x_hat = model.decode(z)
            p = x_hat.clamp(1e-6, 1 - 1e-6)
            bce += -(x * torch.log(p) + (1 - x) * torch.log1p(-p)).flatten(1).sum(1).sum().item()
        mse += losses.reconstruction_mse(x_hat, x).sum().item()
    return {"recon_bce": bce / len(data), "recon_mse": mse / len(data)}


@torch.no_grad()
def test_elbo(
    model: GenerativeModel, data: Dataset, n_samples: int = 1, batch_size: int = 1000, seed: int = 0
) -> dict[str, float]:
    """The lower bound (estimator B, L = ``n_samples``) averaged over ``data``, nats per image."""
    _check_likelihood(model, "the test ELBO")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        elbo = kl = 0.0
        for x, _ in _batches(data, batch_size, model.device):
            t = model.elbo(x, n_samples=n_samples, estimator="B")
            elbo += t.elbo.sum().item()
            kl += t.kl.sum().item()
    return {"elbo": elbo / len(data), "kl": kl / len(data)}


def supports_likelihood(model: GenerativeModel) -> bool:
    """Whether :func:`test_elbo` and :func:`importance_sampled_nll` with the model's own q(z|x) apply (its
    ``likelihood`` metric group)."""
    return "likelihood" in model.metric_groups


def _check_likelihood(model: GenerativeModel, what: str) -> None:
    if not supports_likelihood(model):
        raise ValueError(
            f"{what} needs a model with a trained Gaussian q(z|x) and a prior density (a VAE, or an AAE with encoder "
            f"'gaussian' and prior 'gaussian'), got {type(model).__name__}; "
            "for another model that defines a likelihood pass proposal_scale"
        )


def proposal_log_weights(
    model: GenerativeModel, x: torch.Tensor, k: int, scale: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """log p(x|z), log p(z), log r(z|x) for ``k`` draws z ~ r(z|x) = N(f(x), scale² I) around the
    model's deterministic code f(x) = ``model.embed(x)``; shapes (k, B). Any proposal with a density
    gives an unbiased estimate of p(x); a good one is close to the posterior p(z|x)."""
    mu = model.embed(x)
    z = mu + scale * torch.randn(k, *mu.shape, device=mu.device)
    log_r = losses.diagonal_gaussian_log_density(z, mu, torch.full_like(mu, 2 * math.log(scale)))
    return model.log_px_given_z(x, z), model.log_prior(z), log_r


@torch.no_grad()
def importance_sampled_nll(
    model: GenerativeModel,
    data: Dataset,
    k: int = 100,
    batch_size: int = 100,
    seed: int = 0,
    proposal_scale: float | None = None,
) -> dict[str, float]:
    r"""-log p(x) per image, estimated with k importance samples z_l ~ q(z|x).

    .. math:: -\log p(x) \approx -\log \frac1k \sum_{l=1}^k \frac{p(x|z_l)\,p(z_l)}{q(z_l|x)}

    The average inside the log is an unbiased estimate of p(x), so by Jensen's inequality the
    estimate is an upper bound on the true NLL *in expectation* (one draw can fall below it), and
    the expected bound tightens as k grows (Burda et al. 2016). Returns the mean and its standard
    error over ``data``.

    The proposal q is the model's trained q(z|x) (``model.has_posterior``), or with
    ``proposal_scale=s`` the Gaussian N(f(x), s² I) around the model's code (:func:`proposal_log_weights`):
    then any model that ``defines_likelihood`` can be scored, and the bound is as good as s makes
    the proposal.
    """
    if proposal_scale is None:
        _check_likelihood(model, "importance-sampled NLL")
    elif not model.defines_likelihood or not model.has_encoder:
        raise ValueError(
            "importance sampling around the code needs an encoder, a decoder density and a prior density; "
            f"{type(model).__name__} ({model.prior_name}) does not define a likelihood"
        )
    elif not proposal_scale > 0:
        raise ValueError(f"proposal_scale must be a number > 0, got {proposal_scale!r}")
    if k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k}")
    # k decoder passes per image: keep about 50,000 in flight (a few hundred MB), whatever k is.
    batch_size = max(1, min(batch_size, 50_000 // k))
    values = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for x, _ in _batches(data, batch_size, model.device):
            if proposal_scale is None:
                log_px_z, log_pz, log_qz = model.log_weights(x, k)
            else:
                log_px_z, log_pz, log_qz = proposal_log_weights(model, x, k, proposal_scale)
            values.append(-losses.importance_weighted_bound(log_px_z, log_pz, log_qz))
    nll = torch.cat(values).double()
    return {
        "nll": nll.mean().item(),
        "nll_se": (nll.std() / math.sqrt(len(nll))).item() if len(nll) > 1 else 0.0,
        "k": k,
        "proposal_scale": proposal_scale,
    }


def binarized(data: Dataset, seed: int = 0) -> Dataset:
    """A dynamically binarised copy of ``data`` (fixed seed, so evaluations repeat)."""
    g = torch.Generator().manual_seed(seed)
    return Dataset(data.name, data.split, binarize(data.x.cpu(), generator=g), data.y, data.n_classes)


@torch.no_grad()
def continuous_bernoulli_bound(
    model: GenerativeModel, data: Dataset, n_samples: int = 1, batch_size: int = 1000, seed: int = 0
) -> dict[str, float]:
    r"""The test ELBO as trained, and of the same decoder read as a continuous Bernoulli, nats per image.

    .. math::

        \mathcal L_{CB}(x) = \mathcal L(x) + \mathbb E_{q_\phi(z|x)}\Big[\sum_j \log C\big(\lambda_j(z)\big)\Big] \le
        \log p_{CB}(x)

    ``elbo`` and ``kl`` are :func:`test_elbo`'s (same arguments, same numbers); ``log_norm`` is the
    expectation of the summed log-normalisers (:func:`~thesis_lib.losses.continuous_bernoulli_log_norm`),
    estimated with ``n_samples`` draws z ~ q(z|x) of its own; ``elbo_cb`` is their sum: a lower
    bound on the log-density of ``x`` under the model p(z) p_CB(x|z), a proper density on [0, 1]^D.
    """
    _check_likelihood(model, "the continuous-Bernoulli bound")
    if not model.has_bernoulli_decoder:
        raise ValueError(
            f"the continuous-Bernoulli bound needs a Bernoulli decoder, got {type(model).__name__} without one"
        )
    low, high = data.x.min().item(), data.x.max().item()
    if low < 0 or high > 1:
        raise ValueError(f"the continuous Bernoulli is a density on [0, 1], got pixels in [{low:g}, {high:g}]")
    bound = test_elbo(model, data, n_samples=n_samples, batch_size=batch_size, seed=seed)
    log_norm = 0.0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for x, _ in _batches(data, batch_size, model.device):
            for _ in range(n_samples):
                logits = model.bernoulli_logits(model.encode(x))
                log_norm += losses.continuous_bernoulli_log_norm(logits).flatten(1).sum(1).sum().item() / n_samples
    log_norm /= len(data)
    return {**bound, "log_norm": log_norm, "elbo_cb": bound["elbo"] + log_norm}


def bits_per_dim(nats: float, n_dims: int) -> float:
    r"""A negative log-likelihood (or bound) in nats per example as bits per dimension: nats / (D ln 2)."""
    if n_dims < 1:
        raise ValueError(f"n_dims must be an integer >= 1, got {n_dims}")
    return nats / (n_dims * math.log(2))


def dequantized(data: Dataset, levels: int = 256, seed: int = 0) -> Dataset:
    r"""A copy of ``data`` whose pixels k/(levels - 1) become (k + u)/levels, u ~ U(0, 1) (fixed seed).

    Level k's bin [k/levels, (k+1)/levels) has width 1/levels, so for a density p on [0, 1]^D the
    probability of the discrete image is bounded by Jensen's inequality (Theis et al. 2016):

    .. math::

        \log P(k) = \log \int_{\text{bin}(k)} p(x)\,dx \ge \mathbb E_u\big[\log p(\tilde x)\big] - D\log(\text{levels})
    """
    k = data.x.cpu() * (levels - 1)
    if (k - k.round()).abs().max() > 1e-3 or k.min() < -1e-3 or k.max() > levels - 1 + 1e-3:
        raise ValueError(
            f"dequantized needs pixels on the grid k/{levels - 1}, k = 0..{levels - 1}, got other values in {data.name}"
        )
    u = torch.rand(k.shape, generator=torch.Generator().manual_seed(seed))
    return Dataset(data.name, data.split, (k.round() + u) / levels, data.y, data.n_classes)

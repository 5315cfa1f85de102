r"""Sample quality seen through the cached MNIST classifier (:mod:`.classifier`).

* :func:`frechet_distance`: the FID's formula on the classifier's 128 features,

  .. math:: d^2 = \|\mu_1 - \mu_2\|^2 + \operatorname{Tr}\big(\Sigma_1 + \Sigma_2 - 2(\Sigma_1\Sigma_2)^{1/2}\big),

  between Gaussians fitted to the features of samples and of test images (0 = same statistics);
* :func:`mnist_score`: the Inception score's analogue,
  :math:`\exp\big(\mathbb E_x\, \mathrm{KL}(p(y|x)\,\|\,p(y))\big)`, high when every sample is
  confidently one digit and all digits appear; at most the number of classes (10);
* :func:`label_entropy`: the entropy (nats) of the histogram of predicted labels (:func:`label_histogram`);
  ``log 10 ≈ 2.303`` when all digits are equally common, lower under mode collapse;
* :func:`confident_share`: the share of images the classifier assigns to one digit with
  probability above 0.9: what "decodes to a recognisable digit" means in numbers (compare it with
  the real images' share).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .classifier import Classifier


@torch.no_grad()
def classifier_outputs(classifier: Classifier, x: Tensor, batch_size: int = 1000) -> tuple[Tensor, Tensor]:
    """Features (n, 128) and class probabilities (n, 10) of images ``x``, in float64."""
    classifier.eval()
    device = next(classifier.parameters()).device
    feats, probs = [], []
    for i in range(0, len(x), batch_size):
        f = classifier.features(x[i : i + batch_size].to(device).contiguous())  # e.g. interpolation grids are views
        feats.append(f.double().cpu())
        probs.append(torch.softmax(classifier.head(f), dim=1).double().cpu())
    return torch.cat(feats), torch.cat(probs)


def _sqrtm_psd(a: Tensor) -> Tensor:
    vals, vecs = torch.linalg.eigh(a)
    return (vecs * vals.clamp_min(0).sqrt()) @ vecs.T


def frechet_distance(features_1: Tensor, features_2: Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two sets of feature vectors (rows)."""
    f1, f2 = features_1.double(), features_2.double()
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = torch.cov(f1.T), torch.cov(f2.T)
    root = _sqrtm_psd(s1)
    # Tr((S1 S2)^1/2) = Tr((S1^1/2 S2 S1^1/2)^1/2), and the latter matrix is symmetric PSD.
    tr_covmean = torch.linalg.eigvalsh(root @ s2 @ root).clamp_min(0).sqrt().sum()
    return ((mu1 - mu2).square().sum() + s1.trace() + s2.trace() - 2 * tr_covmean).item()


def mnist_score(probs: Tensor, eps: float = 1e-12) -> float:
    """exp(mean_x KL(p(y|x) || p(y))) with p(y) the mean of the rows of ``probs``."""
    p = probs.double().clamp_min(eps)
    marginal = p.mean(0, keepdim=True)
    return math.exp((p * (p.log() - marginal.log())).sum(1).mean().item())


def label_entropy(probs: Tensor) -> float:
    """Entropy (nats) of the histogram of the predicted labels ``argmax p(y|x)``."""
    counts = torch.bincount(probs.argmax(1), minlength=probs.shape[1]).double()
    p = counts[counts > 0] / counts.sum()
    return -(p * p.log()).sum().item()


def label_histogram(probs: Tensor) -> list[int]:
    """How many rows of ``probs`` the classifier labels as each class (``argmax p(y|x)``)."""
    return torch.bincount(probs.argmax(1), minlength=probs.shape[1]).tolist()


def confident_share(probs: Tensor, threshold: float = 0.9) -> float:
    """The share of rows of ``probs`` whose largest class probability exceeds ``threshold``."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    return (probs.max(1).values > threshold).double().mean().item()


@torch.no_grad()
def sample_quality(
    classifier: Classifier,
    samples: Tensor,
    reference: Tensor | None = None,
    *,
    reference_features: Tensor | None = None,
) -> dict[str, object]:
    """FID against ``reference`` (e.g. the test images), MNIST score, label entropy and histogram.

    Pass ``reference_features`` (the classifier's features of the reference images, from
    :func:`classifier_outputs`) instead of ``reference`` to score several sample sets against the
    same images without computing their features again."""
    if (reference is None) == (reference_features is None):
        raise ValueError("sample_quality needs exactly one of reference (images) and reference_features")
    f_s, p_s = classifier_outputs(classifier, samples)
    f_r = classifier_outputs(classifier, reference)[0] if reference_features is None else reference_features
    return {
        "fid": frechet_distance(f_s, f_r),
        "mnist_score": mnist_score(p_s),
        "label_entropy": label_entropy(p_s),
        "confident_share": confident_share(p_s),
        "label_histogram": label_histogram(p_s),
    }

"""Metrics that put numbers on the models, in the units the papers use.

* :mod:`.likelihood`: reconstruction error, the VAE's test ELBO (also read as a continuous
  Bernoulli, a density on [0, 1]^D), bits per dimension and the importance-sampled NLL;
* :mod:`.parzen`: the GAN paper's Parzen-window log-likelihood protocol;
* :mod:`.classifier`: a small MNIST CNN, trained once and cached, whose features and
  predictions score samples;
* :mod:`.sample_quality`: Fréchet distance, "MNIST score", label entropy and the share of confidently
  classified images, from that classifier;
* :mod:`.diagnostics`: what is wrong with samples: border brightness, isolated pixels, a median filter;
* :mod:`.report`: all of these for one model (or for real data as a reference row), and a run's scores cached
  beside its checkpoint (``evaluate_run``, ``nll_of_run``).
"""

from .classifier import Classifier, load_classifier
from .diagnostics import border_brightness, faint_pixel_share, isolated_pixels, median_filter, parzen_diagnosis
from .likelihood import (
    binarized,
    bits_per_dim,
    continuous_bernoulli_bound,
    dequantized,
    importance_sampled_nll,
    reconstruction_error,
    supports_likelihood,
    test_elbo,
)
from .parzen import SIGMAS, parzen_evaluation, parzen_log_likelihood, select_sigma
from .report import METRICS, evaluate_model, evaluate_real, evaluate_run, evaluate_samples, nll_of_run
from .sample_quality import (
    classifier_outputs,
    confident_share,
    frechet_distance,
    label_entropy,
    mnist_score,
    sample_quality,
)

__all__ = [
    "METRICS",
    "SIGMAS",
    "Classifier",
    "evaluate_model",
    "evaluate_real",
    "evaluate_run",
    "evaluate_samples",
    "nll_of_run",
    "border_brightness",
    "isolated_pixels",
    "median_filter",
    "faint_pixel_share",
    "parzen_diagnosis",
    "classifier_outputs",
    "confident_share",
    "frechet_distance",
    "label_entropy",
    "load_classifier",
    "mnist_score",
    "sample_quality",
    "binarized",
    "bits_per_dim",
    "continuous_bernoulli_bound",
    "dequantized",
    "importance_sampled_nll",
    "parzen_evaluation",
    "parzen_log_likelihood",
    "reconstruction_error",
    "select_sigma",
    "supports_likelihood",
    "test_elbo",
]

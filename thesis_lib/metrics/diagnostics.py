r"""What is wrong with a set of samples, in numbers: the measurements behind the GAN chapter's diagnosis.

* :func:`border_brightness`: the mean pixel value in a frame along the image's edge, where MNIST
  digits almost never reach (the digits are centred in a 20 x 20 box of the 28 x 28 image). A
  generator that sprinkles stray pixels on the background is brighter there than real data.
* :func:`isolated_pixels`: bright pixels whose eight neighbours are all dark, per image: the
  "speckle" a pen never draws.
* :func:`faint_pixel_share`: the share of faintly grey pixels (a haze over the background).
* :func:`parzen_diagnosis`: what limits a Parzen estimate of samples (their faint pixels; the
  estimate after a median filter and after a slight blur).
* :func:`median_filter`: a 3 x 3 median filter, which removes isolated pixels and keeps strokes;
  scoring filtered samples says how much of a metric the speckle costs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

BORDER = 3
"""Width in pixels of the frame :func:`border_brightness` averages over."""


def _images(x: Tensor) -> Tensor:
    return x.reshape(x.shape[0], 1, 28, 28).float()


def border_brightness(x: Tensor, width: int = BORDER) -> float:
    """Mean pixel value of the ``width``-pixel frame along the edge of 28 x 28 images ``x``."""
    if not 1 <= width < 14:
        raise ValueError(f"width must be an integer in [1, 13], got {width!r}")
    img = _images(x)[:, 0]
    mask = torch.ones(28, 28, dtype=torch.bool)
    mask[width:-width, width:-width] = False
    return img[:, mask].mean().item()


def isolated_pixels(x: Tensor, on: float = 0.5, off: float = 0.25) -> float:
    """Mean number per image of pixels brighter than ``on`` whose eight neighbours are all below ``off``."""
    img = _images(x)
    lonely = (img > on) & (_ring_max(img) < off)
    return lonely.flatten(1).sum(1).float().mean().item()


def _ring_max(img: Tensor) -> Tensor:
    """The largest of the eight neighbours of every pixel (zero padding outside the image)."""
    patches = F.unfold(F.pad(img, (1, 1, 1, 1)), 3)  # (B, 9, 784)
    patches = torch.cat([patches[:, :4], patches[:, 5:]], dim=1)
    return patches.max(dim=1).values.view_as(img)


def median_filter(x: Tensor) -> Tensor:
    """3 x 3 median filter of images ``x`` (zero padding), same shape as ``x``."""
    img = _images(x)
    patches = F.unfold(F.pad(img, (1, 1, 1, 1)), 3)  # (B, 9, 784)
    return patches.median(dim=1).values.view(x.shape)


def faint_pixel_share(x: Tensor, low: float = 0.01, high: float = 0.1) -> float:
    """The share of pixels with a value in (``low``, ``high``]: a faint haze that pen strokes and
    a black background, which is what MNIST is made of, rarely have."""
    v = x.flatten().float()
    return ((v > low) & (v <= high)).float().mean().item()


def parzen_diagnosis(samples: Tensor) -> dict[str, float]:
    """What limits a Parzen estimate: the share of faint pixels of ``samples``, and the estimate of
    the samples after a 3 x 3 median filter (which removes isolated and faint specks) and after a
    slight Gaussian blur (sigma 0.7 pixel, which no one would call an improvement)."""
    from torchvision.transforms.functional import gaussian_blur

    from ..data import load_dataset
    from .parzen import parzen_evaluation

    val, test = load_dataset("mnist", "val").x[:1000], load_dataset("mnist", "test").x
    return {
        "faint_pixel_share": faint_pixel_share(samples),
        "parzen_median_filtered": parzen_evaluation(median_filter(samples), val, test)["parzen_ll"],
        "parzen_blurred": parzen_evaluation(gaussian_blur(samples, kernel_size=5, sigma=0.7), val, test)["parzen_ll"],
    }

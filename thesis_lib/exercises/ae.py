"""Exercises of the autoencoder chapter (thesis 1.1): checks with immediate feedback and reference solutions.

    >>> from thesis_lib.exercises.ae import check_bce_with_logits
    >>> check_bce_with_logits(my_bce_with_logits)          # doctest: +SKIP
    ✓ bce_with_logits: all 6 checks passed

Every check runs on its own seeded random stream (``torch.random.fork_rng``), so it gives the
same verdict every time and never changes the notebook's random numbers.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import losses
from . import Diagnosis, describe, diagnose, run_checks, tensor_result
from . import close as _close
from . import seeded as _seeded

__all__ = [
    "check_bce_with_logits",
    "solution_bce_with_logits",
    "check_mask_square",
    "solution_mask_square",
]


# ============================================================================ stable BCE from logits
def solution_bce_with_logits(logits: Tensor, x: Tensor) -> Tensor:
    r"""Binary cross-entropy of targets ``x`` in [0, 1] under Bernoulli logits ``a``, summed per example.

    With :math:`\hat x = \sigma(a)`, :math:`-\log\hat x = \log(1 + e^{-a})` and
    :math:`-\log(1 - \hat x) = \log(1 + e^{a})`, so

    .. math:: \ell = \sum_j \log(1 + e^{a_j}) - x_j a_j = \sum_j \max(a_j, 0) - x_j a_j + \log\big(1 + e^{-|a_j|}\big)

    The right-hand form never exponentiates a large positive number and never takes log(0).
    """
    per_pixel = logits.clamp(min=0) - logits * x + torch.log1p(torch.exp(-logits.abs()))
    return per_pixel.flatten(1).sum(1)


def check_bce_with_logits(fn: Callable[[Tensor, Tensor], Tensor]) -> bool:
    """Check ``fn(logits, x)``: the per-example binary cross-entropy, stable for any logits."""
    with _seeded(0):
        logits = 3 * torch.randn(6, 1, 5, 5)
        x_binary = torch.bernoulli(torch.full((6, 1, 5, 5), 0.3))
        x_grey = torch.rand(6, 1, 5, 5)
    big = torch.tensor([100.0, -100.0, 1000.0, -1000.0, 30.0, -30.0]).view(6, 1, 1, 1).expand(6, 1, 5, 5).contiguous()
    x_big = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.5, 0.5]).view(6, 1, 1, 1).expand(6, 1, 5, 5).contiguous()

    def per_pixel(a: Tensor, x: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(a, x, reduction="none")

    def shape_ok():
        out = tensor_result(fn(logits, x_binary))
        return tuple(out.shape) == (6,) or diagnose(
            out,
            [
                (
                    "Yours is one number, the mean over every pixel of the batch (reduction='mean', the default): "
                    "sum over the pixels of each image instead, one value per image",
                    per_pixel(logits, x_binary).mean(),
                ),
                (
                    (
                        "Yours is one number, the sum over the whole batch: sum over the pixels of each image only, "
                        "one value per image"
                    ),
                    per_pixel(logits, x_binary).sum(),
                ),
            ],
            otherwise=f"Yours returns {describe(out)}: flatten each image and sum, e.g. .flatten(1).sum(1)",
        )

    def known_mistakes(a: Tensor, x: Tensor) -> list[tuple[str, Callable[[], Tensor]]]:
        right = losses.reconstruction_bce(a, x)
        return [
            (
                "Yours is the mean over the pixels: -log p(x) of an image is the sum over its pixels",
                lambda: per_pixel(a, x).flatten(1).mean(1),
            ),
            (
                "Yours is in bits (log base 2): the book measures in nats, with the natural logarithm",
                lambda: right / math.log(2),
            ),
            (
                "Yours lacks the term log(1 + exp(-|a|)): max(a, 0) - x a is only its limit for large |a|",
                lambda: (a.clamp(min=0) - x * a).flatten(1).sum(1),
            ),
            (
                "The sign of x a is flipped: the loss is log(1 + e^a) - x a",
                lambda: (F.softplus(a) + x * a).flatten(1).sum(1),
            ),
            (
                (
                    "For a < 0 yours is |a| too large: log(1 + e^a) = max(a, 0) + log(1 + e^-|a|), max outside, |a| "
                    "in the exponent"
                ),
                lambda: (a.abs() - x * a + torch.log1p(torch.exp(-a.abs()))).flatten(1).sum(1),
            ),
        ]

    def binary():
        out = fn(logits, x_binary)
        return _close(out, losses.reconstruction_bce(logits, x_binary)) or diagnose(
            out, known_mistakes(logits, x_binary)
        )

    def grey():
        out = fn(logits, x_grey)
        return _close(out, losses.reconstruction_bce(logits, x_grey)) or diagnose(out, known_mistakes(logits, x_grey))

    def extreme_finite():
        return bool(torch.isfinite(fn(big, x_big)).all())

    def extreme_value():
        out = fn(big, x_big)
        if _close(out, losses.reconstruction_bce(big, x_big), rtol=1e-5):
            return True
        worst = float(torch.as_tensor(out)[2]) / 25  # logit 1000, target 0: 1000 nats per pixel
        if worst < 900:
            raise Diagnosis(
                f"Yours charges a pixel with logit 1000 and target 0 only {worst:.4g} nats instead of 1000: "
                "clamping the probability (or an epsilon inside the log) caps the loss; work from the logits"
            )
        return False

    def extreme_gradient():
        a = big.clone().requires_grad_(True)
        out = fn(a, x_big)
        if not out.requires_grad:
            raise Diagnosis(
                "Yours passes no gradient back to the logits (.detach(), .item() or a new tensor on the way)"
            )
        out.sum().backward()
        if a.grad is not None and bool(torch.isnan(a.grad).any()):
            raise Diagnosis(
                "Your gradient is nan (torch.where, for one, differentiates both branches, and an unused branch "
                "that overflows gives inf * 0): use a form finite everywhere, max(a, 0) - x a + log(1 + exp(-|a|))"
            )
        return a.grad is not None and _close(a.grad, torch.sigmoid(big) - x_big, atol=1e-5)

    return run_checks(
        "bce_with_logits",
        [
            ("returns one value per example, shape (B,) for inputs of shape (B, 1, H, W) (sum over pixels)", shape_ok),
            ("binary targets: equals -log p(x) of a Bernoulli decoder (losses.reconstruction_bce)", binary),
            ("grey-level targets x in [0, 1]: the same formula still applies", grey),
            ("logits of +-100 and +-1000: the result is finite (no log(0), no overflow of exp)", extreme_finite),
            (
                "logits of +-100 and +-1000: the result is right (about |a| per pixel when the target disagrees)",
                extreme_value,
            ),
            ("logits of +-100 and +-1000: the gradient is finite and equals sigmoid(a) - x", extreme_gradient),
        ],
    )


# ============================================================================ masking corruption
def solution_mask_square(x: Tensor, size: int, generator: torch.Generator | None = None) -> Tensor:
    """A copy of the images ``x`` (B, C, H, W), each with a ``size`` x ``size`` square of zeros at a random place.

    The square lies wholly inside the image: its top row is uniform on 0 .. H - size (both
    ends included), its left column on 0 .. W - size. Every image gets its own place.
    """
    out = x.clone()
    n, _, h, w = x.shape
    for i in range(n):
        top = int(torch.randint(0, h - size + 1, (1,), generator=generator))
        left = int(torch.randint(0, w - size + 1, (1,), generator=generator))
        out[i, :, top : top + size, left : left + size] = 0
    return out


def _holes(x: Tensor, out: Tensor) -> list[tuple[int, int, int, int]]:
    """Per image, the pixels that ``out`` zeroes (``x`` has no zeros): ``(count, top, left, 1000 * height + width)`` of
    their bounding box."""
    result = []
    for xi, oi in zip(x, out):
        zero = (oi[0] == 0) & (xi[0] != 0)
        rows, cols = zero.nonzero(as_tuple=True)
        if rows.numel() == 0:
            result.append((0, -1, -1, 0))
            continue
        top, left = int(rows.min()), int(cols.min())
        result.append((int(zero.sum()), top, left, (int(rows.max()) - top + 1) * 1000 + int(cols.max()) - left + 1))
    return result


def check_mask_square(fn: Callable[..., Tensor]) -> bool:
    """Check ``fn(x, size)``: each image gets a ``size`` x ``size`` hole of zeros at its own random place."""
    with _seeded(0):
        x = 0.1 + 0.9 * torch.rand(256, 1, 28, 28)  # no zero pixels, so every zero is the hole
    x_before = x.clone()
    cache: dict[int | str, Tensor] = {}

    def out(size: int) -> Tensor:  # called inside the checks, so that an error becomes a failed check
        if size not in cache:
            with _seeded(size):
                cache[size] = fn(x, size)
        return cache[size]

    def shape_ok():
        return tuple(out(12).shape) == tuple(x.shape)

    def input_untouched():
        out(12)
        return torch.equal(x, x_before)

    def square():
        holes = _holes(x, out(12))
        wrong = [(i, *hole) for i, hole in enumerate(holes) if hole[0] != 144 or hole[3] != 12 * 1000 + 12]
        if not wrong:
            return True
        i, count, top, left, box = wrong[0]
        height, width = divmod(box, 1000)
        if count == height * width and height <= 12 and width <= 12 and (top + height == 28 or left + width == 28):
            raise Diagnosis(
                f"In {len(wrong)} of 256 images the square is cut off by the bottom or right border (image {i}: "
                f"{height} x {width}): the top row goes up to H - size, not H - 1 (a slice past the edge "
                "is silently shortened)"
            )
        raise Diagnosis(f"Image {i} has {count} zeroed pixels in a {height} x {width} box, not a 12 x 12 square")

    def rest_kept():
        keep = out(12) != 0
        return torch.equal(out(12)[keep], x[keep])

    def random_places():
        places = [(top, left) for _, top, left, _ in _holes(x, out(12))]
        if len(set(places)) >= 50:
            return True
        if len(set(places)) == 1:
            raise Diagnosis("Every image has its square at the same place: draw a place for each image")
        if all(top == left for top, left in places):
            raise Diagnosis(
                (
                    "Every square lies on the diagonal (top row = left column): draw the left column with its own "
                    "random number"
                )
            )
        raise Diagnosis(f"The 256 images share only {len(set(places))} places")

    def every_place_reachable():  # a 26 x 26 hole has 3 x 3 places; all should occur in 256 images
        return {(top, left) for _, top, left, _ in _holes(x, out(26))} == {(t, s) for t in range(3) for s in range(3)}

    def whole_image():
        return bool((out(28) == 0).all())

    with _seeded(1):
        x_rgb = 0.1 + 0.9 * torch.rand(64, 3, 10, 10)
        x_wide = 0.1 + 0.9 * torch.rand(2000, 1, 6, 10)  # H != W: 3 possible top rows, 7 left columns

    def all_channels():  # one place per image, zeroed in every channel
        with _seeded(3):
            zero = fn(x_rgb, 4) == 0
        return bool((zero == zero[:, :1]).all()) and bool((zero[:, 0].flatten(1).sum(1) == 16).all())

    def wide_holes() -> tuple[bool, Tensor, Tensor]:
        """Whether every image of ``x_wide`` got one 4 x 4 hole, and the holes' top rows and left columns."""
        if "wide" not in cache:
            with _seeded(4):
                cache["wide"] = fn(x_wide, 4)
        zero = (cache["wide"][:, 0] == 0) & (x_wide[:, 0] != 0)  # (B, H, W)
        rows, cols = zero.any(2), zero.any(1)
        top, left = rows.int().argmax(1), cols.int().argmax(1)  # first row / column with a zero
        one_square = bool(
            (zero.flatten(1).sum(1) == 16).all() and (rows.sum(1) == 4).all() and (cols.sum(1) == 4).all()
        )
        return one_square, top, left

    def not_square_images():  # top uses H, left uses W
        one_square, top, left = wide_holes()
        return one_square and set((7 * top + left).tolist()) == set(range(21))

    def uniform_places():  # 2000 images: about 667 per top row, 286 per left column; 30% off is > 5 standard errors
        _, top, left = wide_holes()
        tops, lefts = torch.bincount(top, minlength=3).double(), torch.bincount(left, minlength=7).double()
        return bool(((tops / (2000 / 3) - 1).abs() < 0.3).all()) and bool(((lefts / (2000 / 7) - 1).abs() < 0.3).all())

    def uses_generator():  # the same generator seed gives the same holes, whatever the global random state
        def draw(global_seed, seed):
            with _seeded(global_seed):
                return fn(x[:32], 12, generator=torch.Generator().manual_seed(seed))

        a = draw(100, 7)
        return torch.equal(a, draw(200, 7)) and not torch.equal(a, draw(100, 8))

    return run_checks(
        "mask_square",
        [
            ("returns images of the input's shape (B, C, H, W)", shape_ok),
            ("does not change its input (corrupt a copy: the clean image is the training target)", input_untouched),
            ("every image has exactly one size x size square of zeros", square),
            ("pixels outside the square are unchanged", rest_kept),
            ("the square is at a different random place in different images", random_places),
            (
                "every place is possible: the square may touch all four borders (top in 0 .. H - size, both ends)",
                every_place_reachable,
            ),
            ("size = H = W blanks the whole image", whole_image),
            ("images with 3 channels: the square is zeroed in every channel, at the same place", all_channels),
            (
                "images with H != W: the top row ranges over 0 .. H - size and the left column over 0 .. W - size",
                not_square_images,
            ),
            (
                "every place is equally likely (about as many images for each top row and for each left column)",
                uniform_places,
            ),
            (
                "draws all randomness from `generator` (same seed, same holes; another seed, other holes)",
                uses_generator,
            ),
        ],
    )

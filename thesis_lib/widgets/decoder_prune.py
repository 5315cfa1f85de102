"""Hidden units of a static widget's decoder that are zero at every slider position, proved and removed.

A widget's sliders reach only a small box of the latent space: ``steps`` positions per slider,
``base + Σ_i value_i directions_i``. Many ReLU units of a trained decoder never switch on in
that box (in the chapters' decoders from 1 % of the hidden units, the 32-D VAE's, to 39 %, the
2-D AE's: dead units, and units tuned to other parts of the latent space). A unit that is zero
at every position contributes nothing to any image the reader can see, so :func:`prune` removes
its row from the linear layer before the ReLU and its column from the linear layer after it: the
widget's pixels do not change at all.

"Zero at every position" is proved, not sampled. For a candidate unit (zero on a coarse grid) a
branch and bound over boxes of slider positions bounds its pre-activation from above
(:func:`_upper_bounds`: symbolic interval propagation, exact for the first hidden layer, where
the pre-activation is affine in the slider values); a box whose bound is <= 0 is settled, any
other is halved along its longest side, and a box of at most ``LEAF + 1`` positions per slider is
decoded position by position. A unit is removed only when every box is settled, for every option
that shares the layer (a conditional GAN's ten classes share their weights, so a unit goes only
when it is zero for all of them). The layers work on the slider values directly
(:func:`.decoder_view.slider_layers` folds the explorer's ``base + values @ directions`` into the
decoder's first layer), so the boxes are boxes of slider positions.
"""

from __future__ import annotations

import numpy as np

from .decoder_export import Layer, run

__all__ = ["prune", "positions", "LEAF"]

LEAF = 6
"""A box at most ``LEAF + 1`` positions wide in every direction is decoded position by position."""
COARSE = 25  # candidates: units that are zero at every COARSE-th position of each slider (and the ends)
_BOUNDED = {"linear", "relu", "leaky", "add", "mul", "concat", "affine", "sigmoid", "tanh"}


def prune(chains: list[list[Layer]], values: list[list[np.ndarray]]) -> tuple[list[list[Layer]], list[tuple[int, int]]]:
    """Remove the hidden units that are zero at every slider position of every option.

    Args:
        chains: one chain of layers per option, on the slider values (the options' chains have the
            same structure; where they share a weight, the same units are removed from all).
        values: per option, per slider, the slider's positions (increasing).

    Returns:
        the pruned chains (new :class:`Layer` objects; the inputs are not changed) and, for every
        ReLU followed by a linear layer, ``(units kept, units before)``.
    """
    chains = [[Layer(la.op, dict(la.tensors), dict(la.params)) for la in chain] for chain in chains]
    report = []
    for p, layer in enumerate(chains[0]):
        if not (
            layer.op == "relu"
            and 0 < p < len(chains[0]) - 1
            and chains[0][p - 1].op == "linear"
            and chains[0][p + 1].op == "linear"
        ):
            continue
        if any(la.op not in _BOUNDED for la in chains[0][:p]):
            continue
        dead = np.ones(chains[0][p - 1].tensors["b"].size, bool)
        for chain, vals in zip(chains, values):
            dead &= _dead_units(chain[:p], [np.asarray(v, np.float64) for v in vals])
        keep = ~dead
        for chain in chains:
            before, after = chain[p - 1].tensors, chain[p + 1].tensors
            chain[p - 1].tensors = {
                "W": np.ascontiguousarray(before["W"][keep]),
                "b": np.ascontiguousarray(before["b"][keep]),
            }
            chain[p + 1].tensors = {"W": np.ascontiguousarray(after["W"][:, keep]), "b": after["b"]}
        report.append((int(keep.sum()), int(keep.size)))
    return chains, report


def positions(axes: list[np.ndarray]) -> np.ndarray:
    """Every combination of the sliders' values ``axes`` (one array per slider), one row each, the first slider
    slowest."""
    return np.stack([m.reshape(-1) for m in np.meshgrid(*axes, indexing="ij")], 1)


def _dead_units(prefix: list[Layer], vals: list[np.ndarray]) -> np.ndarray:
    """Which outputs of ``prefix`` (ending in a linear layer) are <= 0 at every position of ``vals``."""
    n = len(vals)
    coarse = [v[np.unique(np.r_[np.arange(0, len(v), COARSE), len(v) - 1])] for v in vals]
    s = positions(coarse)
    candidate = (run(prefix, s.astype(np.float32)) <= 0).all(0)
    alive = ~candidate
    stack = [(np.zeros(n, int), np.array([len(v) - 1 for v in vals]), np.flatnonzero(candidate))]
    while stack:
        lo, hi, units = stack.pop()
        units = units[~alive[units]]
        if units.size == 0:
            continue
        box = (np.array([v[i] for v, i in zip(vals, lo)]), np.array([v[i] for v, i in zip(vals, hi)]))
        units = units[_upper_bounds(prefix, *box)[units] > 0]
        if units.size == 0:
            continue
        if np.all(hi - lo <= LEAF):
            x = run(prefix, positions([v[a : b + 1] for v, a, b in zip(vals, lo, hi)]).astype(np.float32))[:, units]
            alive[units[(x > 0).any(0)]] = True
            continue
        d = int(np.argmax(hi - lo))
        mid = (lo[d] + hi[d]) // 2
        upper, lower = hi.copy(), lo.copy()
        upper[d], lower[d] = mid, mid + 1
        stack += [(lo, upper, units), (lower, hi, units)]
    return ~alive


def _upper_bounds(prefix: list[Layer], lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """An upper bound of each output of ``prefix`` over the box ``lo <= s <= hi`` of slider values.

    Every activation is kept as ``A s + c + e`` with ``e`` in an interval ``[el, eu]``: linear
    layers and constants act on ``A`` and ``c`` exactly; a ReLU keeps the units that are active on
    the whole box, zeroes those inactive on it, and turns the others into intervals ``[0, upper]``
    (a leaky ReLU: ``[slope * lower, upper]``); sigmoid and tanh act on the interval.
    """
    mid, rad = (lo + hi) / 2, (hi - lo) / 2
    a, c = np.eye(lo.size), np.zeros(lo.size)
    el, eu = np.zeros(lo.size), np.zeros(lo.size)

    def bounds():
        centre, spread = a @ mid + c, np.abs(a) @ rad
        return centre - spread + el, centre + spread + eu

    def interval(low, high):
        return np.zeros((low.size, lo.size)), np.zeros(low.size), low, high

    for layer in prefix:
        t, op = layer.tensors, layer.op
        if op == "linear":
            w = t["W"].astype(np.float64)
            wp, wn = np.maximum(w, 0), np.minimum(w, 0)
            a, c, el, eu = w @ a, w @ c + t["b"], wp @ el + wn @ eu, wp @ eu + wn @ el
        elif op in ("relu", "leaky"):
            low, high = bounds()
            slope = layer.params.get("slope", 0.0)
            on, off = low >= 0, high <= 0
            scale = np.where(on, 1.0, np.where(off, slope, 0.0))
            a, c = a * scale[:, None], c * scale
            cross = ~on & ~off
            el, eu = np.where(cross, slope * low, el * scale), np.where(cross, high, eu * scale)
            if slope == 0:
                el = np.where(cross, 0.0, el)
        elif op in ("add", "mul", "affine"):
            if op == "affine":
                size = layer.params["size"]
                m, v = np.repeat(t["scale"], size), np.repeat(t["shift"], size)
            else:
                m, v = (t["v"], 0.0) if op == "mul" else (1.0, t["v"])
            m = np.broadcast_to(np.asarray(m, np.float64), c.shape)
            a, c = a * m[:, None], c * m + v
            el, eu = np.where(m >= 0, el * m, eu * m), np.where(m >= 0, eu * m, el * m)
        elif op == "concat":
            before, after = t["before"].astype(np.float64), t["after"].astype(np.float64)
            z = lambda k: np.zeros(k)  # noqa: E731
            a = np.vstack([np.zeros((before.size, lo.size)), a, np.zeros((after.size, lo.size))])
            c, el, eu = (
                np.r_[before, c, after],
                np.r_[z(before.size), el, z(after.size)],
                np.r_[z(before.size), eu, z(after.size)],
            )
        elif op in ("sigmoid", "tanh"):
            f = (lambda x: 1 / (1 + np.exp(-x))) if op == "sigmoid" else np.tanh
            low, high = bounds()
            with np.errstate(over="ignore"):
                a, c, el, eu = interval(f(low), f(high))
        else:
            raise ValueError(f"no bounds for layer {op!r}")
    return bounds()[1]

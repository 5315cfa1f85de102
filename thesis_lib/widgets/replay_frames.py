"""A training replay's pictures: each snapshot's panels as images (numpy), then as PNG bytes.

One drawing for both views of :mod:`.replay` (the live widget shows these PNGs, the static page
carries them), so what the reader sees in JupyterLab and in the book is the same picture:

* ``samples``: images in a grid (``grid``; tiles 1:1, separated by :data:`GAP` pixels of :data:`GAP_VALUE`),
  or, for 2-D toy data, the points (``scatter``, fixed axes over the run);
* ``reconstructions``: one row of the fixed validation images' reconstructions (their ``inputs`` once);
* ``codes``: the 2-D codes coloured by class (the book's class colours), axes fitted to each snapshot's
  codes (percentiles 1-99 and a margin), since the codes spread out as the model trains.

Scatters are palette images (:data:`PALETTE`: white, light grey, the ten class colours), which a
PNG stores in a few KB.
"""

from __future__ import annotations

import io
import math

import numpy as np
import torch

from ..plots.style import CLASS_COLORS

__all__ = [
    "grid",
    "scatter",
    "limits",
    "png",
    "panels",
    "frames",
    "inputs_picture",
    "GAP",
    "GAP_VALUE",
    "PALETTE",
    "SCATTER_SIZE",
]

GAP = 2
GAP_VALUE = 96
"""Pixels between tiles, and their grey (the digits are white on black)."""
SCATTER_SIZE = 140
"""A scatter's width and height in pixels."""
DOT = 2
"""A point's side in pixels."""
PALETTE = [(255, 255, 255), (210, 210, 210)] + [tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in CLASS_COLORS]
"""Scatter colours by index: background, frame, then one per class (points without a class: the first)."""


def grid(images: np.ndarray, cols: int) -> np.ndarray:
    """``(n, C, H, W)`` or ``(n, H, W)`` uint8 images as one ``(rows*H + gaps, cols*W + gaps[, C])`` uint8 picture.

    Tile ``t`` sits at row ``t // cols``, column ``t % cols``; its top left pixel at
    ``(row * (H + GAP), col * (W + GAP))``. Unused cells stay black."""
    a = np.asarray(images)
    if a.ndim == 4:
        a = a.transpose(0, 2, 3, 1)
        if a.shape[-1] == 1:
            a = a[..., 0]
    n, h, w = a.shape[:3]
    rows = -(-n // cols)
    out = np.full((rows * (h + GAP) - GAP, cols * (w + GAP) - GAP, *a.shape[3:]), GAP_VALUE, dtype=np.uint8)
    for t in range(rows * cols):
        r, c = divmod(t, cols)
        out[r * (h + GAP) : r * (h + GAP) + h, c * (w + GAP) : c * (w + GAP) + w] = a[t] if t < n else 0
    return out


def limits(points: np.ndarray, margin: float = 0.15) -> tuple[float, float, float, float]:
    """Square axes around the bulk of ``points`` (percentiles 1-99 of each coordinate, widened by ``margin``)."""
    p = np.asarray(points, dtype=np.float64)
    p = p[np.isfinite(p).all(axis=1)]
    if len(p) == 0:
        return (-1.0, 1.0, -1.0, 1.0)
    lo, hi = np.percentile(p, 1, axis=0), np.percentile(p, 99, axis=0)
    centre, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2 * (1 + 2 * margin), 1e-3)
    return (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)


def scatter(points, labels=None, box=None, size: int = SCATTER_SIZE) -> np.ndarray:
    """Points ``(n, 2)`` as a ``(size, size)`` palette-index image (:data:`PALETTE`): dots of :data:`DOT` pixels in
    their class's colour (``labels``; none: the first class colour) inside a one-pixel frame, axes ``box``
    (x0, x1, y0, y1; default :func:`limits`), y upwards; points outside are left out."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x0, x1, y0, y1 = limits(p) if box is None else box
    img = np.zeros((size, size), dtype=np.uint8)
    img[0, :] = img[-1, :] = img[:, 0] = img[:, -1] = 1
    inner = size - 2 - DOT
    cls = np.zeros(len(p), dtype=np.int64) if labels is None else np.asarray(labels, dtype=np.int64) % 10
    with np.errstate(invalid="ignore"):
        u = np.floor((p[:, 0] - x0) / (x1 - x0) * inner + 0.5) + 1
        v = np.floor((y1 - p[:, 1]) / (y1 - y0) * inner + 0.5) + 1
    keep = np.isfinite(u) & np.isfinite(v) & (u >= 1) & (u <= inner + 1) & (v >= 1) & (v <= inner + 1)
    u, v, colour = u[keep].astype(np.int64), v[keep].astype(np.int64), (2 + cls[keep]).astype(np.uint8)
    for dv in range(DOT):
        for du in range(DOT):
            img[v + dv, u + du] = colour
    return img


def png(picture: np.ndarray, bits: int = 8, palette: bool = False) -> bytes:
    """A picture as PNG bytes: grey (``bits`` 8, or 4: 16 levels), RGB, or a :data:`PALETTE` index image.

    zlib's default level: level 9 (or Pillow's ``optimize``) saves about 4 % of the bytes and takes 5-10 times
    as long."""
    from PIL import Image

    buf = io.BytesIO()
    if palette:
        img = Image.fromarray(picture, mode="P")
        img.putpalette([v for rgb in PALETTE for v in rgb])
        img.save(buf, format="PNG", bits=4)
    elif picture.ndim == 2 and bits == 4:
        q = ((picture.astype(np.int32) * 15 + 127) // 255).astype(np.uint8)
        img = Image.fromarray(q, mode="P")
        img.putpalette([v for i in range(16) for v in (i * 17,) * 3])
        img.save(buf, format="PNG", bits=4)
    else:
        Image.fromarray(picture, mode="L" if picture.ndim == 2 else "RGB").save(buf, format="PNG")
    return buf.getvalue()


def _np(x) -> np.ndarray:
    return x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def panels(snapshots: dict) -> list[str]:
    """The panels a snapshots dict has, in the order shown: ``samples``, ``reconstructions``, ``codes``."""
    return [p for p in ("samples", "reconstructions", "codes") if p in snapshots]


def frames(snapshots: dict, index: int, n_codes: int | None = None) -> dict[str, tuple[np.ndarray, bool]]:
    """Snapshot ``index``'s panels: ``{panel: (picture, is_palette)}``; ``n_codes`` codes at most (default all)."""
    out = {}
    s = snapshots["samples"][index]
    if snapshots.get("images", True):
        n = s.shape[0]
        out["samples"] = (grid(_np(s), math.ceil(math.sqrt(n))), False)
    else:
        box = limits(_np(snapshots["samples"][-1]).astype(np.float64), margin=0.3)
        out["samples"] = (scatter(_np(s), None, box), True)
    if "reconstructions" in snapshots:
        r = _np(snapshots["reconstructions"][index])
        out["reconstructions"] = (grid(r, r.shape[0]), False)
    if "codes" in snapshots:
        codes, labels = _np(snapshots["codes"][index]), _np(snapshots["labels"])
        k = len(codes) if n_codes is None else min(n_codes, len(codes))
        out["codes"] = (scatter(codes[:k], labels[:k]), True)
    return out


def inputs_picture(snapshots: dict) -> np.ndarray | None:
    """The reconstructed validation images in one row (shown above their reconstructions), if any."""
    if "inputs" not in snapshots:
        return None
    x = _np(snapshots["inputs"])
    return grid(x, x.shape[0])

"""A decode function as a compact list of layers that a few lines of JavaScript can run.

:func:`trace` runs ``decode(z)`` once on a real latent point under a recording
:class:`~torch.utils._python_dispatch.TorchDispatchMode` and keeps the chain of ATen operations
that depend on ``z``; everything else (the weights, a conditional GAN's one-hot class, the GAN's
output offset) is a constant by then. So it needs nothing of the model but the decode function
an explorer already holds (``z (n, d) -> images``), and never asks which model it is. The chain
becomes layers:

* ``linear`` (``W`` of shape ``(out, in)``, ``b``), with an eval-mode batch norm folded into it
  (``W' = s W``, ``b' = s (b - mean) + beta``, ``s = gamma / sqrt(var + eps)``) and an added
  constant folded into its bias;
* ``convT`` (a transposed convolution, groups 1, dilation 1; a batch norm after it folded the
  same way, per output channel);
* ``relu``, ``leaky`` (slope), ``sigmoid``, ``tanh``; ``concat`` (constants before / after the
  activation, flat); ``add`` / ``mul`` (a constant vector) and ``affine`` (a batch norm that
  follows no linear layer);
* views, reshapes, copies and eval-mode dropout change nothing in a flat row-major vector.

Any other operation, or a graph that is not a chain, raises :class:`UnsupportedDecoder`, and the
static export falls back to its sprite sheet. :func:`run` is the NumPy reference of what
``decoder.js`` computes; :func:`quantize` stores a weight as float16, or as a 6-, 7- or 8-bit integer with
one scale per group of 32 values, chosen by :func:`gptq` when the layer's inputs are known (the
trade-off: bytes against the error the export measures).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import Tensor
from torch.utils import _pytree as pytree
from torch.utils._python_dispatch import TorchDispatchMode

__all__ = ["Layer", "UnsupportedDecoder", "trace", "run", "quantize", "dequantize", "gptq", "bits", "FORMATS"]

FORMATS = ("q6", "q7", "q8", "f16")
"""Weight formats, fewest bytes first: ``qN`` stores each weight as an N-bit integer (packed, one
float16 scale per group of :data:`Q_GROUP` consecutive weights: ``N / 8 + 1 / 16`` bytes a weight),
``f16`` as float16 (2 bytes). The integers are rounded by :func:`gptq` when the layer's inputs
are known; plain rounding to the nearest step moved a chapter decoder's pixels by up to 15/255 at
8 bits (an earlier int4 format: 50-140/255)."""
Q_GROUP = 32
_SHAPE_ONLY = {
    "view",
    "_unsafe_view",
    "reshape",
    "clone",
    "detach",
    "alias",
    "contiguous",
    "_to_copy",
    "flatten",
    "unflatten",
    "squeeze",
    "unsqueeze",
    "lift_fresh",
    "dropout",
    "expand",
}
_ACTIVATIONS = {
    "relu": "relu",
    "relu_": "relu",
    "sigmoid": "sigmoid",
    "sigmoid_": "sigmoid",
    "tanh": "tanh",
    "tanh_": "tanh",
}


class UnsupportedDecoder(ValueError):
    """The decode function uses an operation the JavaScript forward pass does not have."""


@dataclass
class Layer:
    """One step of the forward pass; ``tensors`` are its weights (float32, exported by :func:`quantize`)."""

    op: str
    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    params: dict = field(default_factory=dict)


class _Recorder(TorchDispatchMode):
    """Runs every ATen call and keeps those with an argument derived from the input."""

    def __init__(self, z: Tensor):
        super().__init__()
        self.live = {id(z)}
        self.keep = [z]  # live tensors stay referenced, so their ids are never reused
        self.calls: list[tuple] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        inputs = [a for a in pytree.tree_leaves((args, kwargs)) if isinstance(a, Tensor) and id(a) in self.live]
        if inputs:
            outs = [o for o in pytree.tree_leaves(out) if isinstance(o, Tensor)]
            self.live.update(id(o) for o in outs)
            self.keep.extend(outs)
            self.calls.append((func, args, kwargs, out, inputs))
        return out


def _np(t) -> np.ndarray:
    return t.detach().cpu().float().numpy().copy()


def trace(decode: Callable[[Tensor], Tensor], z: Tensor) -> tuple[list[Layer], tuple[int, int]]:
    """The layers of ``decode`` at the latent point ``z`` (shape ``(d,)``) and the image's ``(H, W)``.

    Raises :class:`UnsupportedDecoder` naming the first operation it cannot express.
    """
    z = z.detach().float().reshape(1, -1).clone()
    rec = _Recorder(z)
    with torch.no_grad(), rec:
        out = decode(z)
    current, layers = z, []
    for func, args, kwargs, result, inputs in rec.calls:
        name = func.__name__.split(".")[0]
        if len(inputs) > 1 or inputs[0] is not current:
            raise UnsupportedDecoder(
                f"the decoder is not a chain of layers: {name} takes a tensor other than the previous layer's output"
            )
        layer = _layer(name, args, kwargs, current, result)
        result = result[0] if isinstance(result, (tuple, list)) else result
        if layer is not None:
            _append(layers, layer)
        current = result
    if current is not out:
        raise UnsupportedDecoder("the decoder's output is not the end of its chain of layers")
    if out.dim() < 2 or out.shape[0] != 1:
        raise UnsupportedDecoder(f"expected images (1, ..., H, W), the decoder returned shape {tuple(out.shape)}")
    return layers, (int(out.shape[-2]), int(out.shape[-1])) if out.dim() >= 3 else (1, int(out.shape[-1]))


def _layer(name: str, args, kwargs, x: Tensor, result) -> Layer | None:
    if name == "slice" and tuple(args[0].shape) == tuple(result.shape):
        return None  # a batch slice that keeps the whole batch
    if name in _SHAPE_ONLY:
        if name == "expand" and tuple(args[0].shape) != tuple(result.shape):
            raise UnsupportedDecoder(f"expand to {tuple(result.shape)} copies values")
        if name == "dropout" and args[2]:
            raise UnsupportedDecoder("dropout in training mode")
        return None
    if name in _ACTIVATIONS:
        return Layer(_ACTIVATIONS[name])
    if name in ("leaky_relu", "leaky_relu_"):
        return Layer("leaky", params={"slope": float(args[1]) if len(args) > 1 else 0.01})
    if name == "addmm":
        bias, _, wt = args[:3]
        if kwargs.get("beta", 1) != 1 or kwargs.get("alpha", 1) != 1:
            raise UnsupportedDecoder("addmm with beta or alpha other than 1")
        return Layer("linear", {"W": _np(wt).T.copy(), "b": np.broadcast_to(_np(bias), (wt.shape[1],)).copy()})
    if name == "mm":
        wt = args[1]
        return Layer("linear", {"W": _np(wt).T.copy(), "b": np.zeros(wt.shape[1], np.float32)})
    if name == "linear":
        w, b = args[1], args[2] if len(args) > 2 else None
        return Layer("linear", {"W": _np(w), "b": _np(b) if b is not None else np.zeros(w.shape[0], np.float32)})
    if name in ("_native_batch_norm_legit_no_training", "native_batch_norm", "batch_norm"):
        if name != "_native_batch_norm_legit_no_training" and args[5]:
            raise UnsupportedDecoder("batch norm in training mode (the explorer decodes in eval mode)")
        gamma, beta, mean, var = args[1:5]
        eps = float(args[-1])
        c = x.shape[1]
        scale = (_np(gamma) if gamma is not None else np.ones(c, np.float32)) / np.sqrt(_np(var) + eps)
        shift = (_np(beta) if beta is not None else np.zeros(c, np.float32)) - _np(mean) * scale
        return Layer(
            "affine",
            {"scale": scale.astype(np.float32), "shift": shift.astype(np.float32)},
            {"channels": int(c), "size": int(x[0, 0].numel())},
        )
    if name == "convolution":
        w, b, stride, padding, dilation, transposed, out_pad, groups = args[1:9]
        if not transposed or groups != 1 or any(d != 1 for d in dilation) or x.dim() != 4:
            raise UnsupportedDecoder("only transposed 2-D convolutions (groups 1, dilation 1) are supported")
        cin, cout, kh, kw = w.shape
        params = {
            "cin": int(cin),
            "cout": int(cout),
            "kh": int(kh),
            "kw": int(kw),
            "stride": [int(s) for s in stride],
            "pad": [int(p) for p in padding],
            "hin": int(x.shape[2]),
            "win": int(x.shape[3]),
            "hout": int(result.shape[2]),
            "wout": int(result.shape[3]),
        }
        return Layer("convT", {"W": _np(w), "b": _np(b) if b is not None else np.zeros(cout, np.float32)}, params)
    if name == "cat":
        tensors, dim = args[0], (args[1] if len(args) > 1 else kwargs.get("dim", 0))
        dim = dim % x.dim()
        if math.prod(x.shape[:dim]) != 1:
            raise UnsupportedDecoder(f"cat along dim {dim} of shape {tuple(x.shape)} is not a flat concatenation")
        i = next(k for k, t in enumerate(tensors) if t is x)
        if len(tensors) == 1:
            return None
        flat = lambda ts: np.concatenate([_np(t).reshape(-1) for t in ts]) if ts else np.zeros(0, np.float32)  # noqa: E731
        return Layer("concat", {"before": flat(tensors[:i]), "after": flat(tensors[i + 1 :])})
    if name in ("add", "sub", "mul"):
        a, b = args[0], args[1]
        other = b if a is x else a
        if a is not x and name == "sub":
            raise UnsupportedDecoder("constant minus the activation")
        v = np.broadcast_to(_np(torch.as_tensor(other)), tuple(result.shape)).reshape(-1).astype(np.float32)
        alpha = float(kwargs.get("alpha", 1))
        if name == "mul":
            return Layer("mul", {"v": v.copy()})
        return Layer("add", {"v": (v * alpha * (-1 if name == "sub" else 1)).copy()})
    raise UnsupportedDecoder(f"the static widget's forward pass has no operation {name!r}")


def _append(layers: list[Layer], layer: Layer) -> None:
    """Append ``layer``, folding what is affine into the linear layer (or transposed convolution) before it.

    * a batch norm after a linear layer or a transposed convolution: ``W' = s W``, ``b' = s b + t``;
    * an added constant after a linear layer: into its bias;
    * a linear layer after a concatenation with constants: ``W [before; x; after] + b`` keeps the
      columns of ``x``, the constants go into the bias;
    * a linear layer after a linear layer: one layer ``W2 W1``, ``W2 b1 + b2``, when that has no
      more weights than the two (an explorer's ``base + values @ directions`` followed by the
      decoder's first layer becomes one small layer on the slider values).
    """
    prev = layers[-1] if layers else None
    if layer.op == "affine" and prev is not None and prev.op in ("linear", "convT"):
        s, t = layer.tensors["scale"], layer.tensors["shift"]
        if prev.op == "linear":
            prev.tensors["W"] = (prev.tensors["W"] * s[:, None]).astype(np.float32)
        else:
            prev.tensors["W"] = (prev.tensors["W"] * s[None, :, None, None]).astype(np.float32)
        prev.tensors["b"] = (prev.tensors["b"] * s + t).astype(np.float32)
        return
    if (
        layer.op == "add"
        and prev is not None
        and prev.op == "linear"
        and layer.tensors["v"].size == prev.tensors["b"].size
    ):
        prev.tensors["b"] = (prev.tensors["b"] + layer.tensors["v"]).astype(np.float32)
        return
    if layer.op == "linear" and prev is not None and prev.op == "concat":
        before, after = prev.tensors["before"], prev.tensors["after"]
        w, b = layer.tensors["W"].astype(np.float64), layer.tensors["b"].astype(np.float64)
        i, j = before.size, w.shape[1] - after.size
        bias = b + w[:, :i] @ before + w[:, j:] @ after
        layers.pop()
        return _append(layers, Layer("linear", {"W": w[:, i:j].astype(np.float32), "b": bias.astype(np.float32)}))
    if layer.op == "linear" and prev is not None and prev.op == "linear":
        (m, k), n = layer.tensors["W"].shape, prev.tensors["W"].shape[1]
        if m * n <= m * k + k * n:
            w2 = layer.tensors["W"].astype(np.float64)
            merged = {
                "W": (w2 @ prev.tensors["W"]).astype(np.float32),
                "b": (w2 @ prev.tensors["b"] + layer.tensors["b"]).astype(np.float32),
            }
            layers.pop()
            return _append(layers, Layer("linear", merged))
    layers.append(layer)


# ----------------------------------------------------------------------------- weights
def bits(fmt: str) -> int | None:
    """The integer width of a ``qN`` format (``None`` for ``f16`` and ``f32``)."""
    if fmt in ("f16", "f32"):
        return None
    if fmt not in FORMATS:
        raise ValueError(f"weight format must be one of {', '.join(FORMATS)} or f32, got {fmt!r}")
    return int(fmt[1:])


def quantize(w: np.ndarray, fmt: str, inputs: np.ndarray | None = None) -> dict:
    """``w`` (float32) in format ``fmt`` (:data:`FORMATS`, or ``"f32"``): ``{"fmt", "shape", "data": bytes}``,
    for ``qN`` also ``"group"`` and ``"scales"`` (float16, one per group, after the data).

    ``qN`` data: the integers ``q`` in ``-(2^(N-1) - 1) .. 2^(N-1) - 1`` as ``q + 2^(N-1)`` in N
    bits each, packed least significant bit first; the weight is ``q * scale``, ``scale`` = the
    group's largest ``|w|`` / ``(2^(N-1) - 1)``. With ``inputs`` (``(K, in)``: what a linear layer
    ``w`` of shape ``(out, in)`` receives) the integers are chosen by :func:`gptq`, so that the
    layer's *outputs* on those inputs change least, instead of each weight rounded to its nearest step.
    """
    w = np.ascontiguousarray(w, dtype=np.float32)
    flat = w.reshape(-1)
    if fmt == "f32":
        return {"fmt": fmt, "shape": list(w.shape), "data": flat.astype("<f4").tobytes()}
    if fmt == "f16":
        return {"fmt": fmt, "shape": list(w.shape), "data": flat.astype("<f2").tobytes()}
    n = bits(fmt)
    top = (1 << (n - 1)) - 1
    g = np.zeros(-(-flat.size // Q_GROUP) * Q_GROUP, np.float32)
    g[: flat.size] = flat
    scales = (np.abs(g.reshape(-1, Q_GROUP)).max(axis=1) / top).astype("<f2")
    s = scales.astype(np.float32)
    step = np.repeat(np.where(s > 0, s, 1), Q_GROUP)[: flat.size]
    if inputs is None:
        q = np.round(flat / step).clip(-top, top).astype(np.int64)
    else:
        q = gptq(w, step.reshape(w.shape), inputs, top).reshape(-1).astype(np.int64)
    u = (q + (1 << (n - 1))).astype(np.uint16)
    packed = np.packbits(((u[:, None] >> np.arange(n)) & 1).astype(np.uint8).reshape(-1), bitorder="little")
    return {"fmt": fmt, "shape": list(w.shape), "data": packed.tobytes(), "group": Q_GROUP, "scales": scales.tobytes()}


def dequantize(q: dict) -> np.ndarray:
    """The float32 weights that ``decoder.js`` rebuilds from :func:`quantize`'s output."""
    shape, fmt = q["shape"], q["fmt"]
    size = math.prod(shape)
    if fmt == "f32":
        return np.frombuffer(q["data"], "<f4").reshape(shape).copy()
    if fmt == "f16":
        return np.frombuffer(q["data"], "<f2").astype(np.float32).reshape(shape)
    n = bits(fmt)
    raw = np.unpackbits(np.frombuffer(q["data"], np.uint8), bitorder="little")[: size * n].reshape(size, n)
    v = (raw.astype(np.int64) << np.arange(n)).sum(1) - (1 << (n - 1))
    s = np.frombuffer(q["scales"], "<f2").astype(np.float32)
    return (v * np.repeat(s, q["group"])[:size]).astype(np.float32).reshape(shape)


GPTQ_DAMP = 0.01
""":func:`gptq`'s damping, as a fraction of the mean diagonal of ``X^T X`` (Frantar et al. use 0.01)."""


def gptq(w: np.ndarray, step: np.ndarray, inputs: np.ndarray, top: int) -> np.ndarray:
    """Integers ``q`` (``|q| <= top``) chosen so that ``(q * step) @ x`` stays close to ``w @ x`` on the ``inputs``.

    GPTQ (Frantar et al. 2022: Optimal Brain Quantization, one column at a time): the columns
    (inputs) are rounded in order of decreasing ``Σ x_j^2``; the error that rounding column ``j``
    makes on the outputs is compensated by updating the columns not rounded yet along the rows
    of the inverse Hessian ``H^-1``, ``H = X^T X`` (damped by :data:`GPTQ_DAMP`). Without it,
    every weight of a chapter's decoder is off by up to half a step and those errors add up
    over the layer's 250-500 inputs.
    """
    x = np.asarray(inputs, np.float32)
    order = np.argsort(-np.einsum("ij,ij->j", x, x), kind="stable")
    x, wd, sd = x[:, order], w[:, order].astype(np.float64), step[:, order].astype(np.float64)
    h = (x.T @ x).astype(np.float64)
    h += GPTQ_DAMP * max(float(np.mean(np.diag(h))), 1e-12) * np.eye(h.shape[0])
    u = np.linalg.cholesky(np.linalg.inv(h)).T  # upper triangular, H^-1 = u^T u
    q = np.zeros(wd.shape, np.int64)
    for j in range(wd.shape[1]):
        col = np.clip(np.round(wd[:, j] / sd[:, j]), -top, top)
        q[:, j] = col
        err = (wd[:, j] - col * sd[:, j]) / u[j, j]
        wd[:, j + 1 :] -= np.outer(err, u[j, j + 1 :])
    out = np.empty_like(q)
    out[:, order] = q
    return out


# ----------------------------------------------------------------------------- the reference forward pass
def run(layers: list[Layer], z: np.ndarray) -> np.ndarray:
    """The layers applied to one input ``z`` (flat, float32), as ``decoder.js`` computes them; or to a
    batch ``(N, d)`` of inputs at once (rows)."""
    z = np.asarray(z, np.float32)
    x = z.reshape(1, -1) if z.ndim == 1 else z.reshape(z.shape[0], -1)
    for layer in layers:
        t, p = layer.tensors, layer.params
        if layer.op == "linear":
            x = (x @ t["W"].T + t["b"]).astype(np.float32)
        elif layer.op == "relu":
            x = np.maximum(x, 0)
        elif layer.op == "leaky":
            x = np.where(x > 0, x, x * np.float32(p["slope"])).astype(np.float32)
        elif layer.op == "sigmoid":
            with np.errstate(over="ignore"):  # exp(-x) = inf for very negative x: sigmoid 0, as in JavaScript
                x = (1 / (1 + np.exp(-x))).astype(np.float32)
        elif layer.op == "tanh":
            x = np.tanh(x)
        elif layer.op == "concat":
            n = x.shape[0]
            x = np.concatenate(
                [
                    np.broadcast_to(t["before"], (n, t["before"].size)),
                    x,
                    np.broadcast_to(t["after"], (n, t["after"].size)),
                ],
                1,
            ).astype(np.float32)
        elif layer.op == "add":
            x = x + t["v"]
        elif layer.op == "mul":
            x = x * t["v"]
        elif layer.op == "affine":
            x = (x.reshape(x.shape[0], p["channels"], -1) * t["scale"][:, None] + t["shift"][:, None]).reshape(
                x.shape[0], -1
            )
        elif layer.op == "convT":
            x = np.stack([_conv_transpose(row, t["W"], t["b"], p) for row in x])
        else:
            raise ValueError(f"unknown layer {layer.op!r}")
    return x[0] if z.ndim == 1 else x


def _conv_transpose(x: np.ndarray, w: np.ndarray, b: np.ndarray, p: dict) -> np.ndarray:
    """Scatter form, as in decoder.js: out[o, i*s - pad + ki, j*s - pad + kj] += x[c, i, j] w[c, o, ki, kj]."""
    cin, cout, kh, kw = p["cin"], p["cout"], p["kh"], p["kw"]
    (sh, sw), (ph, pw) = p["stride"], p["pad"]
    hin, win, hout, wout = p["hin"], p["win"], p["hout"], p["wout"]
    x = x.reshape(cin, hin, win)
    full = np.zeros((cout, (hin - 1) * sh + kh, (win - 1) * sw + kw), np.float32)
    for ki in range(kh):
        for kj in range(kw):
            contrib = np.einsum("chw,co->ohw", x, w[:, :, ki, kj])
            full[:, ki : ki + (hin - 1) * sh + 1 : sh, kj : kj + (win - 1) * sw + 1 : sw] += contrib
    out = np.zeros((cout, hout, wout), np.float32)
    hh, ww = min(hout, full.shape[1] - ph), min(wout, full.shape[2] - pw)
    out[:, :hh, :ww] = full[:, ph : ph + hh, pw : pw + ww]
    return (out + b[:, None, None]).reshape(-1)

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
``decoder.js`` computes; :func:`quantize` stores a weight as float16, or as int8 with one scale
per group of 32 values (the trade-off: bytes against the error the export measures).
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

__all__ = ["Layer", "UnsupportedDecoder", "trace", "run", "quantize", "dequantize", "FORMATS"]

FORMATS = ("f16", "q8")
"""Weight formats, most precise first: float16 (2 bytes a weight); int8 with one float16 scale per
group of :data:`Q8_GROUP` consecutive weights (1.06 bytes a weight). (An int4 format was tried:
at half the bytes of int8 it moved trained MNIST decoders' pixels by up to 50-140/255.)"""
Q8_GROUP = 32
_SHAPE_ONLY = {"view", "_unsafe_view", "reshape", "clone", "detach", "alias", "contiguous", "_to_copy", "flatten",
               "unflatten", "squeeze", "unsqueeze", "lift_fresh", "dropout", "expand"}
_ACTIVATIONS = {"relu": "relu", "relu_": "relu", "sigmoid": "sigmoid", "sigmoid_": "sigmoid", "tanh": "tanh", "tanh_": "tanh"}


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
            raise UnsupportedDecoder(f"the decoder is not a chain of layers: {name} takes a tensor other than the previous layer's output")
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
        return Layer("affine", {"scale": scale.astype(np.float32), "shift": shift.astype(np.float32)}, {"channels": int(c), "size": int(x[0, 0].numel())})
    if name == "convolution":
        w, b, stride, padding, dilation, transposed, out_pad, groups = args[1:9]
        if not transposed or groups != 1 or any(d != 1 for d in dilation) or x.dim() != 4:
            raise UnsupportedDecoder("only transposed 2-D convolutions (groups 1, dilation 1) are supported")
        cin, cout, kh, kw = w.shape
        params = {"cin": int(cin), "cout": int(cout), "kh": int(kh), "kw": int(kw), "stride": [int(s) for s in stride],
                  "pad": [int(p) for p in padding], "hin": int(x.shape[2]), "win": int(x.shape[3]),
                  "hout": int(result.shape[2]), "wout": int(result.shape[3])}
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
        return Layer("concat", {"before": flat(tensors[:i]), "after": flat(tensors[i + 1:])})
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
    """Fold a batch norm or an added constant into the linear layer / transposed convolution before it."""
    prev = layers[-1] if layers else None
    if layer.op == "affine" and prev is not None and prev.op in ("linear", "convT"):
        s, t = layer.tensors["scale"], layer.tensors["shift"]
        if prev.op == "linear":
            prev.tensors["W"] = (prev.tensors["W"] * s[:, None]).astype(np.float32)
        else:
            prev.tensors["W"] = (prev.tensors["W"] * s[None, :, None, None]).astype(np.float32)
        prev.tensors["b"] = (prev.tensors["b"] * s + t).astype(np.float32)
        return
    if layer.op == "add" and prev is not None and prev.op == "linear" and layer.tensors["v"].size == prev.tensors["b"].size:
        prev.tensors["b"] = (prev.tensors["b"] + layer.tensors["v"]).astype(np.float32)
        return
    layers.append(layer)


# ----------------------------------------------------------------------------- weights
def quantize(w: np.ndarray, fmt: str) -> dict:
    """``w`` (float32) in format ``fmt`` (:data:`FORMATS`, or ``"f32"``): ``{"fmt", "shape", "data": bytes}``,
    for ``q8`` also ``"group"`` and ``"scales"`` (float16, one per group, after the data)."""
    w = np.ascontiguousarray(w, dtype=np.float32)
    flat = w.reshape(-1)
    if fmt == "f32":
        return {"fmt": fmt, "shape": list(w.shape), "data": flat.astype("<f4").tobytes()}
    if fmt == "f16":
        return {"fmt": fmt, "shape": list(w.shape), "data": flat.astype("<f2").tobytes()}
    if fmt != "q8":
        raise ValueError(f"weight format must be one of {', '.join(FORMATS)} or f32, got {fmt!r}")
    n_groups = -(-flat.size // Q8_GROUP)
    g = np.zeros(n_groups * Q8_GROUP, np.float32)
    g[: flat.size] = flat
    g = g.reshape(n_groups, Q8_GROUP)
    scales = (np.abs(g).max(axis=1) / 127).astype("<f2")
    s = scales.astype(np.float32)
    safe = np.where(s > 0, s, 1)[:, None]
    q = np.round(g / safe).clip(-127, 127).astype(np.int8).reshape(-1)[: flat.size]
    return {"fmt": fmt, "shape": list(w.shape), "data": q.tobytes(), "group": Q8_GROUP, "scales": scales.tobytes()}


def dequantize(q: dict) -> np.ndarray:
    """The float32 weights that ``decoder.js`` rebuilds from :func:`quantize`'s output."""
    shape, fmt = q["shape"], q["fmt"]
    n = math.prod(shape)
    if fmt == "f32":
        return np.frombuffer(q["data"], "<f4").reshape(shape).copy()
    if fmt == "f16":
        return np.frombuffer(q["data"], "<f2").astype(np.float32).reshape(shape)
    v = np.frombuffer(q["data"], np.int8).astype(np.float32)
    s = np.frombuffer(q["scales"], "<f2").astype(np.float32)
    return (v * np.repeat(s, q["group"])[:n]).astype(np.float32).reshape(shape)


# ----------------------------------------------------------------------------- the reference forward pass
def run(layers: list[Layer], z: np.ndarray) -> np.ndarray:
    """The layers applied to one latent point ``z`` (flat float32), as ``decoder.js`` computes them."""
    x = np.asarray(z, np.float32).reshape(-1)
    for layer in layers:
        t, p = layer.tensors, layer.params
        if layer.op == "linear":
            x = (t["W"] @ x + t["b"]).astype(np.float32)
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
            x = np.concatenate([t["before"], x, t["after"]]).astype(np.float32)
        elif layer.op == "add":
            x = x + t["v"]
        elif layer.op == "mul":
            x = x * t["v"]
        elif layer.op == "affine":
            x = (x.reshape(p["channels"], -1) * t["scale"][:, None] + t["shift"][:, None]).reshape(-1)
        elif layer.op == "convT":
            x = _conv_transpose(x, t["W"], t["b"], p)
        else:
            raise ValueError(f"unknown layer {layer.op!r}")
    return x


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
            full[:, ki: ki + (hin - 1) * sh + 1: sh, kj: kj + (win - 1) * sw + 1: sw] += contrib
    out = np.zeros((cout, hout, wout), np.float32)
    hh, ww = min(hout, full.shape[1] - ph), min(wout, full.shape[2] - pw)
    out[:, :hh, :ww] = full[:, ph: ph + hh, pw: pw + ww]
    return (out + b[:, None, None]).reshape(-1)

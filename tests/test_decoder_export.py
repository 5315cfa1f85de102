"""The decoder export of the static widgets (thesis_lib/widgets/decoder_export.py, decoder_view.py): tiny
untrained models, no browser (tests/test_widgets_browser.py runs the JavaScript)."""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest
import torch
from helpers import WIDGET_CONFIGS, widget_model

from thesis_lib import widgets
from thesis_lib.widgets import decoder_export, decoder_prune, decoder_view
from thesis_lib.widgets.decoder_export import Layer


@pytest.fixture(autouse=True)
def _new_page():
    decoder_view.new_page()
    yield
    decoder_view.new_page()


@pytest.mark.parametrize("name", sorted(WIDGET_CONFIGS))
def test_traced_layers_compute_the_decoder(name):
    """The exported chain (BN folded, the class and the output offset as constants) equals model.decode."""
    ex = widgets.explore(widget_model(name), n_sliders=2)
    g = torch.Generator().manual_seed(2)
    for option in ex.option_names[:3]:
        layers, hw = decoder_export.trace(ex.options[option], ex.point(option, ex.initial_values(option)))
        assert hw == (28, 28) and "affine" not in [
            la.op for la in layers
        ]  # every batch norm follows a layer it folds into
        for _ in range(5):
            v = [lo + (hi - lo) * float(torch.rand(1, generator=g)) for lo, hi in ex.slider_limits(option)]
            got = decoder_export.run(layers, ex.point(option, v).numpy())
            assert np.abs(got - ex.decode_at(option, v).numpy().reshape(-1)).max() < 1e-5


def test_the_sliders_and_the_class_fold_into_the_first_layer():
    """On the slider values, ``base + values @ directions`` and a conditional GAN's one-hot class become
    the first layer: one column per slider, the class in the bias; the chain still computes the decoder."""
    m = widget_model("cgan")
    ex = widgets.explore(m)
    hidden = m.config.g_hidden[0]
    chains = {k: decoder_view.slider_layers(ex, k)[0] for k in ex.option_names}
    first = [chain[0] for chain in chains.values()]
    assert all(la.op == "linear" and la.tensors["W"].shape == (hidden, ex.n_sliders) for la in first)
    assert all(
        np.array_equal(la.tensors["W"], first[0].tensors["W"]) for la in first
    )  # the classes share the folded weights
    assert len({la.tensors["b"].tobytes() for la in first}) == 10  # ... and differ by their bias (the one-hot class)
    for k in ("0", "3", "9"):
        values = np.asarray(decoder_view._grid_values(decoder_view.slider_values(ex, k), 2, offset=False), np.float32)[
            ::37
        ]
        torch_images = (
            ex._decode(k, torch.stack([ex.point(k, v) for v in values.tolist()])).reshape(len(values), -1).numpy()
        )
        assert np.abs(decoder_export.run(chains[k], values) - torch_images).max() < 1e-5


def _all_positions(ex, option):
    v = decoder_view.slider_values(ex, option)
    return decoder_prune.positions(v).astype(np.float32)


@pytest.mark.parametrize("name", ["ae-2d", "gan", "cgan"])
def test_pruned_units_are_zero_at_every_slider_position(name):
    """The pruned decoder computes the same images at all 201 x 201 positions (to float rounding), the
    units it removed are <= 0 at every position, and some were removed (these decoders have dead units)."""
    ex = widgets.explore(widget_model(name), n_sliders=2)
    groups = decoder_view._groups({k: decoder_view.slider_layers(ex, k)[0] for k in ex.option_names})
    group = groups[0][:3]
    chains = [decoder_view.slider_layers(ex, k)[0] for k in group]
    pruned, report = decoder_prune.prune(chains, [decoder_view.slider_values(ex, k) for k in group])
    assert report and all(kept <= total for kept, total in report) and sum(t - k for k, t in report) > 0, report
    for k, chain, small in zip(group, chains, pruned):
        s = _all_positions(ex, k)
        assert np.abs(decoder_export.run(small, s) - decoder_export.run(chain, s)).max() < 1e-5
        p = next(i for i, la in enumerate(chain) if la.op == "relu")
        pre = decoder_export.run(chain[:p], s)
        kept = {tuple(row) for row in small[p - 1].tensors["W"].round(6).tolist()}
        removed = [j for j, row in enumerate(chain[p - 1].tensors["W"].round(6).tolist()) if tuple(row) not in kept]
        assert len(removed) == report[0][1] - report[0][0] and (pre[:, removed] <= 0).all()


def test_a_unit_alive_at_one_position_between_the_coarse_grid_is_kept():
    """A first-layer unit positive only near one slider position off the coarse grid (and two second-layer
    units made to peak there) survives; the proof does not stop at the candidates' coarse grid."""
    vals = [np.linspace(-1, 1, 201)] * 2
    peak = np.array([vals[0][113], vals[1][57]])  # neither index is a multiple of decoder_prune.COARSE
    rng = np.random.default_rng(0)
    w1 = rng.normal(size=(6, 2)).astype(np.float32)
    # units 0 and 1: 1 - 50 |s - peak|_1 would need two ReLUs; use planes that touch the box only near the peak
    w1[0], w1[1] = [1, 0], [0, -1]
    b1 = rng.normal(size=6).astype(np.float32) - 5
    b1[0] = -peak[0] + 1e-3 * (vals[0][1] - vals[0][0])  # s1 >= peak1 - ...: positive at columns >= 113
    b1[1] = peak[1]  # -s2 + peak2 > 0 below row 57
    w2 = np.ones((3, 6), np.float32)
    chain = [
        Layer("linear", {"W": w1, "b": b1}),
        Layer("relu"),
        Layer("linear", {"W": w2, "b": np.zeros(3, np.float32)}),
        Layer("sigmoid"),
    ]
    (small,), report = decoder_prune.prune([chain], [vals])
    s = decoder_prune.positions(vals).astype(np.float32)
    alive = (decoder_export.run(chain[:1], s) > 0).any(0)
    assert report == [(int(alive.sum()), 6)] and alive[0] and alive[1] and not alive[2:].all()
    assert np.abs(decoder_export.run(small, s) - decoder_export.run(chain, s)).max() < 1e-6


def test_prune_bounds_hold_on_random_boxes():
    """The symbolic interval bounds are upper bounds: no sampled point of a box exceeds them."""
    rng = np.random.default_rng(1)
    chain = [
        Layer(
            "linear", {"W": rng.normal(size=(20, 3)).astype(np.float32), "b": rng.normal(size=20).astype(np.float32)}
        ),
        Layer("relu"),
        Layer(
            "linear", {"W": rng.normal(size=(30, 20)).astype(np.float32), "b": rng.normal(size=30).astype(np.float32)}
        ),
        Layer("leaky", params={"slope": 0.2}),
        Layer(
            "linear", {"W": rng.normal(size=(10, 30)).astype(np.float32), "b": rng.normal(size=10).astype(np.float32)}
        ),
    ]
    for _ in range(20):
        lo = rng.normal(size=3)
        hi = lo + rng.uniform(0.01, 2, size=3)
        bound = decoder_prune._upper_bounds(chain, lo, hi)
        s = rng.uniform(lo, hi, size=(2000, 3)).astype(np.float32)
        assert (decoder_export.run(chain, s) <= bound + 1e-4).all()


@pytest.mark.parametrize("fmt", ["f16", "q6", "q7", "q8"])
def test_quantized_weights_round_trip(fmt):
    """float16: relative error 2^-11; N-bit integers: at most half a step of the group's scale
    (max |w| / (2^(N-1) - 1)), in N bits a weight plus a float16 scale per 32."""
    w = np.random.default_rng(0).normal(size=(37, 45)).astype(np.float32)
    q = decoder_export.quantize(w, fmt)
    back = decoder_export.dequantize(q)
    assert back.shape == w.shape
    if fmt == "f16":
        assert len(q["data"]) == 2 * w.size and np.abs(back - w).max() <= 1e-3 * np.abs(w).max()
        return
    n = decoder_export.bits(fmt)
    top = 2 ** (n - 1) - 1
    groups = np.pad(w.reshape(-1), (0, -w.size % 32)).reshape(-1, 32)
    step = np.repeat(np.abs(groups).max(1) / top, 32)[: w.size].reshape(w.shape)
    assert len(q["data"]) == -(-w.size * n // 8) and len(q["scales"]) == 2 * -(-w.size // 32)
    assert np.all(np.abs(back - w) <= step * 0.5 * 1.01 + 1e-3 * step)
    with pytest.raises(ValueError, match="'q3'"):
        decoder_export.quantize(w, "q3")


@pytest.mark.parametrize("fmt", ["q6", "q8"])
def test_gptq_changes_the_outputs_less_than_rounding(fmt):
    """On inputs from a low-dimensional set (as a widget's hidden layers are), GPTQ's integers change the
    layer's outputs on held-out inputs several times less than rounding each weight; they stay in range."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=(64, 96)).astype(np.float32)
    basis = rng.normal(size=(3, 96))
    fit, held_out = (np.maximum(rng.normal(size=(k, 3)) @ basis, 0).astype(np.float32) for k in (2000, 500))
    plain, fitted = decoder_export.quantize(w, fmt), decoder_export.quantize(w, fmt, inputs=fit)
    assert len(plain["data"]) == len(fitted["data"]) and plain["scales"] == fitted["scales"]
    err = {
        name: np.abs(held_out @ (decoder_export.dequantize(q) - w).T).max()
        for name, q in (("plain", plain), ("gptq", fitted))
    }
    assert err["gptq"] < err["plain"] / 3, err
    top = 2 ** (decoder_export.bits(fmt) - 1) - 1
    step = np.repeat(np.frombuffer(fitted["scales"], "<f2").astype(np.float32), 32)[: w.size].reshape(w.shape)
    assert np.all(np.abs(decoder_export.dequantize(fitted)) <= top * step * (1 + 1e-6))


def test_unsupported_operations_are_named():
    with pytest.raises(decoder_export.UnsupportedDecoder, match="'cumsum'"):
        decoder_export.trace(lambda z: torch.cumsum(z, 1).reshape(1, 1, 1, -1), torch.zeros(3))
    with pytest.raises(decoder_export.UnsupportedDecoder, match="not a chain"):
        decoder_export.trace(lambda z: (z * z).reshape(1, 1, 1, -1), torch.zeros(3))


def _note(html: str) -> str:
    return re.search(r'class="tl-latent-note"[^>]*>(.*?)</div>', html).group(1)


def _format(html: str) -> str:
    """The format of the widget's weights after its first layer (which, small, stays float32)."""
    return re.search(r'"W":\{"k":"\w+","f":"(\w+)"', html.split('"op":"linear"', 2)[2]).group(1)


def _weights(html: str) -> int:
    return int(re.search(r'data-weight-bytes="(\d+)"', html).group(1))


def test_the_widget_carries_the_decoder_once_per_page():
    m = widget_model("cgan")
    first, second = widgets.explore(m).static_html(), widgets.explore(m).static_html()
    assert 'data-mode="decoder"' in first and 'data-mode="decoder"' in second
    keys = re.findall(r'class="tl-latent-weights" data-key="(\w+)"', first)
    cfg = json.loads(re.search(r'class="tl-latent-data">(.*?)</script>', first).group(1))
    layers = [layer for opt in cfg["options"] for layer in opt["layers"] if layer["op"] == "linear"]
    assert (
        len(cfg["options"]) == 10 and len({la["t"]["W"]["k"] for la in layers}) == 2
    )  # ten classes share both weights
    assert (
        len({la["t"]["b"]["k"] for la in layers}) == 10 + 1
    )  # each class's first bias holds its one-hot; one last bias
    assert len(keys) == len(set(keys)) == 2 + 11
    assert 'class="tl-latent-weights"' not in second and "shared with a widget above" in _note(second)
    assert all(k in second for k in keys)  # the second widget refers to the first one's weights
    assert "http://" not in first and "fetch(" not in first and "<script src" not in first
    assert (
        first.count('type="range"') == 2
        and f'max="{decoder_view.POSITIONS - 1}"' in first
        and decoder_view.POSITIONS >= 33
    )
    # without JavaScript: the initial image, decoded by torch
    from PIL import Image

    png = base64.b64decode(re.search(r'class="tl-latent-image" src="data:image/png;base64,([^"]+)"', first).group(1))
    img = np.asarray(Image.open(io.BytesIO(png)), dtype=np.float32) / 255
    ex = widgets.explore(m)
    assert np.abs(img - ex.decode_at("0", ex.initial_values("0")).numpy()).max() <= 0.5 / 255 + 1e-6
    # the probes: torch's images at PROBES seeded positions, spread over the classes
    probes = json.loads(re.search(r'class="tl-latent-probes">(.*?)</script>', first).group(1))
    assert len(probes) == decoder_view.PROBES and len({p["o"] for p in probes}) == decoder_view.PROBES
    for p in probes:
        option = ex.option_names[p["o"]]
        values = [float(v[k]) for v, k in zip(decoder_view.slider_values(ex, option), p["k"])]
        px = np.frombuffer(base64.b64decode(p["px"]), np.uint8).astype(np.float32) / 255
        assert np.abs(px - ex.decode_at(option, values).numpy().reshape(-1)).max() <= 0.5 / 255 + 1e-6


def test_the_widget_takes_the_fewest_bytes_within_the_tolerance(monkeypatch):
    """The first format of FORMATS (fewest bytes first) that stays within TOLERANCE at the checked positions,
    and that fits what is left of the page's budget; otherwise the sprite sheet, saying why."""
    m = widget_model("vae")
    html = widgets.explore(m).static_html()
    fmt = _format(html)
    err = float(re.search(r"max \|Δ\| against PyTorch ([\d.]+)/255", _note(html)).group(1))
    assert fmt in decoder_export.FORMATS and err <= decoder_view.TOLERANCE * 255 + 0.1
    # a tolerance below what that format reaches: a format with more bytes
    decoder_view.new_page()
    monkeypatch.setattr(decoder_view, "TOLERANCE", max(err - 0.15, 0.05) / 255)
    finer = widgets.explore(m).static_html()
    if 'data-mode="decoder"' in finer:
        assert _weights(finer) > _weights(html) and decoder_export.FORMATS.index(
            _format(finer)
        ) > decoder_export.FORMATS.index(fmt), _note(finer)
    else:
        assert f"{fmt} weights change pixels by up to" in _note(finer)
    # no tolerance at all: the sprite sheet, naming every format
    decoder_view.new_page()
    monkeypatch.setattr(decoder_view, "TOLERANCE", 0.0)
    html0 = widgets.explore(m).static_html()
    assert 'data-mode="sprite"' in html0 and all(
        f"{f} weights change pixels" in _note(html0) for f in decoder_export.FORMATS
    )
    # the page is full: the sprite sheet ... except for a second widget of the same model and axes,
    # whose weights are there
    monkeypatch.setattr(decoder_view, "TOLERANCE", 2 / 255)
    decoder_view.new_page()
    first = widgets.explore(m).static_html()
    monkeypatch.setattr(decoder_view, "DECODER_PAGE_BYTES", decoder_view.page_bytes() + 1000)
    assert 'data-mode="decoder"' in widgets.explore(m).static_html()
    full = widgets.explore(widget_model("gan")).static_html()
    assert 'data-mode="sprite"' in full and "left of the page" in _note(full) and _weights(first) > 1000


def test_an_unexportable_decoder_keeps_the_sprite_sheet():
    ex = widgets.LatentExplorer(
        {"a": lambda z: torch.cumsum(z, 1)[:, :1, None, None].expand(-1, 1, 8, 8)}, torch.zeros(2), torch.eye(2)
    )
    html = ex.static_html(steps=3)
    assert 'data-mode="sprite"' in html and "no operation" in _note(html)
    assert 'data-mode="sprite"' in ex.static_html(steps=3, continuous=False)

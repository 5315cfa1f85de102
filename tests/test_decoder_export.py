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

import thesis_lib as tl
from thesis_lib import widgets
from thesis_lib.widgets import decoder_export, decoder_view

CONFIGS = {
    "ae": tl.AEConfig(latent_dim=6, hidden_dims=(32, 64)),
    "ae-2d": tl.AEConfig(latent_dim=2, hidden_dims=(32, 64)),
    "ae-conv": tl.AEConfig(latent_dim=4, arch="conv", channels=(4, 8)),
    "gan": tl.GANConfig(latent_dim=8, g_hidden=(32, 64), d_hidden=(16,)),
    "cgan": tl.GANConfig(conditional=True, latent_dim=8, g_hidden=(32,), d_hidden=(16,)),
    "gan-conv": tl.GANConfig(arch="conv", latent_dim=8, channels=4),
    "vae": tl.VAEConfig(latent_dim=2, hidden_dims=(32,)),
    "aae": tl.AAEConfig(hidden_dims=(32,), d_hidden=(16,), dropout=0.2),
}


def model(name: str):
    """An untrained model in eval mode whose batch norms have non-trivial statistics (so folding them matters)."""
    tl.seed_everything(0)
    m = tl.build_model(CONFIGS[name]).eval()
    g = torch.Generator().manual_seed(1)
    for mod in m.modules():
        if isinstance(mod, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            n = mod.num_features
            mod.running_mean.copy_(torch.randn(n, generator=g))
            mod.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            mod.weight.data.copy_(1 + 0.3 * torch.randn(n, generator=g))
            mod.bias.data.copy_(torch.randn(n, generator=g))
    for buf in ("output_offset",):
        if hasattr(m, buf):
            getattr(m, buf).copy_(torch.randn(getattr(m, buf).shape, generator=g))
    return m


@pytest.fixture(autouse=True)
def _new_page():
    decoder_view.new_page()
    yield
    decoder_view.new_page()


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_traced_layers_compute_the_decoder(name):
    """The exported chain (BN folded, the class and the output offset as constants) equals model.decode."""
    ex = widgets.explore(model(name), n_sliders=2)
    g = torch.Generator().manual_seed(2)
    for option in ex.option_names[:3]:
        layers, hw = decoder_export.trace(ex.options[option], ex.point(option, ex.initial_values(option)))
        assert hw == (28, 28) and "affine" not in [la.op for la in layers]  # every batch norm follows a layer it folds into
        for _ in range(5):
            v = [lo + (hi - lo) * float(torch.rand(1, generator=g)) for lo, hi in ex.slider_limits(option)]
            got = decoder_export.run(layers, ex.point(option, v).numpy())
            assert np.abs(got - ex.decode_at(option, v).numpy().reshape(-1)).max() < 1e-5


def test_the_conditional_gan_class_enters_as_a_constant():
    ex = widgets.explore(model("cgan"))
    layers, _ = decoder_export.trace(ex.options["3"], ex.point("3", [0.0, 0.0]))
    assert layers[0].op == "concat" and layers[0].tensors["after"].tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]


def test_unsupported_operations_are_named():
    with pytest.raises(decoder_export.UnsupportedDecoder, match="'cumsum'"):
        decoder_export.trace(lambda z: torch.cumsum(z, 1).reshape(1, 1, 1, -1), torch.zeros(3))
    with pytest.raises(decoder_export.UnsupportedDecoder, match="not a chain"):
        decoder_export.trace(lambda z: (z * z).reshape(1, 1, 1, -1), torch.zeros(3))
    with pytest.raises(ValueError, match="'q3'"):
        decoder_export.quantize(np.zeros((2, 2), np.float32), "q3")


@pytest.mark.parametrize("fmt, bound", [("f16", 1e-3), ("q8", 1 / 127 / 2 * 1.01)])
def test_quantized_weights_round_trip(fmt, bound):
    """float16: relative error 2^-11; int8: at most half a step of the group's scale (max |w| / 127)."""
    w = np.random.default_rng(0).normal(size=(37, 45)).astype(np.float32)
    q = decoder_export.quantize(w, fmt)
    back = decoder_export.dequantize(q)
    assert back.shape == w.shape
    if fmt == "f16":
        assert len(q["data"]) == 2 * w.size and np.abs(back - w).max() <= bound * np.abs(w).max()
    else:
        groups = np.pad(w.reshape(-1), (0, -w.size % 32)).reshape(-1, 32)
        step = np.repeat(np.abs(groups).max(1), 32)[: w.size].reshape(w.shape)
        assert len(q["data"]) == w.size and np.all(np.abs(back - w) <= step * bound + 1e-3 * step)


def _note(html: str) -> str:
    return re.search(r'class="tl-latent-note"[^>]*>(.*?)</div>', html).group(1)


def test_the_widget_carries_the_decoder_once_per_page():
    m = model("cgan")
    first, second = widgets.explore(m).static_html(), widgets.explore(m).static_html()
    assert 'data-mode="decoder"' in first and 'data-mode="decoder"' in second
    keys = re.findall(r'class="tl-latent-weights" data-key="(\w+)"', first)
    cfg = json.loads(re.search(r'class="tl-latent-data">(.*?)</script>', first).group(1))
    weights = {t["k"] for opt in cfg["options"] for layer in opt["layers"] if layer["op"] == "linear" for t in layer["t"].values()}
    assert len(cfg["options"]) == 10 and len(weights) == 4  # ten classes share W and b of both layers
    assert len(keys) == len(set(keys)) == len(weights) + 1 + 10  # one copy of each, the empty prefix, each class's one-hot suffix
    assert 'class="tl-latent-weights"' not in second and "shared with a widget above" in _note(second)
    assert all(k in second for k in keys)  # the second widget refers to the first one's weights
    assert "http://" not in first and "fetch(" not in first and "<script src" not in first
    assert first.count('type="range"') == 2 and f'max="{decoder_view.POSITIONS - 1}"' in first and decoder_view.POSITIONS >= 33
    # without JavaScript: the initial image, decoded by torch
    from PIL import Image

    png = base64.b64decode(re.search(r'class="tl-latent-image" src="data:image/png;base64,([^"]+)"', first).group(1))
    img = np.asarray(Image.open(io.BytesIO(png)), dtype=np.float32) / 255
    ex = widgets.explore(m)
    assert np.abs(img - ex.decode_at("0", ex.initial_values("0")).numpy()).max() <= 0.5 / 255 + 1e-6


def test_the_budget_and_the_tolerance_choose_the_format_or_the_sprite_sheet(monkeypatch):
    m = model("gan")
    html = widgets.explore(m).static_html()
    assert '"f":"f16"' in html  # small enough for float16
    decoder_view.new_page()
    size = decoder_view.page_bytes()
    f16 = int(re.search(r'data-weight-bytes="(\d+)"', html).group(1))
    monkeypatch.setattr(decoder_view, "DECODER_PAGE_BYTES", size + f16 - 1)  # float16 no longer fits: int8
    html = widgets.explore(m).static_html()
    assert '"f":"q8"' in html and '"f":"f16"' not in html and int(re.search(r'data-weight-bytes="(\d+)"', html).group(1)) < f16 * 0.6
    monkeypatch.setattr(decoder_view, "DECODER_PAGE_BYTES", decoder_view.page_bytes() + 1000)  # the page is full: sprite sheet
    assert 'data-mode="decoder"' in widgets.explore(m).static_html()  # ... except for the same model, whose weights are there
    html = widgets.explore(model("vae")).static_html()
    assert 'data-mode="sprite"' in html and "left of the page" in _note(html)
    monkeypatch.setattr(decoder_view, "DECODER_PAGE_BYTES", 10**9)
    monkeypatch.setattr(decoder_view, "TOLERANCE", {"f16": 0.0, "q8": 0.0})
    html = widgets.explore(model("vae")).static_html()
    assert 'data-mode="sprite"' in html and "allowed 0/255" in _note(html)


def test_an_unexportable_decoder_keeps_the_sprite_sheet():
    ex = widgets.LatentExplorer({"a": lambda z: torch.cumsum(z, 1)[:, :1, None, None].expand(-1, 1, 8, 8)}, torch.zeros(2), torch.eye(2))
    html = ex.static_html(steps=3)
    assert 'data-mode="sprite"' in html and "no operation" in _note(html)
    assert 'data-mode="sprite"' in ex.static_html(steps=3, continuous=False)

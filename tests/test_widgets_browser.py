"""The static widgets' decoders in Chromium: small seeded models rendered to a temporary page opened
via ``file://`` (no server), compared with the torch decoder pixel by pixel.

For every kind of widget of the chapters (AE with 3 sliders and in 2-D, GAN, the conditional GAN's
class selector, VAE, the AAE's prior selector, and a convolutional decoder), and for every weight
format once, it checks at 6 random slider positions each: the browser's decoded pixels
(``root.tlDecode``) against ``model.decode`` within
:data:`~thesis_lib.widgets.decoder_view.TOLERANCE`, and against the NumPy reference of the page's
own weights within 1e-5 (the JavaScript computes what the export says); the
canvas after moving the sliders equals the torch image (within the tolerance and the canvas's
rounding); keyboard moves and the selector change the image; no console errors; the page works
without JavaScript (the initial image). The decode time per slider move is printed and written,
with each widget's bytes and the measured max |Δ|, to ``_build/widget_decoders.json``; no time
is asserted.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import locked_json, widget_model
from pdf import CHROMIUM, CHROMIUM_FLAGS  # the one Chromium and its flags (scripts/pdf.py)

from thesis_lib import widgets
from thesis_lib.data import Dataset
from thesis_lib.widgets import decoder_export, decoder_view

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "_build" / "widget_decoders.json"
pytestmark = pytest.mark.browser


def _explorers() -> dict:
    priors = {name: widget_model("aae") for name in ("gaussian", "mixture", "swiss-roll")}
    for i, m in enumerate(priors.values()):  # three different decoders
        torch.manual_seed(i)
        for p in m.decoder.parameters():
            p.data.mul_(1 + 0.5 * torch.rand_like(p))
    g = torch.Generator().manual_seed(0)
    data = Dataset(
        "mnist", "test", torch.rand(300, 1, 28, 28, generator=g), torch.arange(300) % 10, 10
    )  # codes span the sliders, as in the chapters
    explorers = {
        "ae-3-sliders": widgets.explore(widget_model("ae"), data, n_sliders=3, n=300),
        "ae-2d": widgets.explore(widget_model("ae-2d"), data, n=300),  # a 2-D latent space: coordinates z1, z2
        "ae-conv": widgets.explore(widget_model("ae-conv")),
        "gan": widgets.explore(widget_model("gan")),
        "cgan": widgets.explore(widget_model("cgan")),
        "vae": widgets.explore(widget_model("vae"), data, n=300),
        "aae-priors": widgets.explore_priors(priors, data, n=300),
    }
    assert list(explorers) == WIDGETS
    return explorers


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def report():
    results: dict = {}
    yield results
    if results:
        with locked_json(REPORT) as old:  # tests/test_browser.py adds the book's widgets
            old["unit"] = results


def _page(browser, path: Path, javascript: bool = True):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    errors: list[str] = []
    # errors, and the widget's own warnings (missing weights); not Chromium's advice about the test's canvas reads
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" or "thesis_lib" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route(
        "**/*",
        lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:", "about:")) else r.abort(),
    )
    page.goto(path.as_uri())
    return context, page, errors


def _page_layers(html: str, cfg_option: dict) -> list[decoder_export.Layer]:
    """The float32 layers decoder.js rebuilds, from the page's own weights (the NumPy reference of the browser)."""
    blobs = dict(re.findall(r'class="tl-latent-weights" data-key="(\w+)">([^<]*)<', html))
    layers = []
    for js in cfg_option["layers"]:
        tensors = {}
        for name, ref in js["t"].items():
            raw, n = base64.b64decode(blobs[ref["k"]]), int(np.prod(ref["s"]))
            bits = decoder_export.bits(ref["f"])
            size = n * {"f32": 4, "f16": 2}[ref["f"]] if bits is None else -(-n * bits // 8)
            q = {"fmt": ref["f"], "shape": ref["s"], "data": raw[:size], "scales": raw[size:], "group": ref.get("g")}
            tensors[name] = decoder_export.dequantize(q)
        layers.append(decoder_export.Layer(js["op"], tensors, js.get("p", {})))
    return layers


WIDGETS = ["ae-3-sliders", "ae-2d", "ae-conv", "gan", "cgan", "vae", "aae-priors"]


FORCED = {"cgan-q6": "q6", "aae-priors-q7": "q7", "vae-q8": "q8", "gan-f16": "f16"}


@pytest.mark.parametrize("name", WIDGETS + list(FORCED))
def test_browser_decodes_like_torch(browser, report, tmp_path, monkeypatch, name):
    """Every kind of widget, in the format the rule gives it, and every format once (forced)."""
    if name in FORCED:
        monkeypatch.setattr(decoder_view, "FORMATS", (FORCED[name],))
    ex = _explorers()[name.rsplit("-", 1)[0] if name in FORCED else name]
    decoder_view.new_page()
    html = ex.static_html()
    assert 'data-mode="decoder"' in html, html[html.find("tl-latent-note") :][:300]
    path = tmp_path / f"{name}.html"
    path.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'></head><body>{html}</body></html>", encoding="utf-8"
    )
    context, page, errors = _page(browser, path)
    root = page.locator(".tl-latent")
    cfg = json.loads(page.evaluate("() => document.querySelector('script.tl-latent-data').textContent"))
    fmt = {t["f"] for opt in cfg["options"] for layer in opt["layers"] for k, t in layer["t"].items() if k == "W"} - {
        "f32"
    }
    assert len(fmt) <= 1 and (name not in FORCED or fmt == {FORCED[name]}), fmt
    fmt, tol = (fmt.pop() if fmt else "f32"), decoder_view.TOLERANCE  # a tiny decoder's weights all stay float32
    assert page.evaluate(
        "() => !!document.querySelector('canvas.tl-latent-canvas')"
        " && getComputedStyle(document.querySelector('img.tl-latent-image')).display === 'none'"
    )
    rng = np.random.default_rng(0)
    n = decoder_view.POSITIONS
    worst, worst_ref = 0.0, 0.0
    for _ in range(6):
        o = int(rng.integers(len(ex.option_names)))
        option = ex.option_names[o]
        ks = rng.integers(n, size=ex.n_sliders).tolist()
        values = [lo + (hi - lo) * k / (n - 1) for k, (lo, hi) in zip(ks, ex.slider_limits(option))]
        torch_img = ex.decode_at(option, values).numpy().reshape(-1)
        js = np.array(
            page.evaluate("([o, v]) => Array.from(document.querySelector('.tl-latent').tlDecode(o, v))", [o, values]),
            np.float32,
        )
        ref = decoder_export.run(_page_layers(html, cfg["options"][o]), np.asarray(values, np.float32))
        worst, worst_ref = (
            max(worst, float(np.abs(js - torch_img).max())),
            max(worst_ref, float(np.abs(js - ref).max())),
        )
        # the same point through the controls: the canvas shows it
        page.evaluate(
            """([o, ks]) => { const r = document.querySelector('.tl-latent'), s = r.querySelector('select');
            if (s) { s.selectedIndex = o; s.dispatchEvent(new Event('change')); }
            r.querySelectorAll('input[type=range]')
                .forEach((el, i) => { el.value = ks[i]; el.dispatchEvent(new Event('input')); }); }""",
            [o, ks],
        )
        assert root.get_attribute("data-position") == f"{o}:{','.join(map(str, ks))}"
        canvas = np.array(
            page.evaluate(
                "() => { const c = document.querySelector('canvas.tl-latent-canvas');"
                " return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
                ".filter((_, i) => i % 4 === 0); }"
            )
        )
        assert np.abs(canvas - np.round(np.clip(torch_img, 0, 1) * 255)).max() <= tol * 255 + 1
    assert worst <= tol, f"{name}: max |Δ| {worst * 255:.2f}/255 against torch ({fmt}, allowed {tol * 255:.0f}/255)"
    assert worst_ref <= 1e-5, f"{name}: the browser differs from the exported layers by {worst_ref}"
    # keyboard and selector
    slider = page.locator("input[type=range]").first
    before = page.evaluate("() => document.querySelector('canvas.tl-latent-canvas').toDataURL()")
    slider.focus()
    slider.press("Home")
    slider.press("ArrowRight")
    after = page.evaluate("() => document.querySelector('canvas.tl-latent-canvas').toDataURL()")
    assert after != before and root.get_attribute("data-position").split(":")[1].split(",")[0] == "1"
    if len(ex.option_names) > 1:
        current = page.evaluate("() => document.querySelector('.tl-latent select').selectedIndex")
        page.locator("select").select_option(index=(current + 1) % len(ex.option_names))
        assert page.evaluate("() => document.querySelector('canvas.tl-latent-canvas').toDataURL()") != after
    # decode time per slider move (reported, not asserted)
    times = page.evaluate("""() => { const r = document.querySelector('.tl-latent'),
        el = r.querySelector('input[type=range]');
        r.tlTimes.length = 0;
        for (let k = 0; k < 40; k++) { el.value = (k * 5) % 201; el.dispatchEvent(new Event('input')); }
        return r.tlTimes.slice(); }""")
    assert not errors, errors
    context.close()
    # without JavaScript: the initial image
    context, page, _ = _page(browser, path, javascript=False)
    assert page.evaluate(
        "() => { const i = document.querySelector('img.tl-latent-image');"
        " return i.complete && i.naturalWidth > 0 && i.offsetWidth > 0; }"
    )
    context.close()
    report[name] = {
        "format": fmt,
        "widget_bytes": len(html.encode()),
        "weight_bytes": _weight_bytes(html),
        "max_abs_diff_255": round(worst * 255, 3),
        "decode_ms_median": round(float(np.median(times)), 3),
        "decode_ms_max": round(float(np.max(times)), 3),
    }
    print(name, report[name])


def _weight_bytes(html: str) -> int:
    return int(re.search(r'data-weight-bytes="(\d+)"', html).group(1))


def test_two_widgets_of_one_model_share_its_weights_in_the_browser(browser, tmp_path):
    """A second widget of the same model and axes refers to the first one's weights; a third (other axes,
    so other folded and pruned weights) brings its own; all three decode on one page."""
    m = widget_model("cgan")
    decoder_view.new_page()
    first, second, third = (
        widgets.explore(m).static_html(),
        widgets.explore(m).static_html(),
        widgets.explore(m, seed=1).static_html(),
    )
    assert 'class="tl-latent-weights"' not in second and 'class="tl-latent-weights"' in third
    path = tmp_path / "shared.html"
    path.write_text(f"<!doctype html><html><body>{first}{second}{third}</body></html>", encoding="utf-8")
    context, page, errors = _page(browser, path)
    n_scripts = first.count('class="tl-latent-weights"') + third.count('class="tl-latent-weights"')
    assert page.evaluate("() => document.querySelectorAll('script.tl-latent-weights').length") == n_scripts
    assert page.evaluate("() => document.querySelectorAll('canvas.tl-latent-canvas').length") == 3 and not errors
    for i, ex in ((1, widgets.explore(m)), (2, widgets.explore(m, seed=1))):
        js = np.array(
            page.evaluate(f"() => Array.from(document.querySelectorAll('.tl-latent')[{i}].tlDecode(2, [0.5, -0.5]))")
        )
        assert np.abs(js - ex.decode_at("2", [0.5, -0.5]).numpy().reshape(-1)).max() <= decoder_view.TOLERANCE
    context.close()

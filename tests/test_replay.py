"""Training replays: the snapshots a run records of itself (``thesis_lib/snapshots.py``) and the replay widget
(``thesis_lib/widgets/replay.py``, ``replay_frames.py``, ``replay.js``).

Recording: the schedule; weights bit-identical with and without the recorder; a resumed run ends with the same
weights and snapshots as an uninterrupted one; a cached run serves its snapshots without training. The widget: the
live view's slider changes its image; the static HTML within its byte budget; in Chromium (from ``file://``,
nothing from the network) the slider shows the recorded uint8 pixels, the words follow the page's language, and
print shows the strip.
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import browser_support
import numpy as np
import pytest
import torch
from helpers import QUIET, assert_same, tiny_ae, tiny_gan, tiny_vae

import thesis_lib as tl
from thesis_lib.callbacks import StopAfter
from thesis_lib.data import load_dataset
from thesis_lib.snapshots import SNAPSHOTS, Snapshots, load_snapshots, save_snapshots, snapshot_steps, thin
from thesis_lib.widgets import replay_frames
from thesis_lib.widgets.replay import REPLAY_MAX_BYTES, STRIP, replay


# ============================================================================ the schedule
def test_schedule_starts_before_training_is_dense_early_and_ends_at_the_last_step():
    steps = snapshot_steps(390, 5)  # the AE chapter: 5 epochs of 390 iterations
    assert steps[0] == 0 and steps[-1] == 5 * 390
    assert steps == sorted(set(steps))
    assert 40 <= len(steps) <= 60, len(steps)
    early = [s for s in steps if s <= 300]
    assert len(early) >= 20, early  # the first few hundred steps, where a GAN's game is decided
    assert {1, 2, 4, 8, 16, 32, 64, 128, 256, 300} <= set(early)
    assert all(e * 390 in steps for e in range(1, 6)), "every epoch's end"
    late = np.diff([s for s in steps if s > 300])
    assert late.max() <= 390, "at least one snapshot per epoch"


@pytest.mark.parametrize("ipe, epochs", [(195, 35), (781, 4), (500, 6), (8, 2), (1, 1)])
def test_schedule_size_for_the_chapters_and_tiny_runs(ipe, epochs):
    steps = snapshot_steps(ipe, epochs)
    assert steps[0] == 0 and steps[-1] == ipe * epochs and all(0 <= s <= ipe * epochs for s in steps)
    assert len(steps) <= 60
    if ipe * epochs > 1000:
        assert len(steps) >= 40


def test_thin_keeps_evenly_spaced_snapshots_the_first_and_the_last():
    d = {"steps": list(range(0, 100, 10)), "epochs": [s / 100 for s in range(0, 100, 10)],
         "samples": torch.arange(10).view(10, 1), "format": 1}  # fmt: skip
    t = thin(d, 4)
    assert t["steps"] == [0, 30, 60, 90] and t["samples"].flatten().tolist() == [0, 3, 6, 9] and t["format"] == 1
    assert thin(d, 20)["steps"] == d["steps"] and len(thin(d, 2)["steps"]) == 2
    with pytest.raises(ValueError, match="n 1"):
        thin(d, 1)


def test_schedule_refuses_an_empty_epoch():
    with pytest.raises(ValueError, match="iterations_per_epoch=0"):
        snapshot_steps(0, 3)


# ============================================================================ recording never changes training
def _weights(run) -> dict:
    return {k: v.clone() for k, v in run.model.state_dict().items()}


@pytest.mark.parametrize("make", [tiny_vae, tiny_gan, tiny_ae], ids=["vae", "gan", "ae"])
def test_recording_leaves_the_weights_bit_identical(make, mnist_small, tmp_path):
    cfg = make(latent_dim=2)
    without = tl.train(cfg, tmp_path / "a", data=mnist_small, snapshots=False, **QUIET)
    assert not (tmp_path / "a" / SNAPSHOTS).exists()
    recorded = tl.train(cfg, tmp_path / "b", data=mnist_small, **QUIET)
    assert_same(_weights(recorded), _weights(without), "weights")
    for name in recorded.optimizers:
        assert_same(recorded.optimizers[name].state_dict(), without.optimizers[name].state_dict(), name)
    s = load_snapshots(tmp_path / "b")
    assert s["steps"] == snapshot_steps(recorded.iterations_per_epoch(), 2)
    assert s["samples"].dtype == torch.uint8 and s["samples"].shape[:2] == (len(s["steps"]), 16)
    # the model changes between snapshots, and the snapshot at the end is the trained model's
    assert not torch.equal(s["samples"][0], s["samples"][-1])
    g = torch.Generator().manual_seed(0)
    final = (recorded.model.sample(16, generator=g).clamp(0, 1) * 255).round().to(torch.uint8)
    assert torch.equal(s["samples"][-1], final)
    if recorded.model.has_encoder:
        assert s["reconstructions"].shape[:2] == (len(s["steps"]), 8) and s["inputs"].shape[0] == 8
        assert s["codes"].dtype == torch.float16 and s["codes"].shape == (len(s["steps"]), 1000, 2)
        assert s["labels"].shape == (1000,)
    else:
        assert "reconstructions" not in s and "codes" not in s


def test_the_file_is_plain_tensors_read_with_weights_only(mnist_small, tmp_path):
    tl.train(tiny_ae(), tmp_path, data=mnist_small, **QUIET)
    raw = torch.load(tmp_path / SNAPSHOTS, weights_only=True)
    assert raw["model"] == "ae" and raw["format"] == 1 and "codes" not in raw  # a 3-D code has no map
    assert not list(tmp_path.glob("*.tmp")), "written atomically"


@pytest.mark.parametrize(
    "make, stop_at", [(tiny_gan, 3), (tiny_vae, 5), (tiny_vae, 8)], ids=["gan", "vae", "vae-epoch"]
)
def test_resumed_run_ends_with_the_weights_and_snapshots_of_an_uninterrupted_one(make, stop_at, mnist_small, tmp_path):
    cfg = make(latent_dim=2)
    straight = tl.train(cfg, tmp_path / "straight", data=mnist_small, **QUIET)
    first = tl.train(cfg, tmp_path / "resumed", callbacks=[StopAfter(stop_at)], data=mnist_small, **QUIET)
    assert first.interrupted
    partial = load_snapshots(tmp_path / "resumed")
    if stop_at % first.iterations_per_epoch():
        assert partial["steps"][-1] == stop_at
        # the snapshot is the model at that step as sampling in eval mode gives it (G's batch norm: running statistics)
        final = (first.model.sample(16, generator=torch.Generator().manual_seed(0)).clamp(0, 1) * 255).round()
        assert torch.equal(partial["samples"][-1], final.to(torch.uint8))
    else:  # stopped at an epoch's last step, before the epoch's end: that step is recorded after the resume
        assert partial["steps"][-1] == stop_at - 1
    resumed = tl.train(cfg, tmp_path / "resumed", resume=True, data=mnist_small, **QUIET)
    assert_same(_weights(resumed), _weights(straight), "weights")
    assert_same(load_snapshots(tmp_path / "resumed"), load_snapshots(tmp_path / "straight"), "snapshots")


def test_snapshots_beyond_the_checkpoint_are_recorded_again(mnist_small, tmp_path):
    """A crash after the snapshots were written but before the checkpoint: the resumed run keeps only those up to
    the checkpoint's step and records the rest again, so it still ends as an uninterrupted run."""
    cfg = tiny_vae(latent_dim=2)
    straight = load_snapshots(tl.train(cfg, tmp_path / "a", data=mnist_small, **QUIET).out_dir)
    tl.train(cfg, tmp_path / "b", callbacks=[StopAfter(4)], data=mnist_small, **QUIET)
    stale = dict(straight)  # a file that ran ahead of the checkpoint, with wrong pictures after step 4
    stale["samples"] = straight["samples"].clone()
    stale["samples"][5:] = 0
    save_snapshots(stale, tmp_path / "b" / SNAPSHOTS)
    tl.train(cfg, tmp_path / "b", resume=True, data=mnist_small, **QUIET)
    assert_same(load_snapshots(tmp_path / "b"), straight)


def test_a_fresh_run_into_an_old_folder_records_afresh(mnist_small, tmp_path):
    tl.train(tiny_gan(seed=1), tmp_path, data=mnist_small, **QUIET)
    tl.train(tiny_gan(seed=2), tmp_path, data=mnist_small, **QUIET)  # not resumed: a new run in the same folder
    tl.train(tiny_gan(seed=2), tmp_path / "clean", data=mnist_small, **QUIET)
    assert_same(load_snapshots(tmp_path), load_snapshots(tmp_path / "clean"))


@pytest.mark.slow
def test_a_cached_run_serves_its_snapshots_without_training(require_mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("THESIS_LIB_RUNS", str(tmp_path))
    cfg = tiny_vae(latent_dim=2, epochs=1, batch_size=2048)
    first = tl.train(cfg, cache=True, progress=False, device="cpu")
    recorded = load_snapshots(first.out_dir)
    calls = []
    monkeypatch.setattr(tl.Trainer, "fit", lambda self: calls.append(1))
    again = tl.train(cfg, cache=True, progress=False, device="cpu")
    assert not calls, "the cached run was trained again"
    assert again.out_dir == first.out_dir
    r = replay(again)
    assert_same(r.snapshots, recorded)
    assert len(r) == len(snapshot_steps(first.iterations_per_epoch(), 1))


def test_in_memory_recorder_and_bad_sources(mnist_small, tmp_path):
    rec = Snapshots()
    run = tl.train(tiny_gan(), data=mnist_small, callbacks=[rec], **QUIET)
    assert len(replay(run)) == len(rec.to_dict()["steps"]) > 2
    with pytest.raises(ValueError, match="recorded no snapshots"):
        replay(tl.train(tiny_gan(), data=mnist_small, **QUIET))
    with pytest.raises(ValueError, match="source is a int"):
        replay(3)
    with pytest.raises(FileNotFoundError, match="no training snapshots"):
        replay(tmp_path)
    with pytest.raises(ValueError, match="n_samples=0"):
        Snapshots(n_samples=0)


def test_toy_data_records_points(tmp_path):
    data = load_dataset("mixture-2d", "train").subset(512)
    run = tl.train(tl.GANConfig(dataset="mixture-2d", g_hidden=(16,), d_hidden=(16,)), tmp_path, data=data, **QUIET)
    s = load_snapshots(tmp_path)
    assert not s["images"] and s["samples"].dtype == torch.float16 and s["samples"].shape[1:] == (500, 2)
    html = replay(run).static_html()
    assert 'data-panel="points"' in html


# ============================================================================ the widget
def synthetic(n: int = 50, seed: int = 0) -> dict:
    """A snapshots dict like an MNIST VAE's with a 2-D code, from random numbers (no training)."""
    g = torch.Generator().manual_seed(seed)
    steps = snapshot_steps(195, 35)[:n]
    digits = (torch.rand(16, 1, 28, 28, generator=g) > 0.8).float()
    fade = torch.linspace(0, 1, len(steps)).view(-1, 1, 1, 1, 1)
    samples = ((1 - fade) * 0.5 + fade * digits) * 255
    return {
        "format": 1,
        "model": "vae",
        "dataset": "mnist",
        "images": True,
        "iterations_per_epoch": 195,
        "seed": 0,
        "steps": steps,
        "epochs": [s / 195 for s in steps],
        "samples": samples.round().to(torch.uint8),
        "inputs": (digits[:8] * 255).to(torch.uint8),
        "reconstructions": samples[:, :8].round().to(torch.uint8),
        "codes": (torch.randn(len(steps), 1000, 2, generator=g) * fade.view(-1, 1, 1) * 3).half(),
        "labels": torch.arange(1000) % 10,
    }


def test_grid_layout_places_each_tile():
    imgs = np.arange(5 * 3 * 4, dtype=np.uint8).reshape(5, 3, 4)
    pic = replay_frames.grid(imgs, 2)
    g = replay_frames.GAP
    assert pic.shape == (3 * 3 + 2 * g, 2 * 4 + g)
    for t in range(5):
        r, c = divmod(t, 2)
        assert np.array_equal(pic[r * (3 + g) : r * (3 + g) + 3, c * (4 + g) : c * (4 + g) + 4], imgs[t])
    assert (pic[2 * (3 + g) :, 4 + g :] == 0).all(), "the unused cell is black"


def test_live_widget_slider_changes_its_images():
    r = replay(synthetic())
    box = r.widget()
    assert box.slider.value == len(r) - 1 and box.slider.max == len(r) - 1
    last = {p: img.value for p, img in box.images.items()}
    box.slider.value = 0
    assert box.readout.value == "step 0, epoch 0.00"
    for p in ("samples", "reconstructions", "codes"):
        assert box.images[p].value != last[p], p
    box.slider.value = len(r) - 1
    assert {p: img.value for p, img in box.images.items()} == last


def test_static_replay_fits_its_budget_and_says_what_it_carries():
    r = replay(synthetic())
    html = r.static_html()
    assert len(html.encode()) <= REPLAY_MAX_BYTES
    count = int(re.search(r'data-count="(\d+)"', html).group(1))
    assert 2 <= count <= len(r)
    assert f"{count} of the run's {len(r)} snapshots" in html.replace("&#x27;", "'")
    small = r.static_html(max_bytes=60_000)
    assert len(small.encode()) <= 60_000
    assert int(re.search(r'data-count="(\d+)"', small).group(1)) < count
    cfg = json.loads(re.search(r'class="tl-replay-data">(.*?)</script>', small).group(1))
    assert cfg["steps"][0] == 0 and cfg["steps"][-1] == r.snapshots["steps"][-1], "first and last always carried"
    assert "http" not in re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", small), "nothing from the network"


def test_replay_from_a_file_and_a_dict_agree(tmp_path):
    s = synthetic(10)
    save_snapshots(s, tmp_path / SNAPSHOTS)
    assert replay(tmp_path / SNAPSHOTS).static_html(number=1) == replay(s).static_html(number=1)
    with pytest.raises(ValueError, match="no 'samples'"):
        replay({"steps": [0], "epochs": [0.0]})


# ============================================================================ in Chromium
def _png_pixels(b64: str) -> np.ndarray:
    from PIL import Image

    img = Image.open(io.BytesIO(base64.b64decode(b64)))
    return np.array(img.convert("L"))


def _open(browser, tmp_path: Path, html: str, lang: str = "en"):
    path = tmp_path / f"replay-{lang}.html"
    path.write_text(f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"></head><body>{html}</body></html>')
    page = browser.new_page()
    errors, outside = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    def route(r):
        if r.request.url.startswith(("file:", "data:", "about:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    return page, errors, outside


# the canvas reads the shown image's pixels at its natural size (grey: the red channel)
PIXELS = """(panel) => { const i = document.querySelector('img.tl-replay-frame[data-panel="' + panel + '"]');
    const c = document.createElement('canvas'); c.width = i.naturalWidth; c.height = i.naturalHeight;
    const x = c.getContext('2d'); x.drawImage(i, 0, 0);
    return new Promise(done => i.complete ? done() : i.onload = done).then(() => { x.drawImage(i, 0, 0);
        return [c.width, c.height, Array.from(x.getImageData(0, 0, c.width, c.height).data)]; }); }"""


@pytest.mark.browser
def test_static_replay_in_chromium_shows_the_recorded_pixels(browser, tmp_path):
    s = synthetic()
    r = replay(s, max_bytes=None)  # every snapshot, 8-bit: the page's pixels are the recorded uint8
    page, errors, outside = _open(browser, tmp_path, r.static_html())
    root = page.locator(".tl-replay")
    assert root.get_attribute("data-ready") == "1"
    slider = page.locator(".tl-replay input[type=range]")
    for i in (0, 1, 7, len(r) - 1):
        slider.fill(str(i))  # as a reader's move: an input event
        assert root.get_attribute("data-index") == str(i)
        w, h, data = page.evaluate(PIXELS, "samples")
        shown = np.array(data, dtype=np.uint8).reshape(h, w, 4)[..., 0]
        assert np.array_equal(shown, replay_frames.grid(s["samples"][i].numpy(), 4)), f"snapshot {i}"
        w, h, data = page.evaluate(PIXELS, "reconstructions")
        shown = np.array(data, dtype=np.uint8).reshape(h, w, 4)[..., 0]
        assert np.array_equal(shown, replay_frames.grid(s["reconstructions"][i].numpy(), 8)), f"snapshot {i}"
        assert page.locator(".tl-replay output").text_content() == r.when(i)
        assert r.when(i) in page.locator('img.tl-replay-frame[data-panel="codes"]').get_attribute("alt")
    slider.focus()
    page.keyboard.press("Home")  # the keyboard moves it too
    assert root.get_attribute("data-index") == "0"
    page.locator(".tl-replay button").click()
    page.wait_for_function("() => +document.querySelector('.tl-replay').dataset.index >= 2", timeout=5000)
    assert not errors and not outside, (errors, outside)
    page.set_viewport_size({"width": 390, "height": 800})  # a phone: nothing sticks out sideways
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    right = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('.tl-replay *')].map(e => e.getBoundingClientRect().right))"
    )
    assert right <= 390, right


@pytest.mark.browser
def test_static_replay_speaks_slovene_and_prints_a_strip(browser, tmp_path):
    r = replay(synthetic())
    page, errors, _ = _open(browser, tmp_path, r.static_html(), lang="sl")
    text = page.locator(".tl-replay").inner_text()
    assert "Potek učenja: VAE" in text and "korak učenja" in text and "epoha" in text, text
    assert "predvajaj" in text and "Training" not in text and "step" not in text, text
    assert page.locator(".tl-replay-strip").is_hidden()
    page.emulate_media(media="print")
    assert page.locator(".tl-replay-live").is_hidden() and page.locator(".tl-replay-strip").is_visible()
    cards = page.locator(".tl-replay-strip > div")
    assert cards.count() == STRIP
    assert cards.first.inner_text().startswith("korak 0,") and cards.nth(STRIP - 1).locator("img").count() == 3
    assert page.evaluate("() => [...document.querySelectorAll('.tl-replay-strip img')].every(i => i.complete && i.alt)")
    assert not errors, errors


def test_replay_formats_as_one_bundle_that_glue_can_store(monkeypatch):
    """IPython formats the replay through its mime bundle (no ``_ipython_display_``, which would display it instead
    and leave myst-nb's ``glue`` an empty bundle): the live widget, and in the book build the static HTML."""
    from IPython.core.formatters import format_display_data

    r = replay(synthetic(6))
    monkeypatch.delenv("THESIS_LIB_STATIC_WIDGETS", raising=False)
    bundle, _ = format_display_data(r)
    assert "application/vnd.jupyter.widget-view+json" in bundle and "text/html" not in bundle
    monkeypatch.setenv("THESIS_LIB_STATIC_WIDGETS", "1")
    bundle, _ = format_display_data(r)
    assert 'class="tl-replay mathjax_ignore"' in bundle["text/html"]
    assert bundle["text/plain"] == "<Replay: Training replay: VAE, 6 snapshots>"
    with pytest.raises(ValueError, match="name=''"):
        r.glue("")


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "sl"])
def test_static_replay_passes_axe(browser, tmp_path, lang):
    """axe-core's WCAG 2.0/2.1 A and AA rules, as on the book's pages."""
    page, errors, _ = _open(browser, tmp_path, replay(synthetic(8)).static_html(), lang=lang)
    violations = browser_support.axe(page, ".tl-replay")
    assert not violations, browser_support.describe(violations)
    assert not errors, errors

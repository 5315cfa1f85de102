"""The library's structure: one shared model vocabulary, no import cycles, small modules, one
source for each fact (datasets, the static widget's JavaScript, the module map)."""

from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

import pytest
import tomllib
import torch

import thesis_lib
from thesis_lib import cache
from thesis_lib.config import AAEConfig, AEConfig, GANConfig, VAEConfig
from thesis_lib.models import build_model
from thesis_lib.models.base import GenerativeModel

LIBRARY = Path(thesis_lib.__file__).parent
ROOT = LIBRARY.parent
MODULES = sorted(
    p.relative_to(LIBRARY).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")
    for p in LIBRARY.rglob("*.py")
)
OUTER = [
    p
    for p in LIBRARY.rglob("*.py")
    if p.relative_to(LIBRARY).parts[0] in ("latent.py", "diagnosis.py", "evidence.py", "plots", "widgets", "metrics")
]
MAX_LINES = 450


# ----------------------------------------------------------------------------- structure
def test_no_module_is_longer_than_the_limit():
    long = {
        p.relative_to(LIBRARY).as_posix(): n
        for p in LIBRARY.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long


def test_the_library_has_no_import_cycle():
    graph = {m: cache.imports_of(m) for m in MODULES}
    state: dict[str, int] = {}

    def visit(m, path):
        state[m] = 1
        for n in graph.get(m, []):
            assert state.get(n) != 1, " -> ".join([*path, m, n])
            if n not in state:
                visit(n, [*path, m])
        state[m] = 2

    for m in MODULES:
        if m not in state:
            visit(m, [])
    assert "trainer" in cache.imports_of("callbacks") and "callbacks" not in cache.imports_of(
        "trainer"
    )  # the Callback hooks live in the trainer


def test_import_graph_reads_relative_and_package_imports():
    assert set(cache.imports_of("models.vae")) >= {"losses", "config", "data", "nets", "models.base"}
    assert "widgets.live" in cache.imports_of("widgets.explorer") and "widgets.static" in cache.imports_of(
        "widgets.explorer"
    )
    assert "priors" not in cache.imports_of("api")  # under `if TYPE_CHECKING:` only: never imported at run time


def test_outer_modules_never_ask_which_model_they_hold():
    """latent, diagnosis, evidence, plots, widgets and metrics use the shared vocabulary only (models/base.py)."""
    forbidden = re.compile(
        r"hasattr\(|getattr\(|\.config\.(conditional|encoder|prior|label_prior|model\s*==)|==\s*[\"'](ae|gan|vae|aae)[\"']"
        r"|isinstance\([^)]*(GAN|VAE|Autoencoder|AdversarialAutoencoder|Prior)\b"
    )
    found = []
    for path in OUTER:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and re.search(
                r"models\.(ae|gan|vae|aae)$|^priors$|\.priors$", node.module or ""
            ):
                found.append(f"{path.relative_to(LIBRARY)}: imports {node.module}")
        for i, line in enumerate(path.read_text().splitlines(), start=1):
            if forbidden.search(line):
                found.append(f"{path.relative_to(LIBRARY)}:{i}: {line.strip()}")
    assert not found, "\n".join(found)


def test_architecture_md_names_every_module():
    text = (ROOT / "ARCHITECTURE.md").read_text()
    missing = []
    for path in sorted(LIBRARY.rglob("*.py")):
        rel = path.relative_to(LIBRARY)
        name = rel.parent.as_posix() + "/" if rel.name == "__init__.py" else rel.as_posix()
        if name != "./" and f"{name}" not in text:
            missing.append(name)
    assert not missing, missing
    assert "static.js" in text


def test_static_widget_script_is_package_data_shipped_in_the_wheel():
    from thesis_lib.widgets import static

    assert (LIBRARY / "widgets" / "static.js").is_file()
    assert "thesisLibLatent" in static.script() and "http" not in static.script()
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["thesis_lib"]
    assert any(fnmatch.fnmatch("widgets/static.js", pattern) for pattern in data), data


def test_datasets_are_listed_once():
    from thesis_lib import cli, data
    from thesis_lib.config import choices, field_types
    from thesis_lib.metrics.classifier import MIN_ACCURACY

    assert choices(field_types(VAEConfig)["dataset"]) == data.DATASETS == (*data.IMAGE_DATASETS, *data.TOY_DATASETS)
    assert set(MIN_ACCURACY) == set(data.IMAGE_DATASETS) == set(data.TORCHVISION_NAMES) == set(data.CLASS_NAMES)
    real = next(
        a for a in cli.build_parser()._subparsers._group_actions[0].choices["evaluate"]._actions if a.dest == "real"
    )
    assert tuple(real.choices) == data.IMAGE_DATASETS


# ----------------------------------------------------------------------------- the vocabulary
TINY = {
    "ae": AEConfig(hidden_dims=(16,), latent_dim=3),
    "gan": GANConfig(latent_dim=4, g_hidden=(16,), d_hidden=(16,)),
    "cgan": GANConfig(latent_dim=4, g_hidden=(16,), d_hidden=(16,), conditional=True),
    "vae": VAEConfig(hidden_dims=(16,), latent_dim=3),
    "aae": AAEConfig(hidden_dims=(16,), d_hidden=(8,)),
    "aae-gaussian": AAEConfig(hidden_dims=(16,), d_hidden=(8,), encoder="gaussian", latent_dim=3),
    "aae-label": AAEConfig(hidden_dims=(16,), d_hidden=(8,), prior="mixture", label_prior=True),
}


@pytest.mark.parametrize("name", list(TINY))
def test_every_model_speaks_the_vocabulary(name):
    from thesis_lib.metrics import METRICS

    model = build_model(TINY[name]).eval()
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    labels = torch.arange(5) % model.n_classes
    z = model.sample_prior(5, labels, generator=g())
    assert z.shape == (5, model.latent_dim)
    with torch.no_grad():
        x = model.decode(z, labels)
        assert x.shape == (5, *model.data_shape) and 0 <= x.min() and x.max() <= 1
        # sample() is decode(sample_prior()), with the classes cycled when sampling can choose them
        assert torch.equal(model.sample(5, labels if model.class_conditional else None, generator=g()), x)
        if model.has_encoder:
            assert torch.equal(model.embed(x), model.embed(x)) and model.embed(x).shape == (5, model.latent_dim)
            assert model.encode(x).shape == (5, model.latent_dim)
        else:
            with pytest.raises(NotImplementedError, match="no encoder"):
                model.embed(x)
    assert set(model.metric_groups) <= set(METRICS) and {"parzen", "quality"} <= set(model.metric_groups)
    assert ("reconstruction" in model.metric_groups) == model.has_encoder
    assert ("likelihood" in model.metric_groups) == model.has_posterior == (name in ("vae", "aae-gaussian"))
    if model.defines_likelihood:  # a decoder density and a prior density: p(x) is defined
        with torch.no_grad():
            zz = model.sample_prior(3, generator=g())[None].expand(2, 3, -1)
            assert model.log_prior(zz).shape == model.log_px_given_z(x[:3], zz).shape == (2, 3)
    if model.has_posterior:
        with torch.no_grad():
            t = model.elbo(x, n_samples=2, estimator="B")
            log_px_z, log_pz, log_qz = model.log_weights(x, 4)
        assert t.elbo.shape == t.kl.shape == (5,) and bool((t.kl >= 0).all())
        assert log_px_z.shape == log_pz.shape == log_qz.shape == (4, 5)
    assert model.has_bernoulli_decoder == (name in ("ae", "vae", "aae", "aae-gaussian", "aae-label"))
    if model.has_bernoulli_decoder:
        with torch.no_grad():
            logits = model.bernoulli_logits(torch.stack([z, z]))
        assert logits.shape == (2, 5, *model.data_shape) and torch.allclose(
            torch.sigmoid(logits[0]), x
        )  # decode is σ(logits)
    else:
        with pytest.raises(NotImplementedError, match="no Bernoulli decoder"):
            model.bernoulli_logits(z)
    assert model.needs_labels == (name == "cgan") and model.class_conditional == (name in ("cgan", "aae-label"))
    assert len(model.class_names) == model.n_classes and isinstance(model.prior_name, str)


def test_a_new_model_gets_explorers_plots_and_metrics_from_the_vocabulary():
    """A model the outer modules have never heard of: a linear decoder of a 2-D N(0, I)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from thesis_lib import latent, plots, widgets
    from thesis_lib.data import Dataset

    class Linear(GenerativeModel):
        config_class = VAEConfig

        def __init__(self):
            super().__init__(VAEConfig(latent_dim=2, hidden_dims=(1,)))
            self.decoder = torch.nn.Linear(2, 784)
            self.encoder = torch.nn.Linear(784, 2)

        def embed(self, x):
            return self.encoder(x.flatten(1))

        def decode(self, z, labels=None):
            return torch.sigmoid(self.decoder(z)).view(-1, 1, 28, 28)

        def sample_prior(self, n, labels=None, generator=None):
            return self._randn(n, 2, generator=generator)

    model = Linear().eval()
    data = Dataset("mnist", "test", torch.rand(50, 1, 28, 28), torch.arange(50) % 10, 10)
    ex = widgets.explore(model, data, n=50)
    assert ex.decode_at(ex.option_names[0], [0.0, 0.0]).shape == (28, 28) and ex.title.startswith("Linear:")
    assert widgets.explore(model).static_html(steps=3, max_bytes=None).startswith('<div id="tl-latent-')
    for fig in (
        plots.latent_scatter(model, data, n=50),
        plots.show_reconstructions(model, data, n=4),
        plots.samples_per_class(model, 2),
    ):
        plt.close(fig)
    assert latent.latent_grid(model, steps=3).shape == (9, 1, 28, 28)
    assert model.metric_groups == ("parzen", "quality", "reconstruction")

"""Make ``docs/samples.png``, the README's picture: samples of the four chapter models.

Uses each model's default config (the chapter's settings) through ``train(..., cache=True)``,
so after the book has been built this only loads the cached runs.

    python scripts/readme_figure.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from thesis_lib import AAEConfig, AEConfig, GANConfig, VAEConfig, plots, train  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "samples.png"


def main() -> None:
    configs = [
        ("1.1 autoencoder", AEConfig()),
        ("1.2 GAN", GANConfig()),
        ("1.3 VAE", VAEConfig()),
        ("1.4 AAE", AAEConfig()),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.8), layout="constrained")
    for ax, (title, config) in zip(axes, configs):
        model = train(config, cache=True, progress=False).model
        x = model.sample(36, generator=torch.Generator().manual_seed(0))
        plots.show_images(x, nrow=6, ax=ax, title=title)
    OUT.parent.mkdir(exist_ok=True)
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

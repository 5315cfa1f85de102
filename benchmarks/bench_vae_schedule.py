"""Which VAE schedule gives the chapter its best samples for the time? The judge's Fréchet distance per schedule.

Each variant trains the VAE chapter's model (``VAEConfig()``, 32-D, estimator B) with a different
schedule, draws 10,000 samples from the prior (seeded) and scores them with the MNIST judge
(``metrics.sample_quality``): Fréchet distance (lower is better), MNIST score, the share of
samples the judge is confident about, the final validation -ELBO and the seconds of training.
Runs go to the run cache (``$THESIS_LIB_RUNS``), so a variant already trained is only scored.

    THESIS_LIB_DATA=/path/to/data python benchmarks/bench_vae_schedule.py [VARIANT ...]

Results are appended to ``benchmarks/results/vae_schedule.jsonl`` (one line per variant, with the
machine's load, the torch version and the commit). Seconds are only comparable within one quiet
run; the scores do not depend on the machine.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from thesis_lib import VAEConfig, metrics, train  # noqa: E402
from thesis_lib.data import load_dataset  # noqa: E402

VARIANTS = {
    "15 epochs, 128, lr 1e-3": dict(epochs=15, batch_size=128, lr=1e-3),
    "35 epochs, 128, lr 1e-3": dict(epochs=35, batch_size=128, lr=1e-3),
    "15 epochs, 128, lr 2e-3": dict(epochs=15, batch_size=128, lr=2e-3),
    "20 epochs, 128, lr 2e-3": dict(epochs=20, batch_size=128, lr=2e-3),
    "25 epochs, 128, lr 2e-3": dict(epochs=25, batch_size=128, lr=2e-3),
    "35 epochs, 256, lr 2e-3": dict(epochs=35, batch_size=256, lr=2e-3),
    "35 epochs, 256, lr 2e-3, seed 1": dict(epochs=35, batch_size=256, lr=2e-3, seed=1),
}
RESULTS = REPO / "benchmarks" / "results" / "vae_schedule.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "variants", nargs="*", metavar="VARIANT", help=f"default: all of {', '.join(map(repr, VARIANTS))}"
    )
    args = parser.parse_args()
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant {unknown[0]!r}; choose from {', '.join(map(repr, VARIANTS))}")
    test = load_dataset("mnist", "test").x
    judge = metrics.load_classifier("mnist", progress=False)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
    ).stdout.strip()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    for name in args.variants or list(VARIANTS):
        load = os.getloadavg()[0]
        run = train(VAEConfig(), cache=True, progress=False, **VARIANTS[name])
        samples = run.model.sample(10_000, generator=torch.Generator().manual_seed(0))
        q = metrics.sample_quality(judge, samples, test)
        row = {
            "variant": name,
            "fid": round(q["fid"], 2),
            "mnist_score": round(q["mnist_score"], 2),
            "confident_share": round(q["confident_share"], 3),
            "val_neg_elbo": round(run.history.epochs["val/-elbo"][-1], 2),
            "train_seconds": round(sum(run.history.train_seconds), 1),
            "load_before": round(load, 2),
            "torch": str(torch.__version__),
            "commit": commit,
            "when": datetime.datetime.now().isoformat(timespec="seconds"),
        }
        print(json.dumps(row), flush=True)
        with RESULTS.open("a") as f:
            f.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

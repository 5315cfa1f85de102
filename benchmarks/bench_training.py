"""Can the chapters train faster per epoch without training less? Candidates, measured as ratios in one run.

For each chapter's model (its default config and schedule: ``AEConfig()``, ``GANConfig()``,
``VAEConfig()``, ``AAEConfig()``) the script trains one epoch on the first ``--images`` training
images in several variants, interleaved (v1, v2, ..., v1, v2, ...) for ``--repeats`` rounds, and
reports each variant's median seconds per epoch as a ratio to the baseline (the trainer as it
is). A ratio below 1 is faster. Timing on a shared 2-core machine is noisy, which is why only
ratios from the same run are reported, never seconds against a limit.

The candidates:

* ``no flush``: the trainer without :func:`thesis_lib.trainer.flush_denormals` (subnormal floats
  take the CPU's slow path; the trainer flushes them to zero while it trains);
* ``1 thread``: ``torch.set_num_threads(1)`` instead of torch's default (2 here);
* ``batch x2``: twice the minibatch size (half the steps; the learning rate is not changed, so
  this one trains a different model: it only measures the throughput a larger batch would buy);
* ``compile``: ``torch.compile`` on every network of the model (the first round's compilation
  is reported apart, as ``compile_seconds``);
* ``validate``: the same epoch followed by the trainer's validation pass on 10,000 images;
* ``bfloat16``: the epoch under ``torch.autocast("cpu", dtype=torch.bfloat16)`` (matrix products and
  convolutions in bfloat16, the weights and the optimiser in float32), the lower precision a CPU with
  AVX-512 BF16 multiplies in hardware (measured slower even there, at these layer sizes: ``README.md``);
* ``channels last``: the model's weights in ``torch.channels_last`` memory format (only the
  convolutional models have 4-D weights; ``ae-conv`` is the AE chapter's convolutional autoencoder).

    THESIS_LIB_DATA=/work/shared/data python benchmarks/bench_training.py \\
        [--images 12800] [--repeats 3] [--models ae vae]

Results go to ``benchmarks/results/training.json`` or ``--out`` (with the machine, the torch version and the
git commit). The default variants are the first six; ``bfloat16`` and ``channels last`` run when named::

    python benchmarks/bench_training.py --models ae-conv vae gan --variants bfloat16 "channels last" \\
        --out benchmarks/results/training_precision.json
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # benchmark the working tree's thesis_lib
sys.path.insert(0, str(REPO / "scripts"))  # store_judge.cpu: the CPU as far as it changes the floats

from store_judge import cpu  # noqa: E402

from thesis_lib import AAEConfig, AEConfig, GANConfig, VAEConfig, build_model, load_dataset, run_config  # noqa: E402
from thesis_lib import trainer as trainer_module  # noqa: E402
from thesis_lib.trainer import Trainer  # noqa: E402

CONFIGS = {
    "ae": AEConfig(),
    "gan": GANConfig(),
    "vae": VAEConfig(),
    "aae": AAEConfig(),
    "ae-conv": AEConfig(arch="conv", channels=(8, 16)),  # the AE chapter's convolutional architecture
}
VARIANTS = ("baseline", "no flush", "1 thread", "batch x2", "compile", "validate", "bfloat16", "channels last")
DEFAULT_MODELS = ("ae", "gan", "vae", "aae")
RESULTS = REPO / "benchmarks" / "results" / "training.json"


@contextlib.contextmanager
def _no_flush():
    """The trainer without flushing subnormals (its fit() is decorated with flush_denormals)."""
    original = trainer_module.Trainer.fit
    trainer_module.Trainer.fit = original.__wrapped__
    try:
        yield
    finally:
        trainer_module.Trainer.fit = original


def one_epoch(name: str, variant: str, data, val) -> float:
    """Seconds of one training epoch (``history.train_seconds``; plus the validation pass for ``validate``)."""
    run = run_config(CONFIGS[name]).replace(epochs=1)
    if variant == "batch x2":
        run = run.replace(batch_size=2 * run.schedule.batch_size)
    torch.manual_seed(0)
    model = build_model(run.config)
    if variant == "compile":
        for module in model.children():
            module.compile()
    if variant == "channels last":
        model = model.to(memory_format=torch.channels_last)
    threads = torch.get_num_threads()
    if variant == "1 thread":
        torch.set_num_threads(1)
    try:
        trainer = Trainer(model, data, run.schedule, val_data=val if variant == "validate" else None, progress=False)
        precision = torch.autocast("cpu", dtype=torch.bfloat16) if variant == "bfloat16" else contextlib.nullcontext()
        with _no_flush() if variant == "no flush" else contextlib.nullcontext(), precision:
            start = time.perf_counter()
            trainer.fit()
            return time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12_800, help="training images per epoch (default 12,800)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--models", nargs="+", choices=list(CONFIGS), default=list(DEFAULT_MODELS))
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS[:6]))
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help=f"where the results go (default {RESULTS.relative_to(REPO)})"
    )
    args = parser.parse_args()
    variants = ["baseline", *[v for v in args.variants if v != "baseline"]]
    data = load_dataset("mnist", "train").subset(args.images)
    val = load_dataset("mnist", "val")
    load_before = os.getloadavg()
    result = {"images": args.images, "repeats": args.repeats, "models": {}}
    for name in args.models:
        times: dict[str, list[float]] = {v: [] for v in variants}
        compile_seconds = None
        for round_ in range(args.repeats + 1):  # round 0 warms up (and compiles), untimed
            for variant in variants:
                seconds = one_epoch(name, variant, data, val)
                if round_ == 0:
                    if variant == "compile":
                        compile_seconds = round(seconds, 2)
                    continue
                times[variant].append(seconds)
        median = {v: statistics.median(t) for v, t in times.items()}
        row = {
            "seconds": {v: [round(s, 3) for s in t] for v, t in times.items()},
            "ratio_to_baseline": {v: round(median[v] / median["baseline"], 3) for v in variants},
            "compile_seconds_first_round": compile_seconds,
        }
        result["models"][name] = row
        print(f"{name}: " + ", ".join(f"{v} {r:.2f}" for v, r in row["ratio_to_baseline"].items()), flush=True)
    write_results(result, args.out, load_before)
    return 0


def write_results(result: dict, path: Path, load_before: tuple[float, ...]) -> None:
    """Add the machine (torch, threads, CPU, cores, load average before and after), the git commit and the time to
    ``result`` and write it to ``path`` as JSON (every benchmark here records its run this way)."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
    ).stdout.strip()
    result["machine"] = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu": cpu(),
        "cores": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }
    result["commit"], result["when"] = commit, datetime.datetime.now().isoformat(timespec="seconds")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"written to {path}")


if __name__ == "__main__":
    sys.exit(main())

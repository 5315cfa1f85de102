"""Train the MNIST judge (the sample-quality classifier) and store it in the package.

The book's Fréchet distances and MNIST scores look through a small CNN (``thesis_lib.metrics.
classifier``). Its weights ship with the package so that every build scores with the same judge
and a cold build does not train it. The stored file records the settings and the fingerprint of
the code that trained it; when that code changes (the classifier, the data loading, the seeding),
``load_classifier`` stops using the stored weights and ``tests/test_metrics.py`` fails until this
script has been run again:

    THESIS_LIB_DATA=/path/to/data python scripts/store_judge.py             # train (about a minute, one core) and store
    python scripts/store_judge.py --check           # retrain and compare with the stored judge, store nothing

CPU training is deterministic for a given torch version, thread count and CPU (all three are recorded in the
file). The judge is stored as trained on one thread (:data:`THREADS`), as the tests run, so ``--check``, which
``tests/test_metrics.py`` runs in its slow tier beside the other tests, retrains it on one core and expects the stored
weights bit for bit; on another torch or another CPU it says so and skips before training.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from thesis_lib.cache import atomic_write  # noqa: E402
from thesis_lib.metrics.classifier import ClassifierSettings, store_judge, stored_judge_state, train_classifier  # noqa: E402

THREADS = 1
"""The judge is trained on one thread: where the tests run it (beside the other test process, on one core of two),
and a thread count chosen here, not taken from the machine (torch's default is its number of cores)."""


def cpu() -> str:
    """The CPU, as far as it changes the judge's floats: its model (name, family, model number and stepping: a
    virtual machine's name alone, "AMD EPYC", names several generations) and the instruction set torch uses. The same
    code, torch and threads train different weights on different CPUs (oneDNN picks its kernels by CPU)."""
    info = Path("/proc/cpuinfo").read_text().split("\n\n", 1)[0] if Path("/proc/cpuinfo").exists() else ""
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    model = ", ".join(f"{k} {fields[k]}" for k in ("cpu family", "model", "stepping") if k in fields)
    return f"{fields.get('model name', 'unknown CPU')} ({model}), {torch.backends.cpu.get_cpu_capability()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="retrain and compare with the stored judge (exit 1 if they differ); store nothing",
    )
    args = parser.parse_args()
    settings = ClassifierSettings()
    if args.check:
        stored = stored_judge_state(settings)
        if stored is None:
            print("the stored judge is missing or stale: run scripts/store_judge.py", file=sys.stderr)
            return 1
        here = (str(torch.__version__), cpu())
        if (stored["torch"], stored.get("cpu")) != here:
            where = stored.get("cpu", "an unrecorded CPU")
            print(f"skipped: the judge was stored with torch {stored['torch']} on {where}, "
                  f"this is torch {here[0]} on {here[1]}: it would train other floats")  # fmt: skip
            return 0
        torch.set_num_threads(stored["threads"])
        model, acc = train_classifier(settings, progress=False)
        differ = [name for name, p in model.state_dict().items() if not torch.equal(p, stored["model"][name])]
        if differ or acc != stored["test_accuracy"]:
            print(
                (
                    f"the retrained judge differs from the stored one (test accuracy {acc} against "
                    f"{stored['test_accuracy']}; tensors {differ[:3]})"
                ),
                file=sys.stderr,
            )
            return 1
        threads = f"{stored['threads']} thread" + ("s" if stored["threads"] != 1 else "")
        print(f"the retrained judge is the stored one, bit for bit (test accuracy {acc:.4f}, on {threads})")
        return 0
    torch.set_num_threads(THREADS)
    model, acc = train_classifier(settings)
    path = store_judge(model, acc, settings)
    state = {**torch.load(path, map_location="cpu", weights_only=True), "cpu": cpu()}  # what the check compares first
    atomic_write(path, lambda p: torch.save(state, p))  # (here, not in the library: outside the judge's fingerprint)
    print(f"stored the {settings.dataset} judge (test accuracy {acc:.4f}, trained on {THREADS} thread) in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

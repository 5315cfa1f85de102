"""Train the MNIST judge (the sample-quality classifier) and store it in the package.

The book's Fréchet distances and MNIST scores look through a small CNN (``thesis_lib.metrics.
classifier``). Its weights ship with the package so that every build scores with the same judge
and a cold build does not train it. The stored file records the settings and the fingerprint of
the code that trained it; when that code changes (the classifier, the data loading, the seeding),
``load_classifier`` stops using the stored weights and ``tests/test_metrics.py`` fails until this
script has been run again:

    THESIS_LIB_DATA=/path/to/data python scripts/store_judge.py             # train (about a minute) and store
    python scripts/store_judge.py --check           # retrain and compare with the stored judge, store nothing

CPU training is deterministic for a given torch version and thread count (both are recorded in the
file), so ``--check``, which ``tests/test_metrics.py`` runs in its slow tier, expects the stored
weights bit for bit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from thesis_lib.cache import atomic_write  # noqa: E402
from thesis_lib.metrics.classifier import ClassifierSettings, store_judge, stored_judge_state, train_classifier  # noqa: E402


def cpu() -> str:
    """The CPU, as far as it changes the judge's floats: its model name and the instruction set torch uses. The same
    code, torch and threads train different weights on different CPUs (oneDNN picks its kernels by CPU)."""
    names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
             if line.startswith("model name")] if Path("/proc/cpuinfo").exists() else []  # fmt: skip
    return f"{names[0] if names else 'unknown CPU'}, {torch.backends.cpu.get_cpu_capability()}"


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
        if (stored["torch"], stored["threads"]) != (str(torch.__version__), torch.get_num_threads()):
            print(
                (
                    f"skipped: the judge was stored with torch {stored['torch']} on {stored['threads']} threads, "
                    f"this is torch {torch.__version__} on {torch.get_num_threads()}"
                )
            )
            return 0
        if stored.get("cpu", cpu()) != cpu():
            print(f"skipped: the judge was stored on {stored['cpu']}, this is {cpu()}")
            return 0
        model, acc = train_classifier(settings, progress=False)
        differ = [name for name, p in model.state_dict().items() if not torch.equal(p, stored["model"][name])]
        if (differ or acc != stored["test_accuracy"]) and "cpu" not in stored:
            print(
                f"skipped: the retrained judge differs (test accuracy {acc} against {stored['test_accuracy']}), and "
                f"the stored one does not record the CPU that trained it; this is {cpu()}: re-store it "
                "(scripts/store_judge.py) to check it bit for bit here"
            )
            return 0
        if differ or acc != stored["test_accuracy"]:
            print(
                (
                    f"the retrained judge differs from the stored one (test accuracy {acc} against "
                    f"{stored['test_accuracy']}; tensors {differ[:3]})"
                ),
                file=sys.stderr,
            )
            return 1
        print(f"the retrained judge is the stored one, bit for bit (test accuracy {acc:.4f})")
        return 0
    model, acc = train_classifier(settings)
    path = store_judge(model, acc, settings)
    state = {**torch.load(path, map_location="cpu", weights_only=True), "cpu": cpu()}  # what the check compares first
    atomic_write(path, lambda p: torch.save(state, p))  # (here, not in the library: outside the judge's fingerprint)
    print(f"stored the {settings.dataset} judge (test accuracy {acc:.4f}) in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

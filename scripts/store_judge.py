"""Train the MNIST judge (the sample-quality classifier) and store it in the package.

The book's Fréchet distances and MNIST scores look through a small CNN (``thesis_lib.metrics.
classifier``). Its weights ship with the package so that every build scores with the same judge
and a cold build does not train it. The stored file records the settings and the fingerprint of
the code that trained it; when that code changes (the classifier, the data loading, the seeding),
``load_classifier`` stops using the stored weights and ``tests/test_metrics.py`` fails until this
script has been run again:

    THESIS_LIB_DATA=/path/to/data python scripts/store_judge.py             # train (about a minute) and store
    python scripts/store_judge.py --from $THESIS_LIB_RUNS/classifier-mnist-*/classifier.pt   # store one already trained
    python scripts/store_judge.py --check           # retrain and compare with the stored judge, store nothing

``--from`` takes a judge that the run cache holds, trained by the current code with the same
settings (the run cache's key guarantees both): it is the same network bit for bit, since CPU
training is deterministic for a given torch version and thread count (both are recorded in the
file; ``--check`` is what ``tests/test_metrics.py`` runs in its slow tier).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from thesis_lib.metrics.classifier import Classifier, ClassifierSettings, accuracy, classifier_dir, store_judge, stored_judge_state, train_classifier  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, help="a classifier.pt from the run cache, trained by the current code")
    parser.add_argument("--check", action="store_true", help="retrain and compare with the stored judge (exit 1 if they differ); store nothing")
    args = parser.parse_args()
    settings = ClassifierSettings()
    if args.check:
        stored = stored_judge_state(settings)
        if stored is None:
            print("the stored judge is missing or stale: run scripts/store_judge.py", file=sys.stderr)
            return 1
        if (stored["torch"], stored["threads"]) != (str(torch.__version__), torch.get_num_threads()):
            print(f"skipped: the judge was stored with torch {stored['torch']} on {stored['threads']} threads, this is torch {torch.__version__} on {torch.get_num_threads()}")
            return 0
        model, acc = train_classifier(settings, progress=False)
        differ = [name for name, p in model.state_dict().items() if not torch.equal(p, stored["model"][name])]
        if differ or acc != stored["test_accuracy"]:
            print(f"the retrained judge differs from the stored one (test accuracy {acc} against {stored['test_accuracy']}; tensors {differ[:3]})", file=sys.stderr)
            return 1
        print(f"the retrained judge is the stored one, bit for bit (test accuracy {acc:.4f})")
        return 0
    if args.source is not None:
        if args.source.resolve() != (classifier_dir(settings) / "classifier.pt").resolve():
            print(f"error: {args.source} is not the run cache's judge for the current code and settings ({classifier_dir(settings) / 'classifier.pt'})", file=sys.stderr)
            return 2
        state = torch.load(args.source, map_location="cpu", weights_only=True)
        if state.get("settings") != asdict(settings):
            print(f"error: {args.source} was trained with {state.get('settings')}, not {asdict(settings)}", file=sys.stderr)
            return 2
        model = Classifier()
        model.load_state_dict(state["model"])
        acc = float(state["test_accuracy"])
    else:
        model, acc = train_classifier(settings)
    from thesis_lib.data import load_dataset

    test = load_dataset(settings.dataset, "test")
    measured = accuracy(model, test.x, test.y)
    if abs(measured - acc) > 1e-9:
        print(f"error: the judge's recorded test accuracy {acc} is not what it measures ({measured})", file=sys.stderr)
        return 1
    path = store_judge(model.eval(), acc, settings)
    print(f"stored the {settings.dataset} judge (test accuracy {acc:.4f}) in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

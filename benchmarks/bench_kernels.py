"""One kernel of torch's default threads, or two kernels of one thread each? Throughput of the build's training.

``scripts/build_book.py`` executes the book's notebooks two at a time, each kernel on its share of the cores (one
thread each on 2 cores), instead of one after the other on all of them. This measures what that buys for the
training that dominates a cold build: for each chapter's model (its default config and schedule) one epoch on
the first ``--images`` training images (``bench_training.one_epoch``), timed in fresh processes as

* ``one kernel, default threads``: one process, torch's default thread count (2 here), alone;
* ``one kernel, 1 thread``: one process with ``OMP_NUM_THREADS=1``, alone;
* ``two kernels, 1 thread each``: two such processes started together (the build's way).

Each process trains an untimed warm-up epoch on a tenth of the images, then ``--repeats`` timed epochs (the
median is kept). The throughput of two kernels is two epochs in the time of the slower of the two; its ratio to
the default is printed per model (above 1: the two kernels train more per second).

    THESIS_LIB_DATA=/work/shared/data python benchmarks/bench_kernels.py [--images 12800] [--repeats 3]

Results go to ``benchmarks/results/kernels.json`` (with the machine, the torch version and the git commit).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "kernels.json"
MODELS = ("ae", "gan", "vae", "aae")

EPOCHS = """
import statistics, sys
sys.path[:0] = [{benchmarks!r}, {repo!r}]
import bench_training
from thesis_lib import load_dataset
data = load_dataset("mnist", "train").subset({images})
bench_training.one_epoch({model!r}, "baseline", data.subset({images} // 10), None)
print(statistics.median(bench_training.one_epoch({model!r}, "baseline", data, None) for _ in range({repeats})))
"""


def epochs(model: str, images: int, repeats: int, kernels: int, threads: int | None) -> list[float]:
    """Median seconds per epoch of each of ``kernels`` processes started together."""
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    code = EPOCHS.format(
        benchmarks=str(REPO / "benchmarks"), repo=str(REPO), images=images, model=model, repeats=repeats
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(kernels)
    ]
    out = [p.communicate()[0] for p in procs]
    if any(p.returncode for p in procs):
        raise SystemExit(f"bench_kernels: a timing process for {model} failed")
    return [float(o.split()[-1]) for o in out]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12_800, help="training images per epoch (default 12,800)")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per process (default 3)")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    args = parser.parse_args()
    load_before = os.getloadavg()
    result = {"images": args.images, "repeats": args.repeats, "models": {}}
    for model in args.models:
        default = epochs(model, args.images, args.repeats, 1, None)[0]
        one = epochs(model, args.images, args.repeats, 1, 1)[0]
        two = epochs(model, args.images, args.repeats, 2, 1)
        row = {
            "seconds": {
                "one kernel, default threads": round(default, 3),
                "one kernel, 1 thread": round(one, 3),
                "two kernels, 1 thread each": [round(s, 3) for s in two],
            },
            "throughput_two_kernels_to_default": round(2 * default / max(two), 3),
            "slowdown_beside_a_second_kernel": round(statistics.mean(two) / one, 3),
        }
        result["models"][model] = row
        print(
            f"{model}: default {default:.2f} s, 1 thread {one:.2f} s, two kernels {two[0]:.2f} / {two[1]:.2f} s: "
            f"throughput x{row['throughput_two_kernels_to_default']:.2f}",
            flush=True,
        )
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_training import write_results

    write_results(result, RESULTS, load_before)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line: ``thesis-lib`` (or ``python -m thesis_lib``).

    thesis-lib train {ae,gan,vae,aae} [--epochs N] [--latent-dim D] ... [--out DIR] [--resume]
    thesis-lib sample DIR --n N --out FILE.npy|FILE.png
    thesis-lib evaluate DIR [--metrics parzen quality likelihood reconstruction] [--k K] [--out FILE.json]
    thesis-lib evaluate --real mnist      (the real-data reference row)
    thesis-lib reproduce NAME | --list    (a paper's figure, re-measured into thesis_lib/results/papers/NAME.json)
    thesis-lib diagnose DIR [--no-samples]  (the failure signatures found in a run; exit 1 if any)
    thesis-lib classroom OUT [--chapters NAME ...] [--lang LANG] [--force]
                                          (student copies + nbgrader course: book_tools/classroom/,
                                          in the book's repository)

``train``'s options are generated from the settings dataclasses, in three groups: the model's
config (``--k``, ``--generator-loss``, ``--estimator``, ``--encoder``, ``--prior`` ...), its
schedule (``--epochs``, ``--lr``, ``--batch-size`` ...) and the system (``--device``,
``--threads``, ``--no-progress``). Defaults are the book chapter's settings, and a ``Literal``
field's allowed values are its ``choices``. ``--resume`` accepts the options the run was trained
with, and refuses only those that differ (except ``--epochs``, to train longer). Bad input gives
one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import typing
from pathlib import Path

from .config import CONFIGS, Settings, System, choices, field_types, run_config
from .config.settings import field_help, optional_type
from .data import IMAGE_DATASETS
from .errors import ThesisLibError
from .metrics.report import METRICS

PROG = "thesis-lib"
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: ``thesis-lib: error: ...``."""

    def error(self, message: str) -> typing.NoReturn:
        sys.stderr.write(f"{PROG}: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_ERROR)


# ----------------------------------------------------------------------------- parser
def _add_settings_options(parser: argparse.ArgumentParser, cls: type[Settings], title: str) -> None:
    """One option per field of ``cls`` (in an argument group), typed, with its help, default and choices."""
    group = parser.add_argument_group(title)
    defaults = cls()
    helps = {name: text.replace("``", "'") for name, text in field_help(cls).items()}
    for name, tp in field_types(cls).items():
        default = getattr(defaults, name)
        flag = "--" + name.replace("_", "-")
        text = f"{helps.get(name, '')} (default: {list(default) if isinstance(default, tuple) else default})".replace(
            "%", "%%"
        )
        tp = optional_type(tp)
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        allowed = choices(tp)
        if tp is bool:
            group.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=text)
        elif allowed is not None:
            group.add_argument(flag, dest=name, choices=allowed, default=None, help=text)
        elif origin is tuple:
            item = args[0]
            nargs = "*" if (len(args) == 2 and args[1] is Ellipsis) else len(args)
            group.add_argument(
                flag, dest=name, type=item, nargs=nargs, default=None, metavar=item.__name__.upper(), help=text
            )
        else:
            group.add_argument(flag, dest=name, type=tp, default=None, metavar=tp.__name__.upper(), help=text)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG, description="Train, sample and evaluate the thesis's generative models (AE, GAN, VAE, AAE)."
    )
    commands = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="{train,sample,evaluate,reproduce,diagnose,classroom}",
        parser_class=_Parser,
    )

    train = commands.add_parser("train", help="train a model; writes DIR/checkpoint.pt, config.json, history.json")
    models = train.add_subparsers(dest="model", required=True, metavar="{ae,gan,vae,aae}", parser_class=_Parser)
    for name, cls in CONFIGS.items():
        sub = models.add_parser(name, help=(cls.__doc__ or "").strip().splitlines()[0])
        sub.add_argument("--out", type=Path, default=None, metavar="DIR", help=f"run folder (default: runs/{name})")
        sub.add_argument(
            "--resume",
            action="store_true",
            help="continue the run saved in --out "
            "(options equal to the saved ones may be repeated; only --epochs may change)",
        )
        if name == "gan":
            sub.add_argument(
                "--hidden-dims",
                dest="hidden_dims",
                type=int,
                nargs="+",
                metavar="INT",
                help="shorthand: sets --g-hidden to these sizes and --d-hidden to them reversed",
            )
        _add_settings_options(sub, cls, f"model ({cls.__name__})")
        _add_settings_options(sub, cls.schedule_class, f"training schedule ({cls.schedule_class.__name__})")
        _add_settings_options(sub, System, "system (not part of the run)")

    sample = commands.add_parser("sample", help="draw samples from a trained model")
    sample.add_argument("run", type=Path, metavar="DIR", help="run folder written by 'train'")
    sample.add_argument("--n", type=int, default=64, help="number of samples (default: 64)")
    sample.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help="FILE.npy (N x 28 x 28 float32 in [0,1]) or FILE.png (a grid)",
    )
    sample.add_argument("--seed", type=int, default=0, help="seed of the noise (default: 0)")
    sample.add_argument("--label", type=int, default=None, help="class to sample (conditional GAN, label-prior AAE)")

    evaluate = commands.add_parser("evaluate", help="print every metric of a trained model (or of real data) as JSON")
    evaluate.add_argument("run", type=Path, nargs="?", metavar="DIR", help="run folder written by 'train'")
    evaluate.add_argument(
        "--real",
        choices=IMAGE_DATASETS,
        default=None,
        help="score 10,000 real training images as if they were samples (the reference row) instead of a run",
    )
    evaluate.add_argument(
        "--metrics",
        nargs="+",
        default=None,
        metavar="NAME",
        help=f"any of {', '.join(METRICS)} (default: all that apply)",
    )
    evaluate.add_argument(
        "--n-samples",
        type=int,
        default=10_000,
        help="samples for the Parzen window and the classifier metrics (default: 10000, as the GAN paper)",
    )
    evaluate.add_argument(
        "--k",
        type=int,
        default=100,
        help="importance samples per image for the NLL (default: 100; the IWAE paper uses 5000)",
    )
    evaluate.add_argument(
        "--binarize",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="likelihoods on dynamically binarised test images (default: as the model was trained)",
    )
    evaluate.add_argument(
        "--n", type=int, default=None, help="likelihood and reconstruction on the first N test images only"
    )
    evaluate.add_argument(
        "--seed", type=int, default=0, help="seed of the samples and Monte Carlo estimates (default: 0)"
    )
    evaluate.add_argument(
        "--out", type=Path, default=None, metavar="FILE.json", help="also write the JSON to this file"
    )

    reproduce = commands.add_parser(
        "reproduce", help="re-measure a paper's MNIST figure; writes thesis_lib/results/papers/NAME.json"
    )
    reproduce.add_argument("name", nargs="?", default=None, help="experiment name (see --list)")
    reproduce.add_argument("--list", action="store_true", help="list the experiments and what each paper reports")
    reproduce.add_argument(
        "--runs",
        type=Path,
        default=Path("runs/papers"),
        metavar="DIR",
        help="where the runs are trained (default: runs/papers; resumable)",
    )
    reproduce.add_argument(
        "--results",
        type=Path,
        default=None,
        metavar="DIR",
        help="where NAME.json is written (default: the package's thesis_lib/results/papers, which the book reads)",
    )
    reproduce.add_argument("--no-progress", action="store_true", help="hide the progress bars")

    from .diagnosis import SIGNATURES

    diagnose = commands.add_parser(
        "diagnose",
        help="print the failure signatures found in a run (exit 1 if any), each with its book page",
        description="Look for the known failure signatures in a run's history and, where cheap, its samples and "
        "codes: "
        + "; ".join(f"{s.name} ({s.title[0].lower()}{s.title[1:]})" for s in SIGNATURES)
        + ". Each one found is printed "
        "with a one-line explanation and the section of the book's page 'When training goes wrong' that treats it.",
    )
    diagnose.add_argument("run", type=Path, metavar="RUN_DIR", help="run folder written by 'train'")
    diagnose.add_argument(
        "--no-samples", action="store_true", help="read the history only: no model is loaded, sampled or encoded"
    )

    classroom_parser = commands.add_parser(
        "classroom", help="write student copies of the chapters (solutions removed) and an nbgrader course"
    )
    classroom = _classroom(argv)
    if classroom is not None:  # the options live with the command (book_tools/classroom/editions.py)
        classroom.add_arguments(classroom_parser)
    else:
        classroom_parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def _classroom(argv: list[str] | None = None):
    """The classroom edition's code, :mod:`book_tools.classroom`, which lives beside the book in the
    repository (it reads the chapter notebooks), not in the installed library. Found on the path, in
    the ``--book`` folder, or in the current folder or one above it; ``None`` without the repository
    (the library installed alone, e.g. on Colab)."""
    try:
        from book_tools import classroom

        return classroom
    except ImportError:
        pass
    args = sys.argv[1:] if argv is None else argv
    book = [Path(args[i + 1]) for i, a in enumerate(args[:-1]) if a == "--book"]
    for folder in (*book, Path.cwd(), *Path.cwd().parents):
        if (folder / "book_tools" / "classroom" / "__init__.py").is_file():
            sys.path.insert(0, str(folder.resolve()))
            from book_tools import classroom

            return classroom
    return None


# ----------------------------------------------------------------------------- commands
def _given(args: argparse.Namespace, cls: type[Settings]) -> dict:
    return {name: getattr(args, name) for name in cls.field_names() if getattr(args, name, None) is not None}


def _train(args: argparse.Namespace) -> int:
    from .api import check_out_dir, check_resumable, train
    from .callbacks import SampleGrid
    from .checkpoint import checkpoint_config, load_checkpoint

    cls = CONFIGS[args.model]
    given = {**_given(args, cls), **_given(args, cls.schedule_class)}
    if args.model == "gan" and getattr(args, "hidden_dims", None):
        given.setdefault("g_hidden", tuple(args.hidden_dims))
        given.setdefault("d_hidden", tuple(reversed(args.hidden_dims)))
    system = System(**_given(args, System))
    out = args.out or Path("runs") / args.model
    if not args.resume:
        config = run_config(args.model, **given)  # bad settings first: no folder is made for them
    check_out_dir(out)  # before any training: a file, or a folder that cannot be made (--out /proc/foo)
    if args.resume:
        saved = checkpoint_config(load_checkpoint(out))
        config = saved.replace(**given)
        check_resumable(
            saved,
            config,
            name=lambda field: "--" + field.replace("_", "-"),
            show=_show,
            prefix=f"--resume continues the saved run in {out}",
            subject="the run",
        )
    run = train(config, out, resume=args.resume, system=system, callbacks=[SampleGrid(out / "samples")])
    summary = {k: round(v[-1], 4) for k, v in run.history.epochs.items()}
    if run.interrupted:
        print(
            f"interrupted after epoch {run.epoch} + {run.iteration} iterations; checkpoint saved in {out}; continue "
            f"with: {PROG} train {args.model} --out {out} --resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    print(
        json.dumps(
            {
                "out": str(out),
                "epochs": run.epoch,
                "train_seconds": round(sum(run.history.train_seconds), 2),
                "last_epoch": summary,
            }
        )
    )
    return 0


def _show(value) -> str:
    """A setting as it is typed on the command line (lists without brackets)."""
    return " ".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


def _sample(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from .api import load

    if args.n < 1:
        raise ValueError(f"--n must be an integer >= 1, got {args.n}")
    suffix = args.out.suffix.lower()
    if suffix not in (".npy", ".png"):
        raise ValueError(f"--out must end in .npy or .png, got {str(args.out)!r}")
    model = load(args.run)
    labels = None
    if args.label is not None:
        if not 0 <= args.label < model.n_classes:
            raise ValueError(f"--label must be an integer in [0, {model.n_classes - 1}], got {args.label}")
        labels = torch.full((args.n,), args.label, dtype=torch.long)
    x = model.sample(args.n, labels=labels, generator=torch.Generator().manual_seed(args.seed)).cpu()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".npy":
        arr = x.squeeze(1).numpy().astype(np.float32) if model.images else x.numpy().astype(np.float32)
        np.save(args.out, arr)
    else:
        if not model.images:
            raise ValueError(
                f"a .png grid needs an image model; this one was trained on {model.config.dataset!r}: use .npy"
            )
        from torchvision.utils import save_image

        save_image(x, args.out, nrow=max(1, int(args.n**0.5)), padding=2, pad_value=1.0)
    print(json.dumps({"out": str(args.out), "n": args.n}))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from . import metrics
    from .api import load

    for name, value in (("--k", args.k), ("--n-samples", args.n_samples), ("--n", args.n)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value}")
    if (args.run is None) == (args.real is None):
        raise ValueError("evaluate needs either a run folder DIR or --real DATASET (not both)")
    if args.real is not None:
        chosen = tuple(args.metrics or ("parzen", "quality"))
        extra = sorted(set(chosen) - {"parzen", "quality"})
        if extra:
            raise ValueError(f"--real scores data as samples: --metrics may be parzen or quality, not {extra[0]!r}")
        result = metrics.evaluate_real(args.real, chosen, n=args.n_samples)
    else:
        from .checkpoint import checkpoint_config, load_checkpoint

        model = load(args.run)
        binarize = (
            args.binarize
            if args.binarize is not None
            else checkpoint_config(load_checkpoint(args.run)).schedule.binarize
        )
        chosen = tuple(args.metrics or metrics.METRICS)
        result = metrics.evaluate_model(
            model, chosen, n_samples=args.n_samples, k=args.k, n_test=args.n, binarize=binarize, seed=args.seed
        )
        result = {"run": str(args.run), **result}
    text = json.dumps(result, indent=2)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    from .papers import EXPERIMENTS, reproduce, stored_results_dir

    if args.list or args.name is None:
        if not args.list:
            raise ValueError(f"reproduce needs an experiment name, one of: {', '.join(EXPERIMENTS)} (or --list)")
        width = max(len(name) for name in EXPERIMENTS)
        for e in EXPERIMENTS.values():
            print(f"{e.name:{width}s} {e.paper}; reported {json.dumps(e.reported)}")
        return 0
    try:
        results = args.results or stored_results_dir()
        result = reproduce(args.name, runs_dir=args.runs, results_dir=results, progress=not args.no_progress)
    except KeyboardInterrupt:
        sys.stderr.write(
            f"{PROG}: interrupted; the runs are saved in {args.runs / args.name}: run the same command again to "
            "continue\n"
        )
        return EXIT_INTERRUPTED
    print(
        json.dumps(
            {
                "wrote": str(results / f"{args.name}.json"),
                "runs": {
                    r["label"]: {
                        **{k: v for k, v in r.get("metrics", {}).items() if isinstance(v, (int, float))},
                        **({"findings": r["findings"]} if "findings" in r else {}),
                    }
                    for r in result["runs"]
                },
            },
            indent=1,
        )
    )
    return 0


def _diagnose(args: argparse.Namespace) -> int:
    from .diagnosis import diagnose

    found = diagnose(args.run, samples=not args.no_samples)
    for f in found:
        print(f"{f.name}: {f.explanation}\n  see: {f.page}")
    if not found:
        print(f"no known failure signature found in {args.run}")
    return 1 if found else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``thesis-lib`` command; returns the exit code."""
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        if args.command == "classroom":
            classroom = _classroom(argv)
            if classroom is None:
                raise ValueError(
                    "thesis-lib classroom works in a clone of the book's repository (it reads the chapter "
                    "notebooks, with book_tools/ beside them): run it there, or pass --book DIR"
                )
            return classroom.run(args)
        command = {
            "train": _train,
            "sample": _sample,
            "evaluate": _evaluate,
            "reproduce": _reproduce,
            "diagnose": _diagnose,
        }
        return command[args.command](args)
    except (ValueError, ThesisLibError, OSError) as e:
        message = str(e).splitlines()[0] if str(e) else e.__class__.__name__
        sys.stderr.write(f"{PROG}: error: {message}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())

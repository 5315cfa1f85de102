"""How long does one VAE epoch take with thesis_lib's trainer, against two plain-PyTorch baselines?

The model is the VAE of the official PyTorch example (github.com/pytorch/examples, vae/main.py):
784-400-20 MLP with ReLU, Bernoulli decoder, batch 128, Adam lr 1e-3, loss = BCE summed over the
batch + analytic KL. Three variants, each on the same images per epoch (all 60,000 MNIST training
images; 10,000 with --quick):

  (a) example  the example's own loop: DataLoader(MNIST(transform=ToTensor()), batch_size=128,
               shuffle=True) with the example's default num_workers=0 (PIL + ToTensor per image);
  (b) bare     the same model/loss/optimiser over an in-memory float tensor: one randperm per
               epoch, index slices, ``loss.item()`` every step;
  (c) thesis   ``thesis_lib.train(VAEConfig(...), data=..., progress=False, validate=False)``;
               timed by the trainer's own ``history.train_seconds`` (the epoch loop) and by the
               wall clock around the whole ``train`` call (model build, setup, epoch end).

The variants run interleaved (a, b, c, a, b, c, ...) for --repeats rounds after one untimed
warm-up round; the medians give the ratios c/a (target <= 0.35) and c/b (target <= 1.10).
Threads are left at torch's default. Results go to benchmarks/results/vae_epoch.json.

    THESIS_LIB_DATA=/work/shared/data python benchmarks/bench_vae_epoch.py [--quick] [--repeats 3] [--epochs 1]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # benchmark the working tree's thesis_lib

import thesis_lib  # noqa: E402
from thesis_lib import RunConfig, VAEConfig, VAESchedule, load_dataset  # noqa: E402
from thesis_lib.data import data_root  # noqa: E402

BATCH_SIZE = 128
LR = 1e-3
TARGET_C_OVER_A = 0.35
TARGET_C_OVER_B = 1.10
QUICK_IMAGES = 10_000
WARMUP_IMAGES = 2_560  # 20 batches per variant, untimed
RESULTS = REPO / "benchmarks" / "results" / "vae_epoch.json"


# ----------------------------------------------------------------------------- the example's VAE
class ExampleVAE(nn.Module):
    """pytorch/examples vae/main.py: fc1 784->400, fc21/fc22 400->20 (mu, logvar), fc3 20->400, fc4 400->784.

    Same parameter count and the same matmul work as thesis_lib's VAE (whose encoder ends in one
    Linear(400, 40) split into mu and logvar).
    """

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def example_loss(recon_x, x, mu, logvar):
    """The example's loss_function: summed BCE + KL over the batch."""
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------- the three variants
def run_example(loader, seed: int, epochs: int) -> tuple[list[float], float]:
    """(a) The example's train(): DataLoader over torchvision MNIST with ToTensor. Returns per-epoch seconds, last mean
    loss."""
    torch.manual_seed(seed)
    model = ExampleVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    model.train()
    seconds, mean_loss = [], float("nan")
    for _ in range(epochs):
        start = time.perf_counter()
        train_loss = 0.0
        for data, _ in loader:
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = example_loss(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
        mean_loss = train_loss / len(loader.dataset)
    return seconds, mean_loss


def run_bare(x: torch.Tensor, seed: int, epochs: int) -> tuple[list[float], float]:
    """(b) The same model, loss and optimiser over one in-memory tensor, randperm + index slices."""
    torch.manual_seed(seed)
    model = ExampleVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    model.train()
    g = torch.Generator().manual_seed(seed)
    n = x.shape[0]
    seconds, mean_loss = [], float("nan")
    for _ in range(epochs):
        start = time.perf_counter()
        perm = torch.randperm(n, generator=g)
        train_loss = 0.0
        for i in range(0, n, BATCH_SIZE):
            data = x[perm[i : i + BATCH_SIZE]]
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = example_loss(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
        mean_loss = train_loss / n
    return seconds, mean_loss


def thesis_config(seed: int, epochs: int) -> RunConfig:
    return RunConfig(
        VAEConfig(hidden_dims=(400,), latent_dim=20, estimator="B", n_samples=1, objective="sum"),
        VAESchedule(batch_size=BATCH_SIZE, lr=LR, optimizer="adam", epochs=epochs, seed=seed),
    )


def run_thesis(data, seed: int, epochs: int) -> tuple[list[float], float, float]:
    """(c) thesis_lib.train. Returns the trainer's per-epoch loop seconds, the per-epoch wall seconds of the call, last
    mean loss."""
    cfg = thesis_config(seed, epochs)
    start = time.perf_counter()
    run = thesis_lib.train(cfg, data=data, progress=False, validate=False, device="cpu")
    wall = time.perf_counter() - start
    return list(run.history.train_seconds), wall / epochs, run.history.last("-elbo")


# ----------------------------------------------------------------------------- helpers
def git_state() -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
        except Exception:
            return ""

    return {
        "commit": git("rev-parse", "HEAD"),
        "thesis_lib_dirty": bool(git("status", "--porcelain", "--", "thesis_lib")),
    }


def busy_cpus(interval: float = 1.0) -> float:
    """CPUs kept busy (by anything) over ``interval`` seconds, from /proc/stat; nan where unavailable."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields[:8]), idle

    try:
        t0, i0 = sample()
        time.sleep(interval)
        t1, i1 = sample()
    except OSError:
        return float("nan")
    total = t1 - t0
    return (os.cpu_count() or 1) * (1 - (i1 - i0) / total) if total > 0 else float("nan")


def wait_until_quiet(max_seconds: float, threshold: float = 0.25) -> float:
    """Sample other load before timing; wait (up to ``max_seconds``) while more than ``threshold`` CPUs are busy."""
    deadline = time.monotonic() + max_seconds
    busy = busy_cpus()
    while busy > threshold and time.monotonic() < deadline:
        busy = busy_cpus(2.0)
    return busy


def verdict(ratio: float, target: float) -> str:
    return "PASS" if ratio <= target else "MISS"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--repeats", type=int, default=3, help="interleaved rounds a,b,c (default 3)")
    p.add_argument("--epochs", type=int, default=1, help="epochs per variant per round (default 1)")
    p.add_argument("--quick", action="store_true", help=f"smoke run on the first {QUICK_IMAGES:,} images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="diagnostic only: torch.set_num_threads(N) (default: leave torch's default, as the targets assume)",
    )
    p.add_argument("--no-warmup", action="store_true", help="skip the untimed warm-up round")
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help=(
            "before timing, wait up to SECONDS for other processes to leave the CPUs idle (default 0: just measure "
            "and warn)"
        ),
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"JSON results (default {RESULTS.relative_to(REPO)}, or {RESULTS.stem}_quick.json with --quick)",
    )
    args = p.parse_args(argv)
    if args.repeats < 1 or args.epochs < 1:
        p.error("--repeats and --epochs must be >= 1")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.out is None:
        args.out = RESULTS.with_name(f"{RESULTS.stem}_quick.json") if args.quick else RESULTS

    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    root = data_root()
    n_images = QUICK_IMAGES if args.quick else 60_000

    # (a): the example's dataset (torchvision reads the IDX files once, outside the timing).
    mnist = datasets.MNIST(str(root), train=True, download=False, transform=transforms.ToTensor())
    ds_a = Subset(mnist, range(n_images)) if args.quick else mnist
    loader = DataLoader(ds_a, batch_size=BATCH_SIZE, shuffle=True)  # num_workers=0: the example's default
    # (b), (c): thesis_lib's in-memory split (all 60,000 training images).
    full = load_dataset("mnist", "full")
    data = full.subset(n_images) if args.quick else full
    x_bare = data.x.contiguous()
    assert len(ds_a) == len(data) == x_bare.shape[0] == n_images

    p_example = n_params(ExampleVAE())
    p_thesis = n_params(thesis_lib.build_model(thesis_config(args.seed, 1)))
    assert p_example == p_thesis, (p_example, p_thesis)

    print(
        (
            f"torch {torch.__version__}, {torch.get_num_threads()} thread(s) "
            f"({'default' if args.threads is None else 'set by --threads'}), {os.cpu_count()} CPUs, "
            f"{platform.processor() or platform.machine()}"
        )
    )
    print(
        f"VAE 784-400-20, {p_example:,} parameters, batch {BATCH_SIZE}, Adam lr {LR:g}; "
        f"{n_images:,} images/epoch, {args.epochs} epoch(s) x {args.repeats} interleaved repeat(s)"
    )
    print("(a) example: DataLoader(MNIST, ToTensor) with num_workers=0, the example's setting")

    busy_before = wait_until_quiet(args.wait_quiet)
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    if busy_before > 0.25:
        print(
            f"WARNING: {busy_before:.1f} of {os.cpu_count()} CPUs were busy with other work before the run; "
            "timings (especially of torch's multi-threaded ops) will be noisy. Try --wait-quiet 600."
        )

    if not args.no_warmup:
        wl = DataLoader(Subset(mnist, range(WARMUP_IMAGES)), batch_size=BATCH_SIZE, shuffle=True)
        run_example(wl, args.seed, 1)
        run_bare(x_bare[:WARMUP_IMAGES], args.seed, 1)
        run_thesis(data.subset(WARMUP_IMAGES), args.seed, 1)

    times: dict[str, list[float]] = {"a_example": [], "b_bare": [], "c_thesis_loop": [], "c_thesis_wall": []}
    losses: dict[str, float] = {}
    for r in range(args.repeats):
        sa, losses["a_example"] = run_example(loader, args.seed, args.epochs)
        sb, losses["b_bare"] = run_bare(x_bare, args.seed, args.epochs)
        sc, wall_c, losses["c_thesis"] = run_thesis(data, args.seed, args.epochs)
        times["a_example"] += sa
        times["b_bare"] += sb
        times["c_thesis_loop"] += sc
        times["c_thesis_wall"] += [wall_c] * args.epochs
        print(
            f"  repeat {r + 1}/{args.repeats}: a {statistics.median(sa):.3f}s  b {statistics.median(sb):.3f}s  "
            f"c {statistics.median(sc):.3f}s (wall {wall_c:.3f}s)",
            flush=True,
        )

    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    med = {k: statistics.median(v) for k, v in times.items()}
    best = {k: min(v) for k, v in times.items()}
    ratios = {
        "c/a": med["c_thesis_loop"] / med["a_example"],
        "c/b": med["c_thesis_loop"] / med["b_bare"],
        "c_wall/a": med["c_thesis_wall"] / med["a_example"],
        "c_wall/b": med["c_thesis_wall"] / med["b_bare"],
    }
    targets = {"c/a": TARGET_C_OVER_A, "c/b": TARGET_C_OVER_B, "c_wall/a": TARGET_C_OVER_A, "c_wall/b": TARGET_C_OVER_B}
    verdicts = {k: verdict(ratios[k], targets[k]) for k in ratios}
    ratios_of_min = {"c/a": best["c_thesis_loop"] / best["a_example"], "c/b": best["c_thesis_loop"] / best["b_bare"]}

    print()
    print(f"{'variant':<46} {'median s/epoch':>14} {'min':>8} {'img/s':>7} {'loss/img':>9}")
    rows = [
        ("(a) example DataLoader, num_workers=0", "a_example", losses["a_example"]),
        ("(b) bare in-memory loop", "b_bare", losses["b_bare"]),
        ("(c) thesis_lib trainer (history.train_seconds)", "c_thesis_loop", losses["c_thesis"]),
        ("(c) thesis_lib.train() wall / epoch", "c_thesis_wall", losses["c_thesis"]),
    ]
    for label, key, loss in rows:
        print(f"{label:<46} {med[key]:>14.3f} {best[key]:>8.3f} {n_images / med[key]:>7.0f} {loss:>9.2f}")
    print()
    for k in ("c/a", "c/b", "c_wall/a", "c_wall/b"):
        print(f"{k:<9} = {ratios[k]:.3f}   target <= {targets[k]:.2f}   {verdicts[k]}")
    print(
        (
            f"(from the fastest epochs instead of the medians: c/a = {ratios_of_min['c/a']:.3f}, c/b = "
            f"{ratios_of_min['c/b']:.3f})"
        )
    )
    print(
        "(loss/img: mean training loss of the last epoch, nats per image; a and b use sigmoid + BCE, c BCE-with-logits)"
    )

    result = {
        "benchmark": "vae_epoch",
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "torchvision": __import__("torchvision").__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "git": git_state(),
        "other_load": {"busy_cpus_before": busy_before, "loadavg_before": load_before, "loadavg_after": load_after},
        "settings": {
            "images_per_epoch": n_images,
            "quick": args.quick,
            "repeats": args.repeats,
            "epochs": args.epochs,
            "seed": args.seed,
            "threads_forced": args.threads,
            "warmup": not args.no_warmup,
            "batch_size": BATCH_SIZE,
            "lr": LR,
            "parameters": p_example,
            "example_num_workers": 0,
        },
        "seconds_per_epoch": times,
        "median_seconds_per_epoch": med,
        "min_seconds_per_epoch": best,
        "ratios_of_min": ratios_of_min,
        "last_epoch_loss_per_image": losses,
        "ratios": ratios,
        "targets": targets,
        "verdicts": verdicts,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

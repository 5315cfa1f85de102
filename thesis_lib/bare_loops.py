"""Algorithms 1 and 2 as plain PyTorch loops, for reading.

The chapters train with ``train(config)``: the shared :class:`~thesis_lib.trainer.Trainer` runs
the phases a model declares. Here the two algorithms are written out as the loops one would
write by hand, with nothing between the reader and PyTorch but the model's networks and the pure
loss functions of :mod:`thesis_lib.losses`; the comments give the algorithms' line numbers (the
GAN chapter's Algorithm 1, the VAE chapter's Algorithm 2).

Given the same config, schedule and data, each loop returns the model that
``train(config, schedule=schedule, data=data, validate=False, device="cpu")`` returns, bit for bit
(``tests/test_bare_loops.py``; the chapters show it), because it does what a run does:

* seed, then build the model (the same initial weights);
* each epoch's minibatches come from :func:`~thesis_lib.data.minibatch_indices` (a permutation
  seeded by the seed and the epoch; the last minibatch may be smaller); the GAN's iteration takes
  ``k`` of them, so its epoch has ``ceil(N / m) // k`` iterations;
* random numbers are drawn in the trainer's order (D's noise, D's dropout on the real and then
  the fake minibatch, G's noise; the VAE's binarisation, then its noise);
* the GAN's moving average of G is updated after every G step, and its batch-norm statistics are
  recomputed after every epoch (``after_epoch``, which draws from its own generator);
* the optimiser is the library's: Adam with ``fused=True``. PyTorch's default Adam computes the
  same formula but rounds differently (a VAE step differs by about 1e-9), and training does not
  keep such differences small: Adam divides each gradient by its own scale, so the gradient of G's
  bias in front of a batch norm, zero in exact arithmetic and rounding noise in floats, becomes
  a real step (that bias differs by some 1e-5 after one GAN iteration), and over a few hundred
  steps the runs drift apart in every weight (measured with the chapters' settings, 200 steps: up
  to 0.2 in the GAN's weights, 0.03 in the VAE's). Only bit-for-bit equality is a sharp test.

Only the settings the loops write out are accepted (Adam; the unconditional GAN without
binarisation; the VAE's estimator B with a Bernoulli decoder); anything else is a ValueError.
The loops train on the CPU.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from . import losses
from .config import GANConfig, GANSchedule, RunConfig, Schedule, VAEConfig, VAESchedule
from .data import Dataset, minibatch_indices
from .models.gan import GAN
from .models.vae import VAE


def algorithm_1(config: GANConfig, schedule: GANSchedule, data: Dataset) -> GAN:
    """Algorithm 1 (a GAN by minibatch stochastic gradients), ``schedule.epochs`` passes over ``data``."""
    _check(config, schedule, data, config.k)  # refuse the settings this loop does not write out
    torch.manual_seed(schedule.seed)  # seed, then draw the initial weights
    gan = GAN(config).train()
    gan.setup(data)  # G's output starts at the data's mean image (data_init)
    adam = dict(lr=schedule.lr, betas=schedule.adam_betas, fused=True)
    opt_d = torch.optim.Adam(gan.discriminator.parameters(), **adam)
    opt_g = torch.optim.Adam(gan.generator.parameters(), **adam)
    g_loss = {
        "minimax": losses.generator_loss_minimax,  # log(1 - D(G(z))), as in Algorithm 1
        "nonsaturating": losses.generator_loss_nonsaturating,
    }[config.generator_loss]  # -log D(G(z))
    k, m = config.k, schedule.batch_size
    for epoch in range(schedule.epochs):
        batches = minibatch_indices(len(data), m, schedule.seed, epoch)  # the epoch's shuffle
        for i in range(len(batches) // k):  # 1: for each training iteration
            for j in range(k):  # 1.1: k steps on D
                idx = batches[i * k + j]  # a fresh minibatch for every step
                z = torch.randn(len(idx), config.latent_dim)  # 1.1.1: m noise vectors from p_z
                x = data.x[idx]  # 1.1.2: m examples from the data
                with torch.no_grad():  # the fake batch: this step moves θ_d only
                    fake = gan.generate(z, averaged=False)
                loss = losses.discriminator_loss(gan.discriminate(x), gan.discriminate(fake))
                opt_d.zero_grad()
                loss.backward()
                opt_d.step()  # 1.1.3: ascend V in θ_d (descend -V)
            z = torch.randn(len(idx), config.latent_dim)  # 1.3: m noise vectors
            loss = g_loss(gan.discriminate(gan.generate(z, averaged=False)))
            opt_g.zero_grad()
            loss.backward()  # (the gradients this leaves in D are cleared before D's next step)
            opt_g.step()  # 1.4: descend in θ_g
            gan.update_ema()  # the moving average of G's weights, which sampling uses
        gan.after_epoch(data)  # the averaged G's batch-norm statistics, for sampling
    return gan.eval()


def algorithm_2(config: VAEConfig, schedule: VAESchedule, data: Dataset) -> VAE:
    """Algorithm 2 (minibatch AEVB), ``schedule.epochs`` passes over ``data``."""
    _check(config, schedule, data)  # refuse the settings this loop does not write out
    torch.manual_seed(schedule.seed)
    vae = VAE(config).train()  # 1: initialise θ, φ
    opt = torch.optim.Adam(vae.parameters(), lr=schedule.lr, betas=schedule.adam_betas, fused=True)
    for epoch in range(schedule.epochs):  # 2: repeat (here: a fixed number of passes over X)
        for idx in minibatch_indices(len(data), schedule.batch_size, schedule.seed, epoch):
            x = data.x[idx]  # 2.1: a random minibatch X^M of M datapoints
            if schedule.binarize:
                x = torch.bernoulli(x)  # dynamic binarisation: new binary pixels every time
            mu, logvar = vae.posterior(x)  # the encoder: q_φ(z|x) = N(μ, diag σ²)
            z = losses.reparameterize(mu, logvar, config.n_samples)  # 2.2: ε ~ N(0, I), z = μ + σ ⊙ ε
            log_px_z = losses.bernoulli_log_likelihood(x, vae.decode_raw(z))  # the decoder: log p_θ(x|z)
            elbo = losses.elbo_estimator_b(losses.gaussian_kl(mu, logvar), log_px_z)  # L̃^B per datapoint
            objective = {
                "dataset": losses.minibatch_objective(elbo, len(data)),  # N/M Σ L̃^B
                "sum": elbo.sum(),
                "mean": elbo.mean(),
            }[config.objective]
            opt.zero_grad()
            (-objective).backward()  # 2.3: g = the gradient of the minibatch estimator
            opt.step()  # 2.4: update θ, φ using g (descending -L̃ ascends L̃)
    return vae.eval()


def max_difference(a: nn.Module, b: nn.Module) -> float:
    """The largest absolute difference between two models' weights and buffers (their state_dicts)."""
    sa, sb = a.state_dict(), b.state_dict()
    if sa.keys() != sb.keys():
        raise ValueError(f"the two models have different weights: {sorted(sa.keys() ^ sb.keys())}")
    return max((sa[n].double() - sb[n].double()).abs().max().item() for n in sa)


def _check(config, schedule: Schedule, data: Dataset, k: int = 1) -> None:
    """Refuse what the loops do not write out, in one line naming the value and what is allowed."""
    RunConfig(config, schedule)  # the schedule must be the model's (as train() checks)
    if schedule.optimizer != "adam":
        raise ValueError(
            (
                f"the plain loops use Adam (the chapters' optimiser), got optimizer {schedule.optimizer!r}; train() "
                "also takes 'sgd' and 'adagrad'"
            )
        )
    if data.x.device.type != "cpu":
        raise ValueError(f"the plain loops train on the CPU; got data on {data.x.device}: pass data.to('cpu')")
    if isinstance(config, GANConfig):
        if schedule.d_lr_factor != 1:
            raise ValueError(
                f"algorithm_1 writes out one learning rate for D and G, got d_lr_factor {schedule.d_lr_factor}"
            )
        if config.conditional or schedule.binarize:
            raise ValueError(
                (
                    "algorithm_1 writes out the unconditional GAN on the data as they are: conditional and binarize "
                    "must be False"
                )
            )
        if math.ceil(len(data) / schedule.batch_size) < k:
            raise ValueError(
                (
                    f"k={k} discriminator steps need at least {k} minibatches per epoch, got {len(data)} examples in "
                    f"minibatches of {schedule.batch_size}"
                )
            )
    elif config.estimator != "B" or config.decoder != "bernoulli":
        raise ValueError(
            (
                "algorithm_2 writes out estimator 'B' with a 'bernoulli' decoder, got estimator "
                f"{config.estimator!r} and decoder {config.decoder!r}"
            )
        )
    elif config.objective == "pixel-mean":
        raise ValueError(
            "algorithm_2 writes out the bound ('dataset', 'sum' or 'mean'), got objective 'pixel-mean' (a mistake)"
        )
    elif config.kl_weight != 1:
        raise ValueError(f"algorithm_2 writes out the bound (kl_weight 1), got kl_weight {config.kl_weight}")

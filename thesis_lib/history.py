"""Training history: every logged value per step and per epoch, and the wall seconds of each epoch."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class History:
    """What a run logged.

    Attributes:
        steps: value of each logged quantity at every step it was computed (``"D"`` is logged k
            times per GAN iteration, ``"G"`` once).
        epochs: per-epoch mean of each step quantity, plus validation metrics as ``"val/<name>"``.
        train_seconds: wall seconds of each epoch's training loop (without evaluation and saving).
    """

    steps: dict[str, list[float]] = field(default_factory=dict)
    epochs: dict[str, list[float]] = field(default_factory=dict)
    train_seconds: list[float] = field(default_factory=list)

    def log_step(self, name: str, value: float) -> None:
        self.steps.setdefault(name, []).append(value)

    def log_epoch(self, name: str, value: float) -> None:
        self.epochs.setdefault(name, []).append(value)

    def last(self, name: str) -> float:
        """The latest per-epoch value of ``name``."""
        return self.epochs[name][-1]

    def to_dict(self) -> dict:
        return {"steps": self.steps, "epochs": self.epochs, "train_seconds": self.train_seconds}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        return cls(
            {k: list(v) for k, v in d["steps"].items()},
            {k: list(v) for k, v in d["epochs"].items()},
            list(d["train_seconds"]),
        )

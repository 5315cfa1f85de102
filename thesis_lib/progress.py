"""The trainer's progress display: a live bar while a run trains, one line when it has finished.

* **In a notebook** (a Jupyter kernel with ipywidgets) there is ONE bar per run, with the epoch
  and the live losses. It is displayed under a display id, and when the run ends it is *replaced*
  by a one-line summary (epochs, iterations, seconds, the last epoch's losses). So a notebook
  that was executed without a front end (nbval, the book build) stores only the summary: the
  rendered book never shows a frozen ``0%|          | 0/782`` bar, however it was built.
* **In a terminal** (the CLI) tqdm draws one bar per epoch on stderr, and the summary is printed
  when the run ends.
"""

from __future__ import annotations

import sys
import time

from tqdm import tqdm as terminal_tqdm


def in_notebook() -> bool:
    """Whether we run in a Jupyter kernel that can show ipywidgets."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()
    if ip is None or type(ip).__name__ != "ZMQInteractiveShell":
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def format_postfix(values: dict[str, float]) -> str:
    """``D 1.33, G 0.80`` (four significant digits)."""
    return ", ".join(f"{k} {v:.4g}" for k, v in values.items())


class RunProgress:
    """What the trainer reports while a run trains.

    Args:
        enabled: ``False`` shows nothing (and prints no summary).
        name: the model's name, for the summary line.
        epochs: the schedule's epochs; ``iterations``: iterations per epoch.
        epoch, iteration: where the run starts (a resumed run starts inside).
    """

    def __init__(self, enabled: bool, name: str, epochs: int, iterations: int, epoch: int = 0, iteration: int = 0):
        self.enabled = enabled
        self.name = name
        self.epochs = epochs
        self.iterations = iterations
        self.first_epoch = epoch
        self.notebook = enabled and in_notebook()
        self._bar = None
        self._handle = None
        self._start = time.perf_counter()
        if self.notebook:
            from IPython.display import display
            from tqdm.notebook import tqdm as notebook_tqdm

            total = (epochs - epoch) * iterations - iteration
            self._bar = notebook_tqdm(total=max(total, 0), desc=self._desc(epoch), display=False)
            self._handle = display(self._bar.container, display_id=True)

    def _desc(self, epoch: int) -> str:
        return f"epoch {epoch + 1}/{self.epochs}"

    def start_epoch(self, epoch: int, iteration: int) -> None:
        """Before the iterations of ``epoch`` (from ``iteration`` on)."""
        if not self.enabled:
            return
        if self.notebook:
            self._bar.set_description(self._desc(epoch), refresh=False)
        else:
            self._bar = terminal_tqdm(total=self.iterations, initial=iteration, desc=self._desc(epoch), leave=True)

    def update(self, postfix: dict[str, float] | None = None) -> None:
        """One more iteration; ``postfix``: the latest losses, when it is time to show them."""
        if not self.enabled:
            return
        self._bar.update(1)
        if postfix is not None:
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in postfix.items()}, refresh=False)

    def end_epoch(self, means: dict[str, float]) -> None:
        """After the iterations of an epoch, with the epoch's mean losses."""
        if not self.enabled:
            return
        self._bar.set_postfix({k: f"{v:.4g}" for k, v in means.items()}, refresh=False)
        if not self.notebook:
            self._bar.close()

    def close(self, epochs_done: int, iterations_done: int, last_epoch: dict[str, float], interrupted: bool) -> str:
        """Replace the bar by (or print) the one-line summary, and return it."""
        seconds = time.perf_counter() - self._start
        what = "stopped" if interrupted else "trained"
        summary = (
            f"{what} the {self.name} run: {epochs_done}/{self.epochs} epochs, "
            f"{iterations_done} iterations in {seconds:.0f} s"
        )
        if last_epoch:
            summary += f"; last epoch: {format_postfix(last_epoch)}"
        if not self.enabled:
            return summary
        if self.notebook:
            self._bar.close()
            self._handle.update({"text/plain": summary}, raw=True)
        else:
            terminal_tqdm.write(summary)
        return summary

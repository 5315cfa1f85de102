"""The machine a run happens to use: device, threads, progress bar.

None of it changes what is trained (a CPU run is the same on any number of threads, up to float
rounding in the libraries), so it is never part of the run-cache key nor of ``config.json``, and
``--resume`` accepts any value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from .settings import Settings, check_int, setting


@dataclass
class System(Settings):
    """Where and how visibly a run executes."""

    what: ClassVar[str] = "system"

    device: Literal["auto", "cpu", "cuda", "mps"] = setting(
        "auto",
        "``auto`` picks cuda, then mps, then cpu.",
    )
    threads: int | None = setting(
        None,
        "CPU threads for PyTorch (``torch.set_num_threads``); default: PyTorch's choice.",
    )
    progress: bool = setting(
        True,
        "show a progress bar with the live losses.",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.threads is not None:
            check_int("threads", self.threads)

"""User-facing errors.

Everything a user can cause (a missing data file, a corrupt checkpoint, a bad value) raises a
subclass of :class:`ThesisLibError` or a :class:`ValueError` with a one-line message that names
the value and what is allowed. The CLI prints that line and exits non-zero, with no traceback.
"""


class ThesisLibError(Exception):
    """Base class for errors whose message is meant for the user."""


class DataError(ThesisLibError):
    """A dataset is missing, truncated or corrupt."""


class CheckpointError(ThesisLibError):
    """A checkpoint folder or file is missing, unreadable or not a thesis_lib checkpoint."""


class TrainingDiverged(ThesisLibError):
    """A loss became NaN or infinite; the message names the phase, epoch and step."""


class RunCacheError(ThesisLibError):
    """The run cache (``$THESIS_LIB_RUNS``) is not a folder that can hold runs; the message names the variable and the
    path."""

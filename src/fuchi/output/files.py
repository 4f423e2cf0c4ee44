"""Output files written whole or not at all: a temporary file in the same directory, renamed when complete.

An officer's ``results.xlsx`` is either the previous file or the new one, never a half-written mix: an
error, a signal or a full disk while writing leaves the target untouched and no temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ..errors import OutputError


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _directory(path: str) -> Path:
    """The directory an output file goes to; refuse a path that is itself a directory."""
    target = Path(path)
    if target.is_dir():
        raise OutputError(path, "是目录 is a directory")
    return target.parent if str(target.parent) else Path(".")


def check_writable(path: str) -> None:
    """Refuse, before a run, an output that :func:`atomic_output` could not create at its end.

    So that a run writing several files (``--output``, ``--warnings``, ``--record``) fails before any
    of them is written, rather than leaving the first ones behind when a later one cannot be created.

    Raises:
        OutputError: ``path`` is a directory, or its directory is missing or not writable.

    """
    directory = _directory(path)
    if not directory.is_dir():
        raise OutputError(path, "目录不存在 No such file or directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(path, "目录不可写 Permission denied")


@contextmanager
def atomic_output(path: str) -> Iterator[IO[bytes]]:
    """Open ``path`` for writing bytes; the file appears, complete, only when the block ends without error.

    The data goes to a temporary file next to ``path`` (same file system, so the rename is atomic), which
    is flushed to disk and renamed over ``path`` at the end; on any exception (signals included) it is
    removed and ``path`` is left as it was. The new file gets the usual permissions (0666 less the umask).

    Args:
        path: The file to write.

    Yields:
        The binary stream to write to.

    Raises:
        OutputError: ``path`` is a directory, or its directory is missing or not writable.

    """
    target = Path(path)
    directory = _directory(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(path, exc.strerror or str(exc)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        _remove(tmp)
        raise OutputError(path, exc.strerror or str(exc)) from None
    except BaseException:
        _remove(tmp)
        raise


def _remove(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass

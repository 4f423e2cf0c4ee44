"""Typed errors raised by the core; only the CLI turns them into messages and exit codes.

Exit codes (README.md, "Exit codes"): 0 ran, 1 input or policy error, 2 usage, 3 policy tests failed,
128 + N when signal N (SIGINT, SIGTERM, SIGHUP) ended the run.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from types import FrameType

#: The signals that end a run cleanly (workers stopped, temporary files removed, exit 128 + N).
TERMINATING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """A terminating signal arrived: the run stops, cleans up and exits ``128 + signum``.

    A :class:`KeyboardInterrupt`, so that code which already stops cleanly on Ctrl-C does so on SIGTERM
    and SIGHUP too (and ``except Exception`` never swallows it).
    """

    signum: int

    def __init__(self, signum: int | Interrupted) -> None:
        # clingo re-raises an exception from a Python callback (an AST or a context function) as
        # type(exc)(exc): the signal number then comes wrapped in the first Interrupted
        number = signum.signum if isinstance(signum, Interrupted) else signum
        super().__init__(number)
        self.signum = number


def raise_interrupted(signum: int, frame: FrameType | None) -> None:
    """Signal handler: raise :class:`Interrupted` in the main thread; later signals are ignored.

    One signal is enough to stop; ignoring the next ones keeps the (bounded) clean-up from being cut short.
    """
    for sig in TERMINATING_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


class FuchiError(Exception):
    """Base class of every error fuchi raises on purpose."""

    exit_code = 1

    def message(self) -> str:
        """Return the bilingual one-paragraph message shown to the user."""
        return str(self)


@dataclass
class InputError(FuchiError):
    """Enterprise or city data that does not follow the contract (docs/data-format.md).

    Attributes:
        file: The file the bad value came from.
        company: The enterprise id, or None for city data or file-level problems.
        field: The field path inside the record, e.g. ``events[2].cost``.
        expected: What was expected, in Chinese and English.
        line: The line of a JSON Lines file, when known.

    """

    file: str
    company: str | None
    field: str
    expected: str
    line: int | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message())

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str | None, str, str, int | None]]:
        """Pickle by fields (errors cross from worker processes to the main process)."""
        return (type(self), (self.file, self.company, self.field, self.expected, self.line))

    def message(self) -> str:
        """Return ``file[:line]: enterprise X: field: expected``."""
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        who = f"企业 enterprise {self.company!r}" if self.company is not None else "文件 file"
        field = self.field or "(top level)"
        return f"{where}: {who}: 字段 field {field}: {self.expected}"


@dataclass
class PolicyError(FuchiError):
    """A policy directory that cannot be loaded or a program that misbehaves when solved."""

    text: str
    file: str | None = None
    line: int | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message())

    def __reduce__(self) -> tuple[type[PolicyError], tuple[str, str | None, int | None]]:
        """Pickle by fields (errors cross from worker processes to the main process)."""
        return (type(self), (self.text, self.file, self.line))

    def message(self) -> str:
        """Return ``file:line: text`` (location omitted when unknown)."""
        if self.file is None:
            return f"政策错误 policy error: {self.text}"
        loc = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{loc}: 政策错误 policy error: {self.text}"


@dataclass
class OverrideError(FuchiError):
    """A ``--set NAME=VALUE`` that names no parameter or gives a value the parameter cannot take (exit 1).

    Attributes:
        text: The override as given.
        expected: What is wrong and what the parameter expects, in Chinese and English.
        option: Where it was given.

    """

    text: str
    expected: str
    #: Where it was given: ``--set``, ``--base-set`` or ``sweep``.
    option: str = "--set"

    def __post_init__(self) -> None:
        super().__init__(self.message())

    def __reduce__(self) -> tuple[type[OverrideError], tuple[str, str, str]]:
        """Pickle by fields (errors cross from worker processes to the main process)."""
        return (type(self), (self.text, self.expected, self.option))

    def message(self) -> str:
        """Return ``--set TEXT: expected``."""
        return f"{self.option} {self.text}: 参数覆盖无效 invalid override: {self.expected}"


class UsageError(FuchiError):
    """Command-line usage that cannot be honoured (exit 2)."""

    exit_code = 2


@dataclass
class OutputError(FuchiError):
    """An output file (``--output``, ``--warnings``) that cannot be written; nothing is left half-written.

    Attributes:
        file: The file asked for.
        reason: Why it cannot be written (the operating system's words).

    """

    file: str
    reason: str

    def __post_init__(self) -> None:
        super().__init__(self.message())

    def message(self) -> str:
        """Return ``file: cannot write: reason``."""
        return f"{self.file}: 无法写入输出文件 cannot write the output file: {self.reason}"

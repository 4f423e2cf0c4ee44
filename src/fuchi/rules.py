"""Reading rule files: ``clingo.ast`` parsing and clingo's located messages.

Shared by the engines, the SQL compiler, the explainer and ``check``: clingo's messages never go
straight to stderr, and a rule file that does not parse is one located :class:`~fuchi.errors.PolicyError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import clingo
from clingo import ast

from .errors import PolicyError

#: The start of the error for a body atom that no rule derives and no input declares (both engines).
UNDEFINED = "谓词未定义，该规则永不成立 undefined predicate, the rule never holds:"

_LOCATION = re.compile(
    r"^(?P<file>.*?):(?P<line>\d+):(?P<col>\d+)(?:-[\d:]+)?:\s*(?P<level>\w+):\s*(?P<text>.*)$", re.S
)


@dataclass(frozen=True)
class Diagnostic:
    """A message from clingo about the program, located in a rule file."""

    level: str  # error | warning | info
    file: str
    line: int
    column: int
    text: str
    code: str

    def render(self) -> str:
        """Return ``file:line:col: level: text``."""
        return f"{self.file}:{self.line}:{self.column}: {self.level}: {self.text}"


def parse_message(code: clingo.MessageCode, text: str) -> Diagnostic:
    """Turn a clingo log message into a :class:`Diagnostic`."""
    m = _LOCATION.match(text.strip())
    if m is None:
        return Diagnostic("info", "<clingo>", 0, 0, text.strip(), code.name)
    level = m.group("level")
    if code == clingo.MessageCode.OperationUndefined:
        level = "error"
    return Diagnostic(
        level, m.group("file"), int(m.group("line")), int(m.group("col")), m.group("text").strip(), code.name
    )


def parse_rule_files(files: Sequence[str], callback: Callable[[Any], None], root: Path | None = None) -> None:
    """Parse rule files with ``clingo.ast``, handing each statement to ``callback`` in file order.

    The one place rule files are parsed for fuchi's engines, compiler and explainer: clingo's messages
    go to a logger (never straight to stderr) and a file that does not parse is one located error.

    Raises:
        PolicyError: A file does not parse, at clingo's first error (``file:line`` relative to ``root``).

    """
    messages: list[Diagnostic] = []
    try:
        ast.parse_files(list(files), callback, logger=lambda c, t: messages.append(parse_message(c, t)))
    except RuntimeError as exc:
        error = program_error(messages, exc)
        text = f"规则无法解析 the rule does not parse: {error.text}"
        raise PolicyError(text, relative(error.file, root) if error.file else None, error.line) from None


def relative(file: str, root: Path | None) -> str:
    """``file`` relative to ``root`` when inside it (as clingo's messages name it otherwise)."""
    if root is not None:
        try:
            return Path(file).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return file


def program_error(diagnostics: list[Diagnostic], exc: Exception) -> PolicyError:
    """The first error among clingo's messages as a located :class:`PolicyError` (else ``exc``'s text)."""
    errors = [d for d in diagnostics if d.level == "error"]
    if errors:
        d = errors[0]
        return PolicyError(d.text, d.file, d.line)
    return PolicyError(str(exc))

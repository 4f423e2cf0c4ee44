"""Helpers for tests that edit a copy of the shipped policy (a drafter's change, made in a temporary directory)."""

from __future__ import annotations

import shutil
from pathlib import Path

SHIPPED = Path(__file__).resolve().parents[1] / "policy" / "chongming-digital-2025"


def copy_policy(tmp_path: Path) -> Path:
    """A copy of the shipped policy directory under ``tmp_path`` (``policy-copy``)."""
    dst = tmp_path / "policy-copy"
    shutil.copytree(SHIPPED, dst)
    return dst


def replace_once(path: Path, old: str, new: str) -> None:
    """Replace the only occurrence of ``old`` in a file (fails when there is none or several)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"expected exactly one {old!r} in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")

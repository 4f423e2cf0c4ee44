"""Errors of the compiler."""

from __future__ import annotations

from ..errors import PolicyError


class CompileError(PolicyError):
    """A rule the SQL compiler cannot take (outside its fragment), at ``file:line``.

    The clingo engine still runs such a policy; ``--engine auto`` falls back to it with a notice.
    """

"""The input predicates a policy declares in ``inputs.yaml``, and the shapes of their arguments."""

from __future__ import annotations

import itertools

import yaml

from ..policy import Policy
from .errors import CompileError
from .shapes import DECIMAL, INT, MONEY, STR, SYM, Fun, Shape

#: argument kind → shape (docs/numbers.md for money and decimals)
KINDS: dict[str, Shape] = {
    "company": Fun("c", (INT,)),
    "key": INT,
    "year": INT,
    "integer": INT,
    "string": STR,
    "constant": SYM,
    "money": MONEY,
    "decimal": DECIMAL,
    "none": SYM,
}


def input_shapes(policy: Policy) -> dict[tuple[str, int], list[tuple[Shape, ...]]]:
    """Every variant (tuple of argument shapes) of every declared input predicate.

    Raises:
        CompileError: ``inputs.yaml`` is missing or malformed (an unknown kind, a predicate that is not a
            lower-case name).

    """
    path = policy.root / "inputs.yaml"
    if not path.is_file():
        raise CompileError(
            "no inputs.yaml declares the input predicates (the SQL engine needs it)", "inputs.yaml", None
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CompileError(f"inputs.yaml does not parse: {exc}", "inputs.yaml", None) from exc
    preds = data.get("predicates") if isinstance(data, dict) else None
    if not isinstance(preds, dict):
        raise CompileError("inputs.yaml: expected a mapping 'predicates: {name: [kind, …]}'", "inputs.yaml", None)
    out: dict[tuple[str, int], list[tuple[Shape, ...]]] = {}
    for name, kinds in preds.items():
        if not isinstance(name, str) or not name[:1].islower() or not name.replace("_", "").isalnum():
            raise CompileError(f"inputs.yaml: {name!r} is not a predicate name", "inputs.yaml", None)
        if not isinstance(kinds, list):
            raise CompileError(f"inputs.yaml: {name}: expected a list of argument kinds", "inputs.yaml", None)
        options: list[list[Shape]] = []
        for k in kinds:
            alts = []
            for part in str(k).split("|"):
                shape = KINDS.get(part.strip())
                if shape is None:
                    raise CompileError(
                        f"inputs.yaml: {name}: unknown kind {part.strip()!r} (known: {', '.join(sorted(KINDS))})",
                        "inputs.yaml",
                        None,
                    )
                alts.append(shape)
            options.append(alts)
        out[(name, len(kinds))] = [tuple(c) for c in itertools.product(*options)]
    return out


__all__ = ["KINDS", "input_shapes"]

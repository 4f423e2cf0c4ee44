"""The input predicates of a policy (``inputs.yaml``), the shapes of their arguments, a batch's facts as columns.

:func:`input_shapes` gives the variants the compiler lays out; :func:`batch_columns` the facts of one batch
in those tables.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import clingo

from ..errors import PolicyError
from ..inputs import facts as factmod
from ..inputs.records import City, Company
from ..policy import Policy
from .shapes import DECIMAL, INT, MONEY, STR, SYM, Fun, Shape, fits, flatten_as

if TYPE_CHECKING:
    from ..inputs.schema import Schema
    from .plan import Plan, Table

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
    """Every variant (tuple of argument shapes) of every input predicate the policy's schema declares.

    The kinds come from ``inputs.yaml`` (:meth:`fuchi.inputs.schema.Schema.predicates`): ``money|none`` is an
    amount that may be absent, giving two variants.
    """
    out: dict[tuple[str, int], list[tuple[Shape, ...]]] = {}
    for sig, kinds in policy.schema.predicates().items():
        options = [[KINDS[part] for part in k.split("|")] for k in kinds]
        out[sig] = [tuple(c) for c in itertools.product(*options)]
    return out


__all__ = ["KINDS", "InputLayout", "batch_columns", "input_shapes"]


@dataclass(frozen=True)
class InputLayout:
    """A plan's input tables without its statements: what lays out facts away from the plan (Spark's executors).

    Attributes:
        inputs: As :attr:`fuchi.compiler.plan.Plan.inputs` (signature → its tables, one per variant).
        reads: The input signatures some rule reads.
    """

    inputs: dict[tuple[str, int], list[Table]]
    reads: frozenset[tuple[str, int]]

    @classmethod
    def of(cls, plan: Plan) -> InputLayout:
        """The layout of ``plan``'s input tables."""
        return cls(dict(plan.inputs), frozenset(plan.reads))


def batch_columns(
    plan: Plan | InputLayout,
    companies: Sequence[Company],
    city: City | None,
    params: Sequence[clingo.Symbol],
    schema: Schema,
    positions: Sequence[int] | None = None,
) -> dict[str, list[list[object]]]:
    """The facts of one batch laid out as the columns of the plan's input tables (by table name).

    The facts are the clingo engine's (the one fact builder, :func:`fuchi.inputs.facts.company_rows`); the
    parameters are clingo symbols matched against their named variants. An engine then hands the columns to
    its database (the Spark engine as DataFrames with an explicit schema). ``positions``: the number of each
    enterprise in the batch (default: its position in ``companies``), when the others' facts come from
    elsewhere (:mod:`fuchi.compiler.reader`). ``city`` None: the enterprises' facts only (no city figures).

    Raises:
        PolicyError: A fact does not match ``inputs.yaml`` (another number of values, two variants of one
            width, an unsupported predicate without arguments).
    """
    columns: dict[str, list[list[object]]] = {}
    by_width: dict[tuple[str, int], dict[int, list[list[object]]]] = {}
    for sig, tables in plan.inputs.items():
        for t in tables:
            if not t.columns:
                raise PolicyError(f"input predicate {t.signature[0]}/0 is not supported by the SQL engine")
            cols: list[list[object]] = [[] for _ in t.columns]
            columns[t.name] = cols
            if sig in (("param", 2), ("param", 3)):
                continue  # matched by shape below
            widths = by_width.setdefault(sig, {})
            if len(cols) in widths:
                raise PolicyError(
                    f"input predicate {sig[0]}/{sig[1]}: two variants of the same width in inputs.yaml "
                    "(the SQL engine tells variants apart by their number of columns)",
                    "inputs.yaml",
                )
            widths[len(cols)] = cols
    row: list[object] = []
    for sym in params:  # parameters: clingo symbols (few), matched against their named variants
        table = _variant_of(plan.inputs[(sym.name, len(sym.arguments))], sym)
        row.clear()
        for s, a in zip(table.shapes, sym.arguments, strict=True):
            flatten_as(s, a, row)
        for c, v in zip(columns[table.name], row, strict=True):
            c.append(v)

    def emit(fact: tuple[str, int, tuple[object, ...]], path: str) -> None:
        name, arity, values = fact
        widths = by_width.get((name, arity))
        if widths is None and (name, arity) not in plan.reads:
            return  # no rule reads it: without effect, as in clingo
        cols = widths.get(len(values)) if widths is not None else None
        if cols is None:
            raise PolicyError(
                f"input fact {name}/{arity} with {len(values)} values does not match inputs.yaml / 输入与声明不符",
                "inputs.yaml",
            )
        for column, v in zip(cols, values, strict=True):
            column.append(v)

    for n, co in zip(range(len(companies)) if positions is None else positions, companies, strict=True):
        factmod.company_rows(n, co, emit, schema)
    if city is not None:
        factmod.city_rows(city, emit, schema)
    return columns


def _variant_of(tables: Sequence[Table], sym: clingo.Symbol) -> Table:
    args = sym.arguments
    for t in tables:
        if all(fits(s, a) for s, a in zip(t.shapes, args, strict=True)):
            return t
    raise PolicyError(f"input fact {sym} does not match inputs.yaml / 输入与声明不符", "inputs.yaml")

"""The validated enterprise and city data (the input contract, docs/data-format.md).

Money is held as an ``int`` of fen (分, 1/100 yuan); other decimals (PUE, PFLOPS, growth
rates, ratios) as :class:`decimal.Decimal` with at most :data:`MAX_DECIMALS` places. Nothing in
here is a float.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

#: Largest money amount accepted in one field, in yuan (ruling W3 asks for at least 10**12).
MAX_MONEY_YUAN = 10**12
#: The same in fen.
MAX_MONEY_FEN = MAX_MONEY_YUAN * 100
#: Places after the point accepted for non-money decimals (PUE, PFLOPS, growth).
MAX_DECIMALS = 6
#: Largest absolute non-money decimal accepted.
MAX_DECIMAL = Decimal(10) ** 12
#: Records per list per enterprise; keeps every #sum over money limbs provably below 2**31.
MAX_RECORDS = 20_000
#: Years accepted as data years / keys.
MIN_YEAR, MAX_YEAR = 1900, 2200


class Record(dict[str, object]):
    """One validated record of a list (``list[2]``): field name → value; an absent field reads as None.

    Fields are also attributes (``record.cost``), for readable code and tests.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.get(name)


@dataclass
class Company:
    """One enterprise, validated against the policy's input schema (inputs.yaml).

    Attributes:
        id: The enterprise id (any non-empty string without NUL).
        file: The file it was read from.
        line: Its line in a JSON Lines file, else None.
        index: Its position in the file's ``companies`` list (or line number - 1).
        values: Every declared field: a scalar (None when absent; a boolean False), a list, a map year →
            value, or a list of :class:`Record`. Money is an ``int`` of fen, decimals are ``Decimal``.
            Fields are also attributes (``company.revenue``).

    """

    id: str
    file: str = ""
    line: int | None = None
    index: int = 0
    values: dict[str, object] = field(default_factory=dict)

    def __getattr__(self, name: str) -> object:
        if name.startswith("__") or name == "values":
            raise AttributeError(name)
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def name(self) -> str | None:
        """The enterprise's name when the schema declares a text field ``name`` (shown in outputs)."""
        value = self.values.get("name")
        return value if isinstance(value, str) else None


@dataclass
class City:
    """Published city figures, validated against the schema's ``city`` fields.

    Attributes:
        values: Field → value (a by_year field: a map year → value).
        sources: The file each figure came from, by field path (``city.avg_growth.2026``).

    """

    values: dict[str, object] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> object:
        if name.startswith("__") or name in ("values", "sources"):
            raise AttributeError(name)
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

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

HONOUR_LISTS = ("national_key_software", "sh_top100", "sh_high_growth_top100")
KEY_FIELDS = ("ai", "metaverse", "software_algorithms", "computing_center", "blockchain")
PROGRAMS = (
    "industry_quality_fund",
    "digital_transformation_fund",
    "compute_voucher",
    "model_voucher",
    "corpus_voucher",
)
PROJECT_KINDS = ("new", "expansion")
IC_KINDS = ("ip", "eda")
EVENT_KINDS = ("summit", "competition", "forum", "exhibition")
DECISIONS = ("approved", "rejected")
ITEMS = (
    "2.1.a", "2.1.b", "2.2.a", "2.2.b", "2.3", "2.4.a", "2.4.b", "2.5.a", "2.5.b",
    "2.6", "2.7.a", "2.7.b", "2.8", "2.9", "2.10",
)  # fmt: skip


@dataclass(frozen=True)
class Honour:
    """An honour list the enterprise appears on (2.1.b)."""

    year: int
    list: str


@dataclass(frozen=True)
class CitySupport:
    """A city-level grant received (basis of the matching items, ruling I1)."""

    year: int
    program: str
    amount: int  # fen
    related_party: bool | None = None  # corpus_voucher only


@dataclass(frozen=True)
class ComputeProject:
    """An intelligent-computing project (2.4.b)."""

    id: str
    year: int
    kind: str
    pflops: Decimal
    pue: Decimal
    cost: int  # fen


@dataclass(frozen=True)
class LlmFiling:
    """A completed large-model service filing (2.5.b)."""

    year: int
    model: str | None = None


@dataclass(frozen=True)
class IcPurchase:
    """A purchase contract for IC IP or EDA tools (2.7.a)."""

    id: str
    year: int
    kind: str
    amount: int  # fen


@dataclass(frozen=True)
class OwnIp:
    """A self-developed IP and its first-batch contract (2.7.b)."""

    id: str
    year: int
    first_batch_amount: int  # fen


@dataclass(frozen=True)
class Event:
    """A digital-industry event held (2.9)."""

    id: str
    year: int
    kind: str
    cost: int  # fen


@dataclass(frozen=True)
class ShowcaseCentre:
    """An experience or showcase centre built (2.10)."""

    id: str
    year: int
    in_shanghai: bool
    cost: int  # fen


@dataclass(frozen=True)
class PriorAward:
    """A one-time item already received (ruling T2)."""

    item: str
    year: int
    tier: int | None = None  # fen; 2.2.b only
    project: str | None = None  # 2.4.b only


@dataclass(frozen=True)
class OtherSupport:
    """Another district policy supporting the same item and year (3.4, ruling P2)."""

    item: str
    year: int
    policy: str
    amount: int  # fen


@dataclass(frozen=True)
class Assessment:
    """The outcome of a comprehensive assessment (ruling P1)."""

    item: str
    year: int
    decision: str
    amount: int | None = None  # fen, whole yuan; approved only


@dataclass
class Company:
    """One enterprise, validated.

    Attributes:
        id: The unified social credit code (any non-empty string).
        file: The file it was read from.
        line: Its line in a JSON Lines file, else None.
        index: Its position in the file's ``companies`` list (or line number - 1).

    """

    id: str
    file: str = ""
    line: int | None = None
    index: int = 0
    name: str | None = None
    registered_in: str | None = None
    industry_code: str | None = None
    sound_finance: bool = False
    good_credit: bool = False
    fits_direction: bool = False
    fraud: bool = False
    market_violation: bool = False
    key_enterprise: bool = False
    key_fields: list[str] = field(default_factory=list)
    honours: list[Honour] = field(default_factory=list)
    revenue: dict[int, int] = field(default_factory=dict)  # year -> fen
    rd_spend: dict[int, int] = field(default_factory=dict)  # year -> fen
    city_support: list[CitySupport] = field(default_factory=list)
    compute_projects: list[ComputeProject] = field(default_factory=list)
    llm_filings: list[LlmFiling] = field(default_factory=list)
    ic_purchases: list[IcPurchase] = field(default_factory=list)
    own_ip: list[OwnIp] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    showcase_centres: list[ShowcaseCentre] = field(default_factory=list)
    prior_awards: list[PriorAward] = field(default_factory=list)
    other_support: list[OtherSupport] = field(default_factory=list)
    assessments: list[Assessment] = field(default_factory=list)


@dataclass
class City:
    """Published city figures."""

    avg_growth: dict[int, Decimal] = field(default_factory=dict)
    #: Where each year's figure came from (file), for explanations.
    sources: dict[int, str] = field(default_factory=dict)

"""Generate synthetic enterprises for the benchmark, as JSON Lines (one enterprise per line).

    python bench/generate.py N OUT.jsonl [--seed 7] [--city bench/city.yaml]

The output follows the enterprise data contract (docs/data-format.md) with no ``city`` key: give the
city figures in a separate file (bench/city.yaml). It is deterministic: the same N and seed give the
same bytes, and enterprise i does not depend on N (each enterprise has its own seeded generator), so a
smaller file is a prefix of a larger one.

Values cluster around the thresholds of the measures, where the rules have most to decide: revenue near
20m / 100m / 300m / 500m / 1bn / 2bn, growth near 1.2 × the city average (sometimes exactly), PUE near
1.25 and PFLOPS near 2000 (sometimes exactly), R&D near 5% of revenue (sometimes exactly), event costs
near 1,000,000, city grants near the amount that reaches each cap. Most enterprises have 2–4 revenue
years and a few records; some have many. A few fail the gate, a few are found to have committed fraud
or violated the market rules, some have prior awards, support from another district policy, or
assessments. Approved assessments never exceed the maximum the policy allows (that would be an input
error, not a benchmark), so they are only generated for items whose maximum does not depend on history
(2.7.a, 2.8, 2.9); rejections are generated for any assessed item.

Nothing is printed on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

WINDOW = (2026, 2027)
TIERS = (100_000_000, 300_000_000, 500_000_000, 1_000_000_000, 2_000_000_000)
MILESTONES = (20_000_000, *TIERS)
MILESTONE_WEIGHTS = (50, 25, 10, 7, 5, 3)
PROGRAMS = {  # program: (item, typical city amount in yuan: about the amount whose match reaches the cap)
    "industry_quality_fund": ("2.1.a", 10_000_000),
    "digital_transformation_fund": ("2.3", 1_000_000),
    "compute_voucher": ("2.4.a", 4_000_000),
    "model_voucher": ("2.5.a", 4_000_000),
    "corpus_voucher": ("2.6", 4_000_000),
}
ONE_TIME = ("2.1.a", "2.1.b", "2.2.a", "2.2.b", "2.3", "2.4.b", "2.5.b", "2.10")
ASSESSED = ("2.2.b", "2.4.b", "2.5.b", "2.7.a", "2.7.b", "2.8", "2.9", "2.10")
HONOURS = ("national_key_software", "sh_top100", "sh_high_growth_top100")
KEY_FIELDS = ("ai", "metaverse", "software_algorithms", "computing_center", "blockchain")
EVENT_KINDS = ("summit", "competition", "forum", "exhibition")
INDUSTRY = (
    "6511",
    "6512",
    "6513",
    "6519",
    "6520",
    "6531",
    "6532",
    "6540",
    "6550",
    "6560",
    "6571",
    "6572",
    "6579",
    "6591",
    "6599",
)
OTHER_INDUSTRY = ("6410", "6421", "6429", "7213", "7511", "5191")
OTHER_DISTRICTS = ("pudong", "minhang", "jiading", "xuhui", "fengxian", "baoshan", "qingpu")
PLACES = (
    "崇明",
    "瀛洲",
    "长兴",
    "横沙",
    "陈家",
    "堡镇",
    "新河",
    "竖新",
    "向化",
    "中兴",
    "港沿",
    "建设",
    "三星",
    "庙镇",
    "城桥",
    "绿华",
    "东平",
    "新海",
    "东滩",
    "西沙",
    "明珠",
    "北湖",
)
CORES = (
    "智算",
    "数智",
    "云图",
    "芯联",
    "星河",
    "天枢",
    "海纳",
    "鲲鹏",
    "曦光",
    "数澜",
    "灵犀",
    "岛链",
    "蓝湾",
    "启明",
    "鸿图",
    "知行",
    "未来",
    "元象",
    "算力",
    "深蓝",
)
KINDS = ("科技", "信息技术", "软件", "数字科技", "网络科技", "智能科技", "数据服务", "芯片设计")
ODD_NAMES = (
    '上海"引号"{c}科技有限公司',
    "上海{c}100%数字\n科技有限公司",
    "上海{c}\\反斜杠\\软件有限公司",
    "上海「{c}」'单引号'智能科技有限公司",
)
MODEL_KINDS = ("大模型", "行业模型", "客服模型", "政务模型")
PRIOR_POLICIES = (
    "崇明区会展经济扶持办法",
    "崇明区人工智能应用扶持办法",
    "崇明区促进企业数字化转型若干措施",
    "崇明区科技创新扶持办法",
)


def read_city(path: Path) -> dict[int, Decimal]:
    """Return the city's average growth by year from a YAML file shaped like bench/city.yaml."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {int(y): Decimal(str(g)) for y, g in doc["city"]["avg_growth"].items()}


def money(fen: int) -> int | float:
    """Return a JSON number for an amount in fen: an int when it is whole yuan, else two decimals.

    ``fen / 100`` is the correctly rounded double of the two-decimal value, so ``json.dumps`` prints
    exactly those two decimals.
    """
    return fen // 100 if fen % 100 == 0 else fen / 100


def to_fen(yuan: float, rng: random.Random, fen_share: float = 0.3) -> int:
    """Round a yuan amount to fen; most amounts are whole yuan, some carry fen."""
    yuan = max(yuan, 0.0)
    if rng.random() < fen_share:
        return int(yuan * 100)
    return int(yuan) * 100


def lognormal(rng: random.Random, centre: float, sigma: float = 0.5) -> float:
    """Return a value spread log-normally around ``centre``."""
    return math.exp(rng.gauss(math.log(centre), sigma))


def credit_code(i: int, district: str = "310230") -> str:
    """Return an 18-character id shaped like a unified social credit code (not a valid one)."""
    digits = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # the code's alphabet (no I, O, S, V, Z)
    n, body = i, ""
    for _ in range(7):
        n, r = divmod(n, len(digits))
        body = digits[r] + body
    return f"91{district}MA{body}{digits[(i * 7 + 3) % len(digits)]}"


class Generator:
    """Generates enterprise i from its own seeded random stream."""

    def __init__(self, seed: int, avg_growth: dict[int, Decimal]) -> None:
        self.seed = seed
        self.avg = avg_growth

    def company(self, i: int) -> dict[str, Any]:
        """Return enterprise number ``i`` as a dict in the contract's shape."""
        rng = random.Random((self.seed << 40) + i)
        co: dict[str, Any] = {}
        gate_fail = rng.random() < 0.03
        district = rng.choice(OTHER_DISTRICTS) if gate_fail and rng.random() < 0.4 else "chongming"
        co["id"] = credit_code(i, "310230" if district == "chongming" else "310115")
        co["name"] = self.name(rng)
        co["registered_in"] = district
        co["industry_code"] = rng.choice(INDUSTRY)
        co["sound_finance"] = co["good_credit"] = co["fits_direction"] = True
        if gate_fail and district == "chongming":
            failed = rng.choice(("industry_code", "sound_finance", "good_credit", "fits_direction"))
            if failed == "industry_code":
                co["industry_code"] = rng.choice(OTHER_INDUSTRY)
            elif rng.random() < 0.5:
                co[failed] = False
            else:
                del co[failed]  # absent means "not established"
        co["fraud"] = rng.random() < 0.005
        co["market_violation"] = rng.random() < 0.005
        key = rng.random() < 0.3
        co["key_enterprise"] = key
        if key or rng.random() < 0.1:
            co["key_fields"] = rng.sample(KEY_FIELDS, rng.choice((1, 1, 1, 2)))

        revenue = self.revenue(rng)
        if revenue:
            co["revenue"] = {str(y): money(f) for y, f in sorted(revenue.items())}
        heavy = rng.random() < 0.01  # a few enterprises with many records
        touched: list[tuple[int, str]] = []  # (year, item) with a record, for other_support / assessments
        maxima: dict[tuple[int, str], int] = {}  # (year, item) -> maximum in fen where it is history-free

        rd = self.rd_spend(rng, revenue, key)
        if rd:
            co["rd_spend"] = {str(y): money(f) for y, f in sorted(rd.items())}
            for y, spend in rd.items():
                touched.append((y, "2.8"))
                maxima[(y, "2.8")] = min(spend * 2 // 10 // 100 * 100, 300_000_000)
        if rng.random() < 0.05:
            years = sorted({self.year(rng) for _ in range(rng.choice((1, 1, 2)))})
            co["honours"] = [{"year": y, "list": rng.choice(HONOURS)} for y in years]
            touched += [(y, "2.1.b") for y in years]
        support = self.city_support(rng, heavy)
        if support:
            co["city_support"] = support
            touched += [(s["year"], PROGRAMS[s["program"]][0]) for s in support]
        projects = self.compute_projects(rng)
        if projects:
            co["compute_projects"] = projects
            touched += [(p["year"], "2.4.b") for p in projects]
        if rng.random() < 0.08:
            filings: list[dict[str, Any]] = []
            for _ in range(rng.choice((1, 1, 1, 2))):
                f: dict[str, Any] = {"year": self.year(rng)}
                if rng.random() < 0.7:
                    f["model"] = rng.choice(CORES) + rng.choice(MODEL_KINDS)
                filings.append(f)
            co["llm_filings"] = filings
            touched += [(f["year"], "2.5.b") for f in filings]
        ic = self.ic_purchases(rng, heavy)
        if ic:
            co["ic_purchases"] = ic
            sums: dict[int, int] = {}
            for p in ic:
                sums[p["year"]] = sums.get(p["year"], 0) + round(p["amount"] * 100)
            for y, s in sums.items():
                touched.append((y, "2.7.a"))
                maxima[(y, "2.7.a")] = min(s * 2 // 10 // 100 * 100, 500_000_000)
        if rng.random() < 0.03:
            ips: list[dict[str, Any]] = [
                {
                    "id": f"ip-{k + 1}",
                    "year": self.year(rng),
                    "first_batch_amount": money(to_fen(lognormal(rng, 5_000_000, 0.8), rng)),
                }
                for k in range(rng.choice((1, 1, 2, 3)))
            ]
            co["own_ip"] = ips
            touched += [(p["year"], "2.7.b") for p in ips]
        events = self.events(rng, heavy)
        if events:
            co["events"] = events
            per_year: dict[int, int] = {}
            for e in events:
                share = min(round(e["cost"] * 100) * 5 // 10 // 100 * 100, 50_000_000)
                per_year[e["year"]] = per_year.get(e["year"], 0) + share
            for y, s in per_year.items():
                touched.append((y, "2.9"))
                maxima[(y, "2.9")] = min(s, 300_000_000)
        if rng.random() < 0.03:
            centres: list[dict[str, Any]] = [
                {
                    "id": f"sc-{k + 1}",
                    "year": self.year(rng),
                    "in_shanghai": rng.random() < 0.9,
                    "cost": money(to_fen(lognormal(rng, 4_000_000, 0.6), rng)),
                }
                for k in range(rng.choice((1, 1, 1, 2)))
            ]
            co["showcase_centres"] = centres
            touched += [(c["year"], "2.10") for c in centres]
        if revenue:
            touched += [(y, "2.2.a") for y in revenue if y in WINDOW]
            touched += [
                (y, "2.2.b")
                for y in revenue
                if y in WINDOW and y - 1 in revenue and any(revenue[y - 1] <= t * 100 < revenue[y] for t in TIERS)
            ]  # a tier crossed

        prior = self.prior_awards(rng, projects)
        if prior:
            co["prior_awards"] = prior
        other = self.other_support(rng, touched)
        if other:
            co["other_support"] = other
        assessments = self.assessments(rng, touched, maxima)
        if assessments:
            co["assessments"] = assessments
        return co

    # ---- parts ---------------------------------------------------------------------------------------

    def name(self, rng: random.Random) -> str:
        core = rng.choice(CORES)
        if rng.random() < 0.01:
            return rng.choice(ODD_NAMES).format(c=core)
        return f"上海{rng.choice(PLACES)}{core}{rng.choice(KINDS)}有限公司"

    def year(self, rng: random.Random) -> int:
        """A record year: mostly in the window, a few before it."""
        r = rng.random()
        return 2025 if r < 0.05 else 2026 if r < 0.55 else 2027

    def revenue(self, rng: random.Random) -> dict[int, int]:
        """Revenue by year in fen: 2–4 years typically, crossing a milestone near the window."""
        if rng.random() < 0.1:
            return {}
        n = rng.choices((1, 2, 3, 4, 5), (5, 30, 40, 20, 5))[0]
        end = 2027 if rng.random() < 0.5 else 2026
        years = list(range(end - n + 1, end + 1))
        milestone = rng.choices(MILESTONES, MILESTONE_WEIGHTS)[0]
        if rng.random() < 0.08:  # small enterprise, well below the first milestone
            milestone = 10_000_000
        target = rng.choice([y for y in years if y in WINDOW] or years)
        out: dict[int, int] = {}
        if rng.random() < 0.02 and target - 1 in years and target in self.avg:
            # previous year exactly at the milestone, growth exactly 1.2 × the city average (W1, W2)
            prev = Decimal(milestone)
            cur = prev * (1 + Decimal("1.2") * self.avg[target])
            out[target - 1] = int(prev * 100)
            out[target] = int(cur * 100)
        elif rng.random() < 0.01 and target - 1 in years:
            out[target - 1] = 0  # newly operating: previous revenue 0 (I4)
            out[target] = to_fen(milestone * rng.uniform(1.0, 1.3), rng)
        else:
            cur_f = milestone * rng.uniform(0.97, 1.3)
            g = max(rng.gauss(0.12, 0.06), -0.5)
            out[target] = to_fen(cur_f, rng)
            if target - 1 in years:
                out[target - 1] = to_fen(cur_f / (1 + g), rng)
        # extend backwards and forwards with ordinary growth
        for y in sorted(years, reverse=True):
            if y not in out and y + 1 in out:
                out[y] = to_fen(out[y + 1] / 100 / (1 + max(rng.gauss(0.1, 0.1), -0.5)), rng)
        for y in years:
            if y not in out and y - 1 in out:
                out[y] = to_fen(out[y - 1] / 100 * (1 + max(rng.gauss(0.1, 0.1), -0.5)), rng)
        if len(years) >= 3 and rng.random() < 0.03:
            del out[rng.choice(years[1:-1])]  # a hole: "first" cannot be decided (needs_data)
        return {y: out[y] for y in years if y in out}

    def rd_spend(self, rng: random.Random, revenue: dict[int, int], key: bool) -> dict[int, int]:
        """R&D by window year in fen, near 5% of revenue (sometimes exactly 5%)."""
        if rng.random() >= (0.6 if key else 0.1):
            return {}
        out: dict[int, int] = {}
        for y in WINDOW:
            if y in revenue:
                if rng.random() < 0.05 and revenue[y] % 20 == 0:
                    out[y] = revenue[y] // 20  # exactly 5%
                elif rng.random() < 0.9:
                    ratio = min(max(rng.gauss(0.05, 0.015), 0.005), 0.3)
                    out[y] = to_fen(revenue[y] / 100 * ratio, rng)
            elif rng.random() < 0.1:
                out[y] = to_fen(lognormal(rng, 2_000_000), rng)  # revenue missing (needs_data)
        return out

    def city_support(self, rng: random.Random, heavy: bool) -> list[dict[str, Any]]:
        """City grants near the amount whose match reaches each item's cap."""
        out: list[dict[str, Any]] = []
        for program, (_item, typical) in PROGRAMS.items():
            if rng.random() >= (0.8 if heavy else 0.12):
                continue
            for _ in range(rng.choice((1, 1, 2, 3)) * (4 if heavy else 1)):
                rec: dict[str, Any] = {
                    "year": self.year(rng),
                    "program": program,
                    "amount": money(to_fen(lognormal(rng, typical * 0.8, 0.6), rng)),
                }
                if program == "corpus_voucher":
                    rec["related_party"] = rng.random() < 0.15
                out.append(rec)
        return out

    def compute_projects(self, rng: random.Random) -> list[dict[str, Any]]:
        """Computing projects near 2000 PFLOPS and PUE 1.25 (both sometimes exactly)."""
        if rng.random() >= 0.04:
            return []
        out: list[dict[str, Any]] = []
        for k in range(rng.choice((1, 1, 1, 2, 3))):
            pflops = 2000.0 if rng.random() < 0.15 else round(max(rng.gauss(2100, 400), 100), 1)
            pue = 1.25 if rng.random() < 0.15 else round(min(max(rng.gauss(1.24, 0.03), 1.05), 1.6), 3)
            out.append(
                {
                    "id": f"dc-{k + 1}",
                    "year": self.year(rng),
                    "kind": "new" if rng.random() < 0.6 else "expansion",
                    "pflops": int(pflops) if pflops == int(pflops) else pflops,
                    "pue": pue,
                    "cost": money(to_fen(lognormal(rng, 150_000_000, 0.6), rng)),
                }
            )
        return out

    def ic_purchases(self, rng: random.Random, heavy: bool) -> list[dict[str, Any]]:
        """IP / EDA contracts near the 25m whose 20% reaches the 5m cap."""
        if rng.random() >= (0.5 if heavy else 0.05):
            return []
        return [
            {
                "id": f"ic-{k + 1}",
                "year": self.year(rng),
                "kind": rng.choice(("ip", "eda")),
                "amount": money(to_fen(lognormal(rng, 8_000_000, 0.8), rng)),
            }
            for k in range(rng.choice((1, 1, 2, 3)) * (5 if heavy else 1))
        ]

    def events(self, rng: random.Random, heavy: bool) -> list[dict[str, Any]]:
        """Events with costs near 1,000,000 (the 500,000 per-event cap at 50%)."""
        if not heavy and rng.random() >= 0.15:
            return []
        out: list[dict[str, Any]] = []
        for y in WINDOW:
            count = rng.randint(10, 25) if heavy else rng.choice((0, 1, 1, 2, 2, 3, 4))
            for _ in range(count):
                cost = 1_000_000 * 100 if rng.random() < 0.03 else to_fen(lognormal(rng, 1_000_000, 0.5), rng)
                out.append(
                    {"id": f"ev-{y}-{len(out) + 1}", "year": y, "kind": rng.choice(EVENT_KINDS), "cost": money(cost)}
                )
        if rng.random() < 0.05:
            out.append(
                {
                    "id": f"ev-2025-{len(out) + 1}",
                    "year": 2025,
                    "kind": rng.choice(EVENT_KINDS),
                    "cost": money(to_fen(lognormal(rng, 800_000), rng)),
                }
            )
        return out

    def prior_awards(self, rng: random.Random, projects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One-time items received before (this or an earlier version of the measures)."""
        if rng.random() >= 0.05:
            return []
        out: list[dict[str, Any]] = []
        for item in rng.sample(ONE_TIME, rng.choice((1, 1, 2))):
            rec: dict[str, Any] = {"item": item, "year": rng.randint(2019, 2025)}
            if item == "2.2.b":
                rec["tier"] = rng.choice(TIERS)
            elif item == "2.4.b":
                rec["project"] = rng.choice(projects)["id"] if projects else "dc-old-1"
            out.append(rec)
        return out

    def other_support(self, rng: random.Random, touched: list[tuple[int, str]]) -> list[dict[str, Any]]:
        """Another district policy supporting a touched item (3.4)."""
        if not touched or rng.random() >= 0.05:
            return []
        year, item = rng.choice(touched)
        return [
            {
                "item": item,
                "year": year,
                "policy": rng.choice(PRIOR_POLICIES),
                "amount": money(to_fen(lognormal(rng, 400_000, 0.8), rng, 0.1)),
            }
        ]

    def assessments(
        self, rng: random.Random, touched: list[tuple[int, str]], maxima: dict[tuple[int, str], int]
    ) -> list[dict[str, Any]]:
        """Assessment outcomes: approvals at or below the maximum, rejections anywhere."""
        out: list[dict[str, Any]] = []
        seen: set[tuple[int, str]] = set()
        for year, item in touched:
            if item not in ASSESSED or year not in WINDOW or (year, item) in seen or rng.random() >= 0.12:
                continue
            seen.add((year, item))
            top = maxima.get((year, item))
            if top is not None and rng.random() < 0.8:
                out.append(
                    {
                        "item": item,
                        "year": year,
                        "decision": "approved",
                        "amount": int(top // 100 * rng.uniform(0.5, 1.0)),
                    }
                )
            else:
                out.append({"item": item, "year": year, "decision": "rejected"})
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate N synthetic enterprises as JSON Lines.")
    parser.add_argument("n", type=int, help="number of enterprises")
    parser.add_argument("out", type=Path, help="output .jsonl file")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--city",
        type=Path,
        default=Path(__file__).with_name("city.yaml"),
        help="city figures (for growth exactly at 1.2 × average)",
    )
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error("N must be >= 0")
    gen = Generator(args.seed, read_city(args.city))
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with args.out.open("w", encoding="utf-8", newline="\n") as f:
        for i in range(args.n):
            f.write(dumps(gen.company(i)))
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

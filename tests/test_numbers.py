"""Exact numbers (rulings W2, W3): money and decimal terms, the @functions, their range."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import clingo
import pytest

from fuchi import numbers as n

F = n.Functions()


@pytest.mark.parametrize("fen", [0, 1, 99_999, 100_000, 2_000_000_000, 250_000_000_000, 10**14, 99_999_999_999_999])
def test_money_round_trip(fen: int) -> None:
    assert n.fen_of(n.money(fen)) == fen


def test_money_terms_order_like_numbers() -> None:
    values = [0, 1, 99_999, 100_000, 2_000_000_000, 2_000_000_001, 10**12, 10**14 - 1, 10**14]
    terms = [n.money(v) for v in values]
    assert sorted(terms) == terms


def test_negative_and_huge_money_refused() -> None:
    with pytest.raises(n.ArithmeticRangeError):
        n.money(-1)
    with pytest.raises(n.ArithmeticRangeError):
        n.money(n.MAX_TERM_FEN + 1)


def test_decimal_order_including_negative_and_flag() -> None:
    vals = [
        Decimal("-0.5"),
        Decimal("-0.000001"),
        Decimal(0),
        Decimal("0.12"),
        Decimal("1.25"),
        Decimal("1.251"),
        Decimal(2000),
        Decimal("1e12"),
    ]
    terms = [n.decimal(v) for v in vals]
    assert sorted(terms) == terms
    # a derived ratio just above 0.12 sorts above the exact 0.12 (flag X=1), below 0.120000000001
    above = n.decimal(Fraction(12, 100) + Fraction(1, 10**15))
    assert n.decimal(Decimal("0.12")) < above < n.decimal(Decimal("0.120000000001"))


def test_growth_exactly_at_threshold_is_not_above() -> None:
    # I4/W1/W2: growth 12% vs 1.2 x 10%: equal, so "超" fails.
    g = F.growth(n.money(112_00), n.money(100_00))[0]
    t = F.scale(n.decimal(Decimal("1.2")), n.decimal(Decimal("0.1")))
    assert g == t
    g2 = F.growth(n.money(112_01), n.money(100_00))[0]
    assert g2 > t


def test_share_rounds_down_to_whole_yuan() -> None:
    assert n.fen_of(F.share(n.money(123_456_789), n.decimal(Decimal("0.1")))) == 123_456_00
    assert n.fen_of(F.share(n.money(101), n.decimal(Decimal("0.5")))) == 0
    assert n.fen_of(F.share(n.money(300_000_000_000), n.decimal(Decimal("0.1")))) == 30_000_000_000


def test_ratio_of_huge_values_exact() -> None:
    # R&D 60,000,000,000 against revenue 999,999,999,999.99: 6.00000000000006%
    q = F.ratio(n.money(6 * 10**12), n.money(99_999_999_999_999))[0]
    assert q >= n.decimal(Decimal("0.05"))
    value, exact = n.fraction_of(q)
    assert not exact and value == Fraction(int(Fraction(6 * 10**12, 99_999_999_999_999) * 10**12), 10**12)


def test_zero_denominator_gives_no_value() -> None:
    assert F.ratio(n.money(5), n.money(0)) == []
    assert F.growth(n.money(5), n.money(0)) == []


def test_cap() -> None:
    assert F.cap(n.money(5), n.money(3)) == n.money(3)
    assert F.cap(n.money(2), n.money(3)) == n.money(2)


def test_scale_refuses_rounded_ratio() -> None:
    rounded = n.decimal(Fraction(1, 3))
    with pytest.raises(n.ArithmeticRangeError):
        F.scale(rounded, n.decimal(Decimal(1)))


def test_clingo_sum_of_limbs_cannot_wrap() -> None:
    # 20,000 parts of 10^12 yuan each: the policy's money_sum rule adds limbs, then carries.
    prog = """
    money_sum(G, m(SA + (SB + SC/100000)/100000, (SB + SC/100000)\\100000, SC\\100000)) :-
        sum_part(G, _, _),
        SA = #sum{ A,K : sum_part(G, K, m(A,_,_)) },
        SB = #sum{ B,K : sum_part(G, K, m(_,B,_)) },
        SC = #sum{ V,K : sum_part(G, K, m(_,_,V)) }.
    """
    ctl = clingo.Control()
    ctl.add("base", [], prog)
    big = n.money(10**14 - 1)  # 999,999,999,999.99 yuan
    with ctl.backend() as b:
        for k in range(20_000):
            b.add_rule([b.add_atom(clingo.Function("sum_part", [clingo.Function("g"), clingo.Number(k), big]))])
    ctl.ground([("base", [])])
    sums = [a.symbol for a in ctl.symbolic_atoms.by_signature("money_sum", 2)]
    assert len(sums) == 1
    assert n.fen_of(sums[0].arguments[1]) == 20_000 * (10**14 - 1)


def test_render() -> None:
    assert n.render_money(1_234_567_50) == "1,234,567.50 元"
    assert n.render_money(100_000_00) == "100,000 元"
    assert n.render_money(300_000_00, "wan") == "30 万元"
    assert n.render_decimal(n.decimal(Decimal("0.12")), percent=True) == "12%"
    assert n.render_decimal(n.decimal(Fraction(4, 9)), percent=True) == "44.4444…%"


@pytest.mark.parametrize(
    ("yuan", "text"),
    [
        (20_000_000, "20,000,000 元（2000万元）"),
        (99_999_999, "99,999,999 元（9999.9999万元）"),
        (100_000_000, "100,000,000 元（1亿元）"),
        (150_000_000, "150,000,000 元（1.5亿元）"),
        (2_000_000_000, "2,000,000,000 元（20亿元）"),
    ],
)
def test_amounts_in_wan_below_one_yi_and_in_yi_from_there(yuan: int, text: str) -> None:
    """Milestones read as the measures write them: 2000万元, 1亿元, 20亿元 (not 200000万元)."""
    assert n.render_money(yuan * 100, "yuan+wan") == text

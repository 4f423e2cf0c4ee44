"""The JSON text of a row written field by field equals json.dumps of the contract's object."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fuchi.engines.evaluation import Row
from fuchi.output.render import _dumps, row_dict, row_json

_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(),  # any code point, surrogates included
        st.sampled_from(['"', "\\", "\n", "\x1b", "\u2028", "\u202e", "\x7f", "\x85", "元", "/"]),
    )
)


@settings(max_examples=500, deadline=None)
@given(
    company=_TEXT,
    year=st.integers(-(10**12), 10**12),
    item=_TEXT,
    status=_TEXT,
    amount=st.integers(-(10**20), 10**20),
    payable=st.one_of(st.none(), st.integers(0, 3000)),
    reason=_TEXT,
    explanation=st.one_of(st.none(), _TEXT),
)
def test_row_json_is_the_dumps_of_the_row(
    company: str,
    year: int,
    item: str,
    status: str,
    amount: int,
    payable: int | None,
    reason: str,
    explanation: str | None,
) -> None:
    row = Row(company, year, item, status, amount, payable, reason, explanation)
    assert row_json(row) == _dumps(row_dict(row))

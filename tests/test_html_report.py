"""``fuchi diff --format html`` and ``fuchi budget --format html``: one self-contained, well-formed page.

Checked with Python's html.parser (every element closed in order, no script, no fetch, every data text
escaped) and against ``--format json``: each figure the page's totals show carries ``data-figure`` (its
place in the JSON totals) and must equal it, and every total of the JSON must be on the page. Then the page
is rendered in headless Chromium (skipped, with the reason, when no chromium binary is installed; .ci/run
installs it from Debian's packages).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fuchi.cli import main
from fuchi.output.html import DiffHtmlWriter

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = [str(ROOT / "facts" / "city.yaml"), str(ROOT / "facts" / "companies.yaml")]
DRAFT = ["--set", "growth_factor=1.5", "--set", "min_rd_ratio=0.04"]
#: The one enterprise the draft changes in the example data (its 2.8 becomes pending: +1,200,000).
GAINER = "91310230MA1K0B2C3D"
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "source", "area", "base", "embed", "track"}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--workers", "0"], catch_exceptions=False)


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


class Page(HTMLParser):
    """Parses a page, failing on a mismatched or unclosed element; collects figures, text and tags."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.figures: list[tuple[str, list[str]]] = []
        self.text: list[str] = []
        self._figure: list[list[str] | None] = []
        self.feed(text)
        self.close()
        assert not self.stack, f"unclosed elements: {self.stack}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)
            key = dict(attrs).get("data-figure")
            if key is not None:
                self.figures.append((key, []))
            self._figure.append(None if key is None else self.figures[-1][1])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-3:]}"
        self.stack.pop()
        self._figure.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        into = self._figure[-1] if self._figure else None
        if into is not None:
            into.append(data)

    def numbers(self) -> dict[str, int]:
        """Every ``data-figure`` as an int (``+1,200,000`` → 1200000); one shown twice must read the same."""
        out: dict[str, int] = {}
        for key, parts in self.figures:
            value = int("".join(parts).replace(",", "").replace("+", ""))
            assert out.setdefault(key, value) == value, f"{key} shown as {out[key]} and {value}"
        return out

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def assert_self_contained(page: Page, raw: str) -> None:
    """No script, no handler, nothing fetched; Chinese first, UTF-8."""
    assert raw.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    assert ("meta", {"charset": "utf-8"}) in page.tags
    for tag, attrs in page.tags:
        assert tag not in {"script", "img", "iframe", "link", "object", "embed"}, tag
        for name in attrs:
            assert not name.startswith("on"), (tag, name)
            assert name not in {"src", "href", "srcset", "action"}, (tag, name)
    assert "url(" not in raw and "@import" not in raw
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg\")", raw)


def leaves(doc: Any, prefix: str = "") -> dict[str, int]:
    """The JSON totals as ``path/to/leaf`` → int."""
    if isinstance(doc, dict):
        out: dict[str, int] = {}
        for k, v in doc.items():
            out |= leaves(v, f"{prefix}/{k}" if prefix else str(k))
        return out
    return {prefix: doc}


# ---- diff --------------------------------------------------------------------------------------------


def test_diff_html_is_well_formed_and_equals_the_json_totals() -> None:
    raw = ok("diff", *EXAMPLE, *DRAFT, "--format", "html")
    totals = json.loads(ok("diff", *EXAMPLE, *DRAFT, "--format", "json"))["totals"]
    page = Page(raw)
    assert_self_contained(page, raw)
    expected = leaves(totals)
    shown = page.numbers()
    assert shown == {k: expected[k] for k in shown}, "a figure differs from the JSON"
    assert set(expected) <= set(shown), f"totals not on the page: {sorted(set(expected) - set(shown))}"
    text = page.all_text
    assert "政策影响报告" in text and "Policy impact report" in text
    assert "growth_factor=1.5" in text and totals["amount"]["delta"]["pending_assessment"] == 1_200_000
    assert "+1,200,000" in text and GAINER in text and "上海崇明岛数智软件有限公司" in text
    assert sum(1 for t, _ in page.tags if t == "svg") >= 5


def test_diff_html_is_deterministic_and_written_with_output(tmp_path: Path) -> None:
    first = ok("diff", *EXAMPLE, *DRAFT, "--format", "html")
    out = tmp_path / "report.html"
    assert ok("diff", *EXAMPLE, *DRAFT, "--format", "html", "--output", str(out)) == ""
    assert out.read_text(encoding="utf-8") == first


def test_diff_html_without_changes() -> None:
    raw = ok("diff", *EXAMPLE, "--format", "html")
    page = Page(raw)
    assert page.numbers()["changes"] == 0
    assert "没有变化" in page.all_text


EVIL_ID = '<script>alert("id")</script>&amp;'
EVIL_NAME = "</td></tr></table><script>alert(1)</script><img src=x onerror=alert(2)>\n# <b>x</b> \u202eevil"


def test_diff_html_escapes_hostile_ids_and_names(tmp_path: Path) -> None:
    text = (ROOT / "facts" / "companies.yaml").read_text(encoding="utf-8")
    text = text.replace(f"id: {GAINER}", f"id: {json.dumps(EVIL_ID)}", 1)
    text = text.replace("name: 上海崇明岛数智软件有限公司", f"name: {json.dumps(EVIL_NAME)}", 1)
    data = tmp_path / "co.yaml"
    data.write_text(text, encoding="utf-8")
    raw = ok("diff", EXAMPLE[0], str(data), *DRAFT, "--format", "html")
    page = Page(raw)
    assert_self_contained(page, raw)
    assert "<script" not in raw and "<img" not in raw and "\u202e" not in raw
    shown = page.all_text
    assert EVIL_ID in shown  # as text, in the tables and the chart labels
    assert EVIL_NAME.replace("\n", "\\n").replace("\u202e", "\\u202e") in shown


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    path = tmp_path_factory.mktemp("pop") / "pop.jsonl"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "800", str(path), "--seed", "3"], check=True)
    return [str(path), str(ROOT / "bench" / "city.yaml")]


def _per_enterprise(changes: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in changes:
        for side, sign in (("base", -1), ("policy", 1)):
            s = c[side]
            if s is not None and s["status"] in ("granted", "pending_assessment"):
                out[c["company"]] = out.get(c["company"], 0) + sign * s["amount"]
    return out


def test_diff_html_ranks_gainers_and_losers_and_caps_the_rows(
    population: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(DiffHtmlWriter, "TOP", 5)
    monkeypatch.setattr(DiffHtmlWriter, "ROW_LIMIT", 7)
    args = ["diff", *population, "--set", "growth_factor=1.5", "--set", "min_rd_ratio=0.04"]
    doc = json.loads(ok(*args, "--format", "json"))
    raw = ok(*args, "--format", "html")
    page = Page(raw)
    totals = doc["totals"]
    assert page.numbers() == {k: v for k, v in leaves(totals).items() if k in page.numbers()}
    per = _per_enterprise(doc["changes"])
    gain = sorted((v for v in per.values() if v > 0), reverse=True)
    lose = sorted(v for v in per.values() if v < 0)
    assert (len(gain), len(lose)) == (totals["enterprises"]["gain"], totals["enterprises"]["lose"])
    assert len(gain) > 5 and len(lose) > 5 and totals["changes"] > 7
    # the two ranked tables: 5 rows each, largest first, the rest counted
    tables = re.findall(r"<h3>(受益最多|受损最多).*?</table>", raw, flags=re.S)
    assert tables == ["受益最多", "受损最多"]
    for head, expected in (("受益最多", gain), ("受损最多", lose)):
        block = raw[raw.index(f"<h3>{head}") :]
        block = block[block.index("<table>") : block.index("</table>")]
        totals_col = [
            int(v.replace(",", "")) for v in re.findall(r'<td class="n (?:pos|neg)">([+-][\d,]+)</td><td>', block)
        ]
        assert totals_col == expected[:5]
    assert f"另有 {len(gain) - 5:,} 家未列出" in raw and f"另有 {len(lose) - 5:,} 家未列出" in raw
    assert f"另有 {totals['changes'] - 7:,} 行未列出" in raw
    changed = raw[raw.index("<details>") : raw.index("</details>")]
    assert changed.count("<tr><td class='id'>") == 7


# ---- budget ------------------------------------------------------------------------------------------


def test_budget_html_equals_the_json_totals(population: list[str]) -> None:
    raw = ok("budget", *population, "--format", "html")
    doc = json.loads(ok("budget", *population, "--format", "json"))
    page = Page(raw)
    assert_self_contained(page, raw)
    expected = leaves(doc["totals"])
    shown = page.numbers()
    assert shown == {k: expected[k] for k in shown}
    assert set(expected) <= set(shown), sorted(set(expected) - set(shown))
    text = page.all_text
    assert "预算敞口报告" in text
    for cell in doc["budget"]:  # the item × payable year × status table lists every cell
        assert f"{cell['amount']:,}" in text
    assert ok("budget", *population, "--format", "html") == raw


# ---- headless Chromium -------------------------------------------------------------------------------


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_the_page_renders_in_headless_chromium(tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium binary (apt-get install chromium; .ci/run installs it): the page was not rendered")
    page = tmp_path / "diff.html"
    assert ok("diff", *EXAMPLE, *DRAFT, "--format", "html", "--output", str(page)) == ""
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    env = {**os.environ, "HOME": str(tmp_path)}
    url = page.as_uri()
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=180, env=env, check=False
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    # the DOM as Chromium built it: the parser adds <tbody>, which the file does not have
    assert "<tbody>" in dom.stdout and "<tbody>" not in page.read_text(encoding="utf-8")
    assert "政策影响报告" in dom.stdout and "+1,200,000" in dom.stdout and GAINER in dom.stdout
    assert "<svg" in dom.stdout and "<script" not in dom.stdout
    shot = tmp_path / "diff.png"
    result = subprocess.run(
        [browser, *flags, f"--screenshot={shot}", "--window-size=1280,2000", url],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == 1280
    assert len(png) > 20_000  # a blank page is a few kilobytes

"""Quote fidelity for ``fuchi check``: every 「…」 in a rule comment is a verbatim passage of the source text.

The policy's Chinese source text (``source.zh`` of policy.yaml, else the one ``source/*.zh.txt``) is
authoritative. A quote is compared with it after removing whitespace and line breaks (the source wraps its
lines, comments wrap theirs); nothing else is normalised: full-width and half-width punctuation, digits and
letters must be as in the source. ``……`` in a quote marks an elision: each part is verbatim, and the parts
occur in this order within one clause's text (policy.yaml ``clauses``, itself a verbatim passage of the
source). Text that is not the source's — a ruling, a paraphrase, a placeholder such as 1:x — is written
outside 「」 (in “…” for instance) and is not compared.

Every clause a rule cites must also be quoted whole at least once: some unelided quote in the comment of a
rule citing it contains the clause's entire text (its final 。 or ； may be left out).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..policy import Policy, RuleInfo
from .checker import Finding, _rel

OPEN, CLOSE = "「", "」"
#: The elision mark inside a quote: two U+2026 HORIZONTAL ELLIPSIS.
ELISION = "……"
#: Characters a whole-clause quote may leave out at the end of the clause's text.
_CLAUSE_END = "。；;.，,"
_SPACE = re.compile(r"\s+")
_RULE = re.compile(r"^%@\s*rule\s*:")
#: The explanation sentences of a rule (text after the ``%`` of a comment line).
_SAYS = re.compile(r"^@\s*(zh|en)\s*:")
_HINT = (
    "quote the source word for word (line breaks and spaces do not matter, punctuation does); mark an "
    "omission with ……; write text that is not the source's (a ruling, a paraphrase, 1:x) outside 「」, "
    "e.g. in “…” (docs/drafting.md)"
)


@dataclass(frozen=True)
class Quote:
    """One 「…」 of a rule file's comments.

    Attributes:
        file: The rule file, relative to the policy directory.
        line: The 1-based line of the opening 「.
        column: The 1-based column of the opening 「.
        text: The text between 「 and 」, as written (comment lines joined by a line break).
        rule: The annotated rule whose comment holds the quote (None in a file's header comment).

    """

    file: str
    line: int
    column: int
    text: str
    rule: RuleInfo | None


def compact(text: str) -> str:
    """Return ``text`` without whitespace (spaces, tabs, line breaks, the ideographic space)."""
    return _SPACE.sub("", text)


def _comments(text: str) -> Iterator[tuple[int, int, str]]:
    """The comments of a clingo file: (line, column of the first character, text) per line of comment.

    ``%`` line comments and ``%* … *%`` block comments, outside strings; the ``%`` marks are not part of the
    text.
    """
    i, n, line, start = 0, len(text), 1, 0
    while i < n:
        c = text[i]
        if c == "\n":
            line, start = line + 1, i + 1
            i += 1
        elif c == '"':
            i += 1
            while i < n and text[i] not in '"\n':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif c == "%" and text.startswith("%*", i):
            i += 2
            begin = i
            while i < n and not text.startswith("*%", i):
                if text[i] == "\n":
                    yield line, begin - start + 1, text[begin:i]
                    line, start, begin = line + 1, i + 1, i + 1
                i += 1
            yield line, begin - start + 1, text[begin:i]
            i += 2
        elif c == "%":
            end = text.find("\n", i)
            end = n if end < 0 else end
            yield line, i - start + 2, text[i + 1 : end]
            i = end
        else:
            i += 1


def _owners(lines: list[str], rules: list[RuleInfo]) -> dict[int, RuleInfo]:
    """The rule each comment line of a file belongs to: its annotation block, or its statements."""
    out: dict[int, RuleInfo] = {}
    for info in rules:
        n = min(info.line - 1, len(lines))  # the last comment line above the rule (1-based)
        while n >= 1 and lines[n - 1].startswith("%"):
            out[n] = info
            if _RULE.match(lines[n - 1]):
                break
            n -= 1
        for n in range(info.line, info.end_line + 1):
            out[n] = info
    return out


def scan_quotes(text: str, file: str, rules: list[RuleInfo]) -> tuple[list[Quote], list[tuple[int, int]]]:
    """Find the 「…」 quotes in the comments of one rule file.

    A quote may run over several comment lines in a row. Args: ``text`` the file's text, ``file`` its name
    relative to the policy directory, ``rules`` the policy's annotated rules (those of other files are
    ignored).

    Returns:
        The quotes, and the (line, column) of each 「 that is not closed before the comment ends.

    """
    owners = _owners(text.splitlines(), [r for r in rules if r.file == file])
    quotes: list[Quote] = []
    unclosed: list[tuple[int, int]] = []
    run: list[tuple[int, int, str]] = []

    def flush() -> None:
        opened: tuple[int, int] | None = None
        parts: list[str] = []
        for line, column, comment in run:
            pos = 0
            while pos <= len(comment):
                if opened is None:
                    at = comment.find(OPEN, pos)
                    if at < 0:
                        break
                    opened, parts, pos = (line, column + at), [], at + 1
                else:
                    at = comment.find(CLOSE, pos)
                    if at < 0:
                        parts.append(comment[pos:])
                        break
                    parts.append(comment[pos:at])
                    quotes.append(Quote(file, opened[0], opened[1], "\n".join(parts), owners.get(opened[0])))
                    opened, pos = None, at + 1
        if opened is not None:
            unclosed.append(opened)
        run.clear()

    for line, column, comment in _comments(text):
        if run and line != run[-1][0] + 1:
            flush()
        if _SAYS.match(comment):
            # An explanation sentence (``%@ zh:`` / ``%@ en:``) is the drafter's text, never the source's: a
            # 「 in it is not a quote (and does not open one across the lines around it).
            flush()
            continue
        run.append((line, column, comment))
    flush()
    return quotes, unclosed


def _in_order(parts: list[str], text: str) -> bool:
    """Whether the parts occur in ``text`` one after the other, without overlapping."""
    pos = 0
    for part in parts:
        at = text.find(part, pos)
        if at < 0:
            return False
        pos = at + len(part)
    return True


def _source_files(policy: Policy) -> tuple[list[Path], str | None]:
    """The Chinese source text files, and the declared one if policy.yaml names a file that is missing."""
    source = policy.meta.get("source")
    declared = source.get("zh") if isinstance(source, dict) else None
    if isinstance(declared, str) and declared.strip():
        path = policy.root / declared.strip()
        return ([path], None) if path.is_file() else ([], declared.strip())
    return sorted((policy.root / "source").glob("*.zh.txt")), None


def _clause_lines(policy: Policy) -> dict[str, int]:
    """The line of each clause's ``zh:`` in policy.yaml (else of its id; 1 when not found)."""
    out: dict[str, int] = {}
    try:
        lines = (policy.root / "policy.yaml").read_text(encoding="utf-8").splitlines()
    except OSError:
        return out
    current = None
    inside = False
    for n, text in enumerate(lines, start=1):
        if text and not text[0].isspace() and not text.startswith("#"):
            inside = text.startswith("clauses:")
            continue
        if not inside:
            continue
        m = re.match(r"""^ {1,4}["']?([^"':\s]+)["']?\s*:\s*$""", text)
        if m:
            current = m.group(1)
            out.setdefault(current, n)
        elif current and re.match(r"^\s+zh\s*:", text):
            out[current] = n
    return out


def _shown(text: str, limit: int = 60) -> str:
    flat = compact(text)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _diverges(quote: str, source: str) -> str:
    """A hint on where a quote leaves the source: its longest verbatim beginning, and what follows."""
    lo, hi = 0, len(quote)
    while lo < hi:  # the longest prefix in the source (a prefix of a substring is a substring)
        mid = (lo + hi + 1) // 2
        if quote[:mid] in source:
            lo = mid
        else:
            hi = mid - 1
    if lo == 0:
        return "no part of its beginning is in the source"
    return f"the source has 「{_shown(quote[:lo], 30)}」 but not what follows: 「{_shown(quote[lo:], 20)}」"


def quote_findings(policy: Policy) -> list[Finding]:
    """Compare every 「…」 of the rule comments with the source text, and look for clauses never quoted whole.

    Args:
        policy: The loaded policy.

    Returns:
        Errors for a quote not verbatim in the source (or elided parts not in order within one clause),
        an unclosed 「, a clause text of policy.yaml not verbatim in the source, a declared source file
        that is missing; warnings for a clause a rule cites that no rule citing it quotes whole, and for a
        policy without a source text (its quotes are then not compared).

    """
    findings: list[Finding] = []
    garbled: set[str] = set()
    meta_file = _rel(str(policy.root / "policy.yaml"), policy.root)
    quotes: list[Quote] = []
    for rf in policy.rule_files:
        rel = rf.relative_to(policy.root).as_posix()
        found, unclosed = scan_quotes(rf.read_text(encoding="utf-8"), rel, policy.rules)
        quotes += found
        for line, column in unclosed:
            findings.append(
                Finding(
                    _rel(str(rf), policy.root),
                    line,
                    column,
                    "error",
                    "引文缺少」/ the quote opened here is not closed with 」 in the same comment",
                    "close the quote with 」 (a quote may run over consecutive comment lines)",
                    "quote-unclosed",
                )
            )
    files, missing = _source_files(policy)
    if missing is not None:
        findings.append(
            Finding(
                meta_file,
                1,
                1,
                "error",
                f"政策原文文件不存在 / the source text {missing} named in policy.yaml does not exist",
                "put the authoritative Chinese text there, or correct source: zh: in policy.yaml",
                "source-missing",
            )
        )
    elif not files:
        findings.append(
            Finding(
                meta_file,
                1,
                1,
                "warning",
                "无政策原文 / no source text (source: zh: in policy.yaml, or source/*.zh.txt): quotes are not "
                "compared with it",
                "add the authoritative Chinese text as source/<id>.zh.txt and name it under source: in policy.yaml",
                "no-source",
            )
        )
    else:
        sources = {f: compact(f.read_text(encoding="utf-8").removeprefix("\ufeff")) for f in files}
        name = " ".join(_rel(str(f), policy.root) for f in files)
        garbled = _compare(policy, quotes, sources, name, meta_file, findings)
    findings += _whole_clauses(policy, quotes, skip=garbled)
    return findings


def _compare(
    policy: Policy, quotes: list[Quote], sources: dict[Path, str], name: str, meta_file: str, findings: list[Finding]
) -> set[str]:
    """Add the errors of quotes and clause texts that are not verbatim in the source; return those clauses."""
    garbled: set[str] = set()
    texts = list(sources.values())
    clause_lines = _clause_lines(policy)
    clauses = {cid: compact(c.zh) for cid, c in policy.clauses.items() if c.zh}
    for cid, text in clauses.items():
        if not any(text in s for s in texts):
            garbled.add(cid)
            findings.append(
                Finding(
                    meta_file,
                    clause_lines.get(cid, 1),
                    1,
                    "error",
                    f"条款文本与政策原文不符 / the text of clause {cid} is not verbatim in {name}: 「{_shown(text)}」",
                    "copy the clause from the source text word for word; "
                    + max((_diverges(text, s) for s in texts), key=len),
                    "clause-text",
                )
            )
    for q in quotes:
        text = compact(q.text)
        where = _rel(str(policy.root / q.file), policy.root)
        parts = [p for p in text.split(ELISION) if p]
        if not parts:
            findings.append(
                Finding(where, q.line, q.column, "error", "空引文 / an empty quote 「」", _HINT, "quote-empty")
            )
            continue
        bad = next((p for p in parts if not any(p in s for s in texts)), None)
        if bad is not None:
            diverges = next(_diverges(bad, s) for s in texts)
            findings.append(
                Finding(
                    where,
                    q.line,
                    q.column,
                    "error",
                    f"引文与政策原文不符 / quote is not verbatim in {name}: 「{_shown(q.text)}」",
                    f"{diverges}; {_HINT}",
                    "quote-not-verbatim",
                )
            )
        elif len(parts) > 1 or ELISION in text:
            if not any(_in_order(parts, s) for s in texts) or not any(_in_order(parts, c) for c in clauses.values()):
                findings.append(
                    Finding(
                        where,
                        q.line,
                        q.column,
                        "error",
                        "省略引文的各部分须按原文顺序出自同一条款 / the parts of an elided quote do not occur in "
                        f"this order within one clause's text: 「{_shown(q.text)}」",
                        "put the parts in the source's order and quote one clause per 「」 (…… stands for "
                        "omitted words of the same clause)",
                        "quote-elision",
                    )
                )
    return garbled


def _whole_clauses(policy: Policy, quotes: list[Quote], skip: set[str]) -> list[Finding]:
    """Warnings for clauses that rules cite but that no rule citing them quotes in full (but those in ``skip``)."""
    first: dict[str, RuleInfo] = {}
    for info in policy.rules:
        for cid in info.clauses:
            first.setdefault(cid, info)
    whole: dict[str, list[str]] = {}
    for q in quotes:
        if q.rule is not None and ELISION not in q.text:
            for cid in q.rule.clauses:
                whole.setdefault(cid, []).append(compact(q.text))
    findings: list[Finding] = []
    for cid, info in first.items():
        clause = policy.clauses.get(cid)
        if clause is None or not clause.zh or cid in skip:
            continue  # (an unknown clause, or a clause text not in the source, is an error of its own)
        text = compact(clause.zh)
        text = text[:-1] if len(text) > 1 and text[-1] in _CLAUSE_END else text
        if any(text in q for q in whole.get(cid, [])):
            continue
        findings.append(
            Finding(
                _rel(str(policy.root / info.file), policy.root),
                info.clause_line,
                1,
                "warning",
                f"条款 {cid} 从未被完整逐字引用 / clause {cid} is never quoted whole: no rule citing it quotes its "
                "entire text word for word",
                f"quote it in full, without ……, in the comment of a rule implementing it (e.g. {info.id}): "
                f"「{_shown(clause.zh, 200)}」",
                "clause-not-quoted",
            )
        )
    return findings

"""A policy directory: metadata, parameters, rule files with their annotations, reason texts.

Layout (docs/drafting.md)::

    policy/<id>/policy.yaml       id, version, title, effective window, source, items, clause texts
    policy/<id>/parameters.yaml   every number and list, each with its clause
    policy/<id>/messages.yaml     reason codes -> Chinese and English templates
    policy/<id>/rules/*.lp        the rules, each preceded by ``%@ rule/clause/ruling`` annotations
    policy/<id>/cases/*.yaml      policy test cases
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import clingo
import yaml

from . import numbers
from .errors import PolicyError
from .inputs.records import MAX_DECIMAL, MAX_DECIMALS, MAX_YEAR, MIN_YEAR
from .inputs.schema import Schema, load_schema

PARAM_TYPES = ("yuan", "decimal", "year", "int", "string", "symbol")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ANNOTATION = re.compile(r"^%@\s*(\w+)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class Clause:
    """One clause of the measures, with its text."""

    id: str
    title_zh: str
    title_en: str
    zh: str
    en: str


@dataclass(frozen=True)
class Parameter:
    """One entry of parameters.yaml."""

    name: str
    type: str
    value: Any
    clauses: tuple[str, ...]
    rulings: tuple[str, ...]
    text_zh: str
    text_en: str
    key_type: str | None = None
    value_type: str | None = None


@dataclass(frozen=True)
class RuleInfo:
    """The annotations above one rule of a rule file.

    Attributes:
        id: The stable rule id (``2.2.a.grant``).
        clauses: Clause ids the rule implements (empty for library rules, written ``-``).
        rulings: Ruling ids the rule cites.
        file: The rule file, relative to the policy directory.
        line: The 1-based line of the rule's first statement.
        end_line: The last line of the statements the annotation covers.
        quote: The comment lines under the annotations (clause text quoted, notes).
        says_zh: The ``%@ zh:`` sentence that explains a firing of the rule, with ``{Var}`` placeholders
            for the rule's variables (``fuchi explain``'s auditor page; docs/drafting.md).
        says_en: The ``%@ en:`` sentence, the same in English.
        internal: ``%@ internal:`` was given: the rule is plumbing (status layer, exact sums) and collapses in
            the auditor page into the conditions it reads.

    """

    id: str
    clauses: tuple[str, ...]
    rulings: tuple[str, ...]
    file: str
    line: int
    end_line: int
    quote: tuple[str, ...]
    #: The line of the ``%@ clause:`` annotation (the rule's first line when there is none).
    clause_line: int = 0
    says_zh: str = ""
    says_en: str = ""
    internal: bool = False
    #: The lines of the ``%@ zh:`` and ``%@ en:`` annotations (0 when absent).
    says_line: int = 0


@dataclass(frozen=True)
class Override:
    """One parameter override in force (``--set``; :mod:`fuchi.drafting.overrides`).

    Attributes:
        name: The parameter.
        key: The table entry's key, or None for a whole parameter.
        text: The value as given on the command line.
        value: The parameter's whole value with the override applied.

    """

    name: str
    key: Any
    text: str
    value: Any

    def label(self) -> str:
        """``NAME=VALUE`` or ``NAME.KEY=VALUE``, as given."""
        return f"{self.name}={self.text}" if self.key is None else f"{self.name}.{self.key}={self.text}"


@dataclass
class Policy:
    """A loaded policy directory."""

    root: Path
    id: str
    version: str
    title_zh: str
    title_en: str
    effective_from: str
    effective_to: str
    items: tuple[str, ...]
    clauses: dict[str, Clause]
    parameters: dict[str, Parameter]
    messages: dict[str, dict[str, str]]
    rule_files: list[Path]
    rules: list[RuleInfo]
    digest: str
    schema: Schema
    meta: dict[str, Any] = field(default_factory=dict)
    #: Parameter overrides in force (``--set``), in the order given; ``digest`` covers them.
    overrides: tuple[Override, ...] = ()
    #: The digest of the policy's files alone (``digest`` without the overrides).
    files_digest: str = ""
    #: Every file the digest covers, in digest order (:func:`digest_files`): what decided the results.
    files: tuple[Path, ...] = ()

    def program(self) -> str:
        """Return the concatenated rule text (for tools that want one string)."""
        return "\n".join(p.read_text(encoding="utf-8") for p in self.rule_files)

    def param_symbols(self, only: list[Parameter] | None = None) -> list[clingo.Symbol]:
        """Return the ``param/2`` and ``param/3`` facts of parameters.yaml (or of the parameters ``only``)."""
        out: list[clingo.Symbol] = []
        for p in self.parameters.values() if only is None else only:
            name = clingo.Function(p.name)
            if p.type == "table":
                assert p.key_type is not None and p.value_type is not None
                for key, value in p.value.items():
                    out.append(
                        clingo.Function(
                            "param",
                            [name, _typed(p, p.key_type, key), _typed(p, p.value_type, value)],
                        )
                    )
            else:
                values = p.value if isinstance(p.value, list) else [p.value]
                for value in values:
                    out.append(clingo.Function("param", [name, _typed(p, p.type, value)]))
        return out

    def with_parameters(self, overrides: dict[str, Any]) -> Policy:
        """Return a copy with some parameter values replaced (a "what if" for policy cases).

        Raises:
            PolicyError: An unknown parameter, or a value of the wrong type.
        """
        from dataclasses import replace

        params = dict(self.parameters)
        for name, value in overrides.items():
            if name not in params:
                raise PolicyError(f"unknown parameter {name!r} in a case override / 用例覆盖了不存在的参数")
            params[name] = replace(params[name], value=value)
        copy = replace(self, parameters=params)
        copy.param_symbols()
        return copy

    def override_map(self) -> dict[str, str]:
        """The overrides in force as ``{"NAME" or "NAME.KEY": value as given}`` (outputs show it)."""
        return {o.label().partition("=")[0]: o.text for o in self.overrides}

    def with_overrides(self, overrides: tuple[Override, ...]) -> Policy:
        """Return a copy recording ``overrides`` (already applied to its parameters) in its digest.

        The digest is that of the files and of the overridden parameters' values in force (written the same
        way whatever the spelling: ``1.2`` and ``1.20`` are one value), so that every output of an overridden
        run differs from the plain policy's and names a reproducible configuration.
        """
        from dataclasses import replace

        base = self.files_digest or self.digest
        if not overrides:
            return replace(self, overrides=(), digest=base, files_digest=base)
        h = hashlib.sha256(base.encode())
        for name in sorted({o.name for o in overrides}):
            h.update(b"\0" + name.encode("utf-8") + b"=" + _canonical(self.parameters[name].value).encode("utf-8"))
        return replace(self, overrides=overrides, digest="sha256:" + h.hexdigest(), files_digest=base)

    def rule_at(self, file: str, line: int) -> RuleInfo | None:
        """Return the annotated rule covering ``file:line``, if any."""
        for info in self.rules:
            if info.file == file and info.line <= line <= info.end_line:
                return info
        return None


def _typed(p: Parameter, kind: str, value: Any) -> clingo.Symbol:
    """Convert one parameter value to its clingo term, checking its type."""
    where = f"parameter {p.name}"
    if kind == "yuan":
        dec = _decimal(value, where)
        if dec.copy_abs() * 100 > numbers.MAX_TERM_FEN:
            raise PolicyError(
                f"{where}: {_shown(value)} is outside the supported range (at most "
                f"{numbers.MAX_TERM_FEN // 100} yuan) / 金额超出支持范围",
                "parameters.yaml",
            )
        fen = dec * 100
        if fen != fen.to_integral_value() or dec < 0:
            raise PolicyError(
                f"{where}: {_shown(value)} is not a non-negative amount with at most two decimals", "parameters.yaml"
            )
        return numbers.money(int(fen))
    if kind == "decimal":
        dec = _decimal(value, where)
        if dec.copy_abs() > MAX_DECIMAL or dec != dec.quantize(Decimal(1).scaleb(-MAX_DECIMALS)):
            raise PolicyError(
                f"{where}: {_shown(value)} must have at most {MAX_DECIMALS} decimal places and at most {MAX_DECIMAL} "
                "in size (docs/numbers.md) / 小数最多六位",
                "parameters.yaml",
            )
        return numbers.decimal(dec)
    if kind in ("year", "int"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise PolicyError(f"{where}: {_shown(value)} is not an integer / 应为整数", "parameters.yaml")
        if kind == "year" and not MIN_YEAR <= value <= MAX_YEAR:
            raise PolicyError(
                f"{where}: 年份应在 {MIN_YEAR}–{MAX_YEAR} 之间 / expected a year from {MIN_YEAR} to {MAX_YEAR}, "
                f"got {_shown(value)}",
                "parameters.yaml",
            )
        if abs(value) > MAX_INT_PARAMETER:
            raise PolicyError(
                f"{where}: 整数参数的绝对值至多 {MAX_INT_PARAMETER:,} / expected an integer of at most "
                f"{MAX_INT_PARAMETER:,} in size, got {_shown(value)} (docs/numbers.md: a rule adding it to a year "
                "must stay within clingo's 32 bits, which clingo would wrap silently)",
                "parameters.yaml",
            )
        return numbers.number(value)
    if kind == "string":
        if not isinstance(value, str):
            raise PolicyError(f"{where}: {value!r} is not a string / 应为文本", "parameters.yaml")
        return clingo.String(value)
    if kind == "symbol":
        if not isinstance(value, str) or not _NAME.match(value):
            raise PolicyError(f"{where}: {value!r} is not a lower-case identifier / 应为小写标识符", "parameters.yaml")
        return clingo.Function(value)
    raise PolicyError(
        f"{where}: unknown type {kind!r} (expected one of {', '.join(PARAM_TYPES)}) / 未知参数类型", "parameters.yaml"
    )


#: The largest integer parameter (``type: int``) in size: a year, plus or minus one, stays far inside clingo's
#: 32-bit integers, which wrap silently (an offset of 2**31 - 1 gave payable year -2147481623 on clingo).
MAX_INT_PARAMETER = 10**9


def _shown(value: Any) -> str:
    """A parameter value in a message: numbers as written (``1E+30``, not ``Decimal('1E+30')``)."""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return str(value) if not isinstance(value, int) or value.bit_length() <= 256 else "<a huge integer>"
    return repr(value)


def _decimal(value: Any, where: str) -> Decimal:
    from .inputs.loader import HugeNumber

    if isinstance(value, HugeNumber):
        what = (
            "has too many decimal places / 小数位数过多"
            if value.tiny
            else "is outside the supported range / 数值超出支持范围"
        )
        raise PolicyError(f"{where}: {value} {what} (docs/numbers.md)", "parameters.yaml")
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise PolicyError(f"{where}: {value!r} is not a number / 应为数字", "parameters.yaml")
    try:
        # YAML floats arrive as float: go through their shortest text, which is what the drafter wrote.
        dec = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation as exc:
        raise PolicyError(f"{where}: {value!r} is not a number / 应为数字", "parameters.yaml") from exc
    if not dec.is_finite():
        raise PolicyError(f"{where}: {_shown(value)} is not a finite number / 应为有限数", "parameters.yaml")
    if dec and not -40 <= dec.adjusted() <= 40:  # beyond any amount or rate; context arithmetic would round
        what = (
            "has too many decimal places / 小数位数过多"
            if dec.adjusted() < 0
            else "is outside the supported range / 数值超出支持范围"
        )
        raise PolicyError(f"{where}: {_shown(value)} {what} (docs/numbers.md)", "parameters.yaml")
    return dec


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return tuple(str(value).split())


def _load_yaml(path: Path) -> Any:
    # Decimals exactly as written (no binary floats), strict booleans, no key given twice.
    from .inputs.loader import DuplicateKeyError, duplicate_text, load_yaml_data

    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise PolicyError("file not found / 文件不存在", str(path)) from exc
    except OSError as exc:
        raise PolicyError(f"cannot read the file / 无法读取: {exc.strerror or exc}", str(path)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PolicyError(
            f"not valid UTF-8 text (byte {data[exc.start]:#04x}) / 不是有效的 UTF-8 文本", str(path), line
        ) from None
    try:
        doc = load_yaml_data(text.removeprefix("\ufeff"))
        _valid_text(doc, path)
        return doc
    except DuplicateKeyError as exc:
        raise PolicyError(f"{exc.field}: {duplicate_text(exc)}", str(path), exc.line) from None
    except RecursionError:
        raise PolicyError("nesting too deep / 嵌套过深", str(path)) from None
    except yaml.YAMLError as exc:
        problem, at = yaml_problem(exc)
        raise PolicyError(problem, str(path), at) from exc


def yaml_problem(exc: yaml.YAMLError) -> tuple[str, int | None]:
    """A YAML syntax error as one bilingual line and its line number (PyYAML's text has several lines)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    where = f" ({context})" if context else ""
    column = f", 第 {mark.column + 1} 列 column {mark.column + 1}" if mark else ""
    return f"YAML 语法错误 YAML syntax error: {problem}{where}{column}", (mark.line + 1 if mark else None)


def _valid_text(doc: Any, path: Path) -> None:
    """Refuse texts that no output can carry: a lone surrogate (``"\\ud800"`` in YAML) or NUL (clingo ends there)."""
    todo = [doc]
    while todo:
        value = todo.pop()
        if isinstance(value, dict):
            todo.extend(value.keys())
            todo.extend(value.values())
        elif isinstance(value, list):
            todo.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                raise PolicyError(f"the text {value[:40]!r} holds a NUL character / 文本含有 NUL 字符", str(path))
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise PolicyError(
                    f"the text {value[:40]!r} holds a lone surrogate: not valid Unicode / 文本含有孤立的代理码位",
                    str(path),
                ) from None


def scan_annotations(text: str, file: str) -> list[RuleInfo]:
    """Find ``%@ rule:`` blocks and the statements they cover (up to the next blank line or block).

    Args:
        text: The rule file text.
        file: The file name recorded in each :class:`RuleInfo`.

    Returns:
        One entry per annotated block, in file order.

    """
    lines = text.splitlines()
    infos: list[RuleInfo] = []
    i = 0
    while i < len(lines):
        m = _ANNOTATION.match(lines[i])
        if not m or m.group(1) != "rule":
            i += 1
            continue
        fields: dict[str, str] = {}
        quote: list[str] = []
        clause_line = 0
        says_line = 0
        while i < len(lines) and lines[i].startswith("%"):
            m = _ANNOTATION.match(lines[i])
            if m:
                fields[m.group(1)] = m.group(2)
                if m.group(1) == "clause":
                    clause_line = i + 1
                if m.group(1) in ("zh", "en") and not says_line:
                    says_line = i + 1
            else:
                quote.append(lines[i].lstrip("%").strip())
            i += 1
        start = i
        end = i
        while end < len(lines) and lines[end].strip() and not _ANNOTATION.match(lines[end]):
            end += 1
        clauses = tuple(c for c in fields.get("clause", "").split() if c != "-")
        infos.append(
            RuleInfo(
                id=fields["rule"],
                clauses=clauses,
                rulings=tuple(fields.get("ruling", "").split()),
                file=file,
                line=start + 1,
                end_line=max(start + 1, end),
                quote=tuple(q for q in quote if q),
                clause_line=clause_line or start + 1,
                says_zh=fields.get("zh", ""),
                says_en=fields.get("en", ""),
                internal="internal" in fields,
                says_line=says_line,
            )
        )
        i = end
    return infos


def load_policy(path: str | Path) -> Policy:
    """Load and check the shape of a policy directory.

    Args:
        path: The policy directory.

    Returns:
        The loaded policy.

    Raises:
        PolicyError: A file is missing or malformed, named by its path (the directory included: in
            ``fuchi diff --base A --policy B`` the message tells which policy is broken).

    """
    try:
        return _load_policy(Path(path))
    except PolicyError as exc:
        if exc.file is None or Path(exc.file).is_absolute() or Path(exc.file).is_relative_to(Path(path)):
            raise  # (already the file's path)
        raise PolicyError(exc.text, str(Path(path) / exc.file), exc.line) from None


def _load_policy(root: Path) -> Policy:
    if not root.is_dir():
        raise PolicyError("policy directory not found / 找不到政策目录", str(root))
    meta_file = str(root / "policy.yaml")
    meta = _load_yaml(root / "policy.yaml")
    if not isinstance(meta, dict):
        raise PolicyError("expected a mapping / 应为映射", meta_file, 1)
    meta_lines = _key_lines(root / "policy.yaml")
    for key in ("id", "version", "title", "effective", "items", "clauses"):
        if key not in meta:
            raise PolicyError(f"missing key {key!r} / 缺少键", meta_file)
    for key in ("id", "version"):
        _scalar(meta[key], key, meta_file, meta_lines.get(key))
    title = _texts(meta["title"], "title", meta_file, meta_lines.get("title"))
    effective = meta["effective"]
    if not isinstance(effective, dict):
        raise PolicyError("effective: expected {from: …, to: …} / 应为映射", meta_file, meta_lines.get("effective"))
    for key in ("from", "to"):
        _scalar(effective.get(key, ""), f"effective.{key}", meta_file, meta_lines.get("effective"))
    items = meta["items"]
    if not isinstance(items, list) or not items:
        raise PolicyError("items: expected a list of clause ids / 应为条款编号列表", meta_file, meta_lines.get("items"))
    for i in items:
        _scalar(i, "items", meta_file, meta_lines.get("items"))
    raw_clauses = meta.get("clauses") or {}
    if not isinstance(raw_clauses, dict):
        raise PolicyError("clauses: expected a mapping id → {title, zh, en}", meta_file, meta_lines.get("clauses"))
    clauses: dict[str, Clause] = {}
    for cid, c in raw_clauses.items():
        what = f"clauses.{cid}"
        if not isinstance(c, dict):
            raise PolicyError(
                f"{what}: expected a mapping {{title, zh, en}} / 应为映射", meta_file, meta_lines.get("clauses")
            )
        ctitle = _texts(c.get("title"), f"{what}.title", meta_file, meta_lines.get("clauses"))
        text = _texts({k: c[k] for k in ("zh", "en") if k in c}, what, meta_file, meta_lines.get("clauses"))
        clauses[str(cid)] = Clause(str(cid), ctitle[0], ctitle[1], text[0].strip(), text[1].strip())
    raw_params = _load_yaml(root / "parameters.yaml") or {}
    if not isinstance(raw_params, dict):
        raise PolicyError("expected a mapping of parameters / 应为参数映射", "parameters.yaml", 1)
    param_lines = _key_lines(root / "parameters.yaml")
    parameters: dict[str, Parameter] = {}
    for name, spec in raw_params.items():
        line = param_lines.get(str(name))
        if not isinstance(name, str) or not _NAME.match(name):
            raise PolicyError(
                f"parameter name {name!r} is not a lower-case identifier / 参数名应为小写标识符",
                "parameters.yaml",
                line,
            )
        if not isinstance(spec, dict) or "value" not in spec or "type" not in spec:
            raise PolicyError(
                f"parameter {name}: expected a mapping with type and value / 应为含 type 与 value 的映射",
                "parameters.yaml",
                line,
            )
        text = _texts(spec.get("text"), f"parameter {name}: text", "parameters.yaml", line)
        kind = spec["type"]
        if kind == "table":
            for key in ("key_type", "value_type"):
                if spec.get(key) not in PARAM_TYPES:
                    raise PolicyError(
                        f"parameter {name}: a table needs {key}: one of {', '.join(PARAM_TYPES)} / 表参数须声明 {key}",
                        "parameters.yaml",
                        line,
                    )
            if not isinstance(spec["value"], dict):
                raise PolicyError(
                    f"parameter {name}: a table's value is a mapping key → value / 表参数的值应为映射",
                    "parameters.yaml",
                    line,
                )
        elif not isinstance(kind, str) or kind not in PARAM_TYPES:
            raise PolicyError(
                f"parameter {name}: unknown type {kind!r} (expected one of {', '.join(PARAM_TYPES)}, table) "
                "/ 未知参数类型",
                "parameters.yaml",
                line,
            )
        for key in ("clause", "ruling"):
            value = spec.get(key)
            if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict | list) for v in value)):
                raise PolicyError(f"parameter {name}: {key}: expected ids / 应为编号", "parameters.yaml", line)
        parameters[name] = Parameter(
            name=name,
            type=str(kind),
            value=spec["value"],
            clauses=_as_tuple(spec.get("clause")),
            rulings=_as_tuple(spec.get("ruling")),
            text_zh=text[0],
            text_en=text[1],
            key_type=spec.get("key_type"),
            value_type=spec.get("value_type"),
        )
    messages_path = root / "messages.yaml"
    messages = _messages(_load_yaml(messages_path), messages_path) if messages_path.exists() else {}
    rule_files = sorted((root / "rules").glob("*.lp"))
    if not rule_files:
        raise PolicyError("no rules/*.lp files / 没有规则文件", str(root))
    rules: list[RuleInfo] = []
    for rf in rule_files:
        rel = rf.relative_to(root).as_posix()
        source = _rule_text(rf, rel)
        _no_script(source, rel)
        rules.extend(scan_annotations(source, rel))
    included = included_files(root, rule_files)
    policy = Policy(
        root=root,
        id=str(meta["id"]),
        version=str(meta["version"]),
        title_zh=title[0],
        title_en=title[1],
        effective_from=str(effective.get("from", "")),
        effective_to=str(effective.get("to", "")),
        items=tuple(str(i) for i in items),
        clauses=clauses,
        parameters=parameters,
        messages=messages,
        rule_files=rule_files,
        rules=rules,
        digest=_digest(root, [*rule_files, *(f for f in included if f not in rule_files)]),
        schema=load_schema(root, tuple(str(i) for i in items)),
        meta=meta,
        files=tuple(digest_files(root, [*rule_files, *(f for f in included if f not in rule_files)])),
    )
    for p in parameters.values():  # type-check every parameter now, not mid-run
        try:
            policy.param_symbols([p])
        except PolicyError as exc:
            raise PolicyError(exc.text, "parameters.yaml", exc.line or param_lines.get(p.name)) from None
    return policy


def _scalar(value: Any, what: str, file: str, line: int | None) -> None:
    if isinstance(value, dict | list) or value is None:
        raise PolicyError(
            f"{what}: expected a single value (text or number), got {_shown(value)} / 应为单值", file, line
        )


def _texts(value: Any, what: str, file: str, line: int | None) -> tuple[str, str]:
    """``{zh: …, en: …}`` as (zh, en); absent texts are empty; other keys are ignored."""
    if value is None:
        return "", ""
    if not isinstance(value, dict) or not all(isinstance(value.get(k, ""), str | None) for k in ("zh", "en")):
        raise PolicyError(
            f"{what}: expected {{zh: …, en: …}} (texts), got {_shown(value)} / 应为中英文文本", file, line
        )
    return value.get("zh") or "", value.get("en") or ""


def _messages(data: Any, path: Path) -> dict[str, dict[str, str]]:
    """messages.yaml: reason code (``name/arity``) → ``{zh: template, en: template}``."""
    if data is None:
        return {}
    lines = _key_lines(path)
    if not isinstance(data, dict):
        raise PolicyError("expected a mapping reason/arity → {zh: …, en: …} / 应为映射", str(path), 1)
    out: dict[str, dict[str, str]] = {}
    for key, templates in data.items():
        line = lines.get(str(key))
        if not isinstance(templates, dict) or not templates:
            raise PolicyError(f"{key}: expected {{zh: …, en: …}} (templates) / 应为中英文模板", str(path), line)
        for lang, template in templates.items():
            if lang not in ("zh", "en") or not isinstance(template, str):
                raise PolicyError(
                    f"{key}: expected {{zh: …, en: …}} (texts), got {lang}: {_shown(template)} / 应为中英文模板",
                    str(path),
                    line,
                )
        out[str(key)] = {str(k): v for k, v in templates.items()}
    return out


def _rule_text(path: Path, rel: str) -> str:
    """A rule file's text (UTF-8)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"cannot read the file / 无法读取: {exc.strerror or exc}", rel) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PolicyError(
            f"not valid UTF-8 text (byte {data[exc.start]:#04x}) / 不是有效的 UTF-8 文本", rel, line
        ) from None


_COMMENT_OR_STRING = re.compile(r'%\*.*?\*%|%[^\n]*|"(?:[^"\\\n]|\\.)*"', re.S)
_SCRIPT = re.compile(r"#script\b")
_PARAM = re.compile(r"(?<![A-Za-z0-9_'])param\(\s*([a-z_][A-Za-z0-9_']*)\s*[,)]")


def _code(text: str) -> str:
    """The text with comments and strings blanked (same lines), for scanning the code itself."""
    return _COMMENT_OR_STRING.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def _no_script(text: str, rel: str) -> None:
    """Refuse ``#script``: a policy is rules and data, never embedded code."""
    if "#script" not in text:
        return
    m = _SCRIPT.search(_code(text))
    if m is not None:
        raise PolicyError(
            "#script is not allowed in a policy: rules only, no embedded code / 政策中不得嵌入脚本",
            rel,
            text.count("\n", 0, m.start()) + 1,
        )


def undefined_parameters(policy: Policy) -> list[tuple[str, str, int]]:
    """``param(name, …)`` the rules read that parameters.yaml does not define: (name, file, line)."""
    out: list[tuple[str, str, int]] = []
    for rf in policy.rule_files:
        text = rf.read_text(encoding="utf-8")
        if "param(" not in text:
            continue
        code = _code(text)
        for m in _PARAM.finditer(code):
            if m.group(1) not in policy.parameters:
                out.append((m.group(1), rf.relative_to(policy.root).as_posix(), code.count("\n", 0, m.start()) + 1))
    return out


def require_parameters(policy: Policy) -> None:
    """Refuse to run rules that read a parameter parameters.yaml lacks (they would blame the data).

    Raises:
        PolicyError: At the first rule reading an undefined parameter.

    """
    missing = undefined_parameters(policy)
    if missing:
        name, file, line = missing[0]
        raise PolicyError(f"parameter {name!r} is not defined in parameters.yaml / 参数未定义", file, line)


_TOP_KEY = re.compile(r"""^(?:"([^"\n]*)"|'([^'\n]*)'|([^\s#'"][^:\n]*?))\s*:(?:\s|$)""", re.MULTILINE)


def _key_lines(path: Path) -> dict[str, int]:
    """The line of each top-level key of a YAML file (for messages about one entry)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    out: dict[str, int] = {}
    for m in _TOP_KEY.finditer(text):
        key = next(g for g in m.groups() if g is not None)
        out.setdefault(key, text.count("\n", 0, m.start()) + 1)
    return out


_INCLUDE = re.compile(r'#include\s*(?:"((?:[^"\\\n]|\\.)*)"|<([^>\n]*)>)\s*\.')


def _directives(text: str) -> list[tuple[str | None, int]]:
    """The ``#include`` directives of a rule file outside comments and strings: (file or None, line).

    ``None`` is a library include (``#include <incmode>.``), which reads no file.
    """
    if "#include" not in text:
        return []
    out: list[tuple[str | None, int]] = []
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            line += text.count("\n", i, j)
            i = j + 1
        elif text.startswith("%*", i):
            j = text.find("*%", i + 2)
            j = n if j < 0 else j + 2
            line += text.count("\n", i, j)
            i = j
        elif c == "%":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("#include", i):
            m = _INCLUDE.match(text, i)
            if m is None:
                i += len("#include")
                continue
            name = m.group(1)
            out.append((name.replace('\\"', '"').replace("\\\\", "\\") if name is not None else None, line))
            line += m.group(0).count("\n")
            i = m.end()
        else:
            i += 1
    return out


def included_files(root: Path, rule_files: list[Path]) -> list[Path]:
    """Every file the rule files ``#include`` (recursively), each of which must lie in the policy directory.

    clingo looks an included name up in the working directory first, then next to the including file; the
    same lookup here finds the file clingo reads, so the digest covers it and no rule comes from outside.

    Raises:
        PolicyError: An included file is outside the policy directory, or not found (at the directive's line).

    """
    base = root.resolve()
    seen = {f.resolve() for f in rule_files}
    out: list[Path] = []
    todo = list(rule_files)
    while todo:
        current = todo.pop(0)
        where = current.relative_to(root).as_posix() if current.is_relative_to(root) else str(current)
        text = _rule_text(current, where)
        _no_script(text, where)
        for name, line in _directives(text):
            if name is None:
                continue
            found = next((c for c in (Path(name), current.parent / name) if c.is_file()), None)
            if found is None:
                raise PolicyError(f"#include {name!r}: file not found / 找不到被包含的文件", where, line)
            target = found.resolve()
            if not target.is_relative_to(base):
                raise PolicyError(
                    f"#include {name!r} reads {target}, outside the policy directory; the rules must all lie "
                    "inside it, so that the policy digest covers them / 不得包含政策目录之外的文件",
                    where,
                    line,
                )
            if target not in seen:
                seen.add(target)
                rel = root / target.relative_to(base)
                out.append(rel)
                todo.append(rel)
    return out


def _canonical(value: Any) -> str:
    """One text per parameter value (decimals normalised, tables by key) for the digest of overrides."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if isinstance(value, dict):
        items = sorted((_canonical(k), _canonical(v)) for k, v in value.items())
        return "{" + ",".join(f"{k}:{v}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def digest_files(root: Path, rule_files: list[Path]) -> list[Path]:
    """The files that decide results, in digest order: metadata, parameters, messages, inputs, rules.

    ``rule_files`` holds the rule files and every file they ``#include``; absent optional files are left out.
    """
    files = [root / "policy.yaml", root / "parameters.yaml", root / "messages.yaml", root / "inputs.yaml", *rule_files]
    return [f for f in files if f.exists()]


def digest_of(contents: list[tuple[str, bytes]]) -> str:
    """The policy digest of ``(path relative to the policy directory, bytes)`` pairs, in digest order."""
    h = hashlib.sha256()
    for rel, data in contents:
        h.update(rel.encode())
        h.update(b"\0")
        h.update(data)
        h.update(b"\0")
    return "sha256:" + h.hexdigest()


def _digest(root: Path, rule_files: list[Path]) -> str:
    """sha256 over the files that decide results (:func:`digest_files`).

    ``rule_files`` holds the rule files and every file they ``#include``.
    """
    return digest_of([(f.relative_to(root).as_posix(), f.read_bytes()) for f in digest_files(root, rule_files)])


def default_policy_dir() -> Path:
    """The shipped policy: ``policy/chongming-digital-2025`` of the checkout, else the copy in the package.

    In a checkout (or an editable install) that is ``policy/`` next to ``src/``; a wheel carries the same
    files as ``fuchi/policies/chongming-digital-2025`` (package data), so ``pip install .`` works from any
    directory.
    """
    here = Path(__file__).resolve()
    for base in here.parents:  # the checkout this package runs from first
        cand = base / "policy" / "chongming-digital-2025"
        if (cand / "policy.yaml").is_file():
            return cand
    packaged = here.parent / "policies" / "chongming-digital-2025"
    if (packaged / "policy.yaml").is_file():
        return packaged
    return Path.cwd() / "policy" / "chongming-digital-2025"


@dataclass(frozen=True)
class ClauseView:
    """A clause with everything implementing it (for ``show-policy``)."""

    clause: Clause
    rules: tuple[RuleInfo, ...]
    parameters: tuple[Parameter, ...]
    rulings: tuple[str, ...]


def clause_views(policy: Policy, only: str | None = None) -> list[ClauseView]:
    """Each clause of the metadata with its rules, parameters and rulings, in metadata order."""
    out = []
    for cid, clause in policy.clauses.items():
        if only is not None and cid != only:
            continue
        rules = tuple(r for r in policy.rules if cid in r.clauses)
        params = tuple(p for p in policy.parameters.values() if cid in p.clauses)
        rulings = sorted({x for r in rules for x in r.rulings} | {x for p in params for x in p.rulings})
        out.append(ClauseView(clause, rules, params, tuple(rulings)))
    return out

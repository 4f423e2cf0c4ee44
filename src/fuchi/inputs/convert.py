"""``fuchi convert``: input data from one format to another (YAML, JSON, JSON Lines, Excel), losing nothing.

The inputs are validated first, exactly as ``evaluate`` would (an invalid file is not converted); the
document is then written in the target format with every number exact (decimals as written, never
binary floats), so that evaluating the converted file gives the results of the original.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from ..errors import InputError, OutputError
from ..policy import Policy

FORMATS = ("yaml", "json", "jsonl", "xlsx")
#: Characters written as \u escapes: a YAML reader refuses or folds them raw (DEL, C1 controls, U+2028/9).
_ESCAPE = {c: f"\\u{c:04x}" for c in (*range(0x7F, 0xA0), 0x2028, 0x2029, 0xFEFF)}


def read_documents(paths: list[str], policy: Policy) -> dict[str, Any]:
    """Validate the input files and return their data as one document (``city``, ``companies``).

    Args:
        paths: Input files (.yaml, .yml, .json, .jsonl, .xlsx).
        policy: The policy whose declared inputs the data must follow.

    Returns:
        The document: city figures merged (by year), enterprises in input order.

    Raises:
        InputError: A file that ``evaluate`` would refuse.

    """
    from . import loader
    from .xlsx_input import workbook_document

    schema = policy.schema
    city: dict[str, Any] = {}
    companies: list[Any] = []
    seen: dict[str, str] = {}
    for p in paths:
        loader.read_document(p, schema)  # validates (raises on the first mistake)
        suffix = Path(p).suffix.lower()
        if suffix in (".xlsx", ".xls"):
            doc: Any = workbook_document(p, schema)
        elif suffix == ".jsonl":
            doc = {"companies": [loader._load_json(text, p, n) for n, text in loader.iter_jsonl(p)]}
        elif suffix == ".json":
            doc = loader._load_json(loader._read_text(p), p, None)
        else:
            doc = loader.load_yaml(loader._read_text(p), p)
        for co in doc.get("companies") or []:
            ident = co["id"]
            if ident in seen:
                raise InputError(p, ident, "id", f"企业重复 / the enterprise is also in {seen[ident]}")
            seen[ident] = p
            companies.append(co)
        for name, value in (doc.get("city") or {}).items():
            if isinstance(value, dict) and isinstance(city.get(name), dict):
                city[name] = {**city[name], **value}
            else:
                city[name] = value
    out: dict[str, Any] = {"city": city} if city else {}
    out["companies"] = companies
    return out


def write_document(out: IO[bytes], doc: dict[str, Any], fmt: str, policy: Policy, target: str) -> None:
    """Write ``doc`` in ``fmt`` (one of :data:`FORMATS`) to ``out``.

    Raises:
        OutputError: JSON Lines asked for with city figures (a line holds one enterprise), or a number
            an Excel cell cannot hold exactly.

    """
    if fmt == "xlsx":
        from ..output.xlsx import write_template

        write_template(out, policy, doc)
        return
    if fmt == "jsonl":
        if doc.get("city"):
            raise OutputError(
                target,
                "JSON Lines 每行一家企业，不能包含城市数据；请另转为 yaml / JSON Lines holds enterprises only: "
                "convert the city figures to yaml separately",
            )
        text = "".join(_json(co, None) + "\n" for co in doc["companies"])
    elif fmt == "json":
        text = _json(doc, 0) + "\n"
    else:  # YAML: JSON is YAML, and keeps the numbers exact and the strings quoted (2.10 stays "2.10")
        text = "# fuchi convert\n" + _json(doc, 0) + "\n"
    out.write(text.encode("utf-8"))


def _number(value: Decimal) -> str:
    text = format(value, "f")
    return text if "." in text else text + ".0"


def _json(value: object, indent: int | None) -> str:
    """JSON text with exact decimals (``json`` would turn them into binary floats)."""
    import json

    if isinstance(value, dict):
        if not value:
            return "{}"
        if indent is None:
            return "{" + ", ".join(f"{_json(str(k), None)}: {_json(v, None)}" for k, v in value.items()) + "}"
        pad = " " * (indent + 1)
        body = (",\n").join(f"{pad}{_json(str(k), None)}: {_json(v, indent + 1)}" for k, v in value.items())
        return "{\n" + body + "\n" + " " * indent + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        if indent is None:
            return "[" + ", ".join(_json(v, None) for v in value) + "]"
        pad = " " * (indent + 1)
        return "[\n" + ",\n".join(pad + _json(v, indent + 1) for v in value) + "\n" + " " * indent + "]"
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).translate(_ESCAPE)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return json.dumps(value)
    return json.dumps(str(value), ensure_ascii=False).translate(_ESCAPE)

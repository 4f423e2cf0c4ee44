"""Audit records: ``evaluate --record FILE`` writes one; ``fuchi verify FILE`` re-runs it and compares.

A record is one self-contained JSON file (docs/auditing.md, "审计记录 Audit records"): every policy file and
input file with its sha256, the policy digest, the overrides and the parameters in force, the options of
the run, every result row with its one-line explanation, the totals and every warning, and a ``sha256`` over
the canonical text of all that. Verifying needs nothing but the record and the files it names.

Why in :mod:`fuchi.output`: a record is an output format of ``evaluate`` (a :class:`~fuchi.output.render.Writer`
receiving the same rows and totals as the JSON writer) together with its reader. It explains nothing itself:
the one-liners come from the evaluation path (``evaluate --explain``), and verifying re-runs that same path
(the CLI's loop), so nothing here decides a result.

The core never prints: problems are :class:`RecordError` (the record cannot be read) and
:class:`VerifyError` (it does not verify), both exit 1.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from ..errors import FuchiError, InputError, PolicyError, UsageError
from ..policy import Policy, digest_of
from .files import atomic_output
from .render import json_safe, row_dict
from .totals import Totals

#: The record format; ``verify`` refuses others.
FORMAT = 1
#: The record's keys, in file order; ``sha256`` (last) seals the others.
KEYS = ("record", "fuchi", "created_by", "policy", "inputs", "options", "results", "totals", "warnings")
#: Keys recorded for information and sealed by ``sha256``, but not compared by ``verify``: which command
#: line made the record, which fuchi version, which engine (both engines give the same results).
NOT_COMPARED = ("created_by", "fuchi", "options.engine")


class RecordError(FuchiError):
    """A record that cannot be read: not JSON, not a fuchi record, a wrong shape, or edited (exit 1)."""

    def __init__(self, file: str, text: str) -> None:
        super().__init__(f"{file}: 不是有效的审计记录 not a valid audit record: {text}")
        self.file = file
        self.text = text


class VerifyError(FuchiError):
    """A record that does not verify: a file changed or is missing, or the re-run differs (exit 1)."""

    def __init__(self, file: str, text: str) -> None:
        super().__init__(f"{file}: 核验失败 verification failed: {text}")
        self.file = file
        self.text = text


def canonical(obj: Any) -> bytes:
    """The canonical text the seal is computed over: sorted keys, no spaces, UTF-8 (no floats occur)."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def seal(body: dict[str, Any]) -> str:
    """``sha256:…`` of the canonical text of ``body`` without its ``sha256`` key."""
    return "sha256:" + hashlib.sha256(canonical({k: v for k, v in body.items() if k != "sha256"})).hexdigest()


def _dumps(obj: Any) -> str:
    """One value as the record file shows it (inert in a terminal, like ``evaluate --format json``)."""
    return json_safe(json.dumps(obj, ensure_ascii=False, separators=(", ", ": ")))


def fuchi_version() -> str:
    """The installed fuchi's version (the package metadata, else ``fuchi.__version__``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fuchi")
    except PackageNotFoundError:  # pragma: no cover - a source tree on sys.path
        from .. import __version__

        return __version__


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def read_input(path: str) -> bytes:
    """The bytes of one input file, which must be a regular file (a stream cannot be read again to verify).

    Raises:
        InputError: The file is missing or unreadable.
        UsageError: The path is a pipe, a device or standard input.

    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InputError(
            path, None, "", f"文件不存在或不可读 / file not found or not readable, got {exc.strerror}"
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(path, None, "", "文件不存在或不可读 / file not found or not readable, got Is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(
            f"--record: {path} 不是普通文件，无法复核 / is not a regular file: a stream cannot be read again to verify"
        )
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(
            path, None, "", f"文件不存在或不可读 / file not found or not readable, got {exc.strerror}"
        ) from None


def input_entries(paths: Sequence[str]) -> list[dict[str, Any]]:
    """``{path (as given), absolute, sha256, bytes}`` of each input file, in the order given."""
    out = []
    for p in paths:
        data = read_input(p)
        out.append({"path": p, "absolute": os.path.abspath(p), "sha256": _sha256(data), "bytes": len(data)})
    return out


def _param_text(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _param_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_param_text(v) for v in value]
    return str(value)


def parameters_in_force(policy: Policy) -> dict[str, Any]:
    """Each parameter's value in force (overrides applied) as text: a text, a list of texts or key → text."""
    return {name: _param_text(p.value) for name, p in sorted(policy.parameters.items())}


def policy_entry(policy: Policy, directory: str | None) -> dict[str, Any]:
    """The ``policy`` object of a record: what identifies the policy and every file it was read from.

    Args:
        policy: The loaded policy with its overrides applied.
        directory: ``--policy`` as given, or None for the shipped policy.

    Raises:
        PolicyError: A policy file changed since it was loaded (its bytes no longer give the digest).

    """
    files = []
    contents = []
    for f in policy.files:
        rel = f.relative_to(policy.root).as_posix()
        try:
            data = f.read_bytes()
        except OSError as exc:
            raise PolicyError(f"cannot read the file / 无法读取: {exc.strerror or exc}", rel) from None
        contents.append((rel, data))
        files.append({"path": rel, "sha256": _sha256(data), "bytes": len(data)})
    files_digest = policy.files_digest or policy.digest
    if digest_of(contents) != files_digest:
        raise PolicyError(
            "政策文件在读取后被修改，请重新运行 / a policy file changed after it was read: run again", str(policy.root)
        )
    return {
        "id": policy.id,
        "version": policy.version,
        "digest": policy.digest,
        "files_digest": files_digest,
        "directory": directory,
        "default": directory is None,
        "absolute": os.path.abspath(policy.root),
        "overrides": [o.label() for o in policy.overrides],
        "parameters": parameters_in_force(policy),
        "files": files,
    }


def options_entry(companies: Sequence[str], years: Sequence[int], items: Sequence[str], engine: str) -> dict[str, Any]:
    """The ``options`` object: the filters as given and the engine that ran."""
    return {"companies": list(companies), "years": list(years), "items": list(items), "engine": engine}


class Recorder:
    """Builds a record while ``evaluate`` runs: header now, rows as they come, the seal at the end.

    The inputs and policy files are hashed before the run and again after it; a file that changed meanwhile
    is an error (which bytes were read cannot be known), and no record is written. The rows go to a temporary
    file, and the seal is computed over the canonical text as they stream, so a record of many rows costs
    no memory.

    Args:
        policy: The policy in force (overrides applied).
        directory: ``--policy`` as given, or None for the shipped policy.
        inputs: The input files as given.
        options: From :func:`options_entry`.
        created_by: The command line.

    Raises:
        InputError: An input file is missing.
        UsageError: An input is not a regular file.
        PolicyError: A policy file changed after it was loaded.

    """

    def __init__(
        self,
        policy: Policy,
        directory: str | None,
        inputs: Sequence[str],
        options: dict[str, Any],
        created_by: Sequence[str],
    ) -> None:
        self.policy = policy
        self.directory = directory
        self.paths = list(inputs)
        self.header: dict[str, Any] = {
            "record": FORMAT,
            "fuchi": fuchi_version(),
            "created_by": list(created_by),
            "policy": policy_entry(policy, directory),
            "inputs": input_entries(self.paths),
            "options": options,
        }
        self.buffer: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
        self.hash = hashlib.sha256()
        self.rows = 0
        self.done = False
        head = canonical(self.header)[:-1]  # the sorted keys before "results" are all known now
        self.hash.update(head + b',"results":[')
        lines = [f'{{"{KEYS[0]}": {_dumps(self.header["record"])}']
        lines += [f' "{k}": {_dumps(self.header[k])}' for k in KEYS[1:6]]
        self.buffer.write(",\n".join(lines) + ',\n "results": [')

    def row(self, row: Any) -> None:
        """Add one row (a :class:`~fuchi.engines.evaluation.Row`, with its explanation)."""
        d = row_dict(row)
        self.hash.update((b"," if self.rows else b"") + canonical(d))
        self.buffer.write(("\n  " if not self.rows else ",\n  ") + _dumps(d))
        self.rows += 1

    def finish(self, totals: Totals, warnings: Sequence[str] = ()) -> None:
        """Add the totals and warnings, check that no file changed during the run, and seal the record.

        Raises:
            InputError: An input file changed during the run.
            PolicyError: A policy file changed during the run.

        """
        tail = {"totals": totals.as_json(), "warnings": list(warnings)}
        self.hash.update(b'],"totals":' + canonical(tail["totals"]) + b',"warnings":' + canonical(tail["warnings"]))
        self.hash.update(b"}")
        now_policy = policy_entry(self.policy, self.directory)
        if now_policy["files"] != self.header["policy"]["files"]:
            raise PolicyError(
                "政策文件在运行期间被修改，请重新运行 / a policy file changed during the run: run again",
                str(self.policy.root),
            )
        for before, after in zip(self.header["inputs"], input_entries(self.paths), strict=True):
            if before != after:
                raise InputError(
                    before["path"],
                    None,
                    "",
                    "文件在运行期间被修改，请重新运行 / the file changed during the run: run again",
                )
        self.buffer.write(("\n ]" if self.rows else "]") + f',\n "totals": {_dumps(tail["totals"])}')
        body = "".join(("\n  " if n == 0 else ",\n  ") + _dumps(w) for n, w in enumerate(warnings))
        self.buffer.write(',\n "warnings": [' + body + ("\n ]" if warnings else "]"))
        self.buffer.write(f',\n "sha256": "sha256:{self.hash.hexdigest()}"}}\n')
        self.done = True

    def write(self, path: str) -> None:
        """Write the finished record to ``path``, whole or not at all (:func:`~fuchi.output.files.atomic_output`)."""
        assert self.done
        self.buffer.flush()
        raw = self.buffer.buffer  # type: ignore[attr-defined]
        raw.seek(0)
        with atomic_output(path) as fh:
            while chunk := raw.read(1 << 20):
                fh.write(chunk)

    def close(self) -> None:
        """Remove the temporary file."""
        self.buffer.close()


# ---- reading and verifying ------------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r} / 键重复")
        out[k] = v
    return out


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not a JSON number / 不是 JSON 数值")


_SHAPE: dict[str, Any] = {
    "record": int,
    "fuchi": str,
    "created_by": [str],
    "policy": {
        "id": str,
        "version": str,
        "digest": str,
        "files_digest": str,
        "directory": (str, None),
        "default": bool,
        "absolute": str,
        "overrides": [str],
        "parameters": dict,
        "files": [{"path": str, "sha256": str, "bytes": int}],
    },
    "inputs": [{"path": str, "absolute": str, "sha256": str, "bytes": int}],
    "options": {"companies": [str], "years": [int], "items": [str], "engine": str},
    "results": [dict],
    "totals": dict,
    "warnings": [str],
    "sha256": str,
}


def _shape_error(value: Any, shape: Any, where: str) -> str | None:
    """Where ``value`` departs from ``shape`` (None when it fits)."""
    if isinstance(shape, tuple):
        if value is None and None in shape:
            return None
        shape = next(s for s in shape if s is not None)
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{where}: 应为对象 expected an object"
        for key, sub in shape.items():
            if key not in value:
                return f"{where}.{key}: 缺少 missing"
            problem = _shape_error(value[key], sub, f"{where}.{key}")
            if problem:
                return problem
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{where}: 应为列表 expected a list"
        for n, v in enumerate(value):
            problem = _shape_error(v, shape[0], f"{where}[{n}]")
            if problem:
                return problem
        return None
    if shape is int and (not isinstance(value, int) or isinstance(value, bool)):
        return f"{where}: 应为整数 expected an integer"
    if shape is bool and not isinstance(value, bool):
        return f"{where}: 应为 true/false expected a boolean"
    if shape in (str, dict) and not isinstance(value, shape):
        return f"{where}: 应为{'文本' if shape is str else '对象'} expected {'a text' if shape is str else 'an object'}"
    return None


def read_record(path: str) -> dict[str, Any]:
    """Read and check a record: JSON, format :data:`FORMAT`, its seal, then its shape.

    Raises:
        RecordError: The file cannot be read, is not JSON (or has a duplicate key), is not a fuchi record of
            this format, its ``sha256`` does not match its content (edited by hand), or a field is missing
            or of the wrong kind.

    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise RecordError(path, f"无法读取 cannot read the file: {exc.strerror or exc}") from None
    try:
        doc = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise RecordError(path, "不是 UTF-8 文本 not UTF-8 text") from None
    except RecursionError:
        raise RecordError(path, "嵌套过深 nesting too deep") from None
    except ValueError as exc:
        raise RecordError(path, f"不是有效的 JSON not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or "record" not in doc or "sha256" not in doc:
        raise RecordError(path, "缺少 record 与 sha256 / no record and sha256 keys: not a fuchi audit record")
    if doc["record"] != FORMAT or isinstance(doc["record"], bool):
        raise RecordError(path, f"不支持的记录格式 unsupported record format {doc['record']!r} (expected {FORMAT})")
    if not isinstance(doc["sha256"], str) or doc["sha256"] != seal(doc):
        raise RecordError(
            path,
            f"记录内容与其 sha256 不符（记录被修改）/ the record's content does not match its sha256 (it was edited): "
            f"recorded {doc['sha256']}, content {seal(doc)}",
        )
    extra = sorted(set(doc) - {*KEYS, "sha256"})
    if extra:
        raise RecordError(path, f"未知键 unknown key {extra[0]!r}")
    problem = _shape_error(doc, _SHAPE, "record")
    if problem:
        raise RecordError(path, problem)
    return doc


def check_file(record: str, what: str, shown: str, path: Path, entry: dict[str, Any]) -> None:
    """Check one recorded file against the disk: present, same sha256 (and size).

    Raises:
        VerifyError: Naming the file (``shown``, and ``path`` when they differ), with recorded vs now.

    """
    name = shown if str(path) == shown else f"{shown} ({path})"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise VerifyError(record, f"{what} {name}: 文件不存在 missing (recorded {entry['sha256']})") from None
    except OSError as exc:
        raise VerifyError(record, f"{what} {name}: 无法读取 cannot read: {exc.strerror or exc}") from None
    now = _sha256(data)
    if now != entry["sha256"]:
        raise VerifyError(record, f"{what} {name}: 文件已改变 changed: sha256 recorded {entry['sha256']}, now {now}")


def policy_root(doc: dict[str, Any]) -> Path:
    """The policy directory to verify against.

    The shipped policy when the record says so; else the directory as given when it still names the same
    directory (verifying from where the record was made), else its absolute path.
    """
    from ..policy import default_policy_dir

    entry = doc["policy"]
    if entry["default"]:
        return default_policy_dir()
    given = entry["directory"]
    return Path(given) if given is not None and os.path.abspath(given) == entry["absolute"] else Path(entry["absolute"])


def input_path(entry: dict[str, Any]) -> str:
    """The path to read a recorded input from: as given when it still names the same file, else absolute."""
    given, absolute = str(entry["path"]), str(entry["absolute"])
    return given if os.path.abspath(given) == absolute else absolute


def check_files(record: str, doc: dict[str, Any]) -> None:
    """Check every recorded policy file, then every input file, before anything is evaluated.

    Raises:
        VerifyError: The first file that is missing or changed.

    """
    root = policy_root(doc)
    for entry in doc["policy"]["files"]:
        check_file(record, "政策文件 policy file", entry["path"], root / entry["path"], entry)
    for entry in doc["inputs"]:
        check_file(record, "输入文件 input file", entry["path"], Path(input_path(entry)), entry)


def _first_difference(recorded: Any, now: Any, where: str) -> str | None:
    """The first path at which two JSON values differ, with both values (None when equal)."""
    if recorded == now and type(recorded) is type(now):
        return None
    if isinstance(recorded, dict) and isinstance(now, dict):
        for key in [*recorded, *(k for k in now if k not in recorded)]:
            if key not in now:
                return f"{where}.{key}: 记录中有，现在没有 recorded {_dumps(recorded[key])}, now absent"
            if key not in recorded:
                return f"{where}.{key}: 记录中没有 not recorded, now {_dumps(now[key])}"
            found = _first_difference(recorded[key], now[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(recorded, list) and isinstance(now, list):
        for n, (a, b) in enumerate(zip(recorded, now, strict=False)):
            found = _first_difference(a, b, f"{where}[{n}]")
            if found:
                return found
        if len(recorded) != len(now):
            counts = f"记录 {len(recorded)} 项，现在 {len(now)} 项 / recorded {len(recorded)} entries, now {len(now)}"
            return f"{where}: {counts}"
        return None
    return f"{where}: 记录 recorded {_dumps(recorded)}, 现在 now {_dumps(now)}"


def check_policy(record: str, doc: dict[str, Any], policy: Policy) -> None:
    """Compare the re-loaded policy (overrides re-applied) with the record: files, digests, parameters.

    Raises:
        VerifyError: A file read now that the record lacks (or the reverse), another digest, a parameter
            whose value in force differs.

    """
    now = policy_entry(policy, doc["policy"]["directory"])
    was = doc["policy"]
    recorded_files = {f["path"] for f in was["files"]}
    now_files = {f["path"] for f in now["files"]}
    for f in now["files"]:
        if f["path"] not in recorded_files:
            raise VerifyError(record, f"政策文件 policy file {f['path']}: 现在读取但未记录 read now but not recorded")
    for f in was["files"]:
        if f["path"] not in now_files:
            raise VerifyError(record, f"政策文件 policy file {f['path']}: 已记录但现在不读取 recorded but not read now")
    for key in ("id", "version", "files_digest", "overrides", "digest", "parameters", "files"):
        found = _first_difference(was[key], now[key], f"policy.{key}")
        if found:
            raise VerifyError(record, found)


class RowChecker:
    """Compares re-run rows with the recorded ones as they come; the first difference raises.

    Args:
        record: The record file (for messages).
        rows: The recorded rows.

    """

    def __init__(self, record: str, rows: list[dict[str, Any]]) -> None:
        self.record = record
        self.rows = rows
        self.count = 0

    def row(self, row: Any) -> None:
        """Check the next row.

        Raises:
            VerifyError: The first row that differs (enterprise, year, item, field, recorded vs now), or a
                row beyond the recorded ones.

        """
        now = row_dict(row)
        n = self.count
        self.count += 1
        if n >= len(self.rows):
            raise VerifyError(
                self.record,
                f"第 {n + 1} 行未记录 row {n + 1} is not recorded: 现在 now {_key(now)} "
                f"(记录只有 {len(self.rows)} 行 / the record has {len(self.rows)} rows)",
            )
        was = self.rows[n]
        if _key(was) != _key(now):
            raise VerifyError(
                self.record, f"第 {n + 1} 行 row {n + 1}: 记录 recorded {_key(was)}, 现在 now {_key(now)}"
            )
        for field in [*was, *(k for k in now if k not in was)]:
            a, b = was.get(field), now.get(field)
            if a != b or type(a) is not type(b):
                raise VerifyError(
                    self.record,
                    f"第 {n + 1} 行 row {n + 1}: {_key(now)}: 字段 field {field}: 记录 recorded {_dumps(a)}, "
                    f"现在 now {_dumps(b)}",
                )

    def finish(
        self, doc: dict[str, Any], totals: Totals, warnings: Sequence[str], localise: Callable[[str], str]
    ) -> None:
        """Check that no recorded row is missing, then the totals and the warnings.

        Args:
            doc: The record.
            totals: The re-run's totals.
            warnings: The re-run's warnings.
            localise: Maps a warning of the re-run back to the paths of the recorded run.

        Raises:
            VerifyError: A recorded row the re-run lacks, or the first total or warning that differs.

        """
        if self.count < len(self.rows):
            missing = self.rows[self.count]
            raise VerifyError(
                self.record,
                f"第 {self.count + 1} 行现在没有 row {self.count + 1} is missing now: 记录 recorded {_key(missing)} "
                f"(现在只有 {self.count} 行 / now {self.count} rows)",
            )
        found = _first_difference(doc["totals"], totals.as_json(), "totals")
        if found:
            raise VerifyError(self.record, found)
        found = _first_difference(doc["warnings"], [localise(w) for w in warnings], "warnings")
        if found:
            raise VerifyError(self.record, found)


def _key(row: dict[str, Any]) -> str:
    """``企业 enterprise X, 年度 year Y, 条款 item I`` of a row."""
    return f"企业 enterprise {row.get('company')!r}, 年度 year {row.get('year')}, 条款 item {row.get('item')}"


def localiser(doc: dict[str, Any], root: Path, inputs: Sequence[str]) -> Callable[[str], str]:
    """Map paths in a re-run's warnings to those of the recorded run (verifying from another directory).

    Args:
        doc: The record.
        root: The policy directory the re-run used.
        inputs: The input paths the re-run used (in record order).

    """
    pairs = [(p, e["path"]) for p, e in zip(inputs, doc["inputs"], strict=True) if p != e["path"]]
    entry = doc["policy"]
    given = str(Path(entry["directory"])) if entry["directory"] is not None else entry["absolute"]
    if str(root) != given:
        pairs.append((str(root), given))
    pairs.sort(key=lambda p: -len(p[0]))

    def localise(text: str) -> str:
        for now, was in pairs:
            text = text.replace(now, was)
        return text

    return localise

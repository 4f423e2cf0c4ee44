"""Command line: the only place that prints results, turns errors into messages and picks exit codes.

Exit codes: 0 ran; 1 input or policy error; 2 usage; 3 policy tests failed.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from . import evaluation
from .errors import FuchiError
from .policy import Policy, default_policy_dir, load_policy
from .render import WRITERS, Messages, progress
from .totals import Totals

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """Turn fuchi's typed errors into a message on stderr and their exit code (no traceback)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        messages = Messages()
        try:
            return func(*args, **kwargs)
        except FuchiError as exc:
            messages.error(exc.message())
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            messages.error("已中断 interrupted")
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # a bug: say so plainly, keep the details for the report
            messages.error(f"内部错误 internal error: {type(exc).__name__}: {exc}")
            if kwargs.get("debug"):
                traceback.print_exc()
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _policy(path: str | None) -> Policy:
    return load_policy(path or default_policy_dir())


policy_option = click.option(
    "--policy", "policy_dir", type=click.Path(file_okay=False), default=None,
    help="政策目录 Policy directory (default: the shipped policy/chongming-digital-2025).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fuchi")
def main() -> None:
    """fuchi 扶持 — 扶持政策即代码 policy-as-code for government support measures."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@policy_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="输出格式 Output format.")
@click.option("--company", "companies", multiple=True, help="只输出该企业 Only this enterprise id (repeatable).")
@click.option("--year", "years", multiple=True, type=int, help="只输出该数据年度 Only this data year (repeatable).")
@click.option("--item", "items", multiple=True, help="只输出该条款 Only this clause item, e.g. 2.2.b (repeatable).")
@click.option("--workers", type=click.IntRange(0, 64), default=None,
              help="工作进程数 Worker processes (default: up to 2; 0 = in this process).")
@click.option("--debug", is_flag=True, hidden=True)
@handle_errors
def evaluate(files: tuple[str, ...], policy_dir: str | None, fmt: str, companies: tuple[str, ...],
             years: tuple[int, ...], items: tuple[str, ...], workers: int | None, debug: bool) -> None:
    """评估企业数据 Evaluate enterprise data: every touched (enterprise, year, item) with status and amount.

    FILES are YAML, JSON or JSON Lines files in the format of docs/data-format.md.
    """
    policy = _policy(policy_dir)
    unknown = [i for i in items if i not in policy.items]
    if unknown:
        raise click.UsageError(f"未知条款 unknown item {unknown[0]!r}; expected one of {', '.join(policy.items)}")
    messages = Messages()
    source = evaluation.open_inputs(list(files))
    totals = Totals(items=policy.items)
    year_set, item_set = set(years), set(items)
    seen_diagnostics: set[str] = set()
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as buffer:
        writer = WRITERS[fmt](buffer, policy)
        warnings: list[str] = []
        with progress(source.count_hint, "评估 evaluating") as advance:

            def on_batch(result: evaluation.BatchResult) -> None:
                totals.companies += result.companies
                for row in result.rows:
                    if (year_set and row.year not in year_set) or (item_set and row.item not in item_set):
                        continue
                    writer.row(row)
                    totals.add(row.status, row.item, row.amount, row.payable_year)
                warnings.extend(result.warnings)
                for d in result.diagnostics:
                    text = d.render()
                    if text not in seen_diagnostics:
                        seen_diagnostics.add(text)
                        warnings.append(text)
                advance(len(result.seen))

            evaluation.evaluate(policy, source, on_batch,
                                companies=frozenset(companies) if companies else None, workers=workers)
        writer.finish(totals)
        for w in warnings:
            messages.warning(w)
        buffer.seek(0)
        shutil.copyfileobj(buffer, sys.stdout)
    sys.stdout.flush()

"""The ``fuchi`` command (and ``python -m fuchi``): signal handlers first, then the command line.

Importing the command line takes about half a second (clingo, DuckDB, rich); a signal in that time ends the
process with 128 + N and no traceback, like a signal later in the run (fuchi.cli.handle_errors).
"""

from __future__ import annotations

import signal
import sys

from .errors import TERMINATING_SIGNALS, raise_interrupted


def main() -> None:
    """Run the command line; SIGINT, SIGTERM and SIGHUP exit 128 + N from the first instant."""
    for sig in TERMINATING_SIGNALS:
        signal.signal(sig, raise_interrupted)
    try:
        from .cli import main as cli

        cli()
    except KeyboardInterrupt as exc:  # a signal outside a command (import, argument parsing)
        sys.exit(128 + int(getattr(exc, "signum", signal.SIGINT)))


if __name__ == "__main__":
    main()

"""``python -m fuchi``: the command line."""

from .cli import main

main()

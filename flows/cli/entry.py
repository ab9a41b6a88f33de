"""The `therapy-audit` command's entry point: starts the Great Expectations worker before the
audit's own imports when the command line asks for an audit with expectations, then hands over to
flows/cli/main.py.

Importing great_expectations takes over two seconds of one core. The audit's own imports (polars,
pandera, the report's modules: about 0.7 s) run on one core too, so a worker started first has
the other core to itself for that long, where a worker started after them competes with reading,
validation and the rules (README, Performance). This module imports nothing but the standard
library and the worker's starter, which imports nothing heavy either.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

# the commands that run an audit, and the options that mean no expectations or no audit now
_AUDITS = frozenset({"run", "demo"})
_NOT_NOW = frozenset({"--no-expectations", "-h", "--help"})


def _no_expectations(arg: str) -> bool:
    """`--no-expectations` or a prefix argparse takes for it (`--no-exp`)."""
    return len(arg) >= len("--no-e") and "--no-expectations".startswith(arg)


def wants_expectations(argv: Sequence[str]) -> bool:
    """True when `argv` (without the program name) asks for an audit with the dataset
    expectations. A guess from the words alone: a wrong True costs a worker importing at low
    priority until the command exits, a wrong False only the head start."""
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in _AUDITS or _NOT_NOW.intersection(argv):
        return False
    return not any(_no_expectations(a) for a in argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if wants_expectations(args):
        from flows.expectations.runner import start_worker

        start_worker()
    from flows.cli.main import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())

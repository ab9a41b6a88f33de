"""The `therapy-audit` command's entry point: starts the Great Expectations worker before the
audit's own imports when the command line asks for an audit with expectations, then hands over to
flows/cli/main.py.

Importing great_expectations takes 1.5 s or more of one core. The audit's own imports (polars,
pandera, the report's modules: about 0.7 s) run on one core too, so a worker started first has
the other core to itself for that long, where a worker started after them competes with reading,
validation and the rules (README, Performance). This module imports nothing but the standard
library and the worker's starter, which imports nothing heavy either.

`console` is the command itself: `main` and then, after an audit that ran in this process alone,
an exit without the interpreter's teardown (see `ends_at_once`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

# the commands that run an audit, and the options that mean no expectations or no audit now
_AUDITS = frozenset({"run", "demo"})
_NOT_NOW = frozenset({"--no-expectations", "-h", "--help"})


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand: the first word that is not an option."""
    return next((a for a in argv if not a.startswith("-")), None)


def _no_expectations(arg: str) -> bool:
    """`--no-expectations` or a prefix argparse takes for it (`--no-exp`)."""
    return len(arg) >= len("--no-e") and "--no-expectations".startswith(arg)


def wants_expectations(argv: Sequence[str]) -> bool:
    """True when `argv` (without the program name) asks for an audit with the dataset
    expectations. A guess from the words alone: a wrong True costs a worker importing until the
    command exits (killed then), a wrong False only the head start."""
    if _command(argv) not in _AUDITS or _NOT_NOW.intersection(argv):
        return False
    return not any(_no_expectations(a) for a in argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if wants_expectations(args):
        from flows.expectations.runner import start_worker

        start_worker()
    from flows.cli.main import main as cli_main

    return cli_main(args)


def ends_at_once(argv: Sequence[str]) -> bool:
    """True when the command that just ran was an audit in this process alone, beside the
    expectations worker: no Prefect (prefect not loaded: an API URL set, a server, a flow), no
    Dask cluster (distributed not loaded), no partition worker (multiprocessing not loaded). Its
    outputs are written and closed, its history connection closed; what is left is the
    interpreter's teardown, freeing a run's frames and modules one by one (a third of a second at
    a million lines), which nothing needs."""
    if _command(argv) not in _AUDITS:
        return False
    # multiprocessing (a partitioned run's worker) frees its queues' semaphores in exit handlers
    return not {"prefect", "distributed", "multiprocessing"} & set(sys.modules)


def console() -> None:
    """The `therapy-audit` command: `main`, then its exit code."""
    args = sys.argv[1:]
    code = main(args)
    if ends_at_once(args):
        from flows.expectations.runner import kill_worker

        kill_worker()  # of the exit handlers skipped, the one that matters
        logging.shutdown()
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):  # a reader gone (`| head`): Python's own exit code for it
            os._exit(120)
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    console()

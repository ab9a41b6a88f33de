"""The `therapy-audit` command line: argparse subcommands (run, validate, demo, generate, serve)
and the console summary. It checks the options, picks the mode (direct or Prefect) and hands over
to flows/run; exit 2 with one line on stderr for bad input, never a traceback."""

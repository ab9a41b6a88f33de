"""Whether an existing history file is whole, checked before any work of a run (a damaged one
stops the run with one line and is never written to).

    check_history(db_path) -> None   (raises HistoryError)
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from flows.state.history import HistoryError, PathLike, connect, damaged

# DuckDB's file starts with a main header and two database headers of 4 KiB each, then blocks
_FILE_HEADERS = 3 * 4096


def cut_short(blocks_in_file: int, highest_in_use: int) -> bool:
    """A file is cut short when a block in use lies past its end. DuckDB counts the blocks it
    freed at the end of its file and may leave them out of it: shorter than its block count
    is whole while it holds every block in use."""
    return highest_in_use >= blocks_in_file


def _highest_block(con: duckdb.DuckDBPyConnection, tables: set[str]) -> int:
    """The highest block in use, for the metadata or any table's data (-1: none)."""
    queries: list[tuple[str, list[str]]] = [
        ("SELECT max(block_id) FROM pragma_metadata_info()", [])
    ] + [("SELECT max(block_id) FROM pragma_storage_info(?)", [t]) for t in sorted(tables)]
    found = [(con.execute(q, args).fetchone() or (None,))[0] for q, args in queries]
    return max((int(b) for b in found if b is not None), default=-1)


def check_history(db_path: PathLike) -> None:
    """Raise HistoryError when an existing history file is damaged, before any work: a file
    shorter than the blocks DuckDB says it holds (a truncated copy), or tables it cannot read.
    The file is opened read-only, so a damaged one is never written to."""
    path = Path(db_path)
    if not path.is_file() or path.stat().st_size == 0:
        return
    with connect(path, read_only=True) as con:
        size = con.execute("SELECT block_size, total_blocks FROM pragma_database_size()")
        block_size, total_blocks = size.fetchone() or (0, 0)
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        in_file = (path.stat().st_size - _FILE_HEADERS) // max(int(block_size), 1)
        if in_file < int(total_blocks) and cut_short(in_file, _highest_block(con, tables)):
            raise HistoryError(damaged(path, "shorter than its blocks: truncated"))
        if "runs" in tables:
            con.execute("SELECT count(*), max(length(summary)) FROM runs").fetchall()

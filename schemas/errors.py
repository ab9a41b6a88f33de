"""Errors that stop a run before any row is audited.

Row-level problems never raise: they go to the quarantine. These are for whole files and
configuration, and their message is shown to the user as one line (no traceback), so it must
name the file and the column but never quote data values (they may be PHI).
"""

from __future__ import annotations


class InputError(Exception):
    """An input file or path cannot be used at all (missing, unreadable, empty, wrong columns)."""


class MappingError(InputError):
    """The column-mapping file is invalid (unknown key, wrong type, bad format string)."""

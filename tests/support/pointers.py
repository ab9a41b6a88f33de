"""What an officer-facing text must not hold: pointers into the program's repository (a source
file, a developer document, a package folder) or its issue tracker. Public sources are cited by
manual, chapter, section and year instead."""

from __future__ import annotations

import re

DEVELOPER_POINTERS = re.compile(
    r"[\w./-]+\.(?:py|md)\b"  # a source file or a repository document (billing-rules.md §3)
    r"|\b(?:checks|flows|schemas|reports|tests)/[\w./]*"  # a package folder
    r"|\bissues?\s*#\s*\d*",  # the issue tracker
    re.IGNORECASE,
)


def pointers(text: str) -> list[str]:
    """The developer pointers in `text`, each with a little context."""
    return [text[max(m.start() - 30, 0) : m.end() + 10] for m in DEVELOPER_POINTERS.finditer(text)]

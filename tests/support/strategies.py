"""Hypothesis strategies of awkward cell text, shared by the tests of text cleaning, distinct-value
work and row validation."""

from __future__ import annotations

from hypothesis import strategies as st

# Unicode whitespace that strip_chars() and the regex's \s remove (NBSP, ideographic space, line
# separator, NEL), look-alikes that are not whitespace (U+180E, zero-width space, BOM), and
# letters whose case mapping changes their length or needs more than ASCII.
TRICKY = [" ", "\t", "\n", "\u00a0", "\u3000", "\u2028", "\u0085", "\u180e", "\u200b", "\ufeff"]
LETTERS = ["g", "G", "p", "O", "5", "9", ":", ",", "ß", "İ", "ǅ", "é"]
TEXT = st.text(alphabet=st.sampled_from(TRICKY + LETTERS), max_size=6)
CELLS = st.lists(st.none() | TEXT, max_size=40)

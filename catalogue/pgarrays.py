"""Lists of ids sent to PostgreSQL as one array literal.

psycopg dumps a Python list parameter value by value in Python; a prediction batch sends about
ten lists of 500 ids, and dumping them was a visible share of its time. The text of the array
(``'{1,2,3}'``, cast with ``::bigint[]`` in the statement) is one string, made at C speed.
"""

from __future__ import annotations

from collections.abc import Iterable


def bigint_array(ids: Iterable[int]) -> str:
    """``[1, 2, 3]`` -> ``"{1,2,3}"``: the statement casts it (``%s::bigint[]``)."""
    return "{" + ",".join(map(str, map(int, ids))) + "}"

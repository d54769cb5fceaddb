"""Training model versions for a field and deciding which one is live.

A run trains a candidate on the training side of the field's frozen split, measures it and the
three baselines on the held-out side, and measures the active version again on the same
held-out records. The candidate goes live only if it beats the rules baseline and is not worse
than the active version on the field's metric (or an admin promotes it).

One job per module: ``examples`` (what a field learns from), ``splits`` (the frozen held-out
side), ``runs`` (creating and executing a run), ``cards`` (the facts a model card is written
from), ``promotion`` (the gate, promotion and rollback) and ``schedule`` (which fields are due,
and runs whose worker died).
"""

# The review app stores nothing of its own: decisions are catalogue data, written through
# catalogue's services so that there is one write path for values.

"""``make bench-transfer``: cross-province transfers at volume on three provinces' stacks, with the
publish → shovel → consume floor measured in the same run (bench.py)."""

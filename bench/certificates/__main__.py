"""``python -m bench.certificates print|verify [options]``: printing (print_bench.py) or public
verification (verify_bench.py)."""

from __future__ import annotations

import sys

USAGE = "usage: python -m bench.certificates {print|verify} [options]"

if len(sys.argv) < 2 or sys.argv[1] not in ("print", "verify"):
    raise SystemExit(USAGE)
if sys.argv[1] == "print":
    from bench.certificates.print_bench import main
else:
    from bench.certificates.verify_bench import main
main(sys.argv[2:])

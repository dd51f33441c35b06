# XueJi — the two commands people need are `make demo` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: setup demo down test test-fast lint trace status bench-faces bench-enrollment bench-checkin bench-floor bench-relay bench-transfer bench-certificates

setup:  ## install and start what is missing (servers, virtualenv)
	@bash deploy/bootstrap.sh

demo: setup  ## both provinces up, the walking skeleton, the stack left running
	@$(PY) -m deploy.local.demo

down:  ## stop the processes `make demo` started
	@$(PY) -m deploy.local.stack down

status:
	@$(PY) -m deploy.local.stack status

test: setup lint  ## the full suite on the real servers; the 20 slowest tests listed (the suite must stay under 30 min)
	@$(PY) -m pytest -q --durations=20

test-fast: setup  ## unit tests only
	@$(PY) -m pytest -q -m "not integration and not e2e"

lint:  ## ruff (rules and formatting) and mypy over everything, benchmarks included
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy shared services deploy tests bench

trace:  ## make trace ID=<trace id>: print the span tree of one trace
	@$(PY) -m shared.tracetree $(ID)

bench-faces:  ## face verifications/s per process and per core, and accuracy on ../shared/data/faces
	@$(PY) -m bench.faces

bench-enrollment:  ## import rows/s, registration p50/p99 vs plain INSERT, dedupe p99 (ARGS="--province-size 20000000")
	@$(PY) -m bench.enrollment $(ARGS)

bench-floor:  ## per-request floor of one service process: latency and CPU per request (ARGS="--profile var/profile")
	@$(PY) -m bench.enrollment.floor $(ARGS)

bench-relay:  ## outbox relay events/s and CPU per event (ARGS="--events 20000 --batch 100")
	@$(PY) -m bench.relay $(ARGS)

bench-checkin:  ## peak check-ins: accepted/s, p50/p99, backlog, results vs a bare INSERT+publish floor (ARGS="--students 20000")
	@$(PY) -u -m bench.checkin $(ARGS)

bench-transfer:  ## cross-province transfers: last approval → record live and read models p50/p99, transfers/s, vs a bare publish → shovel → consume floor (ARGS="--transfers 1000")
	@$(PY) -u -m bench.transfer $(ARGS)

bench-certificates:  ## certificates/s for 10,000 (per-student files and the printer's batches), PDF bytes per certificate, verification p50/p99 at 10 million rows beside a bare indexed SELECT (PRINT_ARGS="--count 1000", VERIFY_ARGS="--rows 1000000")
	@$(PY) -u -m bench.certificates print $(PRINT_ARGS)
	@$(PY) -u -m bench.certificates verify $(VERIFY_ARGS)

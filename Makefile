# Two commands for people (README): `make demo` and `make test`. Needs only python3 (and make).
PYTHON ?= python3
UV := $(PYTHON) -m uv
MONTH ?= 2026-10
AS_OF ?= 2026-11-05
# uv always uses this project's .venv; an unrelated activated environment would only earn a
# "VIRTUAL_ENV=… does not match the project environment path .venv" warning on every command.
unexport VIRTUAL_ENV

.PHONY: demo setup test lint bench sample golden clean server server-stop

# --compile-bytecode: the libraries' .pyc files are written at install (15 s the first time on
# this 2-core machine, under 1 s for a sync with nothing to do), instead of every command
# compiling ~1,800 modules again where PYTHONDONTWRITEBYTECODE is set: 2.5 s of every `review`.
setup:  ## install uv if missing, then exactly the locked environment
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv || $(PYTHON) -m pip install --quiet --user uv
	@$(UV) sync --locked --all-extras --quiet --compile-bytecode

demo: setup  ## run the monthly job on the bundled sample portfolio; PDFs land in out/
	$(UV) run --locked scorecards run --month $(MONTH) --as-of $(AS_OF)

server: setup  ## a Prefect server in the background: schedules fire, commands skip the temporary server
	PREFECT_SERVER_ANALYTICS_ENABLED=false $(UV) run --locked prefect server start --background
	@echo "then: export PREFECT_API_URL=http://127.0.0.1:4200/api"

server-stop:
	$(UV) run --locked prefect server stop

lint: setup
	$(UV) run --locked ruff check .
	$(UV) run --locked ruff format --check .
	$(UV) run --locked mypy

test: lint  ## the whole test suite: lint, types, tests
	$(UV) run --locked pytest

bench: setup  ## metrics at 1 M and 10 M leads against DuckDB (full and floor), rendering, commands, the whole monthly run
	$(UV) run --locked python bench/run.py --leads 1000000
	$(UV) run --locked python bench/run.py --leads 10000000
	$(UV) run --locked python bench/render.py --copies 2
	$(UV) run --locked python bench/commands.py --mode server
	$(UV) run --locked python bench/monthly.py --leads 1000000
	$(UV) run --locked python bench/monthly.py --leads 10000000

sample: setup  ## regenerate contracts/ and data/ from the seeded generator
	$(UV) run --locked python -m scorecards.sample --out . --seed 7

golden: setup  ## re-pin the sample portfolio's golden numbers (review the diff!)
	UPDATE_GOLDEN=1 $(UV) run --locked pytest tests/test_golden.py

clean:
	rm -rf out history .pytest_cache .mypy_cache .ruff_cache

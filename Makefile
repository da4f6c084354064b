# Two commands a new user needs: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SHARED_PRICES := $(abspath ../shared/data/prices)
SHARED_FACTORS := $(abspath ../shared/data/factors)

# The offline snapshot is used when it sits beside the checkout; otherwise the user's own setting
# (or cached Yahoo) applies.
ifneq ($(wildcard $(SHARED_PRICES)),)
export EVENTSTUDY_DATA ?= $(SHARED_PRICES)
endif
ifneq ($(wildcard $(SHARED_FACTORS)),)
export EVENTSTUDY_FACTORS ?= $(SHARED_FACTORS)
endif
export MPLBACKEND ?= Agg
# Two pytest workers on two cores: one BLAS thread each avoids oversubscription.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1

.PHONY: demo test lint venv notebooks bench clean

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements/constraints.txt -e ".[dev,dask]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m eventstudy run 2025-06-05-trump-xi-call --out out

test: $(STAMP)
	$(PY) -m ruff check eventstudy tests examples benchmarks
	$(PY) -m pytest -n 2 tests

lint: $(STAMP)
	$(PY) -m ruff check eventstudy tests examples benchmarks

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) out .pytest_cache

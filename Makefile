# Two entry points: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SOURCES := pyproject.toml setup.py $(wildcard gradekit/fast_layers/*.pyx)
export GRADEKIT_DATA ?= $(abspath ../shared/data)

.PHONY: demo test lint bench clean

$(STAMP): $(SOURCES)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,cluster]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py
	$(BIN)/python -m examples.submissions
	$(BIN)/gradekit grade examples/submissions/fc_nets --timings --out examples/graded/fc_nets
	$(BIN)/gradekit grade examples/submissions/conv_nets --timings --out examples/graded/conv_nets
	$(BIN)/gradekit grade examples/submissions/dlvc_a3 --timings --out examples/graded/dlvc_a3
	$(BIN)/gradekit grade examples/submissions/theta_nets --timings --out examples/graded/theta_nets

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile  # two workers, a file's tests on one of them

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/conv.py
	$(BIN)/python benchmarks/cnn_epoch.py

clean:
	rm -rf $(VENV) build dist *.egg-info gradekit/fast_layers/*.so gradekit/fast_layers/*.c

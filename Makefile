# Posta: `make run` serves the assistant, `make test` runs every test. Both install and
# train what they need first (a virtual environment on Python 3.10, the spaCy pipeline,
# the model) and skip what is already up to date. `make test-unit` runs only the unit
# tests, in seconds: it installs but trains nothing.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
SPACY := models/spacy-es-en
MODEL := models/posta.tar.gz
MODEL_INPUTS := config.yml domain.yml $(shell find data components posta -name '*.yml' -o -name '*.py' 2>/dev/null)

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONPATH := $(CURDIR)

.PHONY: install browser nginx run-prod train run shell test validate migrate lint test-stories test-python test-unit nlu-report bench bench-quick reliability clean

install: $(VENV)/.installed $(SPACY)/meta.json

$(VENV)/.installed: requirements.txt requirements.lock
	@py=$$(scripts/find-python) && echo "Using $$py" && \
	  { [ -x $(PY) ] || "$$py" -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c requirements.lock
	touch $@

$(SPACY)/meta.json: scripts/build_spacy_pipeline.py | $(VENV)/.installed
	$(PY) scripts/build_spacy_pipeline.py $(SPACY)

# Headless Chromium for the browser tests: Debian's packages (tools that download their
# own browser cannot work here). The emoji font makes screenshots show emoji.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-noto-color-emoji >/dev/null; }

# nginx, from Debian's packages, for the production profile.
nginx:
	@command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; }

train: $(MODEL)

$(MODEL): $(MODEL_INPUTS) | install
	$(RASA) train --fixed-model-name posta --out models

run: install $(MODEL)
	scripts/run

# Two replicas behind nginx on PostgreSQL + Redis (docs/deploy.md).
run-prod: install $(MODEL) nginx
	$(PY) -m deploy.profile

shell: install $(MODEL)
	scripts/run shell

# Posta's tables brought to this version (every process also does it when it connects).
migrate: install
	$(PY) -m posta.migrations

# Rasa's checks of the data, then Posta's of the business against it (posta/validate.py).
validate: install
	$(RASA) data validate --fail-on-warnings
	$(PY) -m posta.validate

test-stories: $(MODEL)
	$(RASA) test core --model $(MODEL) --stories tests/stories --e2e --fail-on-prediction-errors --out results/stories

test-python: $(MODEL) browser nginx
	$(PY) -m pytest -q tests

# The fast path: the unit tests, in seconds, with no model, no servers and no browser.
test-unit: install
	$(PY) -m pytest -q -m unit tests/unit

# Lint and format (pyproject.toml); `ruff format .` fixes the format.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: validate lint test-stories test-python

# Intent F1 on held-out messages (eval/), for the README.
nlu-report: $(MODEL)
	$(RASA) test nlu --model $(MODEL) --nlu eval/nlu_test.yml --out results/nlu

# Benchmarks (not part of make test; a smoke run of them is): docs/benchmarks.md + .png.
bench: $(MODEL)
	$(PY) -m bench

bench-quick: $(MODEL)
	$(PY) -m bench --quick

# The production profile under load and faults (restarts this machine's PostgreSQL and
# Redis): docs/reliability.md. About 15 minutes.
reliability: $(MODEL) nginx
	$(PY) -m bench.reliability

clean:
	rm -rf models results .pytest_cache posta.db*

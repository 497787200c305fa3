# Posta: `make run` serves the assistant, `make test` runs every test. Both install and
# train what they need first (a virtual environment on Python 3.10, the spaCy pipeline,
# the language table, the model) and skip what is already up to date. `make test-unit`
# runs only the unit tests, in seconds: it installs but trains nothing.
#
# POSTA_BUSINESS chooses the business (docs/your-business.md): a directory with its
# business.yml, topics.yml and Rasa project. Default: the demo at the root (Óptica
# Mirada); `make run POSTA_BUSINESS=businesses/restaurant` serves Casa Lola.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
SPACY := models/spacy-es-en
LANGUAGE_TABLE := models/language-es-en.json.gz
POSTA_BUSINESS ?= .
B := $(POSTA_BUSINESS)
MODEL := $(B)/models/posta.tar.gz
MODEL_INPUTS := $(B)/config.yml $(B)/domain.yml $(B)/topics.yml $(shell find $(B)/data components posta -name '*.yml' -o -name '*.py' 2>/dev/null)
RASA_PROJECT := --config $(B)/config.yml --domain $(B)/domain.yml --data $(B)/data
# The two shipped businesses: make test trains and tests both (and the chosen one).
EXAMPLES := . businesses/restaurant

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONPATH := $(CURDIR)
export POSTA_BUSINESS

.PHONY: install browser nginx run-prod train train-examples run shell test check validate migrate lint test-stories test-python test-unit new-business review nlu-report bench bench-quick reliability clean

install: $(VENV)/.installed $(SPACY)/meta.json $(LANGUAGE_TABLE)

$(VENV)/.installed: requirements.txt requirements.lock
	@py=$$(scripts/find-python) && echo "Using $$py" && \
	  { [ -x $(PY) ] || "$$py" -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c requirements.lock
	touch $@

$(SPACY)/meta.json: scripts/build_spacy_pipeline.py | $(VENV)/.installed
	$(PY) scripts/build_spacy_pipeline.py $(SPACY)

# Word votes for telling Spanish from English (posta/language.py), from spaCy's tables.
$(LANGUAGE_TABLE): posta/language.py | $(VENV)/.installed
	$(PY) -m posta.language $@

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
	$(RASA) train $(RASA_PROJECT) --fixed-model-name posta --out $(B)/models

# Every shipped business's model (the integration tests serve both).
train-examples:
	@for b in $(EXAMPLES); do $(MAKE) --no-print-directory train POSTA_BUSINESS=$$b || exit 1; done

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
	$(RASA) data validate $(RASA_PROJECT) --fail-on-warnings
	$(PY) -m posta.validate

test-stories: $(MODEL)
	$(RASA) test core --model $(MODEL) --stories $(B)/tests/stories --e2e --fail-on-prediction-errors --out results/$(B)/stories

test-python: train-examples browser nginx
	$(PY) -m pytest -q tests

# The fast path: the unit tests, in seconds, with no model, no servers and no browser.
test-unit: install
	$(PY) -m pytest -q -m unit tests/unit

# Lint and format (pyproject.toml); `ruff format .` fixes the format.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# One business's own checks: its data, its business file, its test stories.
check: validate test-stories

test: lint
	@for b in $(sort $(EXAMPLES) $(B)); do $(MAKE) --no-print-directory check POSTA_BUSINESS=$$b || exit 1; done
	$(MAKE) --no-print-directory test-python

# What the last week's judged and flagged cases teach (posta/review.py; DAYS=7): commented
# NLU examples in $(B)/data/review/, a test story per conversation in $(B)/tests/stories/
# (test_review_<date>.yml, which test-stories runs), a threshold report in results/review/.
review: install
	$(PY) -m posta.review --days $(or $(DAYS),7)

# The files a new business needs, to edit: make new-business DIR=businesses/bakery NAME="Panadería Sol"
new-business: install
	$(PY) -m posta.scaffold "$(DIR)" "$(NAME)"

# Intent F1 on held-out messages (eval/), for the README.
nlu-report: $(MODEL)
	$(RASA) test nlu --model $(MODEL) --nlu $(B)/eval/nlu_test.yml --out results/nlu

# Benchmarks (not part of make test; a smoke run of them is): docs/benchmarks.md + .png.
bench: train-examples
	$(PY) -m bench

bench-quick: train-examples
	$(PY) -m bench --quick

# The production profile under load and faults (restarts this machine's PostgreSQL and
# Redis): docs/reliability.md. About 15 minutes.
reliability: $(MODEL) nginx
	$(PY) -m bench.reliability

clean:
	rm -rf models businesses/*/models results .pytest_cache posta.db*

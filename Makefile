# One entry point for every job. `make serve` and `make test` do their own set-up.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The data: OCR_DATA_DIR where the shell sets it, else ../shared/data (:= reads it once, here).
SHELL_DATA := $(or $(OCR_DATA_DIR),$(abspath ../shared/data))
DATA ?= $(SHELL_DATA)
export OCR_DATA_DIR ?= $(DATA)
export SAM_CLI_TELEMETRY := 0

.PHONY: setup setup-test browser fonts setup-train serve test test-fast screenshots lint cfn-lint train export eval eval-scenes bench invoke drop bulk cost image-check validate checkov reliability fuzz clean

$(BIN)/.installed: requirements/serving.txt requirements/dev.txt requirements/peers.txt pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements/dev.txt
	$(BIN)/pip install -q --no-deps -r requirements/peers.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(BIN)/.train-ci: $(BIN)/.installed requirements/train-ci.txt
	$(BIN)/pip install -q -r requirements/train-ci.txt
	touch $@

setup: $(BIN)/.installed ## .venv with the engine, the functions' dependencies and the test tools

# The browser is the page tests' alone: make serve needs no apt-get (nor root, nor Debian).
setup-test: setup browser $(BIN)/.train-ci fonts ## + Chromium, Keras on JAX's CPU build and one font family, for the tests

browser: ## Debian's Chromium for the page tests (Playwright drives it; no browser download)
	@command -v chromium >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends chromium; }

fonts: ## DejaVu (Debian's fonts-dejavu-core, 3 MB) for the synthetic-word tests; setup-train installs all of model/font-packages.txt
	@test -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends fonts-dejavu-core; }

setup-train: setup ## + TensorFlow, Keras and fonts (Debian's and Google's) for training
	$(BIN)/pip install -q -r requirements/train.txt
	apt-get install -y -q --no-install-recommends $$(grep -v '^#' model/font-packages.txt) >/dev/null
	$(BIN)/python -m model.google_fonts

serve: setup ## the API and web page on http://127.0.0.1:8000
	$(BIN)/uvicorn functions.api.app:app --host 127.0.0.1 --port 8000

test: setup-test ## the whole test suite, as CI runs it (the training tests on Keras's JAX backend)
	$(BIN)/ruff check layers functions model tests infra
	$(BIN)/cfn-lint template.yaml
	$(BIN)/pytest

# No browser, no Keras: the Keras test modules skip themselves when it is not installed.
test-fast: $(BIN)/.installed fonts ## the unit tests alone (under a minute: no server, no browser, no AWS, no data, no training)
	$(BIN)/pytest -q -m "unit and not data and not train" tests/unit

screenshots: setup browser ## refresh the page screenshots the README shows (tests/e2e/screenshots)
	OCR_E2E_SCREENSHOTS=tests/e2e/screenshots $(BIN)/pytest -q tests/e2e -k screenshots

lint: setup
	$(BIN)/ruff check layers functions model tests infra

PHASE ?= phase10
EPOCHS ?= 30
LR ?= 5e-4
WIDTH ?= 32-64-128-128-384-384r160-192
train: setup-train ## the next fine-tuning phase from the shipped weights; run again to resume it
	$(BIN)/python -m model.train --out model/checkpoints/$(PHASE) --resume --width $(WIDTH) \
		--init-weights model/artifacts/crnn.weights.h5 --epochs $(EPOCHS) --lr $(LR) --real-fraction 0.5

WEIGHTS ?= best
export: setup-train ## the phase's best (or WEIGHTS=last) weights -> model/artifacts (TFLite float32 + int8 + int8 single-crop, Keras weights, crnn.json)
	$(BIN)/python -m model.export --version $$(date +%Y.%m.%d)-$(PHASE) --width $(WIDTH) \
		--weights model/checkpoints/$(PHASE)/$(if $(filter last,$(WEIGHTS)),last.keras,best.weights.h5)
	$(BIN)/python -m model.calibrate
	$(BIN)/python -m model.evaluate
	$(BIN)/python -m model.plot_curves

eval: setup ## IIIT5K test word accuracy of the shipped model
	$(BIN)/ocr eval $(DATA)/iiit5k/test.tsv

eval-scenes: setup
	$(BIN)/ocr eval-scenes $(DATA)/svt_train

bench: setup
	$(BIN)/ocr bench

FUNCTION ?= api
EVENT ?= events/api-health.json
invoke: setup ## run a handler as Lambda would: make invoke FUNCTION=s3_ocr EVENT=events/s3-put-image.json [IMAGE=photo.jpg]
	$(BIN)/python infra/invoke.py $(FUNCTION) $(EVENT) $(if $(filter command line,$(origin IMAGE)),--image "$(IMAGE)")

IMAGE ?= $(DATA)/svt_train/images/14_03.jpg
drop: setup ## drop an image into a local (moto) bucket, run the S3 handler as Lambda would, print the result: make drop IMAGE=photo.jpg
	$(BIN)/python -m infra.local_drop "$(IMAGE)" $(if $(KEY),--key "$(KEY)")

# Set here, not taken from the environment: PREFIX is often exported (autotools, conda, Termux).
PREFIX =
IMAGES =
bulk: setup ## bulk OCR of a local (moto) bucket by the state machine's own definition: make bulk PREFIX=scans/ [IMAGES=dir]
	$(BIN)/python -m infra.bulk_local --prefix "$(PREFIX)" $(if $(IMAGES),--images "$(IMAGES)")

cost: setup ## Lambda cost per 1,000 images from measured ms, beside Rekognition and Textract; the image's size
	$(BIN)/python -m infra.cost

image-check: setup ## build the image's task root as the Dockerfile does, run its three handlers from it, check 3.12 wheels
	$(BIN)/python infra/image_check.py

.venv-checkov/bin/checkov: requirements/checkov.txt
	$(PY) -m venv .venv-checkov
	.venv-checkov/bin/pip install -q -r requirements/checkov.txt

.venv-sam/bin/sam: requirements/sam.txt
	$(PY) -m venv .venv-sam
	.venv-sam/bin/pip install -q -r requirements/sam.txt

validate: .venv-sam/bin/sam ## sam validate (SAM translator) and sam validate --lint (cfn-lint), offline
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 .venv-sam/bin/sam validate
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 .venv-sam/bin/sam validate --lint

checkov: .venv-checkov/bin/checkov ## checkov on template.yaml (each skipped check carries its reason in the template)
	.venv-checkov/bin/checkov -f template.yaml --framework cloudformation --compact --quiet --skip-download

reliability: setup .venv-checkov/bin/checkov ## scene load at 1/4/16 clients, hostile input and fuzz, soak after them, memory under the limits, the worst lexicon, bandit, pip-audit (its real coverage), checkov -> tests/reports/reliability.md
	$(BIN)/python -m tests.benchmarks.reliability

FUZZ_CASES ?= 3000
FUZZ_SEED ?= 20261126
fuzz: setup ## a longer mutation-fuzzer run (the suite runs 150): make fuzz FUZZ_CASES=10000 FUZZ_SEED=7
	OCR_FUZZ_CASES=$(FUZZ_CASES) OCR_FUZZ_SEED=$(FUZZ_SEED) $(BIN)/pytest -q tests/integration/test_fuzz.py

clean:
	rm -rf $(VENV) .venv-checkov .venv-sam .image-check .pytest_cache .ruff_cache

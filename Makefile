# Two commands set everything up: `make run` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEV    := $(VENV)/.dev-installed
DATA   := $(or $(ARCHIVE_BOT_DATA_DIR),data)

.PHONY: install ocr run test lint bench soak index browse-logs clean

# Where the CPU build of PyTorch comes from: PyTorch's own CPU index, when it answers. PyPI
# serves the CUDA build on Linux (several GB of GPU libraries the bot never uses), so that is
# only the fallback, and `make` says which build it got. `make install TORCH_INDEX=` skips the
# CPU index (a machine whose pip is configured with a CPU build of its own, say).
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

# torch goes first, on its own line: an unpinned torch (or one pulled in by another package)
# would be the newest CUDA build.
$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	@if [ -n "$(TORCH_INDEX)" ] && $(PY) -c "import urllib.request as u; \
	    u.urlopen('$(TORCH_INDEX)/torch/', timeout=10)" 2>/dev/null; then \
	  echo "PyTorch: the CPU build, from $(TORCH_INDEX)"; \
	  $(PY) -m pip install --quiet --disable-pip-version-check \
	    --extra-index-url $(TORCH_INDEX) torch==2.13.0; \
	else \
	  echo "PyTorch: $(or $(TORCH_INDEX),no CPU index) is not reachable; from pip's own sources"; \
	  $(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0; \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@$(PY) -c "import torch; print('PyTorch', torch.__version__, 'is a CUDA build: several GB \
	the bot never uses (it works all the same)' if torch.version.cuda else 'is the CPU build')" \
	2>/dev/null
	touch $(STAMP)

# The test and lint tools: not on a server (`make install`), only where tests or benchmarks run.
$(DEV): $(STAMP) requirements-dev.lock
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	touch $(DEV)

# Tesseract with its Russian, Kazakh and English data reads scans (index/readers/ocr.py), from
# Debian's packages; without them a scan is skipped with a message naming this command.
OCR_PACKAGES := tesseract-ocr tesseract-ocr-rus tesseract-ocr-kaz
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
ocr:
	@langs="$$(tesseract --list-langs 2>/dev/null)"; \
	for lang in rus kaz eng; do echo "$$langs" | grep -qx $$lang || missing=1; done; \
	[ -z "$$missing" ] || { echo "Installing OCR for scans: apt-get install $(OCR_PACKAGES)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $(SUDO) apt-get install -y -q $(OCR_PACKAGES) >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q >/dev/null 2>&1 && \
	    $(SUDO) apt-get install -y -q $(OCR_PACKAGES) >/dev/null 2>&1; } || \
	  echo "note: OCR could not be installed; scans will be skipped (apt-get install $(OCR_PACKAGES))"; }

# The virtual environment and OCR (a server's install: README, "Running on a server").
install: $(STAMP) ocr

# `make run` reindexes first when a file or folder of the corpus is newer than the index (a
# document added, changed or removed): only what changed is embedded. A file that cannot be
# read is named and skipped; the bot serves the rest.
CORPUS := $(or $(ARCHIVE_BOT_CORPUS),corpus)
MANIFEST := $(DATA)/index/manifest.json
run: $(STAMP) ocr
	@if [ ! -e "$(MANIFEST)" ]; then echo "Building the index of $(CORPUS)"; \
	elif [ -n "$$(find "$(CORPUS)" -newer "$(MANIFEST)" -print -quit 2>/dev/null)" ]; then \
	  echo "$(CORPUS) changed since the index was built: reindexing"; else false; fi && { \
	  $(BIN)/archive-bot index --corpus "$(CORPUS)" --data-dir "$(DATA)"; \
	  [ ! -e "$(MANIFEST)" ] || touch "$(MANIFEST)"; } || true
	$(BIN)/archive-bot run --corpus "$(CORPUS)" --data-dir "$(DATA)"

index: $(STAMP) ocr
	$(BIN)/archive-bot index --corpus "$(CORPUS)" --data-dir "$(DATA)"

test: $(DEV) ocr
	$(BIN)/ruff check --quiet .
	$(BIN)/pytest -q

lint: $(DEV)
	$(BIN)/ruff check .
	$(PY) -m pip check

# Peers (txtai, rank-bm25, razdel) are installed for benchmarks only, never at run time.
$(VENV)/.bench-installed: $(DEV) requirements-bench.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	touch $@

bench: $(VENV)/.bench-installed
	$(PY) -m scripts.bench_retrieval --write BENCHMARKS.md
	$(PY) -m scripts.bench_latency --write BENCHMARKS.md
	$(PY) -m scripts.bench_backends --write BENCHMARKS.md
	$(PY) -m scripts.bench_index --write BENCHMARKS.md
	$(PY) -m scripts.bench_bot --write BENCHMARKS.md
	$(PY) -m scripts.bench_scale --write BENCHMARKS.md
	$(PY) -m scripts.bench_long_paragraph --megabytes 1 --write BENCHMARKS.md
	$(PY) -m scripts.bench_hostile --write BENCHMARKS.md
	$(PY) -m scripts.bench_server --write BENCHMARKS.md
	$(PY) -m scripts.bench_honest --write BENCHMARKS.md
	$(PY) -m scripts.bench_documents --write BENCHMARKS.md
	$(PY) -m scripts.bench_real_files --write BENCHMARKS.md
	$(PY) -m scripts.bench_spelling --write BENCHMARKS.md
	$(PY) -m scripts.bench_sentences --write BENCHMARKS.md
	$(PY) -m scripts.external_sets
	$(PY) -m scripts.bench_answerable --write BENCHMARKS.md
	$(PY) -m scripts.bench_storage --write BENCHMARKS.md

# Ten minutes under steady load; memory, file descriptors and threads must stay flat.
soak: $(VENV)/.bench-installed
	$(PY) -m scripts.soak --minutes 10 --plot docs/soak.png --write BENCHMARKS.md

# The query log in a browser on http://127.0.0.1:8001, on this machine only: the questions
# without pseudonyms, canned queries, and the quoted passages (bot/datasette.yml). Datasette
# runs read-only SQL; it shows every logged question, so never expose the port.
browse-logs: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check datasette==0.65.5
	$(PY) -m scripts.browse_logs --data-dir $(DATA) --port 8001

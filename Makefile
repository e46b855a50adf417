# Two commands on a fresh machine:  make run  (the web app)   make test  (the tests)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# A portable llama.cpp build (AVX2, no -march=native): a cached wheel must not crash on another CPU.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: install install-bench browser run chat build ask bench test test-fast clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

# LangChain and rank_bm25: the peer pipeline of the benchmark (and its tests); the app never needs them.
$(BIN)/.installed-bench: $(BIN)/.installed requirements-bench.txt
	$(BIN)/python -m pip install -r requirements-bench.txt
	touch $@

install-bench: $(BIN)/.installed-bench

# The browser test drives Debian's Chromium (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

run: install
	$(BIN)/python app.py

chat: install
	$(BIN)/python -m rag chat

build: install
	$(BIN)/python -m rag build

ask: install
	$(BIN)/python -m rag ask "$(Q)"

bench: install-bench
	$(BIN)/python -m rag bench

test: install-bench browser
	$(BIN)/python -m pytest -q

test-fast: install-bench
	$(BIN)/python -m pytest -q -m "not real"

clean:
	rm -rf $(VENV) index/*.faiss index/*.json index/*.jsonl index/*.npz index/bm25 index/qdrant

# Two commands on a fresh machine:  make run  (the web app)   make test  (the tests)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# llama.cpp is built from source. Default: a portable build (AVX2, FMA, F16C), so the wheel runs
# on every x86-64 CPU since 2013 and a cached wheel never meets an
# "illegal instruction". `make llama-cpu` replaces it with a build for this CPU's vector units
# (scripts/llama_cmake_args.sh; wheels cached per flag set): faster prompts, answers that differ
# in rounding (README, Performance).
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
LLAMA_REQUIREMENT := $(shell grep '^llama-cpp-python==' requirements.txt)
LLAMA_CPU_ARGS = $(shell sh scripts/llama_cmake_args.sh)
LLAMA_WHEELS = $(HOME)/.cache/dutch-news-rag/wheels/$(shell echo "$(LLAMA_REQUIREMENT) $(LLAMA_CPU_ARGS)" | sha256sum | cut -c1-16)

.PHONY: install install-bench llama-cpu browser run chat build ask bench test test-fast quality clean

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

llama-cpu: install
	@ls $(LLAMA_WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || { \
		echo "Building $(LLAMA_REQUIREMENT) with $(LLAMA_CPU_ARGS) (about 10 minutes on 2 cores)"; \
		CMAKE_ARGS="$(LLAMA_CPU_ARGS)" $(BIN)/python -m pip wheel --no-cache-dir --no-deps \
			"$(LLAMA_REQUIREMENT)" -w $(LLAMA_WHEELS); }
	$(BIN)/python -m pip install --force-reinstall --no-deps $(LLAMA_WHEELS)/llama_cpp_python-*.whl

# The browser test drives Debian's Chromium (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# glibc gives each thread that allocates its own malloc arena; the web app answers in
# several threads, and two arenas keep its memory from growing with them (README, load test).
run: install
	MALLOC_ARENA_MAX=$${MALLOC_ARENA_MAX:-2} $(BIN)/python app.py

chat: install
	$(BIN)/python -m rag chat

build: install
	$(BIN)/python -m rag build

ask: install
	$(BIN)/python -m rag ask "$(Q)"

bench: install-bench
	$(BIN)/python -m rag bench

test: install-bench browser
	$(BIN)/python -m pytest -q -m "not quality"

# The quality floors (eval/quality_floor.json) on the 18 development questions and the
# labelled verifier pairs, with the real models: CI runs it after `make test`.
quality: install
	$(BIN)/python -m pytest -q -m quality

test-fast: install-bench
	$(BIN)/python -m pytest -q -m "not real and not quality"

clean:
	rm -rf $(VENV) index/*.faiss index/*.json index/*.jsonl index/*.npz index/bm25 index/qdrant

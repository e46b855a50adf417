"""Generator backends: llama.cpp (fake module + the real packaged model), transformers (a tiny
random model built here), OpenAI-compatible HTTP (a fake server here + the real llama.cpp server),
the stop filter and `make_generator`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from rag.config import Settings
from rag.errors import ConfigError, DigestMismatchError, GenerationError, ModelError
from rag.generation import (
    ChatMessage,
    LlamaCppGenerator,
    OpenAIGenerator,
    StopFilter,
    TransformersGenerator,
    make_generator,
)

QUESTION = [
    ChatMessage("system", "Je bent een behulpzame assistent. Antwoord kort, in het Nederlands."),
    ChatMessage("user", "Antwoord met één woord: wat is de hoofdstad van Nederland?"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# StopFilter


def run_filter(stop: list[str], pieces: list[str]) -> tuple[list[str], bool]:
    f = StopFilter(stop)
    shown = [f.feed(p) for p in pieces] + [f.flush()]
    return [s for s in shown if s], f.done


def test_stop_filter_cuts_at_a_stop_string_split_over_pieces():
    assert run_filter(["[1]"], ["Hallo [", "1] wereld"]) == (["Hallo "], True)
    assert run_filter(["\n\n", "Vraag:"], ["Ja.", "\n", "\nVraag: meer"]) == (["Ja."], True)


def test_stop_filter_releases_held_text_that_did_not_become_a_stop():
    assert run_filter(["[1]"], ["Hallo [", "2] wereld", " ["]) == (["Hallo ", "[2] wereld", " ", "["], False)
    assert run_filter([], ["a", "b"]) == (["a", "b"], False)
    assert run_filter([""], ["a"]) == (["a"], False)


def test_stop_filter_takes_the_earliest_stop():
    assert run_filter(["B", "A"], ["xxAyyB"]) == (["xx"], True)


# ---------------------------------------------------------------------------------------------
# llama.cpp with a fake llama_cpp module


class FakeSampler:
    """Stands in for llama-cpp-python's LlamaSampler: native memory until closed."""

    def __init__(self):
        self.closed = False

    def close(self) -> None:
        self.closed = True


class FakeModel:
    """Stands in for llama-cpp-python's internals.LlamaModel: the loaded weights."""

    loads = 0

    def __init__(self, **kwargs):
        FakeModel.loads += 1
        self.closed = False

    def n_vocab(self) -> int:
        return 151936

    def close(self) -> None:
        self.closed = True


class FakeLlama:
    instances: list["FakeLlama"] = []
    fail_load: Exception | None = None
    metadata: dict = {}  # no chat template: the generator does not manage the KV cache
    n_tokens = 0

    def reset(self) -> None:
        self.n_tokens = 0

    def __init__(self, **kwargs):
        if FakeLlama.fail_load:
            raise FakeLlama.fail_load
        # as llama-cpp-python does: the model through the loader of its internals module
        internals = getattr(getattr(sys.modules["llama_cpp"], "llama", None), "internals", None)
        self._model = getattr(internals, "LlamaModel", FakeModel)(path_model=kwargs["model_path"])
        self.kwargs = kwargs
        self.calls: list[dict] = []
        self.samplers: list[FakeSampler] = []
        self.fail_generate: Exception | None = None
        FakeLlama.instances.append(self)

    def create_chat_completion(self, **kwargs) -> Iterator[dict]:
        self.calls.append(kwargs)
        self._sampler = FakeSampler()  # llama-cpp-python keeps each call's sampler chain
        self.samplers.append(self._sampler)
        if self.fail_generate:
            raise self.fail_generate
        yield {"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
        for piece in ["Amster", "dam", "", "."]:
            yield {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        yield {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}

    def tokenize(self, data: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
        return list(range(len(data.split())))

    def eval(self, tokens: list[int]) -> None:
        self.evaluated = getattr(self, "evaluated", []) + [len(tokens)]
        self.n_tokens += len(tokens)


@pytest.fixture
def fake_llama(monkeypatch) -> type[FakeLlama]:
    FakeLlama.instances = []
    FakeLlama.fail_load = None
    FakeModel.loads = 0
    internals = types.SimpleNamespace(LlamaModel=FakeModel)
    monkeypatch.setitem(sys.modules, "llama_cpp", types.SimpleNamespace(
        Llama=FakeLlama, llama=types.SimpleNamespace(internals=internals)))
    return FakeLlama


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF fake")
    return path


def test_llama_loads_lazily_once_and_streams_content_only(fake_llama, gguf: Path):
    resolved: list[int] = []
    gen = LlamaCppGenerator(lambda: resolved.append(1) or gguf, n_ctx=2048, seed=7)
    assert resolved == [] and fake_llama.instances == []

    pieces = list(gen.stream(QUESTION, max_tokens=5, stop=["\n\n"]))
    assert pieces == ["Amster", "dam", "."]
    assert gen.complete(QUESTION, max_tokens=5) == "Amsterdam."

    assert resolved == [1] and len(fake_llama.instances) == 1  # one Llama, reused
    llm = fake_llama.instances[0]
    assert llm.kwargs == {
        "model_path": str(gguf),
        "n_ctx": 2048,
        "n_threads": len(os.sched_getaffinity(0)),
        "n_threads_batch": len(os.sched_getaffinity(0)),  # the prompt too, not a default
        "seed": 7,
        "flash_attn": False,  # the default: the answers the quality floors were measured with
        "verbose": False,
    }
    assert llm.calls[0] == {
        "messages": [{"role": m.role, "content": m.content} for m in QUESTION],
        "stream": True,
        "temperature": 0.0,
        "seed": 7,
        "max_tokens": 5,
        "stop": ["\n\n"],
    }


def test_llama_with_threads_is_the_same_model_on_other_threads(fake_llama, gguf: Path):
    gen = LlamaCppGenerator(gguf, n_threads=2, seed=5)
    one = gen.with_threads(1)
    one.load()
    assert one.id == gen.id and one.n_threads == 1
    assert FakeModel.loads == 1 and one._model()._model._owner is gen._model()  # loaded once
    kwargs = fake_llama.instances[-1].kwargs
    assert kwargs["model_path"] == str(gguf) and kwargs["n_threads_batch"] == 1
    assert kwargs["seed"] == 5


def test_llama_flash_attention_can_be_turned_on(fake_llama, gguf: Path, monkeypatch):
    gen = LlamaCppGenerator(gguf, flash_attention=True)
    gen.with_threads(1).load()
    assert fake_llama.instances[-1].kwargs["flash_attn"] is True  # kept by with_threads
    monkeypatch.setenv("RAG_FLASH_ATTENTION", "true")
    assert make_generator(Settings.from_env(gguf_path=str(gguf))).flash_attention is True


def test_llama_reserves_each_context_once_at_its_size_when_asked(fake_llama, gguf: Path, monkeypatch):
    gen = LlamaCppGenerator(gguf, n_ctx=2048, reserve_memory=True)
    list(gen.stream(QUESTION, max_tokens=5))
    list(gen.stream(QUESTION, max_tokens=5))
    llm = fake_llama.instances[0]
    # filled to n_ctx once, ending on a full micro-batch, and emptied before the question
    assert llm.evaluated == [2048 - 512, 512] and llm.n_tokens == 0
    assert LlamaCppGenerator(gguf).reserve_memory is False  # the default: no start-up cost
    monkeypatch.setenv("RAG_RESERVE_MEMORY", "true")
    assert make_generator(Settings.from_env(gguf_path=str(gguf))).reserve_memory is True


def test_llama_contexts_share_the_model_the_first_one_loaded(fake_llama, gguf: Path):
    gen = LlamaCppGenerator(gguf, max_contexts=3)
    owner = gen._model()
    lent = gen._load(owner)
    assert FakeModel.loads == 1  # the file was loaded once
    assert lent._model.n_vocab() == 151936 and lent._model._owner is owner
    lent._model.close()  # a context closing its model leaves the owner's alone
    assert owner._model.closed is False
    assert sys.modules["llama_cpp"].llama.internals.LlamaModel is FakeModel  # loader restored
    LlamaCppGenerator(gguf).load()
    assert FakeModel.loads == 2  # an unrelated generator loads its own


def test_llama_loads_the_model_again_where_it_cannot_be_shared(fake_llama, gguf: Path, monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", types.SimpleNamespace(Llama=FakeLlama))  # no internals
    gen = LlamaCppGenerator(gguf)
    owner = gen._model()
    second = gen._load(owner)
    assert FakeModel.loads == 2 and second._model is not owner._model


def test_llama_explicit_threads_and_id(fake_llama, gguf: Path):
    gen = LlamaCppGenerator(gguf, n_threads=3)
    gen.load()
    assert fake_llama.instances[0].kwargs["n_threads"] == 3
    assert fake_llama.instances[0].kwargs["n_threads_batch"] == 3
    assert gen.id == "llama-cpp:model.gguf"
    assert gen.count_tokens("drie losse woorden") == 3


def test_llama_cpp_missing_is_an_actionable_model_error(monkeypatch, gguf: Path):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    with pytest.raises(
        ModelError,
        match=r"^install llama-cpp-python to use the llama.cpp generator: "
        r"pip install -r requirements\.txt$",
    ):
        LlamaCppGenerator(gguf).load()


def test_llama_load_failure_is_a_model_error(fake_llama, gguf: Path, tmp_path: Path):
    with pytest.raises(ModelError, match="^model file not found: .*nothing.gguf$"):
        LlamaCppGenerator(tmp_path / "nothing.gguf").load()
    fake_llama.fail_load = ValueError(f"Failed to load model from file: {gguf}")
    with pytest.raises(ModelError, match="^llama.cpp cannot load .*model.gguf: Failed to load model"):
        LlamaCppGenerator(gguf).load()


def test_llama_generation_failure_is_a_generation_error(fake_llama, gguf: Path):
    gen = LlamaCppGenerator(gguf)
    gen.load()
    fake_llama.instances[0].fail_generate = ValueError(
        "Requested tokens (5000) exceed context window of 4096"
    )
    with pytest.raises(
        GenerationError,
        match=r"^llama.cpp failed: Requested tokens \(5000\) exceed context window of 4096$",
    ):
        gen.complete(QUESTION, max_tokens=5)


def test_llama_frees_each_calls_sampler_when_the_stream_ends(fake_llama, gguf: Path):
    gen = LlamaCppGenerator(gguf)
    assert gen.complete(QUESTION, max_tokens=5) == "Amsterdam."
    stopped = gen.stream(QUESTION, max_tokens=5)
    next(stopped)
    stopped.close()  # a reader who leaves mid-answer
    llm = fake_llama.instances[0]
    llm.fail_generate = ValueError("boom")
    with pytest.raises(GenerationError):
        gen.complete(QUESTION, max_tokens=5)
    assert [s.closed for s in llm.samplers] == [True, True, True]
    assert llm._sampler is None


def test_llama_refuses_a_nested_stream_in_the_same_thread(fake_llama, gguf: Path):
    gen = LlamaCppGenerator(gguf)
    first = gen.stream(QUESTION, max_tokens=5)
    next(first)
    with pytest.raises(GenerationError, match="^this generator is still streaming an earlier answer"):
        gen.complete(QUESTION, max_tokens=5)
    first.close()
    assert gen.complete(QUESTION, max_tokens=5) == "Amsterdam."


def test_max_tokens_must_be_positive(fake_llama, gguf: Path):
    with pytest.raises(ValueError, match="^max_tokens must be at least 1, got 0$"):
        LlamaCppGenerator(gguf).complete(QUESTION, max_tokens=0)


# ---------------------------------------------------------------------------------------------
# make_generator


def settings(**changes) -> Settings:
    return Settings.from_env(environ={}, **changes)


def test_make_generator_default_is_the_packaged_gguf(fake_llama, gguf: Path, monkeypatch, tmp_path):
    import rag.model_files

    calls: list[Path] = []
    monkeypatch.setattr(
        rag.model_files, "packaged_gguf_path", lambda cache_dir, **kw: calls.append(cache_dir) or gguf
    )
    gen = make_generator(settings(cache_dir=tmp_path / "cache", n_ctx=1024, seed=3, n_threads=1))
    assert isinstance(gen, LlamaCppGenerator)
    assert gen.id == "llama-cpp:qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert calls == []  # nothing joined or loaded before first use
    gen.load()
    assert calls == [tmp_path / "cache"]
    assert fake_llama.instances[0].kwargs == {
        "model_path": str(gguf), "n_ctx": 1024, "n_threads": 1, "n_threads_batch": 1, "seed": 3,
        "flash_attn": False, "verbose": False,
    }


def test_make_generator_own_gguf_is_verified_when_a_digest_is_given(fake_llama, gguf: Path, caplog):
    gen = make_generator(settings(gguf_path=str(gguf), gguf_sha256="0" * 64))
    assert gen.id == "llama-cpp:model.gguf"
    with pytest.raises(DigestMismatchError, match="does not match the expected 0000"):
        gen.load()
    assert fake_llama.instances == []

    with caplog.at_level("WARNING"):
        make_generator(settings(gguf_path=str(gguf))).load()
    assert "is unchecked (your own file)" in caplog.text
    assert fake_llama.instances[0].kwargs["model_path"] == str(gguf)


def test_make_generator_other_backends():
    hf = make_generator(settings(generator="hf:/models/tiny", temperature=0.5, seed=2))
    assert isinstance(hf, TransformersGenerator)
    assert (hf.model_name_or_path, hf.temperature, hf.seed) == ("/models/tiny", 0.5, 2)
    assert hf.id == "hf:/models/tiny"

    oa = make_generator(
        settings(generator="openai", openai_base_url="http://h:1/v1/", openai_model="m",
                 openai_api_key="sk-secret", request_timeout=5.0)
    )
    assert isinstance(oa, OpenAIGenerator)
    assert (oa.url, oa.model, oa.timeout) == ("http://h:1/v1/chat/completions", "m", 5.0)
    assert oa.id == "openai:m"
    assert "sk-secret" not in repr(oa)


def test_make_generator_rejects_unknown_names():
    with pytest.raises(
        ConfigError,
        match=r"^unknown generator 'gpt4all': use 'llama-cpp', 'hf:<model id or path>' or 'openai'$",
    ):
        make_generator(settings(generator="gpt4all"))
    with pytest.raises(
        ConfigError, match=r"^generator 'hf:' needs a model id or path, e.g. hf:/models/my-llm$"
    ):
        make_generator(settings(generator="hf: "))


# ---------------------------------------------------------------------------------------------
# transformers on a tiny random model built here

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }} {{ m['content'] }}<|im_end|> {% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant {% endif %}"
)
SENTENCES = [
    "de hoofdstad van nederland is amsterdam",
    "het kabinet heeft vandaag een nieuw plan gepresenteerd",
    "de beurs in amsterdam sloot hoger na een rustige dag",
    "system : user : assistant : vraag antwoord bron passage",
    "wat is waar wie wanneer hoeveel een woord",
]


def build_tiny_model(folder: Path, chat_template: str | None) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["[UNK]", "[PAD]", "<|im_start|>", "<|im_end|>"]
    raw = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    raw.decoder = decoders.WordPiece()  # joins words with spaces
    raw.train_from_iterator(SENTENCES, trainers.WordLevelTrainer(special_tokens=specials))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, unk_token="[UNK]", pad_token="[PAD]", eos_token="<|im_end|>",
        additional_special_tokens=["<|im_start|>"],
    )
    if chat_template:
        tokenizer.chat_template = chat_template
    tokenizer.save_pretrained(folder)

    torch.manual_seed(0)
    # Llama, not Qwen2: transformers 5 swaps in Qwen2's own BPE tokenizer class for model type
    # qwen2, which would drop this word-level vocabulary.
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=None, bos_token_id=None,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = None  # random weights: always run to max_tokens
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"), CHAT_TEMPLATE)


@pytest.fixture(scope="module")
def tiny(tiny_model: Path) -> TransformersGenerator:
    gen = TransformersGenerator(str(tiny_model), device="cpu")
    gen.load()
    return gen


def test_transformers_streams_pieces_within_max_tokens(tiny: TransformersGenerator):
    pieces = list(tiny.stream(QUESTION, max_tokens=12))
    text = "".join(pieces)
    assert len(pieces) >= 3
    assert 0 < len(text.split()) <= 12
    assert tiny.count_tokens(text) <= 12
    assert len(tiny.complete(QUESTION, max_tokens=4).split()) <= 4


def test_transformers_is_deterministic(tiny: TransformersGenerator, tiny_model: Path):
    first = tiny.complete(QUESTION, max_tokens=10)
    assert tiny.complete(QUESTION, max_tokens=10) == first
    other = TransformersGenerator(str(tiny_model), device="cpu")  # fresh load, same answer
    assert other.complete(QUESTION, max_tokens=10) == first
    sampled = TransformersGenerator(str(tiny_model), temperature=1.0, seed=5, device="cpu")
    assert sampled.complete(QUESTION, max_tokens=10) == sampled.complete(QUESTION, max_tokens=10)


def test_transformers_honours_stop_strings(tiny: TransformersGenerator):
    full = tiny.complete(QUESTION, max_tokens=12)
    stop = full.split()[3]
    assert tiny.complete(QUESTION, max_tokens=12, stop=[stop]) == full[: full.index(stop)]


def test_transformers_without_chat_template_uses_a_plain_prompt(tmp_path: Path):
    folder = build_tiny_model(tmp_path / "plain", chat_template=None)
    gen = TransformersGenerator(str(folder), device="cpu")
    tokenizer, _ = gen._loaded()
    prompt = tokenizer.decode(gen._prompt_ids(tokenizer, QUESTION)["input_ids"][0])
    assert prompt.startswith("system :")
    assert prompt.endswith("user : [UNK] [UNK] [UNK] woord : wat is de hoofdstad van [UNK] [UNK] assistant :")
    assert len(gen.complete(QUESTION, max_tokens=5).split()) <= 5


def test_transformers_closing_the_stream_stops_the_worker(tiny: TransformersGenerator):
    stream = tiny.stream(QUESTION, max_tokens=200)
    next(stream)
    stream.close()
    assert not any(t.name == "transformers-generate" for t in threading.enumerate())


def test_transformers_failure_is_a_generation_error(tiny_model: Path):
    gen = TransformersGenerator(str(tiny_model), device="cpu")
    gen.load()

    def boom(**kwargs):
        raise RuntimeError("boom")

    gen._model.generate = boom
    with pytest.raises(GenerationError, match="^transformers failed: boom$"):
        gen.complete(QUESTION, max_tokens=5)


def test_transformers_missing_local_dir_and_missing_package(monkeypatch, tmp_path: Path):
    with pytest.raises(ModelError, match="^model directory not found: .*no-such-model$"):
        TransformersGenerator(str(tmp_path / "no-such-model")).load()
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(
        ModelError,
        match=r"^install transformers and torch to use an 'hf:' generator: pip install -r requirements\.txt$",
    ):
        TransformersGenerator(str(tmp_path)).load()


# ---------------------------------------------------------------------------------------------
# OpenAI-compatible HTTP against a fake server

API_KEY = "sk-secret-123"


def sse(*events: object) -> bytes:
    return b"".join(
        f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n".encode() for e in events
    )


def delta(content: str | None = None, finish: str | None = None, role: str | None = None) -> dict:
    d = {k: v for k, v in (("role", role), ("content", content)) if v is not None}
    return {"id": "x", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": d, "finish_reason": finish}]}


SCENARIOS: dict[str, tuple[int, str, bytes]] = {
    "ok": (200, "text/event-stream", b": keep-alive\n\nevent: message\n" + sse(
        delta(role="assistant"), delta("Amster"), delta("dam"), delta("."), delta(finish="stop"),
        "[DONE]",
    ) + b"data: {\"ignored\": \"after done\"}\n\n"),
    "json": (200, "application/json", json.dumps(
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Amsterdam."}}]}
    ).encode()),
    "unauthorized": (401, "application/json", json.dumps(
        {"error": {"message": f"Incorrect API key provided: {API_KEY}"}}
    ).encode()),
    "broken": (500, "text/plain", b"internal error"),
    "malformed": (200, "text/event-stream", sse(delta("Am")) + b"data: {not json\n\n"),
    "truncated": (200, "text/event-stream", sse(delta("Amster"))),
    "error-event": (200, "text/event-stream", sse(delta("Am"), {"error": {"message": "overloaded"}})),
}


class FakeOpenAI(BaseHTTPRequestHandler):
    requests: list[tuple[str, dict, dict]] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeOpenAI.requests.append((self.path, dict(self.headers), body))
        scenario = self.path.split("/")[1]
        if scenario == "slow":
            time.sleep(1.5)
            scenario = "ok"
        status, content_type, payload = SCENARIOS[scenario]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.end_headers()
        try:
            for line in payload.splitlines(keepends=True):  # one write per line, like a stream
                self.wfile.write(line)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def fake_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def openai(base: str, scenario: str, **kwargs) -> OpenAIGenerator:
    return OpenAIGenerator(f"{base}/{scenario}/v1", "tiny", api_key=API_KEY, timeout=5.0, **kwargs)


def test_openai_streams_deltas_and_sends_the_request(fake_server: str):
    FakeOpenAI.requests.clear()
    gen = openai(fake_server, "ok", temperature=0.0, seed=11)
    assert list(gen.stream(QUESTION, max_tokens=8, stop=["\n\n"])) == ["Amster", "dam", "."]

    path, headers, body = FakeOpenAI.requests[-1]
    assert path == "/ok/v1/chat/completions"
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert body == {
        "model": "tiny",
        "messages": [{"role": m.role, "content": m.content} for m in QUESTION],
        "stream": True,
        "max_tokens": 8,
        "temperature": 0.0,
        "seed": 11,
        "stop": ["\n\n"],
    }


def test_openai_accepts_a_non_streamed_json_reply(fake_server: str):
    assert openai(fake_server, "json").complete(QUESTION, max_tokens=8) == "Amsterdam."


def test_openai_without_key_sends_no_authorization(fake_server: str):
    FakeOpenAI.requests.clear()
    OpenAIGenerator(f"{fake_server}/ok/v1", "tiny").complete(QUESTION, max_tokens=8)
    assert "Authorization" not in FakeOpenAI.requests[-1][1]


def test_openai_http_errors_do_not_leak_the_key(fake_server: str):
    with pytest.raises(GenerationError) as raised:
        openai(fake_server, "unauthorized").complete(QUESTION, max_tokens=8)
    message = str(raised.value)
    assert message.startswith(
        f"{fake_server}/unauthorized/v1/chat/completions answered HTTP 401 (check RAG_OPENAI_API_KEY): "
    )
    assert "Incorrect API key provided: ***" in message and API_KEY not in message
    with pytest.raises(GenerationError, match=r"answered HTTP 500: internal error$"):
        openai(fake_server, "broken").complete(QUESTION, max_tokens=8)


def test_openai_malformed_and_truncated_streams(fake_server: str):
    with pytest.raises(
        GenerationError, match=r"^malformed stream event from .*/malformed/v1/chat/completions: '\{not json'$"
    ):
        openai(fake_server, "malformed").complete(QUESTION, max_tokens=8)
    with pytest.raises(GenerationError, match=r"^the stream from .* ended before the answer was complete$"):
        openai(fake_server, "truncated").complete(QUESTION, max_tokens=8)
    with pytest.raises(GenerationError, match=r'reported an error: \{"message": "overloaded"\}$'):
        openai(fake_server, "error-event").complete(QUESTION, max_tokens=8)


def test_openai_timeout(fake_server: str):
    gen = OpenAIGenerator(f"{fake_server}/slow/v1", "tiny", api_key=API_KEY, timeout=0.3)
    with pytest.raises(
        GenerationError, match=r"^http://127.0.0.1:\d+/slow/v1/chat/completions did not answer within 0.3 s$"
    ):
        gen.complete(QUESTION, max_tokens=8)


def test_openai_connection_refused():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(
        GenerationError, match=f"^cannot connect to {url}/chat/completions: is the server running\\?$"
    ):
        OpenAIGenerator(url, "tiny", api_key=API_KEY, timeout=2.0).complete(QUESTION, max_tokens=8)


# ---------------------------------------------------------------------------------------------
# The real packaged model (llama.cpp), loaded once for this module

LONG_SYSTEM = " ".join(
    f"Regel {i}: antwoord alleen op basis van de gegeven passages, citeer elke bewering met [n] "
    "en zeg dat je het niet weet als het antwoord ontbreekt."
    for i in range(1, 13)
)


@pytest.fixture(scope="module")
def qwen() -> LlamaCppGenerator:
    gen = make_generator(
        Settings.from_env(generator="llama-cpp", gguf_path="", temperature=0.0, seed=0)
    )
    assert isinstance(gen, LlamaCppGenerator)
    gen.load()
    return gen


@pytest.fixture(scope="module")
def qwen_path() -> Path:
    from rag.model_files import packaged_gguf_path

    return packaged_gguf_path(Settings.from_env().cache_dir)


@pytest.mark.real
def test_real_llama_is_deterministic_streams_and_respects_max_tokens(qwen: LlamaCppGenerator):
    messages = [ChatMessage("system", "Antwoord in het Nederlands."),
                ChatMessage("user", "Beschrijf Amsterdam in twee zinnen.")]
    other = [messages[0], ChatMessage("user", "Beschrijf Rotterdam in twee zinnen.")]
    first = list(qwen.stream(messages, max_tokens=16))
    second = list(qwen.stream(messages, max_tokens=16))  # the whole prompt is in the KV cache
    qwen.complete(other, max_tokens=4)
    third = list(qwen.stream(messages, max_tokens=16))  # only the system prompt is
    assert first == second == third
    assert len(first) >= 5
    assert qwen.count_tokens("".join(first)) <= 16
    assert "Amsterdam" in qwen.complete(QUESTION, max_tokens=10)


@pytest.mark.real
def test_real_llama_honours_stop_strings(qwen: LlamaCppGenerator):
    answer = qwen.complete(QUESTION, max_tokens=10, stop=["Amsterdam"])
    assert "Amsterdam" not in answer


@pytest.mark.real
def test_real_llama_reuses_the_kv_cache_of_a_shared_system_prompt(qwen: LlamaCppGenerator):
    system_tokens = qwen.count_tokens(LONG_SYSTEM)
    assert system_tokens > 250
    qwen.complete([ChatMessage("system", LONG_SYSTEM), ChatMessage("user", "Wie won?")], max_tokens=3)
    evaluated: list[int] = []
    contexts = list(qwen._contexts.values())
    for llm in contexts:
        real_eval = llm.eval
        llm.eval = lambda tokens, real_eval=real_eval: (evaluated.append(len(tokens)), real_eval(tokens))[1]
    try:
        qwen.complete(
            [ChatMessage("system", LONG_SYSTEM), ChatMessage("user", "Wat kost een treinkaartje?")],
            max_tokens=3,
        )
    finally:
        for llm in contexts:
            del llm.eval
    assert evaluated[0] < 30  # only the new question and the template tail, not the system prompt


@pytest.mark.real
def test_real_llama_cpp_server_through_the_openai_generator(qwen_path: Path, tmp_path: Path):
    import httpx

    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(qwen_path),
         "--model_alias", "qwen", "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", "2048", "--n_threads", str(len(os.sched_getaffinity(0)))],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                output = (tmp_path / "server.log").read_text()[-2000:]
                pytest.fail(f"llama_cpp.server exited: {output}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not answer /v1/models within 120 s")
            time.sleep(0.5)
        gen = OpenAIGenerator(f"http://127.0.0.1:{port}/v1", "qwen", timeout=120.0)
        pieces = list(gen.stream(QUESTION, max_tokens=10))
        assert len(pieces) >= 2
        assert "Amsterdam" in "".join(pieces)
        assert "".join(gen.stream(QUESTION, max_tokens=10)) == "".join(pieces)  # deterministic
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.mark.real
def test_real_llama_keeps_a_context_per_prompt_prefix(qwen: LlamaCppGenerator):
    """Answering and rewriting alternate; neither evicts the other's cached prefix."""
    answering = [ChatMessage("system", LONG_SYSTEM), ChatMessage("user", "Wie won?")]
    rewriting = [ChatMessage("system", "Herschrijf de vraag."), ChatMessage("user", "En Meta?")]
    qwen.complete(answering, max_tokens=2)
    qwen.complete(rewriting, max_tokens=2)
    evaluated: list[int] = []
    contexts = list(qwen._contexts.values())
    assert len(contexts) >= 2
    for llm in contexts:
        real_eval = llm.eval
        llm.eval = lambda tokens, real_eval=real_eval: (evaluated.append(len(tokens)), real_eval(tokens))[1]
    try:
        qwen.complete(answering, max_tokens=2)
    finally:
        for llm in contexts:
            del llm.eval
    assert evaluated[0] < 30  # the long system prompt stayed cached in its own context


@pytest.mark.real
def test_real_llama_contexts_run_on_one_loaded_model(qwen: LlamaCppGenerator):
    """A second context (follow-ups) does not load and repack the weights again, and it
    computes exactly what the first context computes."""
    import ctypes

    def address(llm) -> int:
        return ctypes.cast(llm.model, ctypes.c_void_p).value

    qwen.complete([ChatMessage("system", "Herschrijf de vraag."), ChatMessage("user", "En Meta?")], max_tokens=2)
    qwen.complete(QUESTION, max_tokens=2)
    contexts = list(qwen._contexts.values())
    assert len(contexts) >= 2 and len({address(llm) for llm in contexts}) == 1
    owner = qwen._model()
    ids = owner.tokenize("Nvidia verloor op maandag 589 miljard dollar".encode(), add_bos=False)
    with qwen._lock:
        lent = qwen._load(owner)
        try:
            rows = []
            for llm in (owner, lent):
                llm.reset()
                llm.eval(ids)
                rows.append(np.array(llm.scores[llm.n_tokens - 1]))
            owner.reset()  # the next call evaluates its prefix again
        finally:
            lent.close()
    assert np.array_equal(rows[0], rows[1])
    assert "Amsterdam" in qwen.complete(QUESTION, max_tokens=10)  # the model outlives the closed context


@pytest.mark.real
def test_real_llama_frees_the_sampler_chain_of_every_answer(qwen: LlamaCppGenerator):
    """llama-cpp-python keeps each call's sampler chain (an n_vocab-sized buffer, 1.7 MB
    for Qwen) in a reference cycle that only a full garbage collection frees; the generator
    frees it as the answer ends, so memory does not pile up between collections."""
    seen = []
    for avoid in ((), ("million",)):  # with a logit bias the chain holds a custom sampler too
        stream = qwen.stream(QUESTION, max_tokens=4, avoid=avoid)
        next(stream)
        llm = next(reversed(qwen._contexts.values()))
        seen.append(llm._sampler)
        assert seen[-1].sampler is not None  # the native chain, alive while answering
        "".join(stream)
        assert llm._sampler is None
    assert [sampler.sampler for sampler in seen] == [None, None]  # freed, not left to the GC


@pytest.mark.real
def test_real_llama_never_says_an_avoided_word(qwen: LlamaCppGenerator):
    messages = [ChatMessage("user", "Translate to English: Het aandeel verloor 589 miljard dollar.")]
    assert "billion" in qwen.complete(messages, max_tokens=30).lower()
    assert "billion" not in qwen.complete(messages, max_tokens=30, avoid=["billion"]).lower()

"""Generators: chat messages -> streamed text.

One abstract verb per backend (`stream`); `complete` is built on it. Backends load lazily, once:
- `LlamaCppGenerator`: a GGUF through llama-cpp-python (default: the packaged Qwen2.5-Coder-1.5B).
  One model per generator and one llama.cpp context per constant prompt prefix, which stays
  in its KV cache (the system prompt and worked examples are processed once).
- `TransformersGenerator`: any causal LM transformers can load (`hf:<model id or path>`).
- `OpenAIGenerator`: any OpenAI-compatible `/chat/completions` endpoint, streamed over SSE.
`make_generator(settings)` picks one. Decoding is deterministic by default: temperature 0 is
greedy, and a fixed seed is used when sampling.

Prompts live in `rag.prompts`; this module does not know about passages or citations, and it
never downloads a model unless the user names a Hugging Face Hub id (it says so in the log).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal, Sequence


from rag.errors import ConfigError, GenerationError, ModelError

if TYPE_CHECKING:
    from rag.config import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


class Generator(ABC):
    """Streams a deterministic (by default) chat completion."""

    id: str

    @abstractmethod
    def stream(
        self,
        messages: Sequence[ChatMessage],
        max_tokens: int,
        stop: Sequence[str] = (),
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        """Yield text pieces as the model produces them. `avoid` lists words the answer must
        not use (e.g. "million" when no passage mentions one); backends that can steer
        decoding suppress them, the others ignore the hint."""

    def complete(
        self,
        messages: Sequence[ChatMessage],
        max_tokens: int,
        stop: Sequence[str] = (),
        avoid: Sequence[str] = (),
    ) -> str:
        return "".join(self.stream(messages, max_tokens, stop, avoid))

    def load(self) -> None:
        """Load the model now rather than at the first call (no-op for remote backends)."""

    def warm(self, messages: Sequence[ChatMessage]) -> None:
        """Prepare for prompts that start like `messages` (llama.cpp: evaluate the constant
        prefix into the KV cache). A no-op where there is nothing to prepare."""

    def count_tokens(self, text: str) -> int:
        """Tokens `text` takes in the prompt. Backends with a tokenizer count exactly; this
        default over-estimates (about 3 characters per token for Dutch) to stay within budget."""
        return max(1, -(-len(text) // 3)) if text else 0


def _check_max_tokens(max_tokens: int) -> None:
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")


def word_variants(word: str) -> list[str]:
    """The spellings a tokenizer sees a word in: with and without a leading space, lower
    case and capitalised.

    >>> word_variants("million")
    ['million', ' million', 'Million', ' Million']
    """
    forms = dict.fromkeys([word.lower(), word.capitalize()])
    return [variant for form in forms for variant in (form, f" {form}")]


def _as_dicts(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


def _default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# ---------------------------------------------------------------------------------------------
# llama.cpp


class LlamaCppGenerator(Generator):
    """A GGUF model through llama-cpp-python, using the chat template stored in the GGUF.

    `model_path` is a path or a callable returning one; the callable (e.g. join + verify the
    packaged file) runs at the first load, not here. Calls are serialised.

    KV cache: every message but the last is the prompt's constant prefix (system prompt and
    worked examples). Before each call exactly that prefix is left in the cache (evaluated on
    its own when it is not there yet), and the rest of the prompt is evaluated from that
    point. llama.cpp's own prefix reuse would otherwise reuse whatever prefix the previous
    call left, and a token's logits differ in the last bits depending on the batch it was
    evaluated in, which is enough to flip a greedy choice. With a fixed split the answer
    depends only on the messages. Each distinct prefix (answering, rewriting a follow-up)
    keeps its own llama.cpp context, up to `max_contexts`, all on the model the first one
    loaded (see `_load`): another context costs its KV cache and buffers, not the weights.
    """

    def __init__(
        self,
        model_path: Path | str | Callable[[], Path],
        n_ctx: int = 4096,
        n_threads: int = 0,
        seed: int = 0,
        temperature: float = 0.0,
        id: str | None = None,
        max_contexts: int = 3,
        flash_attention: bool = False,
        reserve_memory: bool = False,
    ):
        self._model_path = model_path
        self.n_ctx = n_ctx
        self.flash_attention = flash_attention
        self.reserve_memory = reserve_memory
        self.n_threads = n_threads or _default_threads()
        self.seed = seed
        self.temperature = temperature
        self.max_contexts = max_contexts
        self.id = id or (
            f"llama-cpp:{Path(model_path).name}" if not callable(model_path) else "llama-cpp"
        )
        self._path: Path | None = None
        self._contexts: OrderedDict[tuple[int, ...], Any] = OrderedDict()  # prefix -> Llama
        self._llm: Any = None  # the first context: tokenizer, template, count_tokens
        self._lender: LlamaCppGenerator | None = None  # whose model the first context runs on
        self._chat: Any = None  # renders the GGUF's chat template, with the generation prompt
        self._chat_prefix: Any = None  # the same, without it (for the constant prefix)
        self._load_lock = threading.Lock()
        self._lock = threading.Lock()
        self._streaming_thread: int | None = None

    def load(self) -> None:
        self._model()

    def _model(self) -> Any:
        with self._load_lock:
            if self._llm is None:
                self._path = (
                    self._model_path() if callable(self._model_path) else Path(self._model_path)
                )
                self._llm = self._load(self._lender._model() if self._lender else None)
        return self._llm

    def _load(self, owner: Any = None) -> Any:
        """A new `Llama` (one llama.cpp context). With `owner`, an already loaded `Llama`,
        the new context runs on the owner's model instead of loading the file again: llama.cpp
        repacks the quantised weights into its own layout at every load, so each extra context
        would otherwise carry a copy of its own (measured: +824 MB anonymous memory against
        +191 MB for the KV cache and buffers alone; README, load test)."""
        try:
            import llama_cpp
        except ImportError:
            raise ModelError(
                "install llama-cpp-python to use the llama.cpp generator: "
                "pip install -r requirements.txt"
            ) from None
        path = self._path
        if path is None or not Path(path).is_file():
            raise ModelError(f"model file not found: {path}")
        try:
            with _sharing_model(llama_cpp, owner):
                llm = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    seed=self.seed,
                    flash_attn=self.flash_attention,
                    verbose=False,
                )
        except (ValueError, RuntimeError, OSError) as e:
            raise ModelError(f"llama.cpp cannot load {path}: {e}") from e
        template = llm.metadata.get("tokenizer.chat_template")
        if template and self._chat is None:
            # The same formatter llama.cpp builds from the GGUF; kept here so that the prompt
            # can also be rendered up to the end of its constant prefix.
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            def text(token: int) -> str:
                if token < 0:
                    return ""
                return llm.detokenize([token], special=True).decode("utf-8", "replace")

            eos, bos = text(llm.token_eos()), text(llm.token_bos())
            self._chat = Jinja2ChatFormatter(
                template=template, eos_token=eos, bos_token=bos, stop_token_ids=[llm.token_eos()]
            )
            self._chat_prefix = Jinja2ChatFormatter(
                template=template, eos_token=eos, bos_token=bos, add_generation_prompt=False
            )
        if self._chat is not None:
            llm.chat_handler = self._chat.to_chat_handler()
        return llm

    def _constant_prefix(self, llm: Any, messages: Sequence[ChatMessage]) -> list[int]:
        """Prompt tokens of every message but the last; [] when there is no usable prefix."""
        if len(messages) < 2 or self._chat is None:
            return []
        try:
            prefix = self._chat_prefix(messages=_as_dicts(messages[:-1])).prompt
            full = self._chat(messages=_as_dicts(messages)).prompt
        except Exception:  # a template that cannot render this: llama.cpp will say why
            return []
        prefix_ids = llm.tokenize(prefix.encode("utf-8"), add_bos=False, special=True)
        full_ids = llm.tokenize(full.encode("utf-8"), add_bos=False, special=True)
        fits = len(full_ids) < self.n_ctx and len(prefix_ids) < len(full_ids)
        return prefix_ids if fits and full_ids[: len(prefix_ids)] == prefix_ids else []

    def _context(self, prefix: list[int]) -> Any:
        """The llama.cpp context holding `prefix` in its KV cache (see the class docstring)."""
        key = tuple(prefix)
        llm = self._contexts.get(key)
        if llm is None:
            if not self._contexts or len(self._contexts) < self.max_contexts:
                llm = self._model() if not self._contexts else self._load(self._model())
                if self.reserve_memory:
                    self._reserve(llm)
            else:
                _, llm = self._contexts.popitem(last=False)  # reserved when it was created
            self._contexts[key] = llm
        self._contexts.move_to_end(key)
        n = len(prefix)
        if n and llm.n_tokens >= n and llm.input_ids[:n].tolist() == prefix:
            llm.n_tokens = n  # llama.cpp drops the cache beyond this point before evaluating
        else:
            llm.reset()
            if n:
                llm.eval(prefix)
        return llm

    def _reserve(self, llm: Any) -> None:
        """Fill a new context to its size once, ending on a full micro-batch, then empty it.

        llama.cpp's CPU backend keeps one scratch buffer per context that it enlarges whenever
        a graph needs more (without flash attention: an f16 copy of the attention scores,
        micro-batch tokens x cached tokens x heads x 2 bytes), so resident memory otherwise
        grows with the longest prompt seen, in steps, up to that bound. Filling the context
        here pays the bound at start-up and keeps memory flat afterwards (README, load test).
        """
        filler = llm.tokenize(b" nieuws", add_bos=False, special=False)[:1] or [0]
        last = min(512, self.n_ctx)  # llama.cpp's default micro-batch
        started = time.perf_counter()
        llm.reset()
        llm.eval(filler * (self.n_ctx - last))
        llm.eval(filler * last)
        llm.reset()
        logger.info("reserved llama.cpp memory for %d tokens in %.1f s", self.n_ctx,
                    time.perf_counter() - started)

    @staticmethod
    def _bias_against(llm: Any, words: Sequence[str]) -> dict[int, float]:
        """Suppress each spelling of `words` that is a single token (a word split into
        several tokens cannot be banned without banning its first piece everywhere)."""
        bias: dict[int, float] = {}
        for word in words:
            for variant in word_variants(word):
                ids = llm.tokenize(variant.encode("utf-8"), add_bos=False, special=False)
                if len(ids) == 1:
                    bias[ids[0]] = -100.0
        return bias

    def warm(self, messages: Sequence[ChatMessage]) -> None:
        """Evaluate the constant prefix of `messages` now, so the first question is fast."""
        with self._lock:
            self._context(self._constant_prefix(self._model(), messages))

    def count_tokens(self, text: str) -> int:
        return len(self._model().tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def with_threads(self, n_threads: int, n_ctx: int = 1024) -> "LlamaCppGenerator":
        """Another generator on this one's loaded model, with its own contexts and thread
        count (benchmarks)."""
        other = LlamaCppGenerator(self._model_path, n_ctx=n_ctx, n_threads=n_threads,
                                  seed=self.seed, temperature=self.temperature, id=self.id,
                                  flash_attention=self.flash_attention)
        other._lender = self
        return other

    @property
    def model_bytes(self) -> int:
        """Size of the loaded GGUF file: the weights decoding reads once per token."""
        self._model()
        return Path(self._path).stat().st_size if self._path else 0

    def measure_speed(self, text: str, prompt_tokens: int = 512,
                      decode_tokens: int = 64) -> tuple[float, float]:
        """(prompt tokens/s, decode tokens/s): the first `prompt_tokens` of `text` evaluated
        in one go, then `decode_tokens` greedy tokens one by one, in a context of its own (the
        cached prefixes stay as they are). For benchmarks."""
        first = self._model()
        ids = first.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        if not ids:
            raise GenerationError("measure_speed needs some text")
        ids = (ids * (prompt_tokens // len(ids) + 1))[:prompt_tokens]
        with self._lock:
            llm = self._load(first)
            try:
                started = time.perf_counter()
                llm.eval(ids)
                prompt_seconds = time.perf_counter() - started
                tokens = llm.generate([], temp=0.0, reset=False)
                next(tokens)  # sampled from the prompt's logits: no evaluation yet
                started = time.perf_counter()
                for _ in range(decode_tokens):
                    next(tokens)
                decode_seconds = time.perf_counter() - started
            finally:
                llm.close()
        return len(ids) / prompt_seconds, decode_tokens / decode_seconds

    def stream(
        self,
        messages: Sequence[ChatMessage],
        max_tokens: int,
        stop: Sequence[str] = (),
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        _check_max_tokens(max_tokens)
        first = self._model()
        if self._streaming_thread == threading.get_ident():
            raise GenerationError(
                "this generator is still streaming an earlier answer in this thread: "
                "finish or close that stream first"
            )
        with self._lock:
            self._streaming_thread = threading.get_ident()
            llm = chunks = None
            try:
                llm = self._context(self._constant_prefix(first, messages))
                bias = self._bias_against(llm, avoid)
                chunks = llm.create_chat_completion(
                    **({"logit_bias": bias} if bias else {}),
                    messages=_as_dicts(messages),
                    stream=True,
                    temperature=self.temperature,
                    seed=self.seed,
                    max_tokens=max_tokens,
                    stop=list(stop),
                )
                for chunk in chunks:
                    content = chunk["choices"][0]["delta"].get("content")
                    if content:
                        yield content
            except (ValueError, RuntimeError) as e:
                raise GenerationError(f"llama.cpp failed: {e}") from e
            finally:
                self._streaming_thread = None
                getattr(chunks, "close", lambda: None)()  # a reader who left: end llama.cpp's generation now
                if llm is not None:
                    _release_sampler(llm)


class _LentModel:
    """The loaded model of one `Llama`, lent to another: every attribute is the owner's, and
    closing it does nothing (the owner frees the model). Holding the owner keeps the model
    alive for as long as any context on it."""

    def __init__(self, owner: Any):
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._owner._model, name)

    def close(self) -> None:
        pass


_SHARING_LOCK = threading.Lock()


@contextlib.contextmanager
def _sharing_model(llama_cpp: Any, owner: Any) -> Iterator[None]:
    """While open, the `Llama` built in this block takes `owner`'s model instead of loading
    its file (without an owner it loads the file as usual). llama-cpp-python has no public
    way to put a second context on a loaded model, so its model loader is swapped for the
    duration; every construction here holds one lock, so no other load in this process
    sees the swap. Where that loader is not found (another llama-cpp-python version) the
    model is loaded again, as before, and the log says so."""
    internals = getattr(getattr(llama_cpp, "llama", None), "internals", None)
    with _SHARING_LOCK:
        if owner is None:
            yield
            return
        if getattr(internals, "LlamaModel", None) is None or getattr(owner, "_model", None) is None:
            logger.info("this llama-cpp-python cannot share a loaded model: loading it again")
            yield
            return
        loader = internals.LlamaModel
        internals.LlamaModel = lambda **_: _LentModel(owner)
        try:
            yield
        finally:
            internals.LlamaModel = loader


def _release_sampler(llm: Any) -> None:
    """Free the sampler chain the last call left in `llm` now. llama-cpp-python keeps it in
    `Llama._sampler`, and each call replaces it; the chain holds an n_vocab-sized buffer
    (1.7 MB for Qwen's 151,936 tokens) and refers to itself through its ExitStack, so a
    replaced chain waits for Python's rare full garbage collection. Measured: 1.74 MB more
    resident memory per call without this, flat with it."""
    sampler = getattr(llm, "_sampler", None)
    if sampler is not None:
        sampler.close()
        llm._sampler = None


# ---------------------------------------------------------------------------------------------
# transformers


class StopFilter:
    """Passes streamed text through until a stop string appears, holding back only a tail that
    could still become one. `feed` returns the text safe to show; `done` turns True at a stop.

    >>> f = StopFilter(["[1]"]); f.feed("Hallo ["), f.feed("1] wereld"), f.flush()
    ('Hallo ', '', '')
    """

    def __init__(self, stop: Sequence[str]):
        self.stop = [s for s in stop if s]
        self.done = False
        self._held = ""

    def feed(self, text: str) -> str:
        if self.done:
            return ""
        buffer = self._held + text
        hits = [i for i in (buffer.find(s) for s in self.stop) if i >= 0]
        if hits:
            self.done, self._held = True, ""
            return buffer[: min(hits)]
        keep = max(
            (k for s in self.stop for k in range(min(len(s) - 1, len(buffer)), 0, -1)
             if buffer.endswith(s[:k])),
            default=0,
        )
        self._held = buffer[len(buffer) - keep:] if keep else ""
        return buffer[: len(buffer) - keep]

    def flush(self) -> str:
        held, self._held = self._held, ""
        return "" if self.done else held


class TransformersGenerator(Generator):
    """A causal LM loaded with transformers: a local directory or a Hugging Face Hub id.

    Uses the tokenizer's chat template when it has one, otherwise a plain "role: content" prompt.
    Greedy when temperature is 0. Streams with TextIteratorStreamer from a worker thread.
    """

    def __init__(
        self,
        model_name_or_path: str,
        temperature: float = 0.0,
        seed: int = 0,
        device: str | None = None,
        id: str | None = None,
    ):
        self.model_name_or_path = model_name_or_path
        self.temperature = temperature
        self.seed = seed
        self.device = device
        self.id = id or f"hf:{model_name_or_path}"
        self._tokenizer: Any = None
        self._model: Any = None
        self._load_lock = threading.Lock()

    def load(self) -> None:
        self._loaded()

    def _loaded(self) -> tuple[Any, Any]:
        with self._load_lock:
            if self._model is None:
                self._tokenizer, self._model = self._load()
        return self._tokenizer, self._model

    def _load(self) -> tuple[Any, Any]:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise ModelError(
                "install transformers and torch to use an 'hf:' generator: "
                "pip install -r requirements.txt"
            ) from None
        name = self.model_name_or_path
        local = Path(name).expanduser()
        if local.is_dir():
            source, local_only = str(local), True
        elif name.startswith(("/", ".", "~")) or os.path.isabs(name):
            raise ModelError(f"model directory not found: {local}")
        else:
            source, local_only = name, False
            logger.warning(
                "%s is not a local directory: transformers will load it from its cache or "
                "download it from the Hugging Face Hub",
                name,
            )
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only)
            model = AutoModelForCausalLM.from_pretrained(
                source, local_files_only=local_only, dtype="auto"
            )
        except (OSError, ValueError) as e:
            raise ModelError(f"transformers cannot load {name}: {e}") from e
        model.to(device).eval()
        return tokenizer, model

    def count_tokens(self, text: str) -> int:
        tokenizer, _ = self._loaded()
        return len(tokenizer.encode(text, add_special_tokens=False))

    def _prompt_ids(self, tokenizer: Any, messages: Sequence[ChatMessage]) -> Any:
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template(
                _as_dicts(messages), add_generation_prompt=True, tokenize=False
            )
            return tokenizer(text, return_tensors="pt", add_special_tokens=False)
        text = "".join(f"{m.role}: {m.content}\n" for m in messages) + "assistant:"
        return tokenizer(text, return_tensors="pt")

    def stream(
        self,
        messages: Sequence[ChatMessage],
        max_tokens: int,
        stop: Sequence[str] = (),
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        _check_max_tokens(max_tokens)
        tokenizer, model = self._loaded()
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        halt = threading.Event()

        class _Halt(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.full((input_ids.shape[0],), halt.is_set(), device=input_ids.device)

        encoded = self._prompt_ids(tokenizer, messages)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        sampling = self.temperature > 0
        options: dict[str, Any] = dict(
            input_ids=encoded["input_ids"].to(model.device),
            attention_mask=encoded["attention_mask"].to(model.device),
            max_new_tokens=max_tokens,
            do_sample=sampling,
            streamer=streamer,
            stopping_criteria=StoppingCriteriaList([_Halt()]),
            pad_token_id=tokenizer.pad_token_id
            if tokenizer.pad_token_id is not None
            else tokenizer.eos_token_id,
        )
        banned = [
            ids
            for word in avoid
            for variant in word_variants(word)
            if (ids := tokenizer(variant, add_special_tokens=False)["input_ids"])
        ]
        if banned:
            options["bad_words_ids"] = banned
        if sampling:
            options["temperature"] = self.temperature
        else:  # greedy: clear sampling knobs a model's generation_config may carry
            options.update(temperature=None, top_p=None, top_k=None)
        failure: list[BaseException] = []

        def work() -> None:
            try:
                if sampling:
                    torch.manual_seed(self.seed)
                with torch.inference_mode():
                    model.generate(**options)
            except BaseException as e:  # reported in the caller's thread
                failure.append(e)
                streamer.end()

        worker = threading.Thread(target=work, name="transformers-generate", daemon=True)
        worker.start()
        stops = StopFilter(stop)
        try:
            for text in streamer:
                shown = stops.feed(text)
                if shown:
                    yield shown
                if stops.done:
                    break
            if failure:
                raise GenerationError(f"transformers failed: {failure[0]}") from failure[0]
            rest = stops.flush()
            if rest:
                yield rest
        finally:
            halt.set()  # the worker stops at its next token
            worker.join()


# ---------------------------------------------------------------------------------------------
# OpenAI-compatible HTTP


class OpenAIGenerator(Generator):
    """An OpenAI-compatible server (llama.cpp server, vLLM, Ollama, OpenAI, ...), streamed.

    `base_url` ends before `/chat/completions`, e.g. "http://127.0.0.1:8000/v1". Errors never
    include the API key.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout: float = 120.0,
        temperature: float = 0.0,
        seed: int = 0,
        id: str | None = None,
    ):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.timeout = timeout
        self.temperature = temperature
        self.seed = seed
        self.id = id or f"openai:{model}"
        self._api_key = api_key
        self._client: Any = None

    def __repr__(self) -> str:
        return f"OpenAIGenerator(url={self.url!r}, model={self.model!r})"

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _http(self) -> Any:
        if self._client is None:
            import httpx

            self._client = httpx.Client(timeout=httpx.Timeout(self.timeout))
        return self._client

    def stream(
        self,
        messages: Sequence[ChatMessage],
        max_tokens: int,
        stop: Sequence[str] = (),
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        _check_max_tokens(max_tokens)
        import httpx

        body: dict[str, Any] = {
            "model": self.model,
            "messages": _as_dicts(messages),
            "stream": True,
            "max_tokens": max_tokens,
            "temperature": self.temperature,
            "seed": self.seed,
        }
        if stop:
            body["stop"] = list(stop)
        headers = {"Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        try:
            with self._http().stream("POST", self.url, json=body, headers=headers) as response:
                if response.status_code >= 400:
                    detail = response.read().decode("utf-8", "replace").strip()[:300]
                    auth = response.status_code in (401, 403)
                    hint = " (check RAG_OPENAI_API_KEY)" if auth else ""
                    raise GenerationError(self._redact(
                        f"{self.url} answered HTTP {response.status_code}{hint}: {detail}"
                    ))
                if response.headers.get("content-type", "").startswith("application/json"):
                    yield self._whole_reply(response.read())
                    return
                yield from self._events(response.iter_lines())
        except httpx.ConnectError:
            raise GenerationError(
                f"cannot connect to {self.url}: is the server running?"
            ) from None
        except httpx.TimeoutException:
            raise GenerationError(
                f"{self.url} did not answer within {self.timeout:g} s"
            ) from None
        except httpx.HTTPError as e:
            raise GenerationError(
                self._redact(f"the connection to {self.url} failed: {type(e).__name__}: {e}")
            ) from None

    def _events(self, lines: Iterable[str]) -> Iterator[str]:
        finished = False
        for line in lines:
            if not line.startswith("data:"):
                continue  # blank separators, ": keep-alive" comments, event:/id:/retry: fields
            payload = line[5:].strip()
            if payload == "[DONE]":
                return
            try:
                event = json.loads(payload)
                if "error" in event:
                    raise GenerationError(self._redact(
                        f"{self.url} reported an error: {json.dumps(event['error'])[:300]}"
                    ))
                choices = event.get("choices") or []
                delta = (choices[0].get("delta") or {}) if choices else {}
                content = delta.get("content")
                finished = finished or bool(choices and choices[0].get("finish_reason"))
            except (ValueError, AttributeError, TypeError, IndexError):
                raise GenerationError(self._redact(
                    f"malformed stream event from {self.url}: {payload[:200]!r}"
                )) from None
            if content:
                yield content
        if not finished:
            raise GenerationError(
                f"the stream from {self.url} ended before the answer was complete"
            )

    def _whole_reply(self, raw: bytes) -> str:
        try:
            return json.loads(raw)["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise GenerationError(self._redact(
                f"malformed reply from {self.url}: {raw[:200]!r}"
            )) from None


# ---------------------------------------------------------------------------------------------


def make_generator(settings: "Settings") -> Generator:
    """The generator `settings.generator` names; nothing is loaded until its first use."""
    spec = settings.generator
    if spec == "llama-cpp":
        from rag.model_files import QWEN_GGUF, packaged_gguf_path, user_gguf_path

        own = Path(settings.gguf_path).expanduser() if settings.gguf_path else None

        def resolve() -> Path:
            if own is not None:
                return user_gguf_path(own, settings.gguf_sha256)
            return packaged_gguf_path(settings.cache_dir, progress=logger.info)

        name = own.name if own is not None else QWEN_GGUF.name
        return LlamaCppGenerator(
            resolve,
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads,
            seed=settings.seed,
            temperature=settings.temperature,
            id=f"llama-cpp:{name}",
            flash_attention=settings.flash_attention,
            reserve_memory=settings.reserve_memory,
        )
    if spec.startswith("hf:"):
        name = spec[3:].strip()
        if not name:
            raise ConfigError("generator 'hf:' needs a model id or path, e.g. hf:/models/my-llm")
        return TransformersGenerator(name, temperature=settings.temperature, seed=settings.seed)
    if spec == "openai":
        return OpenAIGenerator(
            settings.openai_base_url,
            settings.openai_model,
            api_key=settings.openai_api_key,
            timeout=settings.request_timeout,
            temperature=settings.temperature,
            seed=settings.seed,
        )
    raise ConfigError(
        f"unknown generator {spec!r}: use 'llama-cpp', 'hf:<model id or path>' or 'openai'"
    )

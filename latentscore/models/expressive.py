"""The expressive model: a small local instruction-tuned LLM that writes the config itself.

``model="expressive"`` runs a Gemma-3-270M-class causal language model on the CPU through
transformers, prompted with the same schema as external models
(:mod:`latentscore.models.llm_prompt`). Its reply is repaired, validated and retried like
theirs, and when it cannot produce a usable answer the fast model answers instead, with a
logged warning (:mod:`latentscore.models.llm_session`). Retries sample (temperature 0.7) so
they do not repeat the greedy first attempt word for word.

Weights are read from a local directory only, never fetched on demand:
``LATENTSCORE_MODEL_DIR`` if set, else ``~/.cache/latentscore/models/expressive`` (under
``XDG_CACHE_HOME`` when that is set). ``latentscore download expressive`` fills it. torch and
transformers are imported when the model is first loaded, not before.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from latentscore.errors import ModelNotAvailableError
from latentscore.models.llm_prompt import Message
from latentscore.models.llm_repair import find_json_object_end
from latentscore.models.llm_session import Reply, answer
from latentscore.models.result import GenerateResult

NAME = "expressive"
MODEL_DIR_ENV = "LATENTSCORE_MODEL_DIR"
DEFAULT_REPO = "google/gemma-3-270m-it"
INSTALL_HINT = "pip install 'latentscore[expressive]'"
DEFAULT_MAX_NEW_TOKENS = 900
DEFAULT_MAX_ATTEMPTS = 2
RETRY_TEMPERATURE = 0.7
ANSWER_PREFIX = "{"
"""Written into the reply before the model continues: small models then answer in JSON
instead of starting with a chatty preamble."""

_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")

log = logging.getLogger("latentscore.models")


def default_model_dir() -> Path:
    """Where the expressive model's files are read from (and downloaded to)."""
    override = os.environ.get(MODEL_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "latentscore" / "models" / NAME


def how_to_get_weights(directory: Path) -> str:
    """The instructions every "no weights" message ends with."""
    return (
        f"run `latentscore download expressive` to fetch {DEFAULT_REPO} into {directory} "
        f"(needs access to huggingface.co), or copy a transformers causal-LM checkpoint "
        f"(config.json, tokenizer files, *.safetensors) there, or point {MODEL_DIR_ENV} at one"
    )


def has_weights(directory: Path) -> bool:
    """Whether ``directory`` looks like a complete local checkpoint."""
    return (directory / "config.json").is_file() and any(
        (directory / name).is_file() for name in _WEIGHT_FILES
    )


def expressive_model(name: str = NAME) -> ExpressiveModel:
    """The model for ``model="expressive"`` (what ``resolve_model`` calls)."""
    return ExpressiveModel.load(default_model_dir())


def _import_runtime() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise ModelNotAvailableError(
            f"the expressive model needs torch and transformers ({exc}); "
            f"install them with: {INSTALL_HINT}"
        ) from None
    return torch, transformers


class ExpressiveModel:
    """A local causal LM answering vibes; load with :meth:`load`."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        directory: Path,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self.name = NAME
        self.directory = directory
        self.max_new_tokens = max_new_tokens
        self.max_attempts = max_attempts
        self._model = model
        self._tokenizer = tokenizer
        self._lock = threading.Lock()  # one generation at a time: 2 would only share the CPU

    def __repr__(self) -> str:
        return f"ExpressiveModel({str(self.directory)!r})"

    @classmethod
    def load(cls, directory: Path | None = None, **options: Any) -> ExpressiveModel:
        """Load tokenizer and weights from ``directory`` (raises ModelNotAvailableError)."""
        directory = Path(directory) if directory is not None else default_model_dir()
        if not has_weights(directory):
            raise ModelNotAvailableError(
                f"the expressive model's weights are not in {directory}: "
                f"{how_to_get_weights(directory)}"
            )
        torch, transformers = _import_runtime()
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(directory, local_files_only=True)
            model = transformers.AutoModelForCausalLM.from_pretrained(
                directory, local_files_only=True, dtype=torch.float32
            )
        except (OSError, ValueError, KeyError) as exc:
            raise ModelNotAvailableError(
                f"could not load the expressive model from {directory} ({exc}); "
                f"{how_to_get_weights(directory)}"
            ) from None
        model.eval()
        return cls(model, tokenizer, directory=directory, **options)

    def generate(self, text: str) -> GenerateResult:
        """Answer one vibe (falls back to the fast model when no answer is usable)."""
        return answer(text, self._ask, model=self.name, max_attempts=self.max_attempts)

    def prompt_text(self, messages: list[Message]) -> str:
        """The conversation as the model's own chat format, ending where its reply starts."""
        tokenizer = self._tokenizer
        if getattr(tokenizer, "chat_template", None):
            # Not every template has a system role (Gemma's has none): fold it into the
            # first user turn, which every template accepts.
            folded = _fold_system(messages)
            prompt = tokenizer.apply_chat_template(
                folded, tokenize=False, add_generation_prompt=True
            )
        else:
            turns = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
            prompt = "\n\n".join([*turns, "Assistant: "])
        return str(prompt) + ANSWER_PREFIX

    def _ask(self, messages: list[Message]) -> Reply:
        torch, transformers = _import_runtime()
        tokenizer = self._tokenizer
        prompt = self.prompt_text(messages)
        encoded = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        inputs = {k: encoded[k] for k in ("input_ids", "attention_mask") if k in encoded}
        prompt_len = int(inputs["input_ids"].shape[1])
        retry = len(messages) > 2
        stop = _JsonComplete(tokenizer, prompt_len, transformers.StoppingCriteria)
        options: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "do_sample": retry,
            "stopping_criteria": transformers.StoppingCriteriaList([stop]),
            "pad_token_id": tokenizer.pad_token_id
            if tokenizer.pad_token_id is not None
            else tokenizer.eos_token_id,
        }
        if retry:
            options.update(temperature=RETRY_TEMPERATURE, top_p=0.95)
        with self._lock, torch.inference_mode():
            output = self._model.generate(**inputs, **options)
        new_tokens = output[0, prompt_len:]
        return Reply(ANSWER_PREFIX + tokenizer.decode(new_tokens, skip_special_tokens=True))


def _fold_system(messages: list[Message]) -> list[Message]:
    if not messages or messages[0]["role"] != "system":
        return messages
    system, rest = messages[0]["content"], list(messages[1:])
    if rest and rest[0]["role"] == "user":
        rest[0] = {"role": "user", "content": f"{system}\n\n{rest[0]['content']}"}
        return rest
    return [{"role": "user", "content": system}, *rest]


def _JsonComplete(tokenizer: Any, prompt_len: int, base: type) -> Any:
    """A StoppingCriteria that ends generation once the JSON answer's braces close.

    Small models like to keep talking after the answer; every extra token costs CPU time.
    Built by a factory so transformers is only imported when a model actually runs.
    """

    class JsonComplete(base):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            import torch

            text = ANSWER_PREFIX + tokenizer.decode(
                input_ids[0, prompt_len:], skip_special_tokens=True
            )
            done = find_json_object_end(text) is not None
            return torch.full((input_ids.shape[0],), done, dtype=torch.bool)

    return JsonComplete()

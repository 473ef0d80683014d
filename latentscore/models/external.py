"""Bring your own LLM: any chat model LiteLLM can reach answers vibes.

``model="external:<litellm model id>"`` (``"external:openai/gpt-4o"``,
``"external:anthropic/claude-sonnet-4-5-20250929"``, ``"external:gemini/gemini-3-flash-preview"``)
or ``model=ExternalModelSpec(model=..., api_key=..., litellm_kwargs={...})`` wherever a
model is accepted. Keys come from the provider's usual environment variable
(``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, ``GEMINI_API_KEY``, ...) unless ``api_key`` is
given. The model is asked for structured output (a JSON schema where LiteLLM says the model
supports one, the same schema in the instructions always); replies are repaired, validated
and retried, and when the model cannot answer the fast model does (see
:mod:`latentscore.models.llm_session`). Both forms behave the same.

LiteLLM is an optional extra (``pip install 'latentscore[external]'``) imported only when an
external model is first used, with its remote cost-map download and telemetry switched off.
Keys never appear in ``repr``, serialisation, logs or exception text (:mod:`.redact`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_serializer

from latentscore.errors import InvalidConfigError, ModelNotAvailableError
from latentscore.models.llm_prompt import Message, response_format
from latentscore.models.llm_session import DEFAULT_MAX_ATTEMPTS, Reply, aanswer, answer
from latentscore.models.redact import (
    Redactor,
    install_filter,
    mask_mapping,
    register_secrets,
    secret_values,
)
from latentscore.models.result import GenerateResult

PREFIX = "external:"
INSTALL_HINT = "pip install 'latentscore[external]'"
DEFAULT_TIMEOUT_S = 120.0
"""Per-request timeout unless ``litellm_kwargs`` sets ``timeout``: a stuck provider should
fall back to the fast model rather than hang a render."""

_LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm")

log = logging.getLogger("latentscore.models")


#: LiteLLM's switches for the files it would otherwise fetch on its own (set before import):
#: ``LITELLM_OFFLINE_MODE`` covers every catalog, check and tokenizer it downloads by itself
#: (1.110+); the older per-file switches cover the model price list (fetched at import) and
#: the Anthropic beta-headers config (fetched on the first Anthropic/Bedrock/Vertex call).
#: Only the provider a model names is ever contacted. ``setdefault``: a user's explicit
#: value wins.
LITELLM_OFFLINE_ENV = {
    "LITELLM_OFFLINE_MODE": "true",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_LOCAL_BLOG_POSTS": "True",
    "LITELLM_TELEMETRY": "False",
}


def load_litellm() -> ModuleType:
    """Import LiteLLM with its network side effects off (raises ModelNotAvailableError).

    The :data:`LITELLM_OFFLINE_ENV` switches must be set before the first import: otherwise
    LiteLLM downloads its model price list from GitHub at import time, and its Anthropic
    beta-headers config on the first Anthropic call (found with the network blocked:
    ``tests/test_external_model.py``).
    """
    if "litellm" not in sys.modules:
        for name, value in LITELLM_OFFLINE_ENV.items():
            os.environ.setdefault(name, value)
    try:
        import litellm
    except ImportError as exc:
        raise ModelNotAvailableError(
            f"external models need LiteLLM, which could not be imported ({exc}); "
            f"install it with: {INSTALL_HINT}"
        ) from None
    litellm.telemetry = False
    litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" banners on stdout
    install_filter(_LITELLM_LOGGERS)
    return litellm


class ExternalModelSpec(BaseModel):
    """An LLM reached through LiteLLM, usable as ``model=`` anywhere.

    Attributes:
        model: the LiteLLM model id, e.g. ``"openai/gpt-4o"`` (an ``external:`` prefix is
            accepted and dropped).
        api_key: the provider key; ``None`` uses the provider's environment variable. Stored
            as a ``SecretStr``: it never appears in ``repr``, ``str`` or ``model_dump``.
        litellm_kwargs: passed through to ``litellm.completion`` (``timeout``,
            ``max_retries``, ``api_base``, ``temperature``, ...); secret-looking entries are
            masked in ``repr`` and serialisation as well.
        max_attempts: answers requested before falling back (each unusable answer is sent
            back with the reason).

    >>> ExternalModelSpec(model="openai/gpt-4o", api_key="sk-not-shown")
    ExternalModelSpec(model='openai/gpt-4o', api_key=SecretStr('**********'), litellm_kwargs={}, max_attempts=3)
    """  # noqa: E501

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    model: str = Field(min_length=1)
    api_key: SecretStr | None = None
    litellm_kwargs: dict[str, Any] = Field(default_factory=dict)
    max_attempts: int = Field(default=DEFAULT_MAX_ATTEMPTS, ge=1, le=10)

    def __init__(self, **data: Any) -> None:
        if isinstance(data.get("model"), str):
            data["model"] = data["model"].strip().removeprefix(PREFIX).strip()
            if not data["model"]:
                raise _missing_model_id()
        try:
            super().__init__(**data)
        except ValidationError as exc:  # inputs are hidden: the failing one may be the key
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err.get("loc", ()))
            raise InvalidConfigError(
                f"ExternalModelSpec.{where}: {err.get('msg')}", field=where or None
            ) from None

    @field_serializer("litellm_kwargs")
    def _mask_kwargs(self, value: dict[str, Any]) -> dict[str, Any]:
        return mask_mapping(value)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, mask_mapping(value) if name == "litellm_kwargs" else value

    def to_model(self) -> ExternalModel:
        """The model object (what ``resolve_model`` calls)."""
        return ExternalModel(
            self.model,
            api_key=self.api_key,
            litellm_kwargs=self.litellm_kwargs,
            max_attempts=self.max_attempts,
        )


def _missing_model_id() -> InvalidConfigError:
    return InvalidConfigError(
        "model: 'external:' needs a LiteLLM model id, e.g. 'external:openai/gpt-4o'",
        field="model",
        value=PREFIX,
    )


def external_model(name: str) -> ExternalModel:
    """The model for ``"external:<litellm model id>"`` (keys from the environment)."""
    return ExternalModelSpec(model=name).to_model()


class ExternalModel:
    """A LiteLLM-backed vibe model; see the module docstring for the full behaviour."""

    def __init__(
        self,
        model_id: str,
        *,
        api_key: SecretStr | None = None,
        litellm_kwargs: dict[str, Any] | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        model_id = model_id.strip().removeprefix(PREFIX).strip()
        if not model_id:
            raise _missing_model_id()
        self._litellm = load_litellm()
        self.model_id = model_id
        self.name = PREFIX + model_id
        self.max_attempts = max_attempts
        self._api_key = api_key
        self._kwargs = dict(litellm_kwargs or {})
        self._secrets = secret_values(self._kwargs)
        if api_key is not None:
            self._secrets.append(api_key.get_secret_value())
        register_secrets(self._secrets)
        self._structured = self._supports_schema()

    def __repr__(self) -> str:
        return f"ExternalModel({self.name!r})"

    def _supports_schema(self) -> bool:
        try:
            return bool(
                self._litellm.supports_response_schema(
                    model=self.model_id,
                    custom_llm_provider=self._kwargs.get("custom_llm_provider"),
                )
            )
        except Exception:  # unknown to LiteLLM's table: the prompt alone carries the schema
            return False

    def _redactor(self) -> Redactor:
        return Redactor(self._secrets)  # built per call: it also reads the current env keys

    def request(self, messages: list[Message]) -> dict[str, Any]:
        """The keyword arguments for ``litellm.completion`` (the key is added at call time)."""
        kwargs: dict[str, Any] = {"model": self.model_id, "messages": messages}
        kwargs["timeout"] = DEFAULT_TIMEOUT_S
        if self._structured:
            kwargs["response_format"] = response_format()
        kwargs.update(self._kwargs)  # the caller's settings win, including response_format
        return kwargs

    def _with_key(self, messages: list[Message]) -> dict[str, Any]:
        kwargs = self.request(messages)
        if self._api_key is not None:
            kwargs["api_key"] = self._api_key.get_secret_value()
        return kwargs

    def _ask(self, messages: list[Message]) -> Reply:
        return _reply(self._litellm.completion(**self._with_key(messages)))

    async def _aask(self, messages: list[Message]) -> Reply:
        return _reply(await self._litellm.acompletion(**self._with_key(messages)))

    def generate(self, text: str) -> GenerateResult:
        """Answer one vibe via ``litellm.completion`` (falls back to the fast model)."""
        return answer(
            text,
            self._ask,
            model=self.name,
            max_attempts=self.max_attempts,
            redact=self._redactor(),
        )

    async def agenerate(self, text: str) -> GenerateResult:
        """Answer one vibe via ``litellm.acompletion`` without blocking the event loop."""
        return await aanswer(
            text,
            self._aask,
            model=self.name,
            max_attempts=self.max_attempts,
            redact=self._redactor(),
        )


def _reply(response: Any) -> Reply:
    """The text (and separate reasoning, if any) of a LiteLLM ModelResponse."""
    message = response.choices[0].message
    content = message.content
    if isinstance(content, list):  # content parts: keep the text ones
        content = "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    reasoning = getattr(message, "reasoning_content", None)
    return Reply(str(content or ""), reasoning if isinstance(reasoning, str) else "")

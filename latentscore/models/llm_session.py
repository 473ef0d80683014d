"""Ask, check, retry, fall back: the loop every LLM-backed vibe model runs for one vibe.

An LLM answer is used only if it parses into a valid :class:`GenerateResult` (after the
repairs in :mod:`latentscore.models.llm_repair`). An unusable answer is sent back with the
reason, up to ``max_attempts`` answers in total. If the model still has no usable answer, or
the call itself fails (timeout, network, bad key, quota, a crash in a local model), the vibe
is answered by the fast model instead and a warning is logged: a render should not fail
because a remote service did. The external and the expressive model differ only in how
they ``ask``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import NamedTuple

from latentscore.models.llm_prompt import Message, build_messages, retry_message
from latentscore.models.llm_repair import AnswerError, parse_answer
from latentscore.models.result import GenerateResult

log = logging.getLogger("latentscore.models")

DEFAULT_MAX_ATTEMPTS = 3
MAX_REASON_CHARS = 300
FALLBACK_MODEL = "fast"


class Reply(NamedTuple):
    """What a model said: the answer text and, if the provider separates it, its reasoning."""

    content: str
    reasoning: str = ""


Ask = Callable[[list[Message]], Reply]
AsyncAsk = Callable[[list[Message]], Awaitable[Reply]]
Redact = Callable[[str], str]


def _keep(text: str) -> str:
    return text


class AnswerSession:
    """One vibe's conversation: the messages to send next and what each reply means."""

    def __init__(self, vibe: str, *, model: str, max_attempts: int, redact: Redact) -> None:
        self.vibe = vibe
        self.model = model
        self.max_attempts = max(1, max_attempts)
        self.redact = redact
        self.messages: list[Message] = build_messages(vibe)
        self.attempts = 0
        self.problem = ""

    @property
    def exhausted(self) -> bool:
        return self.attempts >= self.max_attempts

    def accept(self, reply: Reply) -> GenerateResult | None:
        """The result for a reply, or None after queueing feedback for the next attempt."""
        self.attempts += 1
        try:
            return parse_answer(
                reply.content, model=self.model, vibe=self.vibe, reasoning=reply.reasoning
            )
        except AnswerError as exc:
            self.problem = str(exc)
        log.info(
            "%s: answer %d/%d unusable: %s",
            self.model,
            self.attempts,
            self.max_attempts,
            self.redact(self.problem),
        )
        self.messages = [
            *self.messages,
            {"role": "assistant", "content": reply.content},
            retry_message(self.problem),
        ]
        return None

    def give_up_reason(self) -> str:
        return f"no usable answer after {self.attempts} attempt(s): {self.problem}"


def describe_failure(exc: BaseException, redact: Redact = _keep) -> str:
    """``"Timeout: ..."``: the error's type and message, redacted and shortened."""
    text = redact(f"{type(exc).__name__}: {exc}")
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 3] + "..."


def answer(
    vibe: str,
    ask: Ask,
    *,
    model: str,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    redact: Redact = _keep,
) -> GenerateResult:
    """Ask until an answer is usable; otherwise the fast model's answer (with a warning)."""
    session = AnswerSession(vibe, model=model, max_attempts=max_attempts, redact=redact)
    reason = ""
    while not session.exhausted:
        try:
            reply = ask(session.messages)
        except Exception as exc:  # any failure of the call means: answer without this model
            reason = describe_failure(exc, redact)
            break
        result = session.accept(reply)
        if result is not None:
            return result
    # Outside the except block on purpose: if the fallback raises too, its traceback must
    # not carry the provider's exception (whose text may quote request details).
    return fall_back(vibe, model=model, reason=reason or redact(session.give_up_reason()))


async def aanswer(
    vibe: str,
    ask: AsyncAsk,
    *,
    model: str,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    redact: Redact = _keep,
) -> GenerateResult:
    """:func:`answer` for an async ``ask``; the fallback runs in a worker thread."""
    session = AnswerSession(vibe, model=model, max_attempts=max_attempts, redact=redact)
    reason = ""
    while not session.exhausted:
        try:
            reply = await ask(session.messages)
        except Exception as exc:  # CancelledError is a BaseException and still propagates
            reason = describe_failure(exc, redact)
            break
        result = session.accept(reply)
        if result is not None:
            return result
    reason = reason or redact(session.give_up_reason())
    return await asyncio.to_thread(fall_back, vibe, model=model, reason=reason)


def fall_back(vibe: str, *, model: str, reason: str) -> GenerateResult:
    """The fast model's answer for ``vibe``, logging why ``model`` could not answer."""
    log.warning(
        "model %s could not answer (%s); falling back to the %r model",
        model,
        reason,
        FALLBACK_MODEL,
    )
    from latentscore.models.base import resolve_model  # base imports the model modules lazily

    return resolve_model(FALLBACK_MODEL).generate(vibe)

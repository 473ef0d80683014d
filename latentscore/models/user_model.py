"""Your own vibe model: any object with ``generate(text)``, sync or async (0.1.8's protocol).

0.1.8 documented custom models as ``async def generate(vibe) -> MusicConfig |
GenerateResult``; this library's models answer synchronously with a
:class:`~latentscore.models.result.GenerateResult`. :class:`UserModel` accepts both, so a
model written for either runs unchanged wherever ``model=`` is taken:

* ``generate`` may be a plain method or a coroutine function (or return an awaitable);
  sync callers run the coroutine to completion (on a private thread when the calling thread
  already runs an event loop), async callers await it on their loop;
* it may return a GenerateResult (used as is) or a bare MusicConfig, which gets a title (the
  vibe text, title-cased, at most six words) and three palettes derived from the config;
* anything else raises InvalidConfigError naming the model and what it returned.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
from typing import Any

from latentscore.config import MusicConfig
from latentscore.errors import InvalidConfigError
from latentscore.models.config_palette import palettes_for
from latentscore.models.result import MAX_TITLE_WORDS, GenerateResult, title_case


def _run(awaitable: Any) -> Any:
    """Run an awaitable to completion from sync code, whatever loop this thread runs."""

    async def wait() -> Any:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wait())
    # called from inside a running loop (sync render in async code): a loop of its own
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="UserModel") as pool:
        return pool.submit(asyncio.run, wait()).result()


def title_for(text: str) -> str:
    """A title from the vibe text itself: its first six words, title-cased."""
    words = text.split()[:MAX_TITLE_WORDS]
    return title_case(words) if words else "Untitled"


class UserModel:
    """Adapter that gives any ``generate(text)`` object this library's model interface."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = str(getattr(inner, "name", "") or type(inner).__name__)

    def __repr__(self) -> str:
        return f"UserModel({self.inner!r})"

    def generate(self, text: str) -> GenerateResult:
        """The inner model's answer as a GenerateResult (a coroutine is run to completion)."""
        answer = self.inner.generate(text)
        if inspect.isawaitable(answer):
            answer = _run(answer)
        return self._result(answer, text)

    async def agenerate(self, text: str) -> GenerateResult:
        """Await an async model on the caller's loop; run a sync one in a worker thread."""
        native = getattr(self.inner, "agenerate", None)
        if callable(native):
            answer = await native(text)
        elif inspect.iscoroutinefunction(self.inner.generate):
            answer = await self.inner.generate(text)
        else:
            answer = await asyncio.to_thread(self.inner.generate, text)
            if inspect.isawaitable(answer):
                answer = await answer
        return self._result(answer, text)

    def _result(self, answer: object, text: str) -> GenerateResult:
        if isinstance(answer, GenerateResult):
            return answer if answer.model else answer.model_copy(update={"model": self.name})
        if isinstance(answer, MusicConfig):
            return GenerateResult(
                title=title_for(text),
                config=answer,
                palettes=palettes_for(answer),
                model=self.name,
            )
        raise InvalidConfigError(
            f"model {self.name}: generate() returned {type(answer).__name__}; it must return "
            "a latentscore.MusicConfig or latentscore.GenerateResult (or a coroutine giving "
            "one)",
            field="model",
            value=answer,
        )

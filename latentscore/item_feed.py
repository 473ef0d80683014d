"""ItemFeed: pull items from a user's generator one at a time, in a background thread.

A live stream must keep sounding while the user's generator decides what comes next (it may
block on a sensor, await user input or run a slow text model). So the generator never runs
on the audio path: :meth:`ItemFeed.request` asks a background thread for the next item and
returns a :class:`~concurrent.futures.Future` at once. The item is also *resolved* there
(vibe text -> config may take a model call), so the future holds a ready-to-play value.

A list or tuple is read in the caller's thread (nothing can block, so no thread is needed);
a sync iterable is advanced by a daemon thread; an async iterable runs on its own event loop
in a daemon thread (so its awaits never touch the caller's loop or the audio). Nothing is
pulled ahead of a request: the generator advances only when the stream asks, which is how a
live stream consumes it in step with (audio) time. Streams of a fixed list and live
generators therefore share one item source and one driver
(:class:`~latentscore.playout.Playout`).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from latentscore.errors import InvalidConfigError

T = TypeVar("T")


class _End:
    """The generator is exhausted (a singleton: :data:`END`)."""

    def __repr__(self) -> str:
        return "END"


END = _End()


@dataclass(frozen=True)
class Pulled(Generic[T]):
    """One resolved item and the ``time.monotonic()`` at which the generator yielded it."""

    value: T
    yielded_at: float


class ItemFeed(Generic[T]):
    """Background puller for a sync or async iterable (see module docstring)."""

    def __init__(self, source: Any) -> None:
        self._closed = False
        self._items: Iterator[Any] | None = None
        self._aiter: AsyncIterator[Any] | None
        self._iter: Iterator[Any] | None
        if isinstance(source, list | tuple):
            self._aiter = None
            self._iter = None
            self._items = iter(source)
            self._source = source
            return
        if hasattr(source, "__aiter__"):
            self._aiter = source.__aiter__()
            self._iter = None
            self._loop = asyncio.new_event_loop()
            self._task: asyncio.Task[Any] | None = None
            self._thread = threading.Thread(target=self._run_loop, name="ItemFeed-async")
        elif hasattr(source, "__iter__") and not isinstance(source, str | bytes | dict | BaseModel):
            self._aiter = None
            self._iter = iter(source)
            self._requests: queue.Queue[tuple[Future[Any], Callable[[Any], T]] | None] = (
                queue.Queue()
            )
            self._thread = threading.Thread(target=self._run_sync, name="ItemFeed-sync")
        else:
            raise InvalidConfigError(
                "live source: expected a generator, iterable or async generator of items, got "
                f"{type(source).__name__} (wrap a single item in a list)",
                field="source",
                value=source,
            )
        self._source = source
        self._thread.daemon = True  # a generator blocked forever must not hang interpreter exit
        self._thread.start()

    @property
    def is_async(self) -> bool:
        return self._aiter is not None

    def request(self, resolve: Callable[[Any], T]) -> Future[Pulled[T] | _End]:
        """Ask for the next item, resolved by ``resolve`` in the background.

        The future's result is a :class:`Pulled` or :data:`END`; an exception raised by the
        generator or by ``resolve`` is set on the future.
        """
        if self._closed:
            raise RuntimeError("ItemFeed is closed")
        if self._items is not None:
            return self._resolve_now(resolve)
        if self._aiter is not None:
            return asyncio.run_coroutine_threadsafe(self._anext(resolve), self._loop)
        fut: Future[Pulled[T] | _End] = Future()
        self._requests.put((fut, resolve))
        return fut

    def close(self, timeout: float = 2.0) -> None:
        """Stop the generator (``close()`` / ``aclose()``) and end the background thread.

        A sync generator stuck inside ``next()`` cannot be interrupted from outside; its
        daemon thread is abandoned after ``timeout`` seconds.
        """
        if self._closed:
            return
        self._closed = True
        if self._items is not None:
            return
        if self._aiter is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._aclose(), self._loop).result(timeout)
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._loop.stop)
        else:
            self._requests.put(None)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # --- list ----------------------------------------------------------------------------
    def _resolve_now(self, resolve: Callable[[Any], T]) -> Future[Pulled[T] | _End]:
        assert self._items is not None
        fut: Future[Pulled[T] | _End] = Future()
        item = next(self._items, END)
        if item is END:
            fut.set_result(END)
            return fut
        try:
            fut.set_result(Pulled(resolve(item), time.monotonic()))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut

    # --- sync --------------------------------------------------------------------------
    def _run_sync(self) -> None:
        assert self._iter is not None
        while (task := self._requests.get()) is not None:
            fut, resolve = task
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                item = next(self._iter)
            except StopIteration:
                fut.set_result(END)
                continue
            except BaseException as exc:
                fut.set_exception(exc)
                continue
            yielded_at = time.monotonic()
            try:
                fut.set_result(Pulled(resolve(item), yielded_at))
            except BaseException as exc:
                fut.set_exception(exc)
        close = getattr(self._iter, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                close()

    # --- async -------------------------------------------------------------------------
    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _anext(self, resolve: Callable[[Any], T]) -> Pulled[T] | _End:
        assert self._aiter is not None
        self._task = asyncio.current_task()
        try:
            item = await self._aiter.__anext__()
        except StopAsyncIteration:
            return END
        yielded_at = time.monotonic()
        return Pulled(resolve(item), yielded_at)

    async def _aclose(self) -> None:
        task = self._task
        if task is not None and not task.done():
            task.cancel()  # the generator sees CancelledError at its pending await
            with contextlib.suppress(BaseException):
                await task
        aclose = getattr(self._aiter, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()

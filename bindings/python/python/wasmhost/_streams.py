"""What host events and observer changes share: a native stream of JSON texts read with ``for``,
``async for`` or ``get(timeout)``; each subclass says how one text becomes an item."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Generic, Iterator, Optional, TypeVar

from .errors import TimeoutError as WasmhostTimeoutError

T = TypeVar("T")


class JsonStream(Generic[T]):
    """Items of a native stream (``next(timeout)`` / ``next_async(loop, future)`` giving JSON text,
    ``None`` at the end)."""

    def __init__(self, native: Any) -> None:
        self._native = native

    def _parse(self, text: str) -> T:
        raise NotImplementedError

    def get(self, timeout: Optional[float] = None) -> Optional[T]:
        """The next item, ``None`` at the end; raises ``wasmhost.TimeoutError`` after ``timeout`` s."""
        try:
            text = self._native.next(timeout)
        except WasmhostTimeoutError:
            raise
        except TimeoutError as e:
            raise WasmhostTimeoutError(str(e)) from None
        return None if text is None else self._parse(text)

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        item = self.get()
        if item is None:
            raise StopIteration
        return item

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Optional[str]] = loop.create_future()
        self._native.next_async(loop, future)
        text = await future
        if text is None:
            raise StopAsyncIteration
        return self._parse(text)

"""Adapters that turn user callbacks (sync or async) into the plain sync callables the native
module runs on the host's worker threads."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
from typing import Any, Awaitable, Callable, Optional, Union

log = logging.getLogger("wasmhost")

Awaitish = Union[Any, Awaitable[Any]]


def _running_loop() -> Optional[asyncio.AbstractEventLoop]:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def _await(value: Awaitable[Any]) -> Any:
    return await value


def run_to_value(result: Awaitish, loop: Optional[asyncio.AbstractEventLoop]) -> Any:
    """The value of ``result``; an awaitable runs on ``loop`` when that loop is alive (the loop the
    callback was registered from), else on a fresh loop in this worker thread."""
    if not inspect.isawaitable(result):
        return result
    if loop is None or loop.is_closed() or not loop.is_running():
        return asyncio.run(_await(result))
    wrapper = _await(result)
    try:
        future = asyncio.run_coroutine_threadsafe(wrapper, loop)
    except RuntimeError:  # the loop closed since the check above
        wrapper.close()
        return asyncio.run(_await(result))
    while True:
        # Wait in slices: a loop that stops meanwhile would never run the coroutine.
        done, _ = concurrent.futures.wait([future], timeout=0.1)
        if done:
            return future.result()
        if not loop.is_running():
            future.cancel()
            wrapper.close()
            if inspect.iscoroutine(result) and inspect.getcoroutinestate(result) == inspect.CORO_CREATED:
                return asyncio.run(_await(result))  # it never started: run it here instead
            raise RuntimeError("the event loop running this async callback stopped before it finished")


def adapt(callback: Callable[..., Awaitish]) -> Callable[..., Any]:
    """A sync function that calls ``callback`` and, if it returned an awaitable, waits for it."""
    loop = _running_loop()

    def call(*args: Any) -> Any:
        return run_to_value(callback(*args), loop)

    return call


def as_bytes(value: Any) -> bytes:
    """Handler replies: bytes-like values as ``bytes``; anything else is the handler's bug."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"a capability handler must return bytes, not {type(value).__name__}")

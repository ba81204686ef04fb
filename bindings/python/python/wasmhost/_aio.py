"""Glue for results computed on the host's threads and delivered to an asyncio loop."""

from __future__ import annotations

import asyncio
from typing import Any


def resolve_future(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    """Runs on the future's loop (via ``call_soon_threadsafe``); a cancelled future is left alone."""
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)

"""Embed a wasmhost in Python: run the echo and kvcounter actors, answer kvcounter's key-value
calls from a Python dict, and print the lattice events.

Run from the repository root after installing the package (`pip install ./bindings/python`):

    python examples/python/embed.py
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from typing import Dict, Union

import wasmhost
from wasmhost import msgpack
from wasmhost.http import Request, Response

ACTORS = Path(__file__).resolve().parents[1] / "actors"


class DictKeyValue:
    """`wasmcloud:keyvalue` over a Python dict: KeyValue.Increment, Get and Set (msgpack, 2022 interface)."""

    def __init__(self) -> None:
        self.data: Dict[str, str] = {}
        self.lock = threading.Lock()  # handlers run on several host threads at once

    def __call__(self, call: wasmhost.CapabilityCall) -> bytes:
        return self.dispatch(call.operation, call.payload)

    def dispatch(self, operation: str, payload: bytes) -> bytes:
        args = msgpack.decode(payload)
        with self.lock:
            if operation == "KeyValue.Increment":
                value = int(self.data.get(args["key"], "0")) + int(args["value"])
                self.data[args["key"]] = str(value)
                return msgpack.encode(value)
            if operation == "KeyValue.Get":
                key: str = args
                found = key in self.data
                return msgpack.encode({"value": self.data.get(key, ""), "exists": found})
            if operation == "KeyValue.Set":
                self.data[args["key"]] = args["value"]
                return b""
        raise NotImplementedError(f"{operation} is not implemented by this example")


def http_get(actor: wasmhost.Actor, path: str) -> Response:
    return Response.decode(actor.call("HttpServer.HandleRequest", Request("GET", path).encode()))


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
    kv = DictKeyValue()
    with wasmhost.Host(friendly_name="python-example") as host:
        events = host.events()  # read at the end: the stream ends with host_stopped
        host.register_capability("wasmcloud:keyvalue", kv)

        echo = host.start_actor(ACTORS / "echo.wasm")
        print("echo:", echo.call("Echo.Echo", b"hello from Python"))
        print("echo http:", http_get(echo, "/hi").json())

        counter = host.start_actor(ACTORS / "kvcounter.wasm", count=2)
        replies: Dict[str, Union[int, str]] = {}
        for path in ["/", "/", "/apples", "/"]:
            replies[path] = http_get(counter, path).json()["counter"]
        print("kvcounter:", replies, "store:", kv.data)
        # The same store answers KeyValue.Get and Set (what another actor would call).
        kv.dispatch("KeyValue.Set", msgpack.encode({"key": "greeting", "value": "hi", "expires": 0}))
        print("get counter:", msgpack.decode(kv.dispatch("KeyValue.Get", msgpack.encode("counter"))))

        assert kv.data["counter"] == "3" and kv.data["counter:apples"] == "1"
        inventory = host.inventory()
        print("inventory:", [(a["name"], len(a["instances"])) for a in inventory["actors"]])
    for event in events:
        if event.kind != "host_heartbeat":
            print(f"event: {event.kind} {event.data.get('public_key', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

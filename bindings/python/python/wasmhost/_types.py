"""Typed views of what the host reports: claims, actors' instances, links, events, policy requests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

EVENT_TYPE_PREFIX = "com.wasmcloud.lattice."


@dataclass(frozen=True)
class Claims:
    """An actor's verified claims (from the JWT embedded in its module)."""

    public_key: str
    issuer: str
    name: Optional[str]
    caps: Tuple[str, ...]
    tags: Tuple[str, ...]
    revision: int
    version: Optional[str]
    call_alias: Optional[str]
    issued_at: int
    expires: Optional[int]
    not_before: Optional[int]

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> "Claims":
        return cls(
            public_key=d["public_key"],
            issuer=d["issuer"],
            name=d["name"],
            caps=tuple(d["caps"]),
            tags=tuple(d["tags"]),
            revision=d["revision"],
            version=d["version"],
            call_alias=d["call_alias"],
            issued_at=d["issued_at"],
            expires=d["expires"],
            not_before=d["not_before"],
        )


@dataclass(frozen=True)
class ActorInstance:
    """One running instance of an actor."""

    instance_id: str
    annotations: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Link:
    """A link definition: the actor's calls to ``contract_id``/``link_name`` go to ``provider_id``."""

    actor_id: str
    provider_id: str
    contract_id: str
    link_name: str
    values: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    """A lattice event: the CloudEvent the host publishes (also on ``wasmbus.evt.{lattice}``)."""

    id: str
    type: str
    source: str
    time: str
    data: Dict[str, Any]

    @property
    def kind(self) -> str:
        """The short type, e.g. ``actor_started`` for ``com.wasmcloud.lattice.actor_started``."""
        return self.type[len(EVENT_TYPE_PREFIX):] if self.type.startswith(EVENT_TYPE_PREFIX) else self.type

    @classmethod
    def _from_json(cls, text: str) -> "Event":
        raw = json.loads(text)
        return cls(id=raw.get("id", ""), type=raw.get("type", ""), source=raw.get("source", ""),
                   time=raw.get("time", ""), data=raw.get("data") or {})


@dataclass(frozen=True)
class PolicyRequest:
    """What the host is about to do; ``kind`` is ``start_actor``, ``start_provider`` or ``invoke``.

    Fields that do not apply to the kind are empty.
    """

    kind: str
    public_key: str = ""
    issuer: str = ""
    image_ref: str = ""
    capabilities: Tuple[str, ...] = ()
    link_name: str = ""
    contract_id: str = ""
    source: str = ""
    source_contract_id: str = ""
    target: str = ""
    operation: str = ""

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> "PolicyRequest":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "capabilities" in known:
            known["capabilities"] = tuple(known["capabilities"])
        return cls(**known)

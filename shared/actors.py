"""Who causes a change, and which channels it should notify the client on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    """Who caused a change: recorded on activity rows and documents."""

    type: str  # user | api_key | worker | system | public
    id: int | None
    label: str

    @classmethod
    def user(cls, user: Any) -> Actor:
        return cls("user", user.id, user.email)

    @classmethod
    def api_key(cls, key: Any) -> Actor:
        return cls("api_key", key.id, f"API key {key.name} ({key.prefix})")

    @classmethod
    def worker(cls, name: str = "worker") -> Actor:
        return cls("worker", None, name)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls("system", None, label)

    @classmethod
    def public(cls) -> Actor:
        return cls("public", None, "client (public link)")


@dataclass(frozen=True)
class Notify:
    """Which channels a change should notify the client on."""

    email: bool = False
    sms: bool = False

    def __bool__(self) -> bool:
        return self.email or self.sms

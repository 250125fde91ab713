"""Who causes a change, and which channels it should notify the client on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    """Who caused a change: recorded on activity rows and documents.

    ``is_admin`` is the actor's real role, set by the door that knows it (the
    signed-in user's role, an API key's scope), so services can enforce
    permissions on data themselves.
    """

    type: str  # user | api_key | worker | system | public
    id: int | None
    label: str
    is_admin: bool = False

    @classmethod
    def user(cls, user: Any) -> Actor:
        return cls("user", user.id, user.email, is_admin=bool(user.is_admin))

    @classmethod
    def api_key(cls, key: Any) -> Actor:
        return cls("api_key", key.id, f"API key {key.name} ({key.prefix})", is_admin=key.allows("admin"))

    @classmethod
    def worker(cls, name: str = "worker") -> Actor:
        return cls("worker", None, name)

    @classmethod
    def system(cls, label: str = "system", *, is_admin: bool = False) -> Actor:
        """The command line, the demo or a script; ``is_admin`` when it acts with an admin's rights."""
        return cls("system", None, label, is_admin=is_admin)

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

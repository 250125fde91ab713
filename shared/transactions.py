"""One transaction per use case: ``unit_of_work`` and ``atomic``."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

from sqlalchemy.orm import Session

from shared.db import begin_write

P = ParamSpec("P")
R = TypeVar("R")

_DEPTH = "unit_of_work_depth"


def unit_of_work(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a use case as one transaction: commit on success, roll back on any error.

    Inside :func:`atomic` (the API wraps a use case and its idempotency record
    together) the outer block commits instead.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        session: Session = args[0]  # type: ignore[assignment]
        if session.info.get(_DEPTH):
            result = fn(*args, **kwargs)
            session.flush()
            return result
        with atomic(session):
            return fn(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def atomic(session: Session) -> Iterator[Session]:
    """One transaction around several use cases; nested use cases do not commit."""
    if session.info.get(_DEPTH):
        yield session
        return
    session.info[_DEPTH] = 1
    try:
        begin_write(session)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_DEPTH, None)

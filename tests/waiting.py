"""Waiting for something the code under test makes true: one polling helper for the suite.

The server runs in another thread or process, so a test sees its effects a moment
after its cause (on_finish after the response, a close callback after the socket
closes, a subprocess listening some time after it starts). Poll for the positive
signal with a deadline, never sleep a fixed time and hope.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

TIMEOUT = 5.0

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float = TIMEOUT,
    message: str | Callable[[], str] | None = None,
    *,
    every: Callable[[], object] | None = None,
    retry_on: tuple[type[BaseException], ...] = (),
) -> T:
    """Poll ``predicate`` until it returns something truthy, and return that.

    At the deadline fail with an AssertionError: ``message`` if given (a callable
    gives it then, to show the last state seen). ``every``
    runs between two polls (to nudge the code under test, e.g. publish again).
    Exceptions of the ``retry_on`` types count as "not yet"; the last one is
    raised at the deadline (``wait_until(lambda: urlopen(url), retry_on=(OSError,))``).
    """
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            result = predicate()
        except retry_on:
            if time.monotonic() > deadline:
                raise
        else:
            if result:
                return result
            if time.monotonic() > deadline:
                if callable(message):
                    message = message()
                raise AssertionError(message or f"condition not met within {timeout}s")
        if every is not None:
            every()
        time.sleep(delay)
        delay = min(delay * 2, 0.02)


def wait_for_equal(get: Callable[[], Any], expected: Any, timeout: float = TIMEOUT) -> None:
    """Poll until ``get() == expected``; at the deadline fail showing the last value seen."""
    seen: list[Any] = []

    def equal() -> bool:
        seen[:] = [get()]
        return seen[0] == expected

    wait_until(equal, timeout, lambda: f"after {timeout}s: {seen[0]!r} != expected {expected!r}")

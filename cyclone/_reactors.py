"""Choosing the reactor: ``cyclone run --reactor NAME`` and ``twistd --reactor uvloop``.

``default`` is :mod:`cyclone.epollreactor` (Twisted's epoll reactor with a
leaner dispatch of ready sockets; Twisted's own choice where there is no
epoll), ``epoll`` is Twisted's epoll reactor as it is. ``asyncio`` is Twisted's
``asyncioreactor`` on the standard asyncio loop; ``uvloop`` is the same reactor
on a uvloop event loop (``pip install uvloop``). A reactor is installed once
per process, before anything imports ``twisted.internet.reactor``, so this
module imports neither. :func:`install` (the uvloop reactor) is what the
twistd reactor plugin ``uvloop`` runs (``twisted/plugins/cyclone_plugin.py``).

Measured in ``docs/benchmarks.md`` (the "asyncio reactor on uvloop" row, and
the instruction counts in its method notes).
"""

from __future__ import annotations

import sys

__all__ = ["REACTORS", "install", "install_named"]

REACTORS = ("default", "epoll", "asyncio", "uvloop")


class ReactorError(Exception):
    """The reactor asked for cannot be installed (unknown, missing, or too late)."""


def install_named(name: str) -> None:
    """Install the reactor called ``name`` (one of :data:`REACTORS`)."""
    if name not in REACTORS:
        raise ReactorError(f"unknown reactor {name!r}; known: {', '.join(REACTORS)}")
    if "twisted.internet.reactor" in sys.modules:
        if name == "default":
            return  # the program chose its reactor already: keep it
        raise ReactorError(f"cannot install the {name} reactor: a reactor is already installed")
    if name == "default":
        from cyclone import epollreactor

        epollreactor.install()
        return
    if name == "epoll":
        from twisted.internet import epollreactor as twisted_epoll

        twisted_epoll.install()
        return
    import asyncio

    from twisted.internet import asyncioreactor

    if name == "uvloop":
        try:
            import uvloop
        except ImportError:
            raise ReactorError("the uvloop reactor needs uvloop: pip install uvloop") from None
        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    asyncioreactor.install(loop)


def install() -> None:
    """Install the asyncio reactor on uvloop (the twistd reactor plugin's entry)."""
    install_named("uvloop")

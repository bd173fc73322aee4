"""The serving options ``twistd cyclone`` and ``cyclone run`` share, and what they listen on.

One table (:data:`OPTIONS`) feeds both parsers, so the two commands take the same
names, short letters and defaults. :func:`plan_listeners` turns the parsed values
into the list of :class:`Listener` to open: ``--app`` on ``--port``/``--listen`` (or
``--unix``), and ``--ssl-app`` over TLS on ``--ssl-port``/``--ssl-listen``.

Imports nothing of Twisted: the twistd plugin reads this table while twistd looks for
plugins, before any reactor is chosen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["OPTIONS", "Listener", "Option", "plan_listeners"]


class Option(NamedTuple):
    """One ``--long``/``-short`` option that takes a value."""

    long: str
    short: str | None
    default: Any
    help: str
    type: type = str
    metavar: str = "NAME"


OPTIONS: list[Option] = [
    Option("app", "r", None, "dotted name of the Application (or a function returning one)"),
    Option(
        "appopts", "c", None, "a string passed to the Application factory (a config file)",
        metavar="STRING",
    ),
    Option("port", "p", 8888, "TCP port to listen on (0: any free port)", int, "PORT"),
    Option("listen", "l", "127.0.0.1", "interface to bind", metavar="ADDRESS"),
    Option("unix", None, None, "listen on this UNIX socket path instead of TCP", metavar="PATH"),
    Option("ssl-app", None, None, "the Application served over TLS (same as --app)"),
    Option(
        "ssl-appopts", None, None, "a string passed to the --ssl-app factory", metavar="STRING"
    ),
    Option("ssl-port", None, 8443, "TCP port of --ssl-app", int, "PORT"),
    Option("ssl-listen", None, "127.0.0.1", "interface to bind for --ssl-app", metavar="ADDRESS"),
    Option(
        "ssl-cert", None, "server.crt",
        "PEM certificate (for --ssl-app; given alone: TLS on --port)", metavar="FILE",
    ),
    Option("ssl-key", None, "server.key", "PEM private key", metavar="FILE"),
]  # fmt: skip

DEFAULTS: dict[str, Any] = {option.long: option.default for option in OPTIONS}


@dataclass(frozen=True)
class Listener:
    """One listening socket and the application it serves."""

    app: str
    appopts: str | None
    port: int
    interface: str
    unix: str | None = None
    cert: str | None = None  # TLS when set
    key: str | None = None

    @property
    def tls(self) -> bool:
        return self.cert is not None


def plan_listeners(values: Mapping[str, Any], given: set[str]) -> list[Listener]:
    """What to listen on, from the option ``values`` (``given``: names set on the command line).

    ``--ssl-cert``/``--ssl-key`` given without ``--ssl-app`` make ``--port`` speak TLS
    (a TLS-only server); with ``--ssl-app``, ``--port`` stays plain HTTP. Raises
    ``ValueError`` when there is nothing to serve.
    """
    app, ssl_app = values.get("app"), values.get("ssl-app")
    if not app and not ssl_app:
        raise ValueError("--app (-r) is required, e.g. -r myapp.Application")
    cert, key = values["ssl-cert"], values["ssl-key"]
    if "ssl-cert" in given and "ssl-key" not in given:
        key = cert  # one PEM file holding both, as before the seed's defaults
    listeners = []
    if app:
        tls_here = not ssl_app and not values.get("unix") and bool({"ssl-cert", "ssl-key"} & given)
        listeners.append(
            Listener(
                app,
                values.get("appopts"),
                int(values["port"]),
                values["listen"],
                values.get("unix"),
                cert if tls_here else None,
                key if tls_here else None,
            )
        )
    if ssl_app:
        listeners.append(
            Listener(
                ssl_app,
                values.get("ssl-appopts"),
                int(values["ssl-port"]),
                values["ssl-listen"],
                None,
                cert,
                key,
            )
        )
    return listeners

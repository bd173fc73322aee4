"""The ``mongodb://`` service: a txmongo connection pool started and stopped with the server.

Strategy: building the service only parses its URL; ``start()`` creates
txmongo's ``ConnectionPool``, which connects (and reconnects) in the
background, so a server starts whether or not MongoDB is up. Operations go
through thin proxies of txmongo's databases and collections that add two
things: a deadline (``timeout``), and a 503 (:class:`MongoUnavailable`) when
no connection is up, without waiting when the pool has already failed to
connect. Everything else is txmongo's own API and its own results.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import txmongo.collection
import txmongo.connection
from pymongo.errors import AutoReconnect, ExecutionTimeout, NetworkTimeout
from twisted.internet import defer, error, reactor, task
from txmongo.errors import TimeExceeded

from cyclone.services import mask_url, parse_options
from cyclone.web import HTTPError

__all__ = ["MONGO_OPTIONS", "MongoService", "MongoUnavailable", "mongodb"]


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _write_concern(value: str) -> int | str:
    return int(value) if value.isdigit() else value


# Ours: the pool and the deadlines.
_OWN_OPTIONS: dict[str, Callable[[str], Any]] = {
    "pool_size": int,
    "timeout": float,
    "retry_delay": float,
    "max_delay": float,
}
# MongoDB's URI options that txmongo reads; they are handed to it in the URI.
_URI_OPTIONS: dict[str, Callable[[str], Any]] = {
    "authSource": str,
    "authMechanism": str,
    "replicaSet": str,
    "readPreference": str,
    "w": _write_concern,
    "wtimeoutMS": int,
    "journal": _boolean,
}
MONGO_OPTIONS: dict[str, Callable[[str], Any]] = {**_OWN_OPTIONS, **_URI_OPTIONS}
"""Every option a ``mongodb://`` URL accepts (in its query or as keywords)."""

_DEFAULTS: dict[str, Any] = {"pool_size": 1, "timeout": 10.0, "retry_delay": 1.0, "max_delay": 30.0}

# Connection-level failures: the server is not there, or went away.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    error.ConnectError,
    error.ConnectionLost,
    error.ConnectionDone,
    defer.TimeoutError,
    defer.CancelledError,
    # pymongo's and txmongo's "try again later" errors.
    AutoReconnect,
    NetworkTimeout,
    ExecutionTimeout,
    TimeExceeded,
)


class MongoUnavailable(HTTPError):
    """MongoDB could not be reached in time: a ``503 Database Unavailable``.

    ``target`` is the URL without its password; ``cause`` is the underlying
    exception, or ``None`` (not started, or the pool could not connect).
    """

    def __init__(self, target: str, detail: str, cause: BaseException | None = None) -> None:
        super().__init__(
            503, "MongoDB unavailable: %s (%s)", target, detail, reason="Database Unavailable"
        )
        self.target = target
        self.cause = cause


class MongoService:
    """A MongoDB client: ``service.<database>.<collection>.<txmongo method>(...)``.

    ``service["name"]`` reaches a database whose name is also an attribute of
    the service (``start``, ``stop``...); :attr:`database` is the one the URL
    names. Every operation returns txmongo's Deferred, with a deadline of
    ``timeout`` seconds, failing with :class:`MongoUnavailable` when the
    server cannot be reached.
    """

    def __init__(self, url: str, **options: Any) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme.lower() != "mongodb":
            raise ValueError(f"expected a mongodb:// URL, got {mask_url(url)}")
        self.target = mask_url(f"{parts.scheme}://{parts.netloc}{parts.path}")
        where = self.target
        self.options: dict[str, Any] = {
            **_DEFAULTS,
            **parse_options(parts.scheme, MONGO_OPTIONS, (), options, where=where),
        }
        if self.options["pool_size"] < 1:
            raise ValueError(f"{where}: pool_size must be at least 1")
        if self.options["timeout"] <= 0:
            raise ValueError(f"{where}: timeout must be positive")
        hosts = self._hosts(parts.netloc.rpartition("@")[2], where)
        self.hosts: list[tuple[str, int]] = hosts
        self.database_name: str = urllib.parse.unquote(parts.path.lstrip("/"))
        if any(c in self.database_name for c in '/\\. "$'):
            raise ValueError(f"{where}: invalid database name {self.database_name!r}")
        uri_query = urllib.parse.urlencode(
            {
                k: (str(v).lower() if isinstance(v, bool) else v)
                for k, v in self.options.items()
                if k in _URI_OPTIONS
            }
        )
        self._uri = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, uri_query, ""))
        self._pool: Any = None

    @staticmethod
    def _hosts(hostlist: str, where: str) -> list[tuple[str, int]]:
        if not hostlist:
            raise ValueError(f"{where}: the URL names no host")
        hosts = []
        for entry in hostlist.split(","):
            if entry.startswith("["):
                host, _, rest = entry[1:].partition("]")
                port_text = rest.removeprefix(":")
            else:
                host, _, port_text = entry.partition(":")
            if not host:
                raise ValueError(f"{where}: empty host in {hostlist!r}")
            try:
                port = int(port_text) if port_text else 27017
            except ValueError:
                raise ValueError(f"{where}: port {port_text!r} is not a number") from None
            if not 0 < port < 65536:
                raise ValueError(f"{where}: port {port} is out of range")
            hosts.append((host, port))
        return hosts

    def __repr__(self) -> str:
        state = "running" if self._pool is not None else "stopped"
        return f"<MongoService {self.target} {state}>"

    # -- the Service contract ----------------------------------------------------------

    def start(self) -> None:
        """Create the pool; it connects in the background (no server needed to start)."""
        if self._pool is not None:
            return
        self._pool = txmongo.connection.ConnectionPool(
            self._uri,
            pool_size=self.options["pool_size"],
            retry_delay=self.options["retry_delay"],
            max_delay=self.options["max_delay"],
        )

    def stop(self) -> defer.Deferred[None] | None:
        """Close every connection and stop reconnecting."""
        pool, self._pool = self._pool, None
        if pool is None:
            return None
        return defer.maybeDeferred(pool.disconnect).addCallback(lambda _: None)

    # -- state -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return self._pool is not None

    @property
    def connected(self) -> bool:
        """True when at least one connection of the pool is ready."""
        return self._pool is not None and any(
            c.instance is not None for c in self._pool.getprotocols()
        )

    @property
    def unreachable(self) -> bool:
        """True when every connection of the pool has failed and waits to retry."""
        return self._pool is not None and all(
            c.instance is None and c.retries > 0 for c in self._pool.getprotocols()
        )

    @property
    def pool(self) -> Any:
        """txmongo's ``ConnectionPool`` (``None`` when stopped), for what the proxies lack."""
        return self._pool

    # -- databases ---------------------------------------------------------------------

    @property
    def database(self) -> Database:
        """The database the URL names (``mongodb://host/NAME``)."""
        if not self.database_name:
            raise ValueError(f"{self.target} names no database")
        return self[self.database_name]

    def __getitem__(self, name: str) -> Database:
        return Database(self, name)

    def __getattr__(self, name: str) -> Database:
        if name.startswith("_"):
            raise AttributeError(name)
        return Database(self, name)

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until a connection is ready; :class:`MongoUnavailable` when there is none.

        It fails at once when stopped or when the pool has already failed to
        connect, and after ``timeout`` (the service's by default) otherwise.
        """
        deadline = time.monotonic() + (self.options["timeout"] if timeout is None else timeout)
        while True:
            if self._pool is None:
                raise MongoUnavailable(self.target, "the service is not running")
            if self.connected:
                return
            if self.unreachable:
                raise MongoUnavailable(self.target, "cannot connect to the server")
            if time.monotonic() >= deadline:
                raise MongoUnavailable(self.target, "no connection within the timeout")
            await task.deferLater(reactor, 0.02, lambda: None)

    def _run(self, call: Callable[[], Any]) -> defer.Deferred[Any]:
        async def run() -> Any:
            started = time.monotonic()
            await self.wait_connected()
            result = call()
            if not isinstance(result, defer.Deferred):
                return _wrap(self, result)
            remaining = self.options["timeout"] - (time.monotonic() - started)
            result.addTimeout(max(remaining, 0.001), reactor)
            try:
                return _wrap(self, await result)
            except _UNAVAILABLE as e:
                raise MongoUnavailable(self.target, f"{type(e).__name__}: {e}", e) from e

        return defer.ensureDeferred(run())


class Database:
    """A database of a :class:`MongoService`: ``database.<collection>`` or ``database["name"]``."""

    def __init__(self, service: MongoService, name: str) -> None:
        self._service = service
        self.name = name

    def __repr__(self) -> str:
        return f"<Database {self.name!r} of {self._service.target}>"

    def __getitem__(self, name: str) -> Collection:
        return Collection(self._service, self.name, name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return Collection(self._service, self.name, name)

    def command(self, command: Any, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        """txmongo's ``Database.command``, with the service's deadline and 503."""
        return self._service._run(
            lambda: self._service.pool[self.name].command(command, *args, **kwargs)
        )

    def collection_names(self, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        """The names of this database's collections."""
        return self._service._run(
            lambda: self._service.pool[self.name].collection_names(*args, **kwargs)
        )


class Collection:
    """A collection: every txmongo ``Collection`` method, with a deadline and a 503.

    ``collection.sub`` is the collection ``"<name>.sub"``.
    """

    def __init__(self, service: MongoService, database: str, name: str) -> None:
        self._service = service
        self._database = database
        self.name = name

    def __repr__(self) -> str:
        return f"<Collection {self._database}.{self.name} of {self._service.target}>"

    def __getitem__(self, name: str) -> Collection:
        return Collection(self._service, self._database, f"{self.name}.{name}")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        member = getattr(txmongo.collection.Collection, name, None)
        if member is None or not callable(member):
            return self[name]

        def operation(*args: Any, **kwargs: Any) -> defer.Deferred[Any]:
            def call() -> Any:
                pool = self._service.pool
                return getattr(pool[self._database][self.name], name)(*args, **kwargs)

            return self._service._run(call)

        operation.__name__ = name
        operation.__doc__ = getattr(member, "__doc__", None)
        return operation


def _wrap(service: MongoService, value: Any) -> Any:
    # A method that returns a collection (with_options...) stays behind the proxy.
    if isinstance(value, txmongo.collection.Collection):
        return Collection(service, value.database.name, value.name)
    return value


def mongodb(url: str, /, **options: Any) -> MongoService:
    """The ``cyclone.storage`` factory of ``mongodb://[user:password@]host[:port][,...]/db``."""
    return MongoService(url, **options)


mongodb.options = MONGO_OPTIONS  # type: ignore[attr-defined]

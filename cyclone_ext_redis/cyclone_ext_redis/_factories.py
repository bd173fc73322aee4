"""The ``cyclone.storage`` factories: ``redis``, ``rediss``, ``redis+unix``, ``redis+sentinel``.

Each is ``factory(url, **options) -> pool`` with ``factory.options`` naming the
accepted options and their converters; :func:`cyclone.services.parse_options`
merges the URL's query with keyword options (keywords win) and rejects
unknown names. Every option has a default (docs/redis.md lists them).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from OpenSSL import SSL
from twisted.internet import reactor, ssl
from twisted.internet.endpoints import HostnameEndpoint, UNIXClientEndpoint, wrapClientTLS
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from zope.interface import implementer

from cyclone.services import mask_url, parse_options
from cyclone_ext_redis._pool import ConnectionSettings, RedisPool
from cyclone_ext_redis._sentinel import SentinelEndpoint, SwitchWatcher
from cyclone_ext_redis._shard import ShardedPool

__all__ = ["SentinelPool", "parse_bool", "redis", "redis_sentinel", "redis_unix", "rediss"]


def parse_bool(value: str | bool) -> bool:
    """``true/yes/on/1`` or ``false/no/off/0`` (any case)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _hosts(value: str | list[Any] | tuple[Any, ...]) -> list[str]:
    if isinstance(value, str):
        value = [h for h in value.split(",") if h.strip()]
    return [str(h).strip() for h in value]


def _optional_float(value: str | float | None) -> float | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "0")):
        return None
    return float(value)


COMMON_OPTIONS: dict[str, Callable[[str], Any]] = {
    "pool_size": int,
    "connect_timeout": float,
    "command_timeout": _optional_float,
    "client_name": str,
    "max_reply_size": int,
    "encoding": str,
    "convert_numbers": parse_bool,
    "reconnect_delay": float,
    "db": int,
    "username": str,
    "password": str,
    "max_pending": int,
    "lag_warning": float,
    "ping_interval": float,
}
TLS_OPTIONS: dict[str, Callable[[str], Any]] = {
    "ca_file": str,
    "verify": parse_bool,
    "cert_file": str,
    "key_file": str,
}
DEFAULTS: dict[str, Any] = {
    "pool_size": 5,
    "connect_timeout": 5.0,
    "command_timeout": 10.0,
    "client_name": "cyclone",
    "max_reply_size": 64 * 1024 * 1024,
    "encoding": "utf-8",
    "convert_numbers": False,
    "reconnect_delay": 1.0,
    "max_pending": 10000,
    "lag_warning": 1.0,
    "ping_interval": 1.0,
    "verify": True,
}


def _split_hosts(
    netloc: str, default_port: int
) -> tuple[str | None, str | None, list[tuple[str, int]]]:
    """``user``, ``password`` and ``[(host, port), ...]`` of a possibly comma-separated netloc."""
    userinfo, at, hostlist = netloc.rpartition("@")
    user = password = None
    if at:
        name, colon, secret = userinfo.partition(":")
        user = urllib.parse.unquote(name) or None
        password = urllib.parse.unquote(secret) if colon else None
    hosts = []
    for item in _hosts(hostlist):
        hosts.append(_host_port(item, default_port))
    return user, password, hosts


def _host_port(item: str, default_port: int) -> tuple[str, int]:
    if item.startswith("["):  # [IPv6]:port
        host, _, rest = item[1:].partition("]")
        port = rest.lstrip(":")
    else:
        host, _, port = item.rpartition(":") if item.count(":") == 1 else (item, "", "")
    try:
        return host or "127.0.0.1", int(port) if port else default_port
    except ValueError:
        raise ValueError(f"bad port in {item!r}") from None


def _options(
    url: str, scheme: str, given: Mapping[str, Any], extra: Mapping[str, Any]
) -> tuple[urllib.parse.SplitResult, dict[str, Any]]:
    base, _, query = url.partition("?")
    netloc_start = base.find("://") + 3
    parts = urllib.parse.SplitResult(scheme, *_netloc_path(base[netloc_start:]), query, "")
    accepted = {**COMMON_OPTIONS, **extra}
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    where = mask_url(url)
    options = {
        **DEFAULTS,
        **parse_options(scheme, accepted, pairs, given, where=where, given_wins=True),
    }
    return parts, options


def _netloc_path(rest: str) -> tuple[str, str]:
    slash = rest.find("/")
    return (rest, "") if slash < 0 else (rest[:slash], rest[slash:])


def _settings(
    target: str,
    options: dict[str, Any],
    user: str | None,
    password: str | None,
    db: int | None,
    **extra: Any,
) -> ConnectionSettings:
    return ConnectionSettings(
        target,
        username=options.get("username", user),
        password=options.get("password", password),
        db=options.get("db", db),
        client_name=options["client_name"],
        connect_timeout=options["connect_timeout"],
        command_timeout=options["command_timeout"],
        max_reply_size=options["max_reply_size"],
        encoding=options["encoding"],
        convert_numbers=options["convert_numbers"],
        reconnect_delay=options["reconnect_delay"],
        **extra,
    )


def _pool(
    endpoint: Any,
    settings: ConnectionSettings,
    options: dict[str, Any],
    cls: type[RedisPool] = RedisPool,
    **kw: Any,
) -> Any:
    return cls(
        endpoint,
        settings,
        pool_size=options["pool_size"],
        max_pending=options["max_pending"],
        lag_warning=options["lag_warning"],
        ping_interval=options["ping_interval"],
        **kw,
    )


def _db_of(path: str) -> int | None:
    text = path.strip("/")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"the database in the URL path must be a number, got {text!r}") from None


def _tcp(url: str, scheme: str, given: Mapping[str, Any], tls: bool) -> Any:
    extra: dict[str, Any] = {"hosts": _hosts, **(TLS_OPTIONS if tls else {})}
    parts, options = _options(url, scheme, given, extra)
    user, password, hosts = _split_hosts(parts.netloc, 6379)
    if "hosts" in options:
        hosts += [_host_port(h, 6379) for h in options["hosts"]]
    if not hosts:
        hosts = [("127.0.0.1", 6379)]
    db = _db_of(parts.path)
    creator = _tls_creator(options) if tls else None
    userinfo = parts.netloc.rpartition("@")[0] + "@" if "@" in parts.netloc else ""
    pools, names = [], []
    for host, port in hosts:
        name = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        target = mask_url(f"{scheme}://{userinfo}{name}{parts.path}")

        def endpoint(host: str = host, port: int = port) -> Any:
            ep: Any = HostnameEndpoint(reactor, host, port, timeout=options["connect_timeout"])
            if creator is not None:
                ep = wrapClientTLS(creator(host), ep)
            return ep

        pools.append(_pool(endpoint, _settings(target, options, user, password, db), options))
        names.append(f"{host}:{port}")
    return pools[0] if len(pools) == 1 else ShardedPool(pools, names)


def redis(url: str, **options: Any) -> Any:
    """``redis://[user:password@]host[:port][,host2:port2...][/db][?option=value...]``.

    One host gives a :class:`RedisPool`; several (or the ``hosts`` option) a
    :class:`ShardedPool` over one pool per host.
    """
    return _tcp(url, "redis", options, tls=False)


def rediss(url: str, **options: Any) -> Any:
    """Like :func:`redis`, over TLS; the server certificate is verified unless ``verify=false``."""
    return _tcp(url, "rediss", options, tls=True)


def redis_unix(url: str, **options: Any) -> RedisPool:
    """``redis+unix://[user:password@]/path/to/redis.sock[?db=N&option=value...]``."""
    parts, options_ = _options(url, "redis+unix", options, {})
    user, password, _ = _split_hosts(parts.netloc, 0) if parts.netloc else (None, None, [])
    path = urllib.parse.unquote(parts.path)
    if not path:
        raise ValueError("redis+unix:// needs the socket's path: redis+unix:///path/to/redis.sock")
    target = mask_url(f"redis+unix://{parts.netloc}{parts.path}")

    def endpoint() -> Any:
        return UNIXClientEndpoint(reactor, path, timeout=options_["connect_timeout"])

    return _pool(endpoint, _settings(target, options_, user, password, None), options_)


class SentinelPool(RedisPool):
    """A pool on the master of a Sentinel service, following its failovers."""

    watcher: SwitchWatcher | None = None

    def start(self) -> None:
        super().start()
        if self.watcher is not None:
            self.watcher.start()

    def stop(self) -> Any:
        d = super().stop()
        if self.watcher is not None:
            d.addBoth(lambda r: self.watcher.stop() if self.watcher is not None else r)
        return d


def redis_sentinel(url: str, **options: Any) -> SentinelPool:
    """``redis+sentinel://[user:password@]sentinel[:port][,sentinel2...]/service[/db][?...]``.

    The user name and password are the master's; the sentinels are asked
    without them.
    """
    parts, options_ = _options(url, "redis+sentinel", options, {})
    user, password, sentinels = _split_hosts(parts.netloc, 26379)
    service, _, db_path = parts.path.strip("/").partition("/")
    if not sentinels or not service:
        raise ValueError(
            "redis+sentinel:// needs sentinels and a service: redis+sentinel://host:26379/mymaster/0"
        )
    target = mask_url(f"redis+sentinel://{parts.netloc}{parts.path}")
    settings = _settings(target, options_, user, password, _db_of(db_path), expect_role="master")
    endpoint = SentinelEndpoint(sentinels, service, timeout=options_["connect_timeout"])
    pool = _pool(endpoint, settings, options_, SentinelPool)

    def sentinel_pool(address: tuple[str, int]) -> RedisPool:
        host, port = address
        sentinel_settings = ConnectionSettings(
            f"sentinel {host}:{port}",
            client_name=None,
            connect_timeout=options_["connect_timeout"],
            command_timeout=options_["command_timeout"],
            reconnect_delay=options_["reconnect_delay"],
        )
        return RedisPool(
            HostnameEndpoint(reactor, host, port, timeout=options_["connect_timeout"]),
            sentinel_settings,
            pool_size=1,
        )

    pool.watcher = SwitchWatcher(sentinel_pool, sentinels, service, pool.reset)
    return pool


@implementer(IOpenSSLClientConnectionCreator)
class _Unverified:
    """TLS without certificate checks (``verify=false``): encryption only."""

    def __init__(self, hostname: str, context: Any) -> None:
        self._hostname = hostname.encode("idna") if hostname else b""
        self._context = context

    def clientConnectionForTLS(self, tls_protocol: Any) -> SSL.Connection:
        connection = SSL.Connection(self._context, None)
        connection.set_app_data(tls_protocol)
        if self._hostname:
            connection.set_tlsext_host_name(self._hostname)
        return connection


def _tls_creator(options: Mapping[str, Any]) -> Callable[[str], Any]:
    client_cert = None
    if options.get("cert_file"):
        with open(options["cert_file"], "rb") as f:
            cert_pem = f.read()
        with open(options.get("key_file") or options["cert_file"], "rb") as f:
            key_pem = f.read()
        client_cert = ssl.PrivateCertificate.loadPEM(cert_pem + b"\n" + key_pem)
    if not options["verify"]:
        ctx_options = ssl.CertificateOptions(
            privateKey=client_cert.privateKey.original if client_cert else None,
            certificate=client_cert.original if client_cert else None,
        )
        context = ctx_options.getContext()
        return lambda host: _Unverified(host, context)
    trust: Any = None
    if options.get("ca_file"):
        with open(options["ca_file"], "rb") as f:
            pem = f.read()
        certs = [
            ssl.Certificate.loadPEM(b"-----BEGIN CERTIFICATE-----" + block)
            for block in pem.split(b"-----BEGIN CERTIFICATE-----")[1:]
        ]
        if not certs:
            raise ValueError(f"no certificate in ca_file {options['ca_file']!r}")
        trust = ssl.trustRootFromCertificates(certs)

    def creator(host: str) -> Any:
        return ssl.optionsForClientTLS(host, trustRoot=trust, clientCertificate=client_cert)

    return creator


for _factory, _extra in (
    (redis, {"hosts": _hosts}),
    (rediss, {"hosts": _hosts, **TLS_OPTIONS}),
    (redis_unix, {}),
    (redis_sentinel, {}),
):
    _factory.options = {**COMMON_OPTIONS, **_extra}  # type: ignore[attr-defined]

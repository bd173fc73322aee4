"""A small asynchronous HTTP client on Twisted's Agent (cyclone 1.x's ``fetch``).

Strategy: one call, one exchange. :func:`fetch` sends the body from memory
through Twisted's ``Agent``, reads the whole response body and fires with an
:class:`HTTPResponse`; asked to follow redirects, it does so itself (at most
10, reading each redirect's body so no connection is left hanging).
The timeout covers the entire exchange: on expiry the request is cancelled and
the Deferred fails with ``twisted.internet.defer.TimeoutError``. HTTPS uses
Twisted's browser-like certificate checks.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import defer, protocol, reactor
from twisted.python.failure import Failure
from twisted.web.client import Agent, ResponseDone
from twisted.web.http import PotentialDataLoss
from twisted.web.http_headers import Headers
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

__all__ = ["HTTPResponse", "fetch"]

HeaderValues = str | bytes | Sequence[str | bytes]


@dataclass
class HTTPResponse:
    """What :func:`fetch` returns: status ``code``, ``headers`` and the whole ``body``.

    ``headers`` maps each header name (as received, case-preserved by Twisted's
    canonical form) to its list of values; :meth:`header` looks one up.
    """

    code: int
    headers: dict[str, list[str]]
    body: bytes
    phrase: str = ""
    url: str = ""
    _lower: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for name, values in self.headers.items():
            self._lower.setdefault(name.lower(), []).extend(values)

    def header(self, name: str, default: str | None = None) -> str | None:
        """The last value of header ``name`` (any case), or ``default``."""
        values = self._lower.get(name.lower())
        return values[-1] if values else default

    @property
    def length(self) -> int:
        """The body length (cyclone 1.x name)."""
        return len(self.body)


@implementer(IBodyProducer)
class _BytesProducer:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.length = len(body)

    def startProducing(self, consumer: Any) -> defer.Deferred[None]:
        consumer.write(self.body)
        return defer.succeed(None)

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass

    def stopProducing(self) -> None:
        pass


class _BodyCollector(protocol.Protocol):
    def __init__(self, finished: defer.Deferred[bytes]) -> None:
        self.finished = finished
        self.chunks: list[bytes] = []

    def dataReceived(self, data: bytes) -> None:
        self.chunks.append(data)

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        # PotentialDataLoss: a body delimited by the connection closing, which is complete.
        if reason.check(ResponseDone, PotentialDataLoss):
            self.finished.callback(b"".join(self.chunks))
        else:
            self.finished.errback(reason)


def _read_body(response: Any) -> defer.Deferred[bytes]:
    finished: defer.Deferred[bytes] = defer.Deferred()
    response.deliverBody(_BodyCollector(finished))
    return finished


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def _headers(headers: Mapping[str, HeaderValues] | None) -> Headers:
    raw = Headers()
    for name, value in (headers or {}).items():
        values = [value] if isinstance(value, str | bytes) else list(value)
        raw.setRawHeaders(_as_bytes(name), [_as_bytes(v) for v in values])
    return raw


_MAX_REDIRECTS = 10
_REDIRECTS = (301, 302, 303, 307, 308)


async def _exchange(
    agent: Any,
    method: str,
    url: bytes,
    headers: Mapping[str, HeaderValues] | None,
    body: bytes | None,
    redirects_left: int,
) -> HTTPResponse:
    while True:
        producer = _BytesProducer(body) if body is not None else None
        response = await agent.request(method.encode("ascii"), url, _headers(headers), producer)
        # Every body is read, redirects' too, so that no connection is left half-used.
        data = await _read_body(response)
        location = response.headers.getRawHeaders(b"location")
        if redirects_left and response.code in _REDIRECTS and location:
            redirects_left -= 1
            url = urllib.parse.urljoin(url.decode("latin-1"), location[-1].decode("latin-1"))
            url = url.encode("latin-1")
            if response.code == 303 or (response.code in (301, 302) and method == "POST"):
                method, body = "GET", None  # as browsers do
            continue
        return HTTPResponse(
            code=response.code,
            headers={
                k.decode("latin-1"): [v.decode("latin-1") for v in vs]
                for k, vs in response.headers.getAllRawHeaders()
            },
            body=data,
            phrase=response.phrase.decode("latin-1"),
            url=url.decode("latin-1"),
        )


def fetch(
    url: str | bytes,
    method: str = "GET",
    headers: Mapping[str, HeaderValues] | None = None,
    body: str | bytes | None = None,
    timeout: float = 30.0,
    follow_redirects: bool = False,
    agent: Any = None,
    **kwargs: Any,
) -> defer.Deferred[HTTPResponse]:
    """Request ``url`` and fire with the complete :class:`HTTPResponse`.

    ``headers`` maps names to a value or a list of values; ``body`` is sent with
    a ``Content-Length``. cyclone 1.x spellings are accepted: ``postdata`` for
    ``body`` and ``followRedirect`` for ``follow_redirects``. Any status code is
    a response, not an error; connection failures and the ``timeout`` fail the
    Deferred.
    """
    if "postdata" in kwargs:
        body = kwargs.pop("postdata")
    if "followRedirect" in kwargs:
        follow_redirects = bool(kwargs.pop("followRedirect"))
    if kwargs:
        raise TypeError(f"unexpected arguments: {', '.join(sorted(kwargs))}")
    if agent is None:
        agent = Agent(reactor)
    d = defer.Deferred.fromCoroutine(
        _exchange(
            agent,
            method.upper(),
            _as_bytes(url),
            headers,
            _as_bytes(body) if body is not None else None,
            _MAX_REDIRECTS if follow_redirects else 0,
        )
    )
    timed_out = []

    def expire() -> None:
        timed_out.append(True)
        d.cancel()

    timer = reactor.callLater(timeout, expire)  # type: ignore[attr-defined]

    def done(result: Any) -> Any:
        if timer.active():
            timer.cancel()
        if timed_out and isinstance(result, Failure):
            raise defer.TimeoutError(f"{method} {url!r} took more than {timeout} seconds")
        return result

    d.addBoth(done)
    return d


def __getattr__(name: str) -> Any:
    # cyclone 1.x's JSON-RPC client, now in the RPC extension (imported only when asked for).
    if name == "JsonRPC":
        try:
            from cyclone_ext_rpc import JsonRPC
        except ModuleNotFoundError as exc:
            if exc.name != "cyclone_ext_rpc":
                raise
            raise ImportError(
                "cyclone.httpclient.JsonRPC is provided by the RPC extension "
                "(cyclone-ext-rpc): pip install 'cyclone[rpc]'",
                name=__name__,
            ) from None
        return JsonRPC
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

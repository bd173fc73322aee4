"""The written contracts of cyclone's entry-point groups, one ``typing.Protocol`` each.

A third party implements these structurally: nothing here needs to be imported,
subclassed or registered besides the entry point itself. :mod:`cyclone.plugins`
checks every plugin against the :class:`Contract` of its group when it loads it,
and names the group, the plugin and what is missing when it does not fit. This
module imports nothing of cyclone (it is the ground floor, with ``plugins``), so
it describes a request handler by its members instead of importing one.

Each contract has *required* members (the Protocol of the group) and
*optional* ones (small Protocols of their own): a plugin without an optional
member loads, and one that has it must have it right (callable, accepting the
arguments written here). ``isinstance(obj, SecretVerifier)`` and the like tell
at run time whether an optional member is there.

``cyclone.storage`` and ``cyclone.mail``
    The entry point is a :class:`ServiceFactory`: ``factory(url, **options)``
    plus its ``options`` mapping. What it returns is a :class:`Service`
    (``start``, ``stop``); for ``cyclone.mail`` a :class:`Mailer` (also
    ``send``). The service is checked when it is built, by
    :mod:`cyclone.services`.

``cyclone.auth``
    The entry point is an :class:`AuthScheme` object (an instance, not a class):
    ``name``, ``parse``, ``challenge``. Optional: :class:`SecretVerifier`
    (``verify``: the proof is checked against a secret looked up by user name)
    and :class:`MultiChallenge` (``challenges``: several ``WWW-Authenticate``
    headers at once).

``cyclone.realtime``
    The entry point is a request handler class (:class:`Handler`) for a push
    transport, a :class:`RealtimeHandler`: it serves ``GET``, names its
    ``transport`` and calls ``on_close()`` once when the channel ends, whoever
    ended it. Optional: :class:`HubReceiver` (``on_hub_message``: how a message
    of a hub subscription reaches the client).

``cyclone.rpc``
    The entry point is a request handler class for one RPC protocol, an
    :class:`RPCHandler`. A JSON-RPC or XML-RPC handler written the usual way
    fits it as it is::

        class JsonRPCHandler(cyclone.web.RequestHandler):
            protocol = "jsonrpc"

            def get_procedure(self, name):
                return getattr(self, f"jsonrpc_{name}", None)

            async def post(self):
                call = json.loads(self.request.body)
                procedure = self.get_procedure(call["method"])
                ...  # "method not found" when None, else call it and write the reply

    - ``protocol`` is the protocol's name, usually the entry-point name
      (``"jsonrpc"``, ``"xmlrpc"``);
    - ``SUPPORTED_METHODS`` includes ``POST``, and ``post()`` reads one call
      (or a batch) from the body, dispatches and writes the reply in the
      protocol's format, faults included;
    - ``get_procedure(name)`` is the dispatch: the callable that the procedure
      ``name`` of a call names, or ``None`` for the protocol's "no such
      procedure" fault. Applications subclass the handler and add procedures
      (by convention ``<protocol>_<name>`` methods, as in cyclone 1.x), or
      override ``get_procedure`` to route names elsewhere.
    Optional: :class:`ProcedureLister` (``list_procedures``, for
    introspection such as XML-RPC's ``system.listMethods``).

A request handler (:class:`Handler`) is what :class:`cyclone.web.Application`
routes to: a class constructed as ``cls(application, request, **kwargs)``
whose ``execute_request(transforms, path_args, path_kwargs)`` runs the request
through the life cycle (``prepare``, the HTTP method, ``finish``,
``on_finish``). Subclassing :class:`cyclone.web.RequestHandler` is how one gets
all of it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from twisted.internet.defer import Deferred

__all__ = [
    "AUTH",
    "CONTRACTS",
    "MAIL",
    "REALTIME",
    "RPC",
    "STORAGE",
    "AuthScheme",
    "BatchMailer",
    "Contract",
    "Handler",
    "HubReceiver",
    "Mailer",
    "MultiChallenge",
    "ProcedureLister",
    "RPCHandler",
    "RealtimeHandler",
    "SecretVerifier",
    "Service",
    "ServiceFactory",
]

STORAGE = "cyclone.storage"
MAIL = "cyclone.mail"
AUTH = "cyclone.auth"
RPC = "cyclone.rpc"
REALTIME = "cyclone.realtime"


# -- services (cyclone.storage, cyclone.mail) --------------------------------------------


@runtime_checkable
class Service(Protocol):
    """What a storage or mail factory returns.

    ``start()`` is called when the server starts and ``stop()`` when it stops; both
    may return a Deferred to make the server wait. ``stop()`` releases every thread,
    connection and file. Everything else is the backend's own API.
    """

    def start(self) -> Deferred[Any] | None: ...

    def stop(self) -> Deferred[Any] | None: ...


@runtime_checkable
class Mailer(Service, Protocol):
    """What a ``cyclone.mail`` factory returns: a service that sends messages.

    ``send(message)`` takes an ``email.message.EmailMessage`` and returns a
    Deferred that fires once the message is accepted for delivery.
    """

    def send(self, message: Any) -> Deferred[Any]: ...


@runtime_checkable
class BatchMailer(Protocol):
    """Optional for a :class:`Mailer`: send several messages over one connection.

    ``send_many(messages)`` returns a Deferred that fires with one outcome per
    message, in order.
    """

    def send_many(self, messages: Sequence[Any]) -> Deferred[Any]: ...


@runtime_checkable
class ServiceFactory(Protocol):
    """A ``cyclone.storage`` or ``cyclone.mail`` entry point: ``factory(url, **options)``.

    ``options`` maps each accepted option name to a converter applied to the string
    values found in the URL query. The URL handed to the factory no longer carries
    those options.
    """

    options: Mapping[str, Callable[[str], Any]]

    def __call__(self, url: str, /, **options: Any) -> Service: ...


# -- auth schemes (cyclone.auth) -------------------------------------------------------


@runtime_checkable
class AuthScheme(Protocol):
    """A ``cyclone.auth`` entry point: one HTTP authentication scheme (required members).

    ``name`` is the scheme token as it appears in headers (``"Basic"``).
    ``parse(header_value)`` receives the whole ``Authorization`` header value and
    returns the credentials it carries, or ``None`` when the header is not for this
    scheme or is malformed. ``challenge(realm, **params)`` returns the value of a
    ``WWW-Authenticate`` header asking for credentials.

    Optional members: :class:`SecretVerifier` and :class:`MultiChallenge`.
    """

    name: str

    def parse(self, header_value: str) -> Any: ...

    def challenge(self, realm: str, **params: str) -> str: ...


@runtime_checkable
class SecretVerifier(Protocol):
    """Optional for an :class:`AuthScheme`: the proof is checked against a shared secret.

    ``verify(credentials, request, secret, realm)`` returns True when
    ``credentials`` (what ``parse`` returned, with a ``username``) prove knowledge
    of ``secret`` (the user's password or key, found by ``@requires`` through
    ``get_password``) for ``request``. It may raise
    ``cyclone.auth.StaleCredentials(**params)`` to ask for a new challenge
    carrying ``params`` (Digest's ``stale=true``). A scheme without it is checked
    by the handler's ``check_credentials`` (or ``check=``).
    """

    def verify(self, credentials: Any, request: Any, secret: str | bytes, realm: str) -> bool: ...


@runtime_checkable
class MultiChallenge(Protocol):
    """Optional for an :class:`AuthScheme`: several challenges at once.

    ``challenges(realm, **params)`` returns ``WWW-Authenticate`` values, each sent
    as a header of its own (Digest: one per algorithm). Without it the 401 carries
    ``challenge(realm, **params)``.
    """

    def challenges(self, realm: str, **params: str) -> Sequence[str]: ...


# -- request handlers (cyclone.realtime, cyclone.rpc) ------------------------------------


@runtime_checkable
class Handler(Protocol):
    """A request handler class, as :class:`cyclone.web.Application` uses one.

    The Application constructs it as ``cls(application, request, **kwargs)``
    (``kwargs`` from the URL spec, passed to ``initialize``) and calls
    ``execute_request(transforms, path_args, path_kwargs)``, which answers 405
    for a method outside ``SUPPORTED_METHODS`` and runs ``prepare``, the HTTP
    method and ``finish``; ``on_finish`` runs once the response is sent,
    ``on_connection_close`` when the client leaves first, and ``get_status``
    gives the status for the access log. These are checked on the class.
    """

    SUPPORTED_METHODS: Collection[str]

    def initialize(self, **kwargs: Any) -> None: ...

    def prepare(self) -> Any: ...

    def on_finish(self) -> None: ...

    def on_connection_close(self) -> None: ...

    def finish(self) -> Any: ...

    def get_status(self) -> int: ...

    def execute_request(
        self,
        transforms: Sequence[Any],
        path_args: Sequence[str] = (),
        path_kwargs: Mapping[str, str] | None = None,
    ) -> None: ...


@runtime_checkable
class RealtimeHandler(Handler, Protocol):
    """A ``cyclone.realtime`` entry point: the handler class of a push transport.

    ``transport`` names it (``"websocket"``, ``"sse"``). The channel opens with
    a ``GET`` (in ``SUPPORTED_METHODS``); ``on_close()`` runs exactly once when
    it ends, whether the client or the server ended it. How the application
    sends (``write_message``, ``send_event``) is the transport's own API.

    Optional member: :class:`HubReceiver`.
    """

    transport: str

    def on_close(self) -> None: ...


@runtime_checkable
class HubReceiver(Protocol):
    """Optional for a :class:`RealtimeHandler`: how a hub message reaches the client.

    ``on_hub_message(message)`` sends one message of a callback-less hub
    subscription (a WebSocket writes it as a message, SSE sends it as an event);
    it may return a Deferred that fires when the client can take more.
    """

    def on_hub_message(self, message: Any) -> Any: ...


@runtime_checkable
class RPCHandler(Handler, Protocol):
    """A ``cyclone.rpc`` entry point: the handler class that serves one RPC protocol.

    ``protocol`` names it (``"jsonrpc"``, ``"xmlrpc"``). ``post()`` (``POST``
    is in ``SUPPORTED_METHODS``) reads the call from the body, dispatches it and
    writes the reply; ``get_procedure(name)`` is the dispatch: the callable for
    the procedure ``name``, or ``None`` when there is none (the protocol's
    "no such procedure" fault). See the module documentation for an example.

    Optional member: :class:`ProcedureLister`.
    """

    protocol: str

    def post(self, *args: str, **kwargs: str) -> Any: ...

    def get_procedure(self, name: str) -> Callable[..., Any] | None: ...


@runtime_checkable
class ProcedureLister(Protocol):
    """Optional for an :class:`RPCHandler`: the names of the procedures it serves."""

    def list_procedures(self) -> Sequence[str]: ...


# -- the contract of each group ----------------------------------------------------------


@dataclass(frozen=True)
class Contract:
    """What the entry points of one group must be.

    ``protocol`` holds the required members; each Protocol of ``optional`` holds
    members that may be absent but, when present, are checked like required
    ones. ``kind`` says what is registered: an ``"object"`` (a factory, a scheme
    instance) or a ``"class"`` (a request handler class, whose members are
    checked as the instances will see them). ``methods`` are HTTP methods that a
    handler class must have in ``SUPPORTED_METHODS``; ``returns`` is what a
    factory's product must provide (checked when it is built), with the optional
    members of ``returns_optional``.
    """

    protocol: type
    optional: tuple[type, ...] = ()
    kind: Literal["object", "class"] = "object"
    methods: tuple[str, ...] = ()
    returns: type | None = None
    returns_optional: tuple[type, ...] = ()


CONTRACTS: Mapping[str, Contract] = {
    STORAGE: Contract(ServiceFactory, returns=Service),
    MAIL: Contract(ServiceFactory, returns=Mailer, returns_optional=(BatchMailer,)),
    AUTH: Contract(AuthScheme, optional=(SecretVerifier, MultiChallenge)),
    RPC: Contract(RPCHandler, optional=(ProcedureLister,), kind="class", methods=("POST",)),
    REALTIME: Contract(RealtimeHandler, optional=(HubReceiver,), kind="class", methods=("GET",)),
}
"""Every entry-point group cyclone reads → its contract, in the order ``cyclone plugins`` shows."""

"""What every protocol shares: finding a method, checking its arguments, calling it.

A method is any callable: plain, returning a Deferred, ``@inlineCallbacks`` or
``async def``. Its arguments are bound to its signature before it is called
(a misfit is "invalid params", never a ``TypeError`` from inside the method),
and arguments annotated with a plain type (``int``, ``float``, ``str``, ``bool``,
``list``, ``dict``, ``bytes``, optionally ``| None``) are checked against it. A
parameter annotated :class:`RpcContext` is not sent by the client: it receives
the call's context (the handler, ``current_user``, the protocol, and
``notify`` on WebSocket).
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from twisted.internet import defer

from cyclone_ext_rpc.errors import INVALID_PARAMS, UNAUTHORIZED, JsonRpcError

__all__ = [
    "RpcContext",
    "Signature",
    "authenticated",
    "call_method",
    "invoke",
    "service_methods",
]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class RpcContext:
    """The context of one call, given to a parameter annotated ``RpcContext``.

    ``protocol`` is ``"jsonrpc"`` or ``"xmlrpc"``, ``transport`` is ``"http"`` or
    ``"websocket"``; ``handler`` is the RequestHandler (or WebSocket handler) that
    serves the call.
    """

    handler: Any
    protocol: str
    transport: str = "http"

    @property
    def current_user(self) -> Any:
        """The handler's ``current_user`` (from ``get_current_user``)."""
        return self.handler.current_user

    def notify(self, method: str, params: list[Any] | dict[str, Any] | None = None) -> None:
        """Send a JSON-RPC notification to the client (WebSocket only)."""
        notify = getattr(self.handler, "notify", None)
        if notify is None:
            raise RuntimeError(f"server notifications need a WebSocket, not {self.transport}")
        notify(method, params)


def authenticated(method: F) -> F:
    """Refuse the call (error -32001, "Unauthorized") unless there is a ``current_user``.

    For methods of a service object; a method of a handler subclass may use
    ``cyclone.web.authenticated`` as well.
    """
    method.__rpc_authenticated__ = True  # type: ignore[attr-defined]
    return method


_PLAIN = (int, float, str, bool, list, dict, bytes, tuple)


@dataclass
class Signature:
    """What the dispatcher knows of one method, computed once per function.

    ``names`` and ``required`` are set for the common case (only plain parameters,
    the context, if any, after them), which is bound without ``inspect``.
    """

    signature: inspect.Signature
    full: inspect.Signature
    context_param: str | None
    checks: dict[str, tuple[type, ...]]
    needs_user: bool
    names: tuple[str, ...] | None = None
    required: int = 0

    def arguments(
        self, params: list[Any] | dict[str, Any] | None, context: RpcContext
    ) -> tuple[list[Any], dict[str, Any]]:
        """``(args, kwargs)`` to call the method with, or an invalid-params JsonRpcError."""
        names = self.names
        if names is not None:
            if params is None:
                params = []
            if isinstance(params, list):
                if self.required <= len(params) <= len(names):
                    if self.checks:
                        for name, value in zip(names, params, strict=False):
                            self._check(name, value)
                    return self._with_context(list(params), {}, context)
            elif params.keys() <= set(names) and all(n in params for n in names[: self.required]):
                if self.checks:
                    for name, value in params.items():
                        self._check(name, value)
                return self._with_context([], dict(params), context)
        return self._bind(params, context)

    def _with_context(
        self, args: list[Any], kwargs: dict[str, Any], context: RpcContext
    ) -> tuple[list[Any], dict[str, Any]]:
        if self.context_param is not None:
            kwargs[self.context_param] = context
        return args, kwargs

    def _check(self, name: str, value: Any) -> None:
        allowed = self.checks.get(name)
        if allowed is not None and not _fits(value, allowed):
            raise JsonRpcError(
                INVALID_PARAMS,
                "Invalid params",
                f"{name!r} must be {' or '.join(t.__name__ for t in allowed)}, "
                f"not {type(value).__name__}",
            )

    def _bind(
        self, params: list[Any] | dict[str, Any] | None, context: RpcContext
    ) -> tuple[list[Any], dict[str, Any]]:
        args = params if isinstance(params, list) else []
        kwargs = params if isinstance(params, dict) else {}
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as e:
            raise JsonRpcError(INVALID_PARAMS, "Invalid params", str(e)) from None
        for name, value in bound.arguments.items():
            param = self.signature.parameters[name]
            if param.kind is param.VAR_POSITIONAL:
                values = list(value)
            elif param.kind is param.VAR_KEYWORD:
                values = list(value.values())
            else:
                values = [value]
            for v in values:
                self._check(name, v)
        if self.context_param is not None:
            given = dict(bound.arguments)
            given[self.context_param] = context
            ordered = {n: given[n] for n in self.full.parameters if n in given}
            bound = inspect.BoundArguments(self.full, ordered)  # type: ignore[arg-type]
        return list(bound.args), dict(bound.kwargs)


def _fits(value: Any, allowed: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in allowed:
        return False  # JSON's true is not a number
    if isinstance(value, int) and float in allowed:
        return True
    if isinstance(value, list) and tuple in allowed:
        return True
    return isinstance(value, allowed)


def _plain_types(annotation: Any) -> tuple[type, ...] | None:
    """The types an annotation allows when all are plain, else None (no check)."""
    if annotation in _PLAIN:
        return (annotation,)
    origin = typing.get_origin(annotation)
    if origin in _PLAIN:
        return (origin,)
    if origin in (typing.Union, types.UnionType):
        found: list[type] = []
        for arg in typing.get_args(annotation):
            if arg is type(None):
                found.append(type(None))
                continue
            sub = _plain_types(arg)
            if sub is None:
                return None
            found.extend(sub)
        return tuple(found)
    return None


_cache: dict[Any, Signature] = {}


def signature_of(method: Callable[..., Any]) -> Signature:
    """The :class:`Signature` of ``method`` (bound methods share their function's)."""
    key = getattr(method, "__func__", method)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    sig = inspect.signature(method)
    try:
        hints = typing.get_type_hints(method)
    except Exception:
        hints = {}
    context_param = None
    checks: dict[str, tuple[type, ...]] = {}
    params = []
    for name, param in sig.parameters.items():
        hint = hints.get(name, param.annotation)
        if hint is RpcContext or param.annotation == "RpcContext":
            context_param = name
            continue
        params.append(param)
        allowed = _plain_types(hint)
        if allowed is not None:
            checks[name] = allowed
    needs_user = bool(getattr(method, "__rpc_authenticated__", False))
    result = Signature(sig.replace(parameters=params), sig, context_param, checks, needs_user)
    kinds = [p.kind for p in sig.parameters.values()]
    plain = all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params)
    context_last = context_param is None or (
        list(sig.parameters)[-1] == context_param
        and kinds[-1] is not inspect.Parameter.POSITIONAL_ONLY
    )
    if plain and context_last:
        result.names = tuple(p.name for p in params)
        result.required = sum(1 for p in params if p.default is p.empty)
        if any(p.default is p.empty for p in params[result.required :]):
            result.names = None  # a required parameter after an optional one: let inspect tell
    if len(_cache) < 10000:
        _cache[key] = result
    return result


_PLAIN_RESULTS = frozenset((type(None), str, int, float, bool, list, dict, bytes, tuple))

ContextSource = RpcContext | Callable[[], RpcContext]


def invoke(method: Callable[..., Any], params: list[Any] | dict[str, Any] | None,
           context: ContextSource) -> Any:  # fmt: skip
    """Check ``params`` against ``method`` and call it: its result, or a Deferred of it.

    ``context`` is an :class:`RpcContext`, or a function that makes one (called only
    for a method that needs it). A synchronous result is returned as it is (no
    Deferred on the fast path); a coroutine becomes a Deferred. Raises
    :class:`JsonRpcError` for invalid params or a missing user, and whatever a
    synchronous method raised.
    """
    sig = _cache.get(getattr(method, "__func__", method)) or signature_of(method)
    if (sig.needs_user or sig.context_param is not None) and callable(context):
        context = context()
    if sig.needs_user and not context.current_user:  # type: ignore[union-attr]
        raise JsonRpcError(UNAUTHORIZED, "Unauthorized", {"status": 403})
    args, kwargs = sig.arguments(params, context)  # type: ignore[arg-type]
    result = method(*args, **kwargs)
    if type(result) in _PLAIN_RESULTS:
        return result
    if isinstance(result, defer.Deferred):
        return result
    if inspect.isawaitable(result):
        return defer.ensureDeferred(result)
    return result


def call_method(
    method: Callable[..., Any],
    params: list[Any] | dict[str, Any] | None,
    context: ContextSource,
) -> defer.Deferred[Any]:
    """Like :func:`invoke`, always through a Deferred (failures included)."""
    try:
        result = invoke(method, params, context)
    except Exception:
        return defer.fail()
    return result if isinstance(result, defer.Deferred) else defer.succeed(result)


def service_methods(service: Any) -> dict[str, Callable[..., Any]]:
    """The public methods of a service object, by name (names starting with ``_`` are not)."""
    found = {}
    for name in dir(type(service)):
        if name.startswith("_"):
            continue
        value = getattr(service, name, None)
        if callable(value) and not isinstance(value, type):
            found[name] = value
    return found


def doc_of(method: Callable[..., Any]) -> str:
    """The method's docstring, cleaned (empty when it has none)."""
    return inspect.getdoc(method) or ""

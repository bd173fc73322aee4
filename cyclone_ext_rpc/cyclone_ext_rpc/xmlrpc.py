"""The XML-RPC server, with introspection and ``system.multicall``.

Strategy: the body is parsed by defusedxml's expat wrapper into the standard
library's ``xmlrpc.client`` unmarshaller, with DTDs, entity declarations and
external entities refused before anything is expanded; answers are marshalled
by ``xmlrpc.client.dumps``. Names are looked up the way twisted.web.xmlrpc and
cyclone 1.x do: ``xmlrpc_<name>`` methods, and for ``prefix<separator>rest`` the
sub-handler put under ``prefix``. Methods run through the same dispatcher as
JSON-RPC (:mod:`cyclone_ext_rpc.methods`), so errors map the same way.
"""

from __future__ import annotations

import inspect
import typing
import xmlrpc.client
from collections.abc import Callable
from typing import Any
from xml.parsers.expat import ExpatError

from defusedxml import DefusedXmlException
from defusedxml.xmlrpc import DefusedExpatParser
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from cyclone.web import HTTPError, RequestHandler
from cyclone_ext_rpc.errors import (
    FAILURE,
    INVALID_REQUEST,
    NOT_FOUND,
    PARSE_ERROR,
    Fault,
    error_of,
)
from cyclone_ext_rpc.methods import RpcContext, call_method, doc_of, invoke, service_methods

__all__ = ["XmlrpcRequestHandler", "parse_call"]

log = Logger()

_SYSTEM = ("system.listMethods", "system.methodHelp", "system.methodSignature", "system.multicall")


def parse_call(
    body: bytes, use_datetime: bool = False, use_builtin_types: bool = False
) -> tuple[str, tuple[Any, ...]]:
    """``(method name, params)`` of an XML-RPC call; raises ``Fault`` for a bad body.

    A DOCTYPE, an entity declaration or an external entity is refused before any
    expansion (fault -32700), as is XML that is not well formed.
    """
    unmarshaller = xmlrpc.client.Unmarshaller(
        use_datetime=use_datetime, use_builtin_types=use_builtin_types
    )
    parser = DefusedExpatParser(unmarshaller, forbid_dtd=True)
    try:
        parser.feed(body)
        parser.close()
    except DefusedXmlException as e:
        raise Fault(PARSE_ERROR, f"parse error: refused ({type(e).__name__})") from None
    except ExpatError as e:
        raise Fault(PARSE_ERROR, f"parse error: not well formed ({e})") from None
    try:
        params = unmarshaller.close()
    except Exception as e:
        raise Fault(INVALID_REQUEST, f"invalid XML-RPC call: {e}") from None
    name = unmarshaller.getmethodname()
    if not isinstance(name, str) or not name:
        raise Fault(INVALID_REQUEST, "invalid XML-RPC call: no methodName")
    return name, params


_XML_TYPES = {
    int: "int",
    float: "double",
    str: "string",
    bool: "boolean",
    list: "array",
    tuple: "array",
    dict: "struct",
    bytes: "base64",
}


def _xml_type(annotation: Any) -> str | None:
    import datetime

    if annotation is datetime.datetime:
        return "dateTime.iso8601"
    origin = typing.get_origin(annotation) or annotation
    return _XML_TYPES.get(origin)


def _signature(method: Callable[..., Any]) -> list[list[str]] | str:
    declared = getattr(method, "signature", None)
    if declared:
        return declared
    try:
        hints = typing.get_type_hints(method)
        params = inspect.signature(method).parameters
    except Exception:
        return "undef"
    names = [n for n, p in params.items() if hints.get(n) is not RpcContext]
    types = [_xml_type(hints.get("return"))] + [_xml_type(hints.get(n)) for n in names]
    if any(t is None for t in types):
        return "undef"
    return [types]  # type: ignore[list-item]


class XmlrpcRequestHandler(RequestHandler):
    """XML-RPC over HTTP POST: define ``xmlrpc_<name>`` methods, or pass a ``service``.

    ``allowNone`` lets ``None`` be sent (``<nil/>``); ``useDateTime`` gives
    ``datetime`` objects instead of ``xmlrpc.client.DateTime``; ``useBuiltinTypes``
    gives ``bytes`` for base64 too. Dotted names go to sub-handlers
    (:meth:`putSubHandler`). Unknown names are fault 8001, unexpected errors fault
    8002 (the traceback is logged; sent only with ``debug=True``). XSRF checks do
    not apply.
    """

    FAILURE = FAILURE
    NOT_FOUND = NOT_FOUND
    separator = "."
    allowNone = False
    useDateTime = False
    useBuiltinTypes = False
    subHandlers: dict[str, Any] = {}
    service: Any = None
    max_body_size: int | None = None
    no_xsrf = True
    protocol = "xmlrpc"

    def initialize(self, service: Any = None, **kwargs: Any) -> None:
        if service is not None:
            self.service = service
        for name, value in kwargs.items():
            if name not in ("allowNone", "useDateTime", "useBuiltinTypes", "max_body_size"):
                raise TypeError(f"unexpected argument {name!r}")
            setattr(self, name, value)

    # -- sub-handlers and lookup ---------------------------------------------------------

    def putSubHandler(self, prefix: str, handler: Any) -> None:
        """Serve ``prefix<separator>name`` from ``handler``'s ``xmlrpc_<name>`` methods.

        Call it from ``initialize`` (or set the class attribute ``subHandlers``):
        a handler lives for one request.
        """
        if "subHandlers" not in self.__dict__:
            self.subHandlers = dict(type(self).subHandlers)
        self.subHandlers[prefix] = handler

    def getSubHandler(self, prefix: str) -> Any:
        """The sub-handler put under ``prefix``, or None."""
        return self.subHandlers.get(prefix)

    def getSubHandlerPrefixes(self) -> list[str]:
        """The prefixes that have a sub-handler."""
        return list(self.subHandlers)

    def lookupProcedure(self, procedurePath: str) -> Callable[..., Any]:
        """The method for a name; raises ``Fault(NOT_FOUND)`` when there is none."""
        if procedurePath in _SYSTEM and self.getSubHandler("system") is None:
            return getattr(self, "_system_" + procedurePath.split(".", 1)[1])
        if self.service is not None and not procedurePath.startswith("_"):
            method = getattr(self.service, procedurePath, None)
            if callable(method) and not isinstance(method, type):
                return method
        return _lookup(self, procedurePath, self.separator)

    def get_procedure(self, name: str) -> Callable[..., Any] | None:
        """The method for a name, or None (the ``cyclone.rpc`` contract's dispatch)."""
        try:
            return self.lookupProcedure(name)
        except Fault:
            return None

    def list_procedures(self) -> list[str]:
        """Every name this handler serves (``listProcedures`` is the twisted name)."""
        return self.listProcedures()

    def listProcedures(self) -> list[str]:
        """Every name this handler serves (cyclone 1.x and twisted.web.xmlrpc name)."""
        found = set(_names(self, self.separator))
        if self.service is not None:
            found.update(service_methods(self.service))
        if self.getSubHandler("system") is None:
            found.update(_SYSTEM)
        return sorted(found)

    # -- introspection -----------------------------------------------------------------

    def _system_listMethods(self) -> list[str]:
        """The names of every method this server offers."""
        return self.listProcedures()

    def _system_methodHelp(self, method: str) -> str:
        """The documentation of the method ``method``."""
        target = self.lookupProcedure(method)
        return getattr(target, "help", None) or doc_of(target)

    def _system_methodSignature(self, method: str) -> list[list[str]] | str:
        """The signatures of ``method``: lists of XML-RPC types, the return type first."""
        return _signature(self.lookupProcedure(method))

    def _system_multicall(self, calls: list[Any]) -> defer.Deferred[list[Any]]:
        """Run several calls in one request; each answers ``[result]`` or a fault struct."""
        if not isinstance(calls, list):
            raise Fault(INVALID_REQUEST, "system.multicall takes an array of calls")
        answers = []
        for one in calls:
            try:
                if not isinstance(one, dict):
                    raise Fault(INVALID_REQUEST, "each call is a struct")
                name, params = one.get("methodName"), one.get("params", [])
                if not isinstance(name, str) or not isinstance(params, list | tuple):
                    raise Fault(INVALID_REQUEST, "each call needs methodName and params")
                if name == "system.multicall":
                    raise Fault(INVALID_REQUEST, "system.multicall cannot be nested")
                method = self.lookupProcedure(name)
            except Fault as fault:
                answers.append(defer.succeed(_fault_struct(fault)))
                continue
            d = call_method(method, list(params), self.rpc_context)
            d.addCallbacks(
                self._multicall_result, lambda f, n=name: _fault_struct(self._fault(f, n))
            )
            answers.append(d)
        return defer.gatherResults(answers)

    def _multicall_result(self, result: Any) -> Any:
        # A result that cannot be marshalled fails its own call, not the whole multicall.
        try:
            xmlrpc.client.dumps((result,), allow_none=self.allowNone)
        except Exception as e:
            return _fault_struct(Fault(self.FAILURE, f"cannot marshal the result: {e}"))
        return [result]

    # -- serving -----------------------------------------------------------------------

    def rpc_context(self) -> RpcContext:
        """The :class:`RpcContext` handed to methods that ask for one."""
        return RpcContext(handler=self, protocol=self.protocol)

    def post(self, *args: Any, **kwargs: Any) -> defer.Deferred[None] | None:
        body = self.request.body
        if self.max_body_size is not None and len(body) > self.max_body_size:
            raise HTTPError(413, reason="Request body too large")
        self.set_header("Content-Type", "text/xml")
        try:
            name, params = parse_call(body, self.useDateTime, self.useBuiltinTypes)
            method = self.lookupProcedure(name)
        except Fault as fault:
            self._write_fault(fault)
            return None
        try:
            result = invoke(method, list(params), self.rpc_context)
        except Exception:
            self._write_fault(self._fault(Failure(), name))
            return None
        if isinstance(result, defer.Deferred):
            return result.addCallbacks(
                self._write_result, lambda f: self._write_fault(self._fault(f, name))
            )
        self._write_result(result)
        return None

    def _write_result(self, result: Any) -> None:
        try:
            text = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=self.allowNone)
        except Exception as e:
            log.error("XML-RPC result cannot be marshalled: {error}", error=e)
            text = xmlrpc.client.dumps(Fault(self.FAILURE, f"cannot marshal the result: {e}"))
        self.write(text)

    def _write_fault(self, fault: Fault) -> None:
        self.write(xmlrpc.client.dumps(fault, methodresponse=True))

    def _fault(self, failure: Failure, name: str) -> Fault:
        if isinstance(failure.value, Fault):
            return failure.value
        error, unexpected = error_of(failure.value, bool(self.settings.get("debug")))
        if unexpected:
            log.failure("XML-RPC method {method!r} failed", failure, method=name)
            message = "error" if error.data is None else f"error\n{error.data}"
            return Fault(self.FAILURE, message)
        message = error.message
        if isinstance(error.data, str):
            message = f"{message}: {error.data}"
        return Fault(error.code, message)


def _fault_struct(fault: Fault) -> dict[str, Any]:
    return {"faultCode": fault.faultCode, "faultString": fault.faultString}


def _lookup(obj: Any, path: str, separator: str) -> Callable[..., Any]:
    if separator and separator in path:
        prefix, rest = path.split(separator, 1)
        getter = getattr(obj, "getSubHandler", None)
        sub = getter(prefix) if getter is not None else getattr(obj, "subHandlers", {}).get(prefix)
        if sub is None:
            raise Fault(NOT_FOUND, f"no such subHandler {prefix}")
        return _lookup(sub, rest, getattr(sub, "separator", separator))
    method = getattr(obj, "xmlrpc_" + path, None)
    if not callable(method):
        raise Fault(NOT_FOUND, f"procedure {path} not found")
    return method


def _names(obj: Any, separator: str) -> list[str]:
    found = [a[len("xmlrpc_") :] for a in dir(type(obj)) if a.startswith("xmlrpc_")]
    subs = getattr(obj, "subHandlers", None) or {}
    for prefix, sub in subs.items():
        sep = getattr(sub, "separator", separator)
        found.extend(prefix + separator + n for n in _names(sub, sep))
    return found

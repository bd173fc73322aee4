"""The request methods the wire knows: one list, read by the wire and by the handler.

:data:`PARSER_METHODS` are the tokens llhttp (strict mode) parses as a method;
any other token makes it fail, and the wire answers 405 (a well-formed but
unknown method, RFC 9110 §9.1) or 400 (bytes that are not a token).
:data:`DEFAULT_METHODS` are the methods a ``RequestHandler`` answers unless it
declares its own ``SUPPORTED_METHODS``; the wire names them in the ``Allow``
header of the 405 it sends before any handler is involved (:data:`ALLOW`).
The web layer imports these from here (below it), never the other way.
"""

from __future__ import annotations

__all__ = ["ALLOW", "DEFAULT_METHODS", "PARSER_METHODS"]

PARSER_METHODS: frozenset[bytes] = frozenset(
    b"DELETE GET HEAD POST PUT CONNECT OPTIONS TRACE COPY LOCK MKCOL MOVE PROPFIND PROPPATCH "
    b"SEARCH UNLOCK BIND REBIND UNBIND ACL REPORT MKACTIVITY CHECKOUT MERGE M-SEARCH NOTIFY "
    b"SUBSCRIBE UNSUBSCRIBE PATCH PURGE MKCALENDAR LINK UNLINK SOURCE QUERY PRI".split()
)

DEFAULT_METHODS: tuple[str, ...] = ("GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS")

ALLOW: str = ", ".join(DEFAULT_METHODS)

"""aiohttp serving the RPC benchmark's JSON-RPC 2.0 echo (access log off).

Usage: python aiohttp_jsonrpc_app.py PORT

A small JSON-RPC 2.0 handler of the kind an aiohttp user writes: parse, look up
the method in a dict, call it, answer; parse errors, invalid requests, unknown
methods and bad params get their error objects, but batches are not handled.
"""

from __future__ import annotations

import json
import sys

from aiohttp import web


async def echo(value):
    return value


METHODS = {"echo": echo}


def error(code: int, message: str, request_id=None) -> web.Response:
    body = {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": request_id}
    return web.json_response(body)


async def jsonrpc(request: web.Request) -> web.Response:
    try:
        call = json.loads(await request.read())
    except ValueError:
        return error(-32700, "Parse error")
    if not isinstance(call, dict) or call.get("jsonrpc") != "2.0":
        return error(-32600, "Invalid Request")
    method = METHODS.get(call.get("method"))
    if method is None:
        return error(-32601, "Method not found", call.get("id"))
    params = call.get("params", [])
    try:
        result = await (method(**params) if isinstance(params, dict) else method(*params))
    except TypeError:
        return error(-32602, "Invalid params", call.get("id"))
    return web.json_response({"jsonrpc": "2.0", "result": result, "id": call.get("id")})


def main() -> None:
    app = web.Application()
    app.router.add_post("/jsonrpc", jsonrpc)
    web.run_app(
        app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None, backlog=1024
    )


if __name__ == "__main__":
    main()

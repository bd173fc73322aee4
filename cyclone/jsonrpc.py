"""cyclone 1.x's ``cyclone.jsonrpc``, now provided by the ``cyclone-ext-rpc`` extension.

``JsonrpcRequestHandler`` serves ``jsonrpc_<name>`` methods as in 1.x, now as
JSON-RPC 2.0 (requests without ``"jsonrpc": "2.0"`` still get 1.x's answer
shape). Every public name of ``cyclone_ext_rpc`` is re-exported. See docs/rpc.md.
"""

try:
    from cyclone_ext_rpc import *  # noqa: F403 - the extension's public names
    from cyclone_ext_rpc import __all__  # noqa: F401
except ModuleNotFoundError as exc:
    if exc.name != "cyclone_ext_rpc":
        raise
    raise ModuleNotFoundError(
        "cyclone.jsonrpc is provided by the RPC extension (cyclone-ext-rpc): "
        "pip install 'cyclone[rpc]'",
        name=__name__,
    ) from None

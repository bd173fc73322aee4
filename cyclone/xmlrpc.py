"""cyclone 1.x's ``cyclone.xmlrpc``, now provided by the ``cyclone-ext-rpc`` extension.

``XmlrpcRequestHandler`` serves ``xmlrpc_<name>`` methods as in 1.x (``allowNone``,
``useDateTime``, ``separator``, sub-handlers, faults 8001 and 8002), with
introspection and ``system.multicall``. Every public name of ``cyclone_ext_rpc``
is re-exported. See docs/rpc.md.
"""

try:
    from cyclone_ext_rpc import *  # noqa: F403 - the extension's public names
    from cyclone_ext_rpc import __all__  # noqa: F401
except ModuleNotFoundError as exc:
    if exc.name != "cyclone_ext_rpc":
        raise
    raise ModuleNotFoundError(
        "cyclone.xmlrpc is provided by the RPC extension (cyclone-ext-rpc): "
        "pip install 'cyclone[rpc]'",
        name=__name__,
    ) from None

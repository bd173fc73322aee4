"""cyclone 1.x's ``cyclone.jsonrpc``, to be provided by the ``cyclone-ext-rpc`` extension.

The JSON-RPC handler will come from it, as the ``jsonrpc`` entry point in
``cyclone.rpc``.

That extension is not part of this release yet: importing this module fails
with a message naming the extra, ``cyclone[rpc]``. When ``cyclone_ext_rpc`` is
installed, this module re-exports its public names.
"""

try:
    from cyclone_ext_rpc import *  # noqa: F403 - the extension's public names
    from cyclone_ext_rpc import __all__  # noqa: F401
except ModuleNotFoundError as exc:
    if exc.name != "cyclone_ext_rpc":
        raise
    raise ModuleNotFoundError(
        "cyclone.jsonrpc is provided by the RPC extension (cyclone-ext-rpc), "
        "which is not available yet in this release of cyclone; "
        "once it is: pip install 'cyclone[rpc]'",
        name=__name__,
    ) from None

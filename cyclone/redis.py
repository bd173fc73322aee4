"""cyclone 1.x's ``cyclone.redis``, to be provided by the ``cyclone-ext-redis`` extension.

``redis://`` services (txredisapi's commands) will come from it, as the
``redis`` entry point in ``cyclone.storage``.

That extension is not part of this release yet: importing this module fails
with a message naming the extra, ``cyclone[redis]``. When ``cyclone_ext_redis`` is
installed, this module re-exports its public names.
"""

try:
    from cyclone_ext_redis import *  # noqa: F403 - the extension's public names
    from cyclone_ext_redis import __all__  # noqa: F401
except ModuleNotFoundError as exc:
    if exc.name != "cyclone_ext_redis":
        raise
    raise ModuleNotFoundError(
        "cyclone.redis is provided by the Redis extension (cyclone-ext-redis), "
        "which is not available yet in this release of cyclone; "
        "once it is: pip install 'cyclone[redis]'",
        name=__name__,
    ) from None

"""cyclone 1.x's ``cyclone.mail``, to be provided by the ``cyclone-ext-mail`` extension.

``smtp://`` and ``smtps://`` services will come from it, as entry points in
``cyclone.mail``.

That extension is not part of this release yet: importing this module fails
with a message naming the extra, ``cyclone[mail]``. When ``cyclone_ext_mail`` is
installed, this module re-exports its public names.
"""

try:
    from cyclone_ext_mail import *  # noqa: F403 - the extension's public names
    from cyclone_ext_mail import __all__  # noqa: F401
except ModuleNotFoundError as exc:
    if exc.name != "cyclone_ext_mail":
        raise
    raise ModuleNotFoundError(
        "cyclone.mail is provided by the mail extension (cyclone-ext-mail), "
        "which is not available yet in this release of cyclone; "
        "once it is: pip install 'cyclone[mail]'",
        name=__name__,
    ) from None

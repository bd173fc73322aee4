"""cyclone 1.x's ``cyclone.mail``, provided by the ``cyclone-ext-mail`` extension.

With ``pip install 'cyclone[mail]'`` this module re-exports the extension's
public names: ``Message(from_addr, to_addrs, subject, message, mime, charset)``,
``sendmail(mailconf, message)``, the ``smtp``/``smtps`` factories and the errors.
Without it, importing this module fails with a message naming that extra.
"""

try:
    from cyclone_ext_mail import *  # noqa: F403 - the extension's public names
    from cyclone_ext_mail import __all__  # noqa: F401
except ModuleNotFoundError as exc:
    if exc.name != "cyclone_ext_mail":
        raise
    raise ModuleNotFoundError(
        "cyclone.mail is provided by the mail extension (cyclone-ext-mail): "
        "pip install 'cyclone[mail]'",
        name=__name__,
    ) from None

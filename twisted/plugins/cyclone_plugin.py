"""twistd plugin: ``twistd -n cyclone -r package.module.Application``.

A drop-in file (``twisted/plugins`` has no ``__init__.py``): Twisted's plugin
system finds it on any ``sys.path`` entry. It imports nothing that installs a
reactor; the work is in :mod:`cyclone._serve`, shared with ``cyclone run``.
"""

from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from twisted.python import usage
from zope.interface import implementer


class Options(usage.Options):
    optParameters = [
        ["app", "r", None, "dotted name of the Application (or a function returning one)"],
        ["port", "p", "8888", "TCP port to listen on (0: any free port)"],
        ["listen", "l", "127.0.0.1", "interface to bind"],
        ["unix", None, None, "listen on this UNIX socket path instead of TCP"],
        ["ssl-cert", None, None, "PEM certificate: serve HTTPS"],
        ["ssl-key", None, None, "PEM private key (defaults to --ssl-cert)"],
    ]
    optFlags = [
        ["debug", None, "show the traceback when the application fails to load"],
    ]

    def postOptions(self) -> None:
        if not self["app"]:
            raise usage.UsageError("--app (-r) is required, e.g. -r myapp.Application")
        from cyclone._serve import ServeError, load_application

        # Load it now: a name that does not import is a usage error, not a traceback.
        try:
            self["application"] = load_application(self["app"])
        except ServeError as e:
            message = str(e)
            cause = e.__cause__
            if cause is not None and self["debug"]:
                import traceback

                traceback.print_exception(type(cause), cause, cause.__traceback__)
            elif getattr(e, "traceback_helps", False):
                message += " (add --debug after 'cyclone' for the traceback)"
            raise usage.UsageError(message) from None


@implementer(IServiceMaker, IPlugin)
class CycloneServiceMaker:
    tapname = "cyclone"
    description = "A cyclone web application."
    options = Options

    def makeService(self, options: Options):  # type: ignore[no-untyped-def]
        from cyclone._serve import make_twistd_service

        return make_twistd_service(options)


serviceMaker = CycloneServiceMaker()

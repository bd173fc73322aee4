"""twistd plugin: ``twistd -n cyclone -r package.module.Application``.

A drop-in file (``twisted/plugins`` has no ``__init__.py``): Twisted's plugin
system finds it on any ``sys.path`` entry.
"""

from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from twisted.python import usage
from zope.interface import implementer


class Options(usage.Options):
    optParameters = [
        ["app", "r", None, "dotted name of the Application (or a function returning one)"],
        ["port", "p", "8888", "TCP port to listen on"],
        ["listen", "l", "127.0.0.1", "interface to bind"],
        ["unix", None, None, "listen on this UNIX socket path instead of TCP"],
        ["ssl-cert", None, None, "PEM certificate: serve HTTPS"],
        ["ssl-key", None, None, "PEM private key (defaults to --ssl-cert)"],
    ]

    def postOptions(self) -> None:
        if not self["app"]:
            raise usage.UsageError("--app (-r) is required, e.g. -r myapp.Application")


@implementer(IServiceMaker, IPlugin)
class CycloneServiceMaker:
    tapname = "cyclone"
    description = "A cyclone web application."
    options = Options

    def makeService(self, options: Options):  # type: ignore[no-untyped-def]
        from twisted.application import strports

        from cyclone._serve import endpoint_description, load_application

        app = load_application(options["app"], command="twistd cyclone")
        description = endpoint_description(
            options["port"],
            options["listen"],
            options["unix"],
            options["ssl-cert"],
            options["ssl-key"],
        )
        return strports.service(description, app)


serviceMaker = CycloneServiceMaker()

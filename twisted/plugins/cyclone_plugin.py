"""twistd plugin: ``twistd -n cyclone -r package.module.Application``.

A drop-in file (``twisted/plugins`` has no ``__init__.py``): Twisted's plugin
system finds it on any ``sys.path`` entry. It imports nothing that installs a
reactor; the options are :data:`cyclone._options.OPTIONS` (shared with
``cyclone run``) and the work is in :mod:`cyclone._serve`.
"""

from __future__ import annotations

import getopt
import sys
from typing import Any

from twisted.application.reactors import Reactor
from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from twisted.python import usage
from zope.interface import implementer

from cyclone._options import OPTIONS


class Options(usage.Options):
    optParameters = [
        [option.long, option.short, option.default, option.help, option.type]
        if option.type is not str
        else [option.long, option.short, option.default, option.help]
        for option in OPTIONS
    ]
    optFlags = [
        ["debug", None, "show the traceback when the application fails to load"],
    ]

    def parseOptions(self, options: list[str] | None = None) -> None:
        # Which options the command line set (a default --ssl-cert means no TLS on --port).
        self.given: set[str] = set()
        args = sys.argv[1:] if options is None else list(options)
        try:
            found, _ = getopt.getopt(args, self.shortOpt, self.longOpt)
        except getopt.error:
            found = []  # the parse below reports it
        for opt, _value in found:
            name = opt[2:] if opt.startswith("--") else opt[1:]
            synonyms = self.synonyms
            self.given.add(synonyms.get(name) or synonyms.get(name.replace("-", "_"), name))
        super().parseOptions(options)

    def postOptions(self) -> None:
        from cyclone._options import plan_listeners
        from cyclone._serve import ServeError, load_applications

        try:
            self["listeners"] = plan_listeners(self, self.given)
        except ValueError as e:
            raise usage.UsageError(str(e)) from None
        # Load now: a name that does not import is a usage error, not a traceback.
        try:
            self["applications"] = load_applications(self["listeners"])
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

    def makeService(self, options: Options) -> Any:
        from cyclone._serve import make_twistd_service

        return make_twistd_service(options)


serviceMaker = CycloneServiceMaker()

# ``twistd --reactor uvloop``: Twisted's asyncio reactor on a uvloop event loop
# (cyclone._reactors.install; needs ``pip install uvloop``).
uvloopReactor = Reactor("uvloop", "cyclone._reactors", "asyncio reactor on uvloop (cyclone)")

# ``twistd --reactor cyclone``: Twisted's epoll reactor with cyclone's leaner
# dispatch of ready sockets (cyclone.epollreactor; cyclone run's default).
cycloneReactor = Reactor(
    "cyclone", "cyclone.epollreactor", "epoll reactor with a leaner socket dispatch (cyclone)"
)

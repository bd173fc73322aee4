"""The ``cyclone`` command: ``cyclone run`` serves an application.

``cyclone run -r package.module.Application`` imports the name (an Application,
or a callable returning one), listens, prints the URL it serves and runs the
reactor until SIGINT/SIGTERM, then stops listening and lets in-flight requests
finish; a second signal closes the connections still open. When the application
does not load or the address cannot be listened on, it prints one line saying
why and exits with status 1 (``--debug`` adds the traceback).

``cyclone plugins [--check]`` lists every entry-point group with the names
installed in it, the distribution that provides each, and whether it loads.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from cyclone import version
from cyclone._serve import (
    ServeError,
    install_second_signal_handlers,
    listen,
    load_application,
    make_endpoint,
    print_error,
    served_url,
)


def _cmd_run(args: argparse.Namespace) -> int:
    from twisted.internet import reactor
    from twisted.logger import (
        FilteringLogObserver,
        Logger,
        LogLevel,
        LogLevelFilterPredicate,
        globalLogBeginner,
        textFileLogObserver,
    )

    try:
        app = load_application(args.app)
        endpoint = make_endpoint(
            reactor, args.port, args.listen, args.unix, args.ssl_cert, args.ssl_key
        )
        port = listen(endpoint, app, args.port, args.listen, args.unix)
    except ServeError as e:
        print_error("cyclone run", e, debug=args.debug)
        return 1

    tls = bool(args.ssl_cert) and not args.unix
    print(f"cyclone run: serving {args.app} on {served_url(port.getHost(), tls)}", flush=True)
    if args.quiet:
        # No request log; warnings and errors still reach stderr.
        observer: Any = FilteringLogObserver(
            textFileLogObserver(sys.stderr),
            [LogLevelFilterPredicate(defaultLogLevel=LogLevel.warn)],
        )
    else:
        observer = textFileLogObserver(sys.stdout)
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)
    log = Logger(namespace="cyclone")
    reactor.callWhenRunning(install_second_signal_handlers, reactor, app, log)
    reactor.run()
    return 0


def _cmd_plugins(args: argparse.Namespace) -> int:
    from cyclone import plugins

    failures = 0
    for group in plugins.GROUPS:
        print(group)
        rows = []
        for info in plugins.describe(group):
            try:
                plugins.load(group, info.name)
                status = "ok"
            except plugins.PluginError as e:
                failures += 1
                status = f"error: {e}"
            rows.append((info.name, f"{info.distribution} {info.version}", info.value, status))
        if not rows:
            print("  (none installed)")
        widths = [max(len(row[i]) for row in rows) for i in range(3)] if rows else []
        for name, provider, value, status in rows:
            print(f"  {name:<{widths[0]}}  {provider:<{widths[1]}}  {value:<{widths[2]}}  {status}")
    return 1 if args.check and failures else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cyclone", description="cyclone web framework")
    parser.add_argument("--version", action="version", version=f"cyclone {version}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="serve an application")
    run.add_argument("-r", "--app", required=True, help="dotted name of the Application")
    run.add_argument("-p", "--port", type=int, default=8888)
    run.add_argument("-l", "--listen", default="127.0.0.1", help="interface to bind")
    run.add_argument("--unix", help="listen on this UNIX socket path instead of TCP")
    run.add_argument("--ssl-cert", help="PEM certificate: serve HTTPS")
    run.add_argument("--ssl-key", help="PEM private key (defaults to --ssl-cert)")
    run.add_argument(
        "-q", "--quiet", action="store_true", help="no request log (warnings still go to stderr)"
    )
    run.add_argument(
        "--debug", action="store_true", help="show the traceback when the application fails to load"
    )
    run.set_defaults(func=_cmd_run)
    listing = sub.add_parser(
        "plugins", help="list installed extensions by entry-point group, and whether they load"
    )
    listing.add_argument(
        "--check", action="store_true", help="exit with status 1 if any plugin fails to load"
    )
    listing.set_defaults(func=_cmd_plugins)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

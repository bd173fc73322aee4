"""The ``cyclone`` command: ``cyclone run`` serves an application.

``cyclone run -r package.module.Application`` imports the name (an Application,
or a callable returning one), listens, prints the URL it serves and runs the
reactor until SIGINT/SIGTERM, then stops listening and lets in-flight requests
finish; a second signal closes the connections still open. When the application
does not load or the address cannot be listened on, it prints one line saying
why and exits with status 1 (``--debug`` adds the traceback). It takes the
options of ``twistd cyclone`` (:data:`cyclone._options.OPTIONS`), and in addition
``-w N`` (N worker processes on the same sockets, see :mod:`cyclone._supervisor`)
and ``--reload`` (restart on a change of the app's files; ``debug=True`` implies it).

``cyclone app -p NAME`` creates a project from a skeleton (:mod:`cyclone._skeleton`).

``cyclone plugins [--check]`` lists every entry-point group with the names
installed in it, the distribution that provides each, and whether it loads.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from cyclone import version
from cyclone._options import DEFAULTS, OPTIONS, plan_listeners
from cyclone._serve import (
    ServeError,
    install_second_signal_handlers,
    listen_all,
    load_applications,
    print_error,
    served_url,
    start_logging,
)


def _option_values(args: argparse.Namespace) -> tuple[dict[str, Any], set[str]]:
    """The shared options' values (defaults filled in) and the names the user gave."""
    values: dict[str, Any] = {}
    given: set[str] = set()
    for option in OPTIONS:
        value = getattr(args, option.long.replace("-", "_"))
        if value is None:
            value = DEFAULTS[option.long]
        else:
            given.add(option.long)
        values[option.long] = value
    return values, given


def _wants_reload(args: argparse.Namespace, apps: dict[Any, Any]) -> bool:
    if args.no_reload:
        return False
    if args.reload:
        return True
    # As in Tornado, debug=True implies autoreload=True unless the app says otherwise.
    return any(
        app.settings.get("autoreload", app.settings.get("debug", False)) for app in apps.values()
    )


def _cmd_run(args: argparse.Namespace) -> int:
    # Before anything imports twisted.internet.reactor.
    from cyclone._reactors import ReactorError, install_named

    try:
        install_named(args.reactor)
    except ReactorError as e:
        print(f"cyclone run: {e}", file=sys.stderr, flush=True)
        return 2
    values, given = _option_values(args)
    try:
        listeners = plan_listeners(values, given)
    except ValueError as e:
        print(f"cyclone run: {e}", file=sys.stderr, flush=True)
        return 2
    if args.worker_fds is not None:
        from cyclone._worker import run_worker

        fds = [int(n) for n in args.worker_fds.split(",")]
        return run_worker(listeners, fds, args.ready_fd, args.standby, args.quiet)

    from twisted.internet import reactor
    from twisted.logger import Logger

    try:
        apps = load_applications(listeners)
        workers = args.workers if args.workers is not None else 1
        if workers < 0:
            raise ServeError(f"-w/--workers takes 0 (one per core) or more, not {workers}")
        if workers == 0:
            workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
            workers = workers or os.cpu_count() or 1
        reload = _wants_reload(args, apps)
        if workers == 1 and not reload:
            ports = listen_all(reactor, listeners, apps)
            urls = [
                served_url(port.getHost(), listener.tls and not listener.unix)
                for listener, port in zip(listeners, ports, strict=True)
            ]
        else:
            from cyclone._supervisor import Supervisor

            log = Logger(namespace="cyclone")
            supervisor = Supervisor(reactor, args.argv, listeners, apps, workers, reload, log)
            urls = supervisor.open_sockets()
    except ServeError as e:
        print_error("cyclone run", e, debug=args.debug)
        return 1

    for listener, url in zip(listeners, urls, strict=True):
        print(f"cyclone run: serving {listener.app} on {url}", flush=True)
    start_logging(args.quiet)
    log = Logger(namespace="cyclone")
    if workers == 1 and not reload:
        reactor.callWhenRunning(install_second_signal_handlers, reactor, list(apps.values()), log)
    else:
        what = f"{workers} worker process{'es' if workers > 1 else ''}"
        print(f"cyclone run: {what}{', reloading on changes' if reload else ''}", flush=True)
        reactor.callWhenRunning(supervisor.start)
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
    run = sub.add_parser(
        "run",
        help="serve an application",
        description="Serve an application: the options of 'twistd cyclone', and workers"
        " and reloading.",
    )
    for option in OPTIONS:
        flags = ([f"-{option.short}"] if option.short else []) + [f"--{option.long}"]
        shown = f" (default: {option.default})" if option.default is not None else ""
        run.add_argument(
            *flags,
            type=option.type,
            default=None,
            metavar=option.metavar,
            help=option.help + shown,
        )
    run.add_argument(
        "-w",
        "--workers",
        type=int,
        metavar="N",
        help="N processes serving the same sockets, restarted when they die (0: one per core)",
    )
    run.add_argument(
        "--reload",
        action="store_true",
        help="restart when a Python file, template or static file of the app changes"
        " (implied by debug=True in the Application)",
    )
    run.add_argument("--no-reload", action="store_true", help="do not reload, even with debug=True")
    run.add_argument(
        "-q", "--quiet", action="store_true", help="no request log (warnings still go to stderr)"
    )
    run.add_argument(
        "--debug", action="store_true", help="show the traceback when the application fails to load"
    )
    run.add_argument(
        "--reactor",
        default="default",
        choices=("default", "epoll", "asyncio", "uvloop"),
        help="the event loop: cyclone's epoll reactor (default), Twisted's own epoll, "
        "asyncio, or asyncio on uvloop",
    )
    # Set by the supervisor for its workers (cyclone._worker), not by users.
    run.add_argument("--worker-fds", help=argparse.SUPPRESS)
    run.add_argument("--ready-fd", type=int, help=argparse.SUPPRESS)
    run.add_argument("--standby", action="store_true", help=argparse.SUPPRESS)
    run.set_defaults(func=_cmd_run)
    listing = sub.add_parser(
        "plugins", help="list installed extensions by entry-point group, and whether they load"
    )
    listing.add_argument(
        "--check", action="store_true", help="exit with status 1 if any plugin fails to load"
    )
    listing.set_defaults(func=_cmd_plugins)
    from cyclone._skeleton import add_parser as add_app_parser

    add_app_parser(sub)  # cyclone app: project skeletons
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    # What followed "run": the supervisor starts its workers with the same options.
    args.argv = argv[argv.index("run") + 1 :] if "run" in argv else []
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

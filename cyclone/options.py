"""Tornado's command-line and config-file options: ``define``, ``options``, ``parse_*``.

Each module defines the options it reads, and the program parses them once::

    from cyclone.options import define, options, parse_command_line

    define("port", default=8888, help="the port to listen on")
    define("backends", type=str, multiple=True, group="db")

    parse_command_line()          # --port=9000 --backends=a,b
    reactor.listenTCP(options.port, app)

Names and behaviour follow ``tornado.options`` (``OptionParser``, ``Error``,
``mockable``, groups, parse callbacks, dashes and underscores interchangeable);
``tests/core/test_options_tornado.py`` runs Tornado's own option tests against it.
Differences: a value that cannot be converted is an :class:`Error` naming the
option (Tornado lets the converter's exception through), and a bool is only
``1/0``, ``true/false``, ``t/f``, ``yes/no``, ``on/off`` (Tornado takes any
other word as true).
"""

from __future__ import annotations

import datetime
import logging
import logging.handlers
import numbers
import os
import re
import sys
import textwrap
from collections.abc import Callable, Iterator
from typing import Any, TextIO

__all__ = [
    "Error",
    "OptionParser",
    "OptionValueError",
    "add_parse_callback",
    "define",
    "define_logging_options",
    "options",
    "parse_command_line",
    "parse_config_file",
    "print_help",
]


class Error(Exception):
    """A bad definition, an unknown option or a value that does not fit its option."""


class OptionValueError(Error, ValueError):
    """A value that cannot be converted to its option's type (also a ``ValueError``)."""


_UNSET: Any = object()

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})

_DATETIME_FORMATS = (
    "%a %b %d %H:%M:%S %Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d %H:%M",
    "%Y-%m-%d",
    "%Y%m%d",
    "%H:%M:%S",
    "%H:%M",
)

# A duration is one or more "<number> <unit>" terms; a number alone is seconds.
_UNITS = {
    "weeks": ("w", "wk", "wks", "week", "weeks"),
    "days": ("d", "day", "days"),
    "hours": ("h", "hr", "hrs", "hour", "hours"),
    "minutes": ("m", "min", "mins", "minute", "minutes"),
    "seconds": ("", "s", "sec", "secs", "second", "seconds"),
    "milliseconds": ("ms", "msec", "millisecond", "milliseconds"),
    "microseconds": ("us", "usec", "microsecond", "microseconds"),
}
_UNIT_OF = {spelling: unit for unit, spellings in _UNITS.items() for spelling in spellings}
_DURATION_TERM = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zA-Z]*)\s*,?")


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _parse_datetime(text: str) -> datetime.datetime:
    text = text.strip()
    for layout in _DATETIME_FORMATS:
        try:
            return datetime.datetime.strptime(text, layout)
        except ValueError:
            continue
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"unrecognized date/time {text!r}") from None


def _parse_timedelta(text: str) -> datetime.timedelta:
    total = datetime.timedelta()
    position, text = 0, text.strip()
    if not text:
        raise ValueError("empty duration")
    while position < len(text):
        match = _DURATION_TERM.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"unrecognized duration {text!r} (e.g. 45s, 1h 30m, 2 days)")
        unit = _UNIT_OF.get(match.group(2).lower())
        if unit is None:
            raise ValueError(f"unknown unit {match.group(2)!r} in duration {text!r}")
        total += datetime.timedelta(**{unit: float(match.group(1))})
        position = match.end()
    return total


def _normalize(name: str) -> str:
    return name.replace("_", "-")


class _Option:
    """One defined option: its type, default and current value."""

    def __init__(
        self,
        name: str,
        default: Any,
        type: type,
        help: str | None,
        metavar: str | None,
        multiple: bool,
        file_name: str,
        group_name: str,
        callback: Callable[[Any], None] | None,
    ) -> None:
        if default is None and multiple:
            default = []
        self.name = name
        self.default = default
        self.type = type
        self.help = help
        self.metavar = metavar
        self.multiple = multiple
        self.file_name = file_name
        self.group_name = group_name
        self.callback = callback
        self._value: Any = _UNSET

    def value(self) -> Any:
        return self.default if self._value is _UNSET else self._value

    def _convert(self, text: str) -> Any:
        if self.type is bool:
            return _parse_bool(text)
        if self.type is str:
            return text
        if self.type is datetime.datetime:
            return _parse_datetime(text)
        if self.type is datetime.timedelta:
            return _parse_timedelta(text)
        return self.type(text)

    def parse(self, text: str) -> Any:
        """Set the value from its text form (``1,3,5:7`` for a multiple int)."""
        try:
            if not self.multiple:
                value = self._convert(text)
            else:
                value = []
                for part in text.split(","):
                    low, colon, high = part.partition(":")
                    if colon and issubclass(self.type, numbers.Integral):
                        value.extend(range(int(low), int(high) + 1))
                    else:
                        value.append(self._convert(part))
        except Error:
            raise
        except (ValueError, TypeError, OverflowError) as e:
            kind = f"a list of {self.type.__name__}" if self.multiple else self.type.__name__
            raise OptionValueError(
                f"Option {self.name!r}: {text!r} is not {kind} ({type(e).__name__}: {e})"
            ) from e
        self._assign(value)
        return self.value()

    def set(self, value: Any) -> None:
        """Set an already typed value (a list of them for a multiple option)."""
        if self.multiple:
            if not isinstance(value, list) or any(not isinstance(v, self.type) for v in value):
                raise Error(
                    f"Option {self.name!r} is required to be a list of "
                    f"{self.type.__name__} ({type(value).__name__} given)"
                )
        elif value is not None and not isinstance(value, self.type):
            raise Error(
                f"Option {self.name!r} is required to be a {self.type.__name__} "
                f"({type(value).__name__} given)"
            )
        self._assign(value)

    def _assign(self, value: Any) -> None:
        self._value = value
        if self.callback is not None:
            self.callback(value)


class OptionParser:
    """A set of options. Most programs use the module's global :data:`options`.

    Options are read and written as attributes (``options.port``) or items
    (``options["log-file"]``); dashes and underscores in names are the same.
    """

    def __init__(self) -> None:
        # Attribute writes go to the options, so our own state is set directly.
        self.__dict__["_options"] = {}
        self.__dict__["_parse_callbacks"] = []
        self.define(
            "help",
            type=bool,
            help="show this help information",
            callback=self._help_callback,
        )

    # -- access ---------------------------------------------------------------------

    def _option(self, name: str) -> _Option:
        option = self._options.get(_normalize(name))
        if option is None:
            raise AttributeError(f"Unrecognized option {name!r}")
        return option

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._option(name).value()

    def __setattr__(self, name: str, value: Any) -> None:
        self._option(name).set(value)

    def __getitem__(self, name: str) -> Any:
        return self._option(name).value()

    def __setitem__(self, name: str, value: Any) -> None:
        self._option(name).set(value)

    def __iter__(self) -> Iterator[str]:
        return (option.name for option in self._options.values())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _normalize(name) in self._options

    def items(self) -> list[tuple[str, Any]]:
        """``(name, value)`` of every option, as defined."""
        return [(option.name, option.value()) for option in self._options.values()]

    def groups(self) -> set[str]:
        """The group names (a group is the defining file unless ``group=`` names one)."""
        return {option.group_name for option in self._options.values()}

    def group_dict(self, group: str) -> dict[str, Any]:
        """``{name: value}`` of the options in ``group`` (all of them for ``""``)."""
        return {
            option.name: option.value()
            for option in self._options.values()
            if not group or option.group_name == group
        }

    def as_dict(self) -> dict[str, Any]:
        """``{name: value}`` of every option."""
        return dict(self.items())

    # -- definition -----------------------------------------------------------------

    def define(
        self,
        name: str,
        default: Any = None,
        type: type | None = None,
        help: str | None = None,
        metavar: str | None = None,
        multiple: bool = False,
        group: str | None = None,
        callback: Callable[[Any], None] | None = None,
    ) -> None:
        """Define an option.

        ``type`` defaults to the type of ``default`` (``str`` when there is none
        or ``multiple`` is set); ``multiple`` takes a comma-separated list (int
        ranges as ``lo:hi``); ``group`` places it in ``print_help`` and
        ``group_dict`` (the defining file by default); ``callback(value)`` runs
        whenever a value is set. Defining a name twice is an :class:`Error`.
        """
        key = _normalize(name)
        if key in self._options:
            where = self._options[key].file_name or "cyclone.options"
            raise Error(f"Option {key!r} already defined in {where}")
        if type is None:
            type = default.__class__ if default is not None and not multiple else str
        if not callable(type):
            raise Error(f"Option {name!r}: type must be a type or a converter, got {type!r}")
        file_name = _defining_file()
        self._options[key] = _Option(
            name,
            default,
            type,
            help,
            metavar,
            multiple,
            file_name,
            group if group is not None else file_name,
            callback,
        )

    # -- parsing --------------------------------------------------------------------

    def parse_command_line(self, args: list[str] | None = None, final: bool = True) -> list[str]:
        """Set options from ``args`` (``sys.argv`` by default; ``args[0]`` is the program).

        Options come first as ``--name=value`` (a bool may omit ``=value``);
        the arguments from the first one that is not an option (or after
        ``--``) are returned. With ``final`` the parse callbacks run.
        """
        if args is None:
            args = sys.argv
        rest: list[str] = []
        for index in range(1, len(args)):
            arg = args[index]
            if arg == "--":
                rest = args[index + 1 :]
                break
            if not arg.startswith("-"):
                rest = args[index:]
                break
            name, equals, text = arg.lstrip("-").partition("=")
            key = _normalize(name)
            option = self._options.get(key)
            if option is None:
                self.print_help()
                raise Error(f"Unrecognized command line option: {key!r}")
            if not equals:
                if option.type is not bool:
                    raise Error(f"Option {key!r} requires a value")
                text = "true"
            option.parse(text)
        if final:
            self.run_parse_callbacks()
        return rest

    def parse_config_file(self, path: str, final: bool = True) -> None:
        """Set options from a Python file of ``name = value`` lines.

        The file runs with ``__file__`` set to its path; names that are not
        options are ignored. String values are parsed as on the command line
        (unless the option is a plain ``str``), others must have the option's
        type. With ``final`` the parse callbacks run.
        """
        config: dict[str, Any] = {"__file__": os.path.abspath(path)}
        with open(path, "rb") as f:
            code = compile(f.read(), path, "exec")
        exec(code, config, config)
        for name, value in config.items():
            option = self._options.get(_normalize(name))
            if option is None:
                continue
            if option.multiple and not isinstance(value, list | str):
                raise Error(
                    f"Option {option.name!r} is required to be a list of "
                    f"{option.type.__name__} or a comma-separated string "
                    f"({type(value).__name__} given in {path})"
                )
            if isinstance(value, str) and (option.type is not str or option.multiple):
                option.parse(value)
            else:
                option.set(value)
        if final:
            self.run_parse_callbacks()

    def add_parse_callback(self, callback: Callable[[], None]) -> None:
        """Run ``callback()`` after each final parse."""
        self._parse_callbacks.append(callback)

    def run_parse_callbacks(self) -> None:
        """Run the parse callbacks, in the order they were added."""
        for callback in self._parse_callbacks:
            callback()

    # -- help -----------------------------------------------------------------------

    def print_help(self, file: TextIO | None = None) -> None:
        """Write the usage and every option, by group, to ``file`` (stderr by default)."""
        out = sys.stderr if file is None else file
        program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "program"
        print(f"Usage: {program} [OPTIONS]", file=out)
        print("\nOptions:\n", file=out)
        by_group: dict[str, list[_Option]] = {}
        for option in self._options.values():
            by_group.setdefault(option.group_name, []).append(option)
        for group in sorted(by_group):
            if group:
                print(f"\n{os.path.normpath(group)} options:\n", file=out)
            for option in sorted(by_group[group], key=lambda o: o.name):
                self._print_option(option, out)
        print(file=out)

    @staticmethod
    def _print_option(option: _Option, out: TextIO) -> None:
        flag = "--" + _normalize(option.name)
        if option.metavar:
            flag += "=" + option.metavar
        text = option.help or ""
        if option.default is not None and option.default != "" and option.default != []:
            text += f" (default {option.default})"
        lines = textwrap.wrap(text, 79 - 30) or [""]
        if len(flag) > 26:
            print(f"  {flag}", file=out)
            flag = ""
        print(f"  {flag:<26}  {lines[0]}".rstrip(), file=out)
        for line in lines[1:]:
            print(f"{'':30}{line}", file=out)

    def _help_callback(self, value: bool) -> None:
        if value:
            self.print_help()
            sys.exit(0)

    # -- tests ----------------------------------------------------------------------

    def mockable(self) -> _Mockable:
        """An object for ``mock.patch.object(options.mockable(), "name", value)``."""
        return _Mockable(self)


class _Mockable:
    """Attribute access for ``mock.patch``: setting saves the old value, deleting restores it."""

    def __init__(self, parser: OptionParser) -> None:
        self.__dict__["_parser"] = parser
        self.__dict__["_saved"] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._saved:
            raise Error(f"Option {name!r} is already patched through this object")
        self._saved[name] = getattr(self._parser, name)
        setattr(self._parser, name, value)

    def __delattr__(self, name: str) -> None:
        setattr(self._parser, name, self._saved.pop(name))


def _defining_file() -> str:
    """The file whose code called ``define`` (``""`` for this module's own options)."""
    frame = sys._getframe(2)  # 0: here, 1: OptionParser.define, 2: its caller
    here = __file__
    if frame.f_code.co_filename == here and frame.f_code.co_name == "define":
        frame = frame.f_back or frame  # the module-level define()
    name = frame.f_code.co_filename
    return "" if name == here else name


options = OptionParser()
"""The global options; the module's functions act on it."""


def define(
    name: str,
    default: Any = None,
    type: type | None = None,
    help: str | None = None,
    metavar: str | None = None,
    multiple: bool = False,
    group: str | None = None,
    callback: Callable[[Any], None] | None = None,
) -> None:
    """Define an option of the global :data:`options` (see :meth:`OptionParser.define`)."""
    options.define(name, default, type, help, metavar, multiple, group, callback)


def parse_command_line(args: list[str] | None = None, final: bool = True) -> list[str]:
    """Parse the command line into the global :data:`options`; the other arguments."""
    return options.parse_command_line(args, final=final)


def parse_config_file(path: str, final: bool = True) -> None:
    """Parse a config file into the global :data:`options`."""
    options.parse_config_file(path, final=final)


def print_help(file: TextIO | None = None) -> None:
    """Print the help of the global :data:`options`."""
    options.print_help(file)


def add_parse_callback(callback: Callable[[], None]) -> None:
    """Run ``callback()`` after each final parse of the global :data:`options`."""
    options.add_parse_callback(callback)


# -- logging ---------------------------------------------------------------------------

_LOG_LEVELS = ("debug", "info", "warning", "error", "none")
_INSTALLED_HANDLERS: list[logging.Handler] = []


def define_logging_options(parser: OptionParser | None = None) -> None:
    """Define Tornado's logging options (``--logging=debug``, ``--log-file-prefix``...).

    A final parse then sets up the standard library's root logger: its level,
    and a stderr and/or rotating-file handler. ``--logging=none`` leaves it alone.
    The global :data:`options` have them already.
    """
    parser = options if parser is None else parser
    parser.define(
        "logging",
        default="info",
        metavar="debug|info|warning|error|none",
        help="level of the Python logging messages; 'none' leaves logging alone",
    )
    parser.define(
        "log_to_stderr",
        type=bool,
        help="send log output to stderr (by default only when there is no log file)",
    )
    parser.define(
        "log_file_prefix",
        type=str,
        metavar="PATH",
        help="path of the log file (rotated by size or time)",
    )
    parser.define(
        "log_file_max_size", type=int, default=100 * 1000 * 1000, help="bytes before rotating"
    )
    parser.define("log_file_num_backups", type=int, default=10, help="rotated files to keep")
    parser.define(
        "log_rotate_mode", type=str, default="size", metavar="size|time", help="how to rotate"
    )
    parser.define(
        "log_rotate_when", type=str, default="midnight", help="'time' mode: S, M, H, D or midnight"
    )
    parser.define("log_rotate_interval", type=int, default=1, help="'time' mode: how many units")
    parser.add_parse_callback(lambda: _configure_logging(parser))


def _configure_logging(parser: OptionParser) -> None:
    level = str(parser.logging or "none").lower()
    if level == "none":
        return
    if level not in _LOG_LEVELS:
        raise Error(f"Option 'logging': {level!r} is not one of {', '.join(_LOG_LEVELS)}")
    root = logging.getLogger()
    root.setLevel(getattr(logging, level.upper()))
    while _INSTALLED_HANDLERS:  # a later final parse replaces what an earlier one set up
        old = _INSTALLED_HANDLERS.pop()
        root.removeHandler(old)
        old.close()
    handlers: list[logging.Handler] = []
    if parser.log_file_prefix:
        if parser.log_rotate_mode == "time":
            handlers.append(
                logging.handlers.TimedRotatingFileHandler(
                    parser.log_file_prefix,
                    when=parser.log_rotate_when,
                    interval=parser.log_rotate_interval,
                    backupCount=parser.log_file_num_backups,
                    encoding="utf-8",
                )
            )
        elif parser.log_rotate_mode == "size":
            handlers.append(
                logging.handlers.RotatingFileHandler(
                    parser.log_file_prefix,
                    maxBytes=parser.log_file_max_size,
                    backupCount=parser.log_file_num_backups,
                    encoding="utf-8",
                )
            )
        else:
            raise Error(
                f"Option 'log_rotate_mode': {parser.log_rotate_mode!r} is not 'size' or 'time'"
            )
    if parser.log_to_stderr or (parser.log_to_stderr is None and not handlers):
        handlers.append(logging.StreamHandler())
    formatter = logging.Formatter(
        "[%(levelname)1.1s %(asctime)s %(module)s:%(lineno)d] %(message)s"
    )
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
        _INSTALLED_HANDLERS.append(handler)


define_logging_options(options)

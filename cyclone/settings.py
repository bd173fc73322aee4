"""The Application settings the framework reads, declared once.

Each setting is a :class:`Setting`: its name, its type, its default and one
line of documentation. Framework code reads a setting through its declaration
(``STATIC_PATH.of(self.settings)``), so the default lives in one place and the
reader gets a typed value. Extensions declare their own settings with
:func:`declare` when they are imported.

:func:`check_settings` runs when an Application is built: a value of the wrong
type raises :class:`TypeError` naming the setting, and an unknown key that
looks like a typo of a known one gets an :class:`UnknownSettingWarning` naming
the known one. Other unknown keys are the application's own and pass silently.

``docs/settings.md`` is generated from these declarations
(``python -m cyclone.settings > docs/settings.md``); a test keeps it current.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from cyclone.httputil import HTTPLimits

T = TypeVar("T")

__all__ = [
    "SETTINGS",
    "Setting",
    "UnknownSettingWarning",
    "check_settings",
    "declare",
    "declared",
    "markdown_table",
]


class UnknownSettingWarning(UserWarning):
    """An Application setting key that is close to, but not, a declared one."""


@dataclasses.dataclass(frozen=True)
class Setting(Generic[T]):
    """One Application setting: name, accepted types, default and documentation.

    ``types`` are the classes a value may be an instance of; ``None`` is always
    accepted where the default is ``None``. An empty ``types`` accepts anything
    (settings used only for their truth, or objects of the user's own classes).
    """

    name: str
    default: T
    doc: str
    types: tuple[type, ...] = ()
    section: str = "general"
    owner: str = "cyclone"

    def of(self, settings: Mapping[str, Any]) -> T:
        """The value of this setting in ``settings``, or its default."""
        return settings.get(self.name, self.default)

    def check(self, value: Any) -> None:
        """Raise TypeError when ``value`` is not of an accepted type."""
        if not self.types or (value is None and (self.default is None or _NONE in self.types)):
            return
        if isinstance(value, bool) and bool not in self.types:
            # True is an int to Python, but never a size or a timeout.
            pass
        elif isinstance(value, self.types):
            return
        expected = " or ".join(_type_name(t) for t in self.types)
        raise TypeError(
            f"setting {self.name!r} must be {expected}, not {type(value).__name__} ({value!r})"
        )

    @property
    def type_text(self) -> str:
        """The accepted types as the docs table shows them."""
        if not self.types:
            return "any"
        names = [_type_name(t) for t in self.types if t is not _NONE]
        if self.default is None or _NONE in self.types:
            names.append("None")
        return " or ".join(names)


_NONE = type(None)


def _type_name(t: type) -> str:
    return {os.PathLike: "PathLike", Callable: "callable"}.get(t, t.__name__)  # type: ignore[call-overload]


SETTINGS: dict[str, Setting[Any]] = {}


def declare(setting: Setting[T]) -> Setting[T]:
    """Add ``setting`` to the declared settings and return it.

    Declaring the same name twice with a different declaration is an error, so
    two extensions cannot silently give one key two meanings.
    """
    known = SETTINGS.get(setting.name)
    if known is not None and known != setting:
        raise ValueError(f"setting {setting.name!r} is already declared by {known.owner}")
    SETTINGS[setting.name] = setting
    return setting


def declared() -> Iterator[Setting[Any]]:
    """Every declared setting, in declaration order."""
    return iter(list(SETTINGS.values()))


def _setting(
    name: str, default: Any, doc: str, *types: type, section: str = "general"
) -> Setting[Any]:
    return declare(Setting(name, default, doc, types, section))


_PATH = (str, os.PathLike)
_NUMBER = (int, float)

# -- general ----------------------------------------------------------------------
DEBUG = _setting(
    "debug",
    False,
    "Development mode: turns on serve_traceback and turns off the template and "
    "static-hash caches (each unless set).",
)
SERVE_TRACEBACK = _setting(
    "serve_traceback", False, "Error pages show the traceback (never in production)."
)
LOG_FUNCTION = _setting(
    "log_function",
    None,
    "Called with the handler after each request instead of the access log.",
    Callable,  # type: ignore[arg-type]
)
ACCESS_LOG_FILE = _setting(
    "access_log_file",
    None,
    "Write the access log straight to this file (appended, a batch of lines per write) "
    "instead of as twisted.logger events.",
    *_PATH,
)
ACCESS_LOG_FLUSH_INTERVAL = _setting(
    "access_log_flush_interval",
    1.0,
    "Seconds between access-log writes (0 to 60; 0: each line as its request ends). "
    "A crash loses at most this interval's lines; a clean stop loses none.",
    *_NUMBER,
)
SERVICES = _setting(
    "services",
    None,
    "Named storage services (`{'db': 'sqlite:///app.db'}`), started with the server "
    "and reachable as `self.settings.db` (checked by the service set).",
)
SHUTDOWN_TIMEOUT = _setting(
    "shutdown_timeout",
    10.0,
    "Seconds a graceful stop waits for requests in flight before closing connections.",
    *_NUMBER,
)
XHEADERS = _setting(
    "xheaders",
    False,
    "Trust X-Real-Ip / X-Forwarded-For / X-Scheme from a proxy for remote_ip and protocol.",
)
COMPRESS_RESPONSE = _setting(
    "compress_response", False, "gzip responses for clients that accept it."
)
GZIP = _setting("gzip", False, "Old name of compress_response.")
DEFAULT_HANDLER_CLASS = _setting(
    "default_handler_class",
    None,
    "Handler (or dotted name) for paths no route matches, instead of a 404.",
    type,
    str,
    section="routing",
)
DEFAULT_HANDLER_ARGS = _setting(
    "default_handler_args",
    None,
    "Keyword arguments for default_handler_class's initialize.",
    dict,
    section="routing",
)
SERIALIZE_LISTS = _setting(
    "serialize_lists",
    False,
    "write() accepts a list and sends it as JSON (off: lists are refused, as in Tornado).",
    section="output",
)

# -- security ---------------------------------------------------------------------
COOKIE_SECRET = _setting(
    "cookie_secret",
    None,
    "Key for signed cookies; a dict of {version: key} rotates keys (with key_version).",
    str,
    bytes,
    dict,
    section="security",
)
KEY_VERSION = _setting(
    "key_version",
    None,
    "Which key of a dict cookie_secret signs new cookies.",
    int,
    section="security",
)
SIGNED_VALUE_MIN_VERSION = _setting(
    "signed_value_min_version",
    None,
    "Oldest signed-value format accepted when reading a signed cookie (None: 1, so "
    "cyclone 1.x cookies still read).",
    int,
    section="security",
)
XSRF_COOKIES = _setting(
    "xsrf_cookies",
    False,
    "Require the _xsrf token on POST, PUT, PATCH and DELETE.",
    section="security",
)
XSRF_COOKIE_NAME = _setting(
    "xsrf_cookie_name", "_xsrf", "Name of the XSRF cookie.", str, section="security"
)
XSRF_COOKIE_KWARGS = _setting(
    "xsrf_cookie_kwargs",
    None,
    "Extra set_cookie arguments for the XSRF cookie (secure, samesite, ...).",
    dict,
    section="security",
)
LOGIN_URL = _setting(
    "login_url",
    None,
    "Where @authenticated sends a user who is not logged in.",
    str,
    section="security",
)

GOOGLE_OAUTH = _setting(
    "google_oauth",
    None,
    "{'key': client_id, 'secret': client_secret} for GoogleOAuth2Mixin.",
    Mapping,
    section="security",
)
GITHUB_OAUTH = _setting(
    "github_oauth",
    None,
    "{'key': client_id, 'secret': client_secret} for GitHubOAuth2Mixin.",
    Mapping,
    section="security",
)

# -- templates --------------------------------------------------------------------
TEMPLATE_PATH = _setting(
    "template_path",
    None,
    "Directory of templates; None looks next to the rendering code's file.",
    *_PATH,
    section="templates",
)
TEMPLATE_LOADER = _setting(
    "template_loader",
    None,
    "A template loader used instead of one built from template_path.",
    section="templates",
)
AUTOESCAPE = _setting(
    "autoescape",
    "xhtml_escape",
    "Escaping function name applied to {{ }} output; None turns escaping off.",
    str,
    _NONE,
    section="templates",
)
TEMPLATE_WHITESPACE = _setting(
    "template_whitespace",
    None,
    "Whitespace mode of templates: 'all', 'single' or 'oneline' (default by file type).",
    str,
    section="templates",
)
COMPILED_TEMPLATE_CACHE = _setting(
    "compiled_template_cache",
    True,
    "Keep compiled templates; off re-reads them on every render.",
    section="templates",
)
UI_MODULES = _setting(
    "ui_modules",
    None,
    "UIModule classes (a dict, a module or a list of them) usable as {% module Name() %}.",
    dict,
    list,
    tuple,
    type(sys),
    section="templates",
)
UI_METHODS = _setting(
    "ui_methods",
    None,
    "Functions (a dict, a module or a list of them) callable from templates.",
    dict,
    list,
    tuple,
    type(sys),
    section="templates",
)

# -- static files -----------------------------------------------------------------
STATIC_PATH = _setting(
    "static_path",
    None,
    "Directory served below static_url_prefix, with /robots.txt and /favicon.ico.",
    *_PATH,
    section="static files",
)
STATIC_URL_PREFIX = _setting(
    "static_url_prefix",
    "/static/",
    "URL prefix of the static files.",
    str,
    section="static files",
)
STATIC_HANDLER_CLASS = _setting(
    "static_handler_class",
    None,
    "StaticFileHandler subclass that serves static_path and builds static_url() "
    "(None: StaticFileHandler).",
    type,
    section="static files",
)
STATIC_HANDLER_ARGS = _setting(
    "static_handler_args",
    None,
    "Extra initialize() arguments for the static handler.",
    dict,
    section="static files",
)
STATIC_HASH_CACHE = _setting(
    "static_hash_cache",
    True,
    "Remember each file's content hash for static_url(); off re-hashes on every call.",
    section="static files",
)


# -- server limits: the fields of HTTPLimits ----------------------------------------
_LIMIT_DOCS = {
    "max_header_size": "Bytes of request line and headers; more is answered 431.",
    "max_headers": "Number of request header fields; more is answered 431.",
    "max_body_size": "Bytes of request body; more is answered 413 (before it is read).",
    "max_pipelined_requests": "Requests read ahead of the one being answered; beyond, "
    "reading pauses.",
    "idle_connection_timeout": "Seconds a keep-alive connection may wait for its next request.",
    "header_timeout": "Seconds a client has to send the request line and headers (else 408).",
    "body_timeout": "Seconds a client has to send the whole body (else 408).",
    "write_timeout": "Seconds a response may wait for a client that does not read.",
    "body_spill_threshold": "Bytes of body kept in memory; a larger body spills to a "
    "temporary file.",
    "max_multipart_parts": "Parts in a multipart/form-data body; more is answered 413.",
    "max_multipart_header_size": "Bytes of headers of one multipart part; more is answered 431.",
    "close_grace": "Seconds a closing connection gives the peer to read the rest and close "
    "its side before the connection is aborted.",
    "idle_close_grace": "close_grace for an idle keep-alive connection closed by a graceful stop.",
}


for _field in dataclasses.fields(HTTPLimits):
    _types: tuple[type, ...] = _NUMBER if "float" in str(_field.type) else (int,)
    if "None" in str(_field.type):
        _types += (_NONE,)
    declare(
        Setting(
            _field.name, _field.default, _LIMIT_DOCS[_field.name], _types, section="server limits"
        )
    )
del _field, _types


def check_settings(settings: Mapping[str, Any], others: Iterator[str] | None = None) -> None:
    """Check the declared settings in ``settings``; warn on likely typos.

    ``others`` are further known keys (the names of services, say) that must
    not be reported as typos.
    """
    known = set(SETTINGS)
    extra = set(others or ())
    for key, value in settings.items():
        declared_setting = SETTINGS.get(key)
        if declared_setting is not None:
            declared_setting.check(value)
            continue
        if key in extra or not isinstance(key, str):
            continue
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.85)
        if close:
            warnings.warn(
                f"unknown setting {key!r}: did you mean {close[0]!r}?",
                UnknownSettingWarning,
                stacklevel=3,
            )


def markdown_table() -> str:
    """The declared settings as the Markdown page ``docs/settings.md``."""
    lines = [
        "# Settings",
        "",
        "<!-- generated by `python -m cyclone.settings`: edit the declarations in",
        "     cyclone/settings.py (or the extension's), not this file -->",
        "",
        "Every keyword argument of `Application(...)` is a setting, reachable as",
        "`self.settings.name` in a handler. These are the ones the framework and its",
        "extensions read; any other key is yours. A value of the wrong type is a",
        "`TypeError` when the Application is built; an unknown key close to one of",
        "these (`cookie_secrte`) gets an `UnknownSettingWarning` naming it.",
        "",
    ]
    sections: dict[str, list[Setting[Any]]] = {}
    for setting in declared():
        sections.setdefault(setting.section, []).append(setting)
    for section, settings in sections.items():
        lines += [f"## {section.capitalize()}", ""]
        lines += ["| Setting | Type | Default | From | Meaning |", "|---|---|---|---|---|"]
        for s in settings:
            default = "—" if s.default is None else f"`{s.default!r}`"
            doc = s.doc.replace("|", "\\|")
            lines.append(f"| `{s.name}` | {s.type_text} | {default} | {s.owner} | {doc} |")
        lines.append("")
    return "\n".join(lines)


def _main() -> None:
    # The extensions declare their settings when imported; load the installed ones.
    for name in ("cyclone_ext_realtime",):
        try:
            __import__(name)
        except ImportError:
            pass
    sys.stdout.write(markdown_table())


if __name__ == "__main__":
    _main()

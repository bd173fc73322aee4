"""Templates, UI modules and locales on the request handler.

Strategy: nothing here runs unless a handler renders or asks for its locale,
so a handler that only writes pays nothing. The first use of ``self.ui``
creates the request's :class:`~cyclone._uimodule.UIModuleSet`; the first use
of ``self.locale`` asks :meth:`get_user_locale`, then the ``Accept-Language``
header. Loaders live on the Application, one per template directory, and
keep their compiled templates; with ``compiled_template_cache=False`` (the
default under ``debug``) a request resets each loader the first time it uses
it, so every request sees the files as they are on disk.

:meth:`TemplateRenderingMixin.render` renders with
:meth:`~cyclone.template.Template.generate_async`: a template that waits on a
Deferred keeps the request open until the page is complete, even when the
handler method does not return what ``render`` returned.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.python.failure import Failure

from cyclone import locale as _locale
from cyclone._uimodule import ResourceRenderingMixin, UIModuleSet, bind_ui_methods
from cyclone._util import ObjectDict
from cyclone.settings import (
    AUTOESCAPE,
    COMPILED_TEMPLATE_CACHE,
    TEMPLATE_LOADER,
    TEMPLATE_PATH,
    TEMPLATE_WHITESPACE,
)
from cyclone.template import BaseLoader, Loader

if TYPE_CHECKING:
    from cyclone._app_contract import HandlerApplication
    from cyclone._request import HTTPRequest

__all__ = ["TemplateRenderingMixin"]

# Frames in here are skipped when looking for the code that asked for a template.
_CYCLONE_DIRECTORY = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _caller_directory() -> str:
    """The directory of the first source file up the stack outside cyclone."""
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_CYCLONE_DIRECTORY):
        frame = frame.f_back
    return os.path.dirname(os.path.abspath(frame.f_code.co_filename))


class TemplateRenderingMixin(ResourceRenderingMixin):
    """``render``, ``render_string``, ``self.ui`` and ``self.locale`` for RequestHandler."""

    if TYPE_CHECKING:
        application: HandlerApplication
        request: HTTPRequest
        settings: Any
        current_user: Any

        def finish(self, chunk: Any = None) -> defer.Deferred[None]: ...
        def is_finished(self) -> bool: ...
        def set_auto_finish(self, enabled: bool) -> None: ...
        def handle_request_exception(
            self, error: BaseException, failure: Failure | None = None
        ) -> None: ...
        def xsrf_form_html(self) -> str: ...
        def reverse_url(self, name: str, *args: Any) -> str: ...

    # -- UI modules and methods ----------------------------------------------------------

    @functools.cached_property
    def ui(self) -> ObjectDict:
        """The UI methods (bound to this handler) and ``modules``, as templates see them.

        Built on first use, once per request.
        """
        modules = self._ui_modules = UIModuleSet(self, self.application.ui_modules)
        return ObjectDict(
            bind_ui_methods(self, self.application.ui_methods),
            _tt_modules=modules.namespace,
            modules=modules.namespace,
        )

    # -- templates -----------------------------------------------------------------------

    def get_template_path(self) -> str | None:
        """The template directory: the ``template_path`` setting by default.

        When it is None, templates are looked up next to the source file of
        the code that renders them.
        """
        return TEMPLATE_PATH.of(self.settings)

    def create_template_loader(self, template_path: str) -> BaseLoader:
        """The loader for ``template_path``; called once per directory per Application.

        The ``template_loader`` setting, when given, is used instead; otherwise a
        :class:`~cyclone.template.Loader` gets the ``autoescape`` and
        ``template_whitespace`` settings.
        """
        settings = self.settings
        loader = TEMPLATE_LOADER.of(settings)
        if loader is not None:
            return loader
        options: dict[str, Any] = {}
        if "autoescape" in settings:
            options["autoescape"] = AUTOESCAPE.of(settings)
        if "template_whitespace" in settings:
            options["whitespace"] = TEMPLATE_WHITESPACE.of(settings)
        return Loader(template_path, **options)

    def _template_loader(self) -> BaseLoader:
        path = self.get_template_path()
        request_loaders: dict[str | None, BaseLoader] = self.__dict__.setdefault("_tt_loaders", {})
        loader = request_loaders.get(path)
        if loader is None:
            directory = path if path is not None else _caller_directory()
            shared = self.application.template_loaders
            loader = shared.get(directory)
            if loader is None:
                loader = shared[directory] = self.create_template_loader(directory)
            elif not COMPILED_TEMPLATE_CACHE.of(self.settings):
                loader.reset()
            request_loaders[path] = loader
        return loader

    def get_template_namespace(self) -> dict[str, Any]:
        """The variables every template rendered by this handler sees.

        Override to add your own (keyword arguments of ``render`` win over these).
        """
        locale = self.locale
        namespace = {
            "handler": self,
            "request": self.request,
            "current_user": self.current_user,
            "locale": locale,
            "_": locale.translate,
            "pgettext": locale.pgettext,
            "static_url": self.static_url,
            "xsrf_form_html": self.xsrf_form_html,
            "reverse_url": self.reverse_url,
        }
        namespace.update(self.ui)
        return namespace

    def _template_variables(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        namespace = self.get_template_namespace()
        namespace.update(kwargs)
        return namespace

    def render_string(self, template_name: str, **kwargs: Any) -> bytes:
        """Render template ``template_name`` synchronously and return it (nothing is sent).

        Fails with :class:`~cyclone.template.TemplateNotReady` if the template
        waits on a Deferred that has not fired; :meth:`render` can wait.
        """
        template = self._template_loader().load(template_name)
        return template.generate(**self._template_variables(kwargs))

    def render(self, template_name: str, **kwargs: Any) -> defer.Deferred[None]:
        """Render template ``template_name`` with ``kwargs`` and finish the response with it.

        The resources of the UI modules the page used are inserted in it. The
        returned Deferred fires when the response is finished; it has already
        fired when the template waited on nothing, and errors are then raised
        right here. A template that waits keeps the request open until it is
        done, whether or not the handler method returns this Deferred; an
        error raised after waiting is logged and answered with an error page.
        """
        if self.is_finished():
            raise RuntimeError("cannot render() after finish()")
        template = self._template_loader().load(template_name)
        rendering = template.generate_async(**self._template_variables(kwargs))
        if rendering.called:
            outcome: list[Any] = []
            rendering.addBoth(outcome.append)
            if isinstance(outcome[0], Failure):
                outcome[0].raiseException()
            return self._finish_page(outcome[0])
        # The request must outlive the handler method: the page finishes it.
        self.set_auto_finish(False)
        rendering.addCallback(self._finish_page)
        rendering.addErrback(self._page_failed)
        return rendering

    def _page_failed(self, failure: Failure) -> None:
        self.handle_request_exception(failure.value, failure)

    def _finish_page(self, html: bytes) -> defer.Deferred[None]:
        modules: UIModuleSet | None = self.__dict__.get("_ui_modules")
        if modules is not None:
            html = modules.insert_resources(html, self)
        return self.finish(html)

    # -- locale --------------------------------------------------------------------------

    @property
    def locale(self) -> _locale.Locale:
        """The locale of this request: :meth:`get_user_locale`, else the browser's."""
        chosen = self.__dict__.get("_locale")
        if chosen is None:
            chosen = self.get_user_locale() or self.get_browser_locale()
            self.__dict__["_locale"] = chosen
        return chosen

    @locale.setter
    def locale(self, value: _locale.Locale) -> None:
        self.__dict__["_locale"] = value

    def get_user_locale(self) -> _locale.Locale | None:
        """Override to choose the locale (e.g. from the user's settings); None = the browser's."""
        return None

    def get_browser_locale(self, default: str = "en_US") -> _locale.Locale:
        """The supported locale closest to the ``Accept-Language`` header (q-values honoured)."""
        codes = _locale.parse_accept_language(self.request.headers.get("Accept-Language"))
        return _locale.get(*(codes or [default]))

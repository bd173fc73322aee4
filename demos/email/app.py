"""The e-mail demo: a form that sends a message, with an optional attachment.

Run it with a mail service URL (default: a plain SMTP server on 127.0.0.1:8025,
e.g. ``uv run python -m aiosmtpd -n -l 127.0.0.1:8025``)::

    uv run python demos/email/app.py --mail 'smtp://127.0.0.1:8025?starttls=off'
    uv run python demos/email/app.py --mail 'smtp://me:secret@smtp.example.com:587'

then open http://127.0.0.1:8888/. The handler builds a ``cyclone_ext_mail.Message``
from the form (a malformed address is a 400 naming it) and awaits
``self.settings.mail.send(message)``; a server that cannot take the message now
answers 503 (``MailUnavailable``), a refused message 502.
"""

from __future__ import annotations

import argparse
import html
from typing import Any

from twisted.internet import reactor

import cyclone.escape
import cyclone.web
from cyclone_ext_mail import MailError, MailUnavailable, Message
from demos.look import STATIC_PATH

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>cyclone mail demo</title>
<link rel="stylesheet" href="/static/demo.css"></head>
<body>
<h1>Send an e-mail</h1>
<p>{notice}</p>
<form method="post" action="/send" enctype="multipart/form-data">
  {xsrf}
  <p><label>From <input name="from" value="Demo &lt;demo@example.com&gt;"></label></p>
  <p><label>To <input name="to" placeholder="someone@example.com"></label></p>
  <p><label>Subject <input name="subject"></label></p>
  <p><label>Message<br><textarea name="body" rows="6" cols="60"></textarea></label></p>
  <p><label>Attachment <input type="file" name="attachment"></label></p>
  <p><button>Send</button></p>
</form>
</body></html>
"""


class FormHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        notice = html.escape(self.get_argument("sent", ""))
        notice = f"Sent to {notice}." if notice else ""
        self.write(PAGE.format(notice=notice, xsrf=self.xsrf_form_html()))


class SendHandler(cyclone.web.RequestHandler):
    async def post(self) -> None:
        try:
            message = Message(
                self.get_argument("from"),
                self.get_argument("to"),
                self.get_argument("subject", ""),
                text=self.get_argument("body", ""),
            )
        except ValueError as e:  # InvalidAddress, HeaderInjection
            raise cyclone.web.HTTPError(400, "%s", e, reason=str(e)[:120]) from None
        for upload in self.request.files.get("attachment", []):
            if upload.filename:
                message.attach(upload.filename, mime=upload.content_type, content=upload.body)
        try:
            result = await self.settings.mail.send(message)
        except MailUnavailable:
            raise  # 503 Mail Unavailable: try again later
        except MailError as e:
            raise cyclone.web.HTTPError(502, "%s", e, reason="Mail Refused") from None
        self.redirect("/?sent=" + cyclone.escape.url_escape(", ".join(result.accepted)))


def Application(mail: str = "smtp://127.0.0.1:8025?starttls=off", **settings: Any) -> Any:
    """The demo's application: ``mail`` is the ``services=`` URL (or dict) of the mailer."""
    settings.setdefault("cookie_secret", "demo-only-secret-change-me")
    settings.setdefault("xsrf_cookies", True)
    return cyclone.web.Application(
        [(r"/", FormHandler), (r"/send", SendHandler)],
        services={"mail": mail},
        static_path=STATIC_PATH,
        **settings,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--mail", default="smtp://127.0.0.1:8025?starttls=off")
    args = parser.parse_args(argv)
    reactor.listenTCP(args.port, Application(args.mail), interface="127.0.0.1")
    print(f"mail demo on http://127.0.0.1:{args.port}/", flush=True)
    reactor.run()


if __name__ == "__main__":
    main()

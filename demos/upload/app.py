"""upload: a multipart form whose files are read by the handler (big ones from disk).

    uv run python demos/upload/app.py

Open http://127.0.0.1:8888/ and send a file, or
``curl -F file=@/etc/hosts http://127.0.0.1:8888/upload``. The answer lists each
file's name, type, size and SHA-256. Large uploads are spooled to a temporary
file by the server, so ``upload.file`` is read in blocks, never all at once.
"""

from __future__ import annotations

import hashlib
import html

import cyclone.web
from demos.look import STATIC_PATH, page

FORM = page(
    "Upload",
    '<form action="/upload" method="post" enctype="multipart/form-data">'
    '<input type="file" name="file" multiple><button>send</button></form>',
)


class FormHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write(FORM)


class UploadHandler(cyclone.web.RequestHandler):
    def post(self) -> None:
        rows = []
        for upload in self.request.files.get("file", []):
            digest, size = hashlib.sha256(), 0
            stream = upload.file
            stream.seek(0)
            while block := stream.read(65536):
                digest.update(block)
                size += len(block)
            rows.append(
                f"<tr><td>{html.escape(upload.filename)}</td>"
                f"<td>{html.escape(upload.content_type)}</td>"
                f"<td>{size}</td><td><code>{digest.hexdigest()}</code></td></tr>"
            )
        if not rows:
            raise cyclone.web.HTTPError(400, reason="No file in the form field 'file'")
        self.write(
            page(
                "Received",
                "<table><tr><th>name</th><th>type</th><th>bytes</th><th>SHA-256</th></tr>"
                + "".join(rows)
                + '</table><p><a href="/">send more</a></p>',
            )
        )


def Application() -> cyclone.web.Application:
    """The form at ``/`` and the ``POST /upload`` that reads it."""
    return cyclone.web.Application(
        [(r"/", FormHandler), (r"/upload", UploadHandler)], static_path=STATIC_PATH
    )


if __name__ == "__main__":
    from twisted.internet import reactor

    reactor.listenTCP(8888, Application(), interface="127.0.0.1")
    print("http://127.0.0.1:8888/")
    reactor.run()

"""multipart/form-data: parsing, limits, spilling large uploads to disk, and errors.

Uploads go through real sockets (curl as an independent client, and hand-made
bodies for the malformed cases); the parser itself is also fed in every possible
split, so that a boundary cut in two by the network never changes the result.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile

import pytest
from wire import Client

import cyclone.web
from cyclone._multipart import _MultipartParser
from cyclone.httputil import HTTPLimits, MultipartError, SpooledBuffer

H = "Host: example.com\r\n"


class UploadHandler(cyclone.web.RequestHandler):
    def post(self):
        r = self.request
        files = {}
        for name, uploads in r.files.items():
            files[name] = [
                {
                    "filename": f.filename,
                    "content_type": f.content_type,
                    "size": f.size,
                    "sha256": hashlib.sha256(f.file.read()).hexdigest(),
                    "spilled": f._buffer is not None and f._buffer.spilled,
                    "headers": f.headers,
                }
                for f in uploads
            ]
        try:
            body_size: int | None = len(r.body)
        except ValueError:
            body_size = None  # a large multipart body is parsed as it arrives, not kept
        self.write(
            {
                "args": {k: [v.decode() for v in vs] for k, vs in r.body_arguments.items()},
                "files": files,
                "body_size": body_size,
                "temp_file_bytes": _open_temp_file_bytes(),
            }
        )


def _open_temp_file_bytes() -> int:
    """Bytes in this process's open temporary files (unlinked, so only /proc sees them)."""
    prefix = tempfile.gettempdir() + "/"
    total = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith(prefix):
                total += os.fstat(int(fd)).st_size
        except OSError:
            continue
    return total


SETTINGS = {
    "body_spill_threshold": 64 * 1024,
    "max_multipart_parts": 5,
    "max_multipart_header_size": 512,
    "max_body_size": 16 * 1024 * 1024,
}


@pytest.fixture
def port(serve):
    return serve(cyclone.web.Application([(r"/upload", UploadHandler)], **SETTINGS))


def post_multipart(port, body: bytes, boundary: str = "XyZ", ctype: str | None = None):
    ctype = ctype or f"multipart/form-data; boundary={boundary}"
    with Client(port) as client:
        client.send(
            f"POST /upload HTTP/1.1\r\n{H}Content-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        return client.response()


def form(*parts: bytes, boundary: bytes = b"XyZ") -> bytes:
    out = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return out + b"--" + boundary + b"--\r\n"


def field(name: str, value: bytes) -> bytes:
    return f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value


def upload(name: str, filename: str, content: bytes, ctype: str = "text/plain") -> bytes:
    return (
        f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {ctype}\r\n\r\n"
    ).encode() + content


def test_fields_and_files(port):
    body = form(
        field("title", "héllo".encode()),
        field("title", b"second"),
        upload("doc", "a.txt", b"line one\r\n--XyX not a boundary\r\n"),
        upload("doc", "b.bin", b"\x00\x01\x02", "application/octet-stream"),
    )
    response = post_multipart(port, body)
    assert response.status == 200, response.body
    seen = json.loads(response.body)
    assert seen["args"] == {"title": ["héllo", "second"]}
    docs = seen["files"]["doc"]
    assert [(d["filename"], d["content_type"], d["size"]) for d in docs] == [
        ("a.txt", "text/plain", 32),
        ("b.bin", "application/octet-stream", 3),
    ]
    assert docs[0]["sha256"] == hashlib.sha256(b"line one\r\n--XyX not a boundary\r\n").hexdigest()
    assert docs[0]["headers"]["content-type"] == "text/plain"
    assert seen["body_size"] == len(body)


def test_extended_and_quoted_filenames(port):
    body = form(
        b'Content-Disposition: form-data; name="f"; filename="x.txt"; '
        b"filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.txt\r\n\r\ncontent",
        b'Content-Disposition: form-data; name="g"; filename="semi;colon \\"q\\".txt"\r\n\r\nx',
    )
    seen = json.loads(post_multipart(port, body).body)
    assert seen["files"]["f"][0]["filename"] == "naïve résumé.txt"
    assert seen["files"]["g"][0]["filename"] == 'semi;colon "q".txt'


def test_curl_upload_spills_to_disk_and_stays_intact(port, tmp_path):
    content = os.urandom(5 * 1024 * 1024)
    path = tmp_path / "big.bin"
    path.write_bytes(content)
    result = subprocess.run(
        [
            "curl", "-sS", "--max-time", "20", "-H", "Expect:",
            "-F", "note=hello", "-F", f"upload=@{path};type=application/x-test",
            f"http://127.0.0.1:{port}/upload",
        ],
        capture_output=True,
        check=True,
    )  # fmt: skip
    seen = json.loads(result.stdout)
    (info,) = seen["files"]["upload"]
    assert info["filename"] == "big.bin"
    assert info["content_type"] == "application/x-test"
    assert info["size"] == len(content)
    assert info["sha256"] == hashlib.sha256(content).hexdigest()
    assert info["spilled"] is True
    # Written to disk once: the file part, not a spooled copy of the raw body as well.
    assert seen["body_size"] is None
    # (Other tests may hold small temporary files open in this process too.)
    assert len(content) <= seen["temp_file_bytes"] < len(content) + 1024 * 1024
    assert seen["args"] == {"note": ["hello"]}


def test_curl_with_expect_100_continue(port, tmp_path):
    path = tmp_path / "small.txt"
    path.write_bytes(b"x" * 2000)
    result = subprocess.run(
        ["curl", "-sS", "--max-time", "5", "-H", "Expect: 100-continue", "-F", f"f=@{path}",
         f"http://127.0.0.1:{port}/upload"],
        capture_output=True,
        check=True,
    )  # fmt: skip
    assert json.loads(result.stdout)["files"]["f"][0]["size"] == 2000


def test_too_many_parts_gets_413(port):
    body = form(*(field(f"f{i}", b"v") for i in range(6)))
    response = post_multipart(port, body)
    assert response.status == 413
    assert "parts" in response.reason


def test_part_header_too_large_gets_431(port):
    body = form(field("f", b"v").replace(b"\r\n\r\n", b"\r\nX-Pad: " + b"p" * 600 + b"\r\n\r\n"))
    response = post_multipart(port, body)
    assert response.status == 431


@pytest.mark.parametrize(
    ("body", "ctype", "problem"),
    [
        (form(field("a", b"1"))[:-4], None, "closing delimiter"),
        (b"no delimiter at all", None, "closing delimiter"),
        (form(b"Content-Type: text/plain\r\n\r\nx"), None, "Content-Disposition"),
        (form(b'Content-Disposition: attachment; name="a"\r\n\r\nx'), None, "form-data"),
        (form(b"Content-Disposition: form-data\r\n\r\nx"), None, "form-data"),
        (form(b"Broken header line\r\n\r\nx"), None, "malformed part header"),
        (b"--XyZ\r\n" + field("a", b"1") + b"\r\n--XyZjunk", None, "delimiter"),
        (form(field("a", b"1")), "multipart/form-data", "boundary"),
        (form(field("a", b"1")), "multipart/form-data; boundary=" + "b" * 201, "boundary"),
    ],
    ids=[
        "truncated",
        "no-delimiter",
        "no-disposition",
        "not-form-data",
        "no-name",
        "bad-header-line",
        "garbage-after-delimiter",
        "no-boundary",
        "boundary-too-long",
    ],
)
def test_malformed_multipart_gets_400_naming_the_problem(port, body, ctype, problem):
    response = post_multipart(port, body, ctype=ctype)
    assert response.status == 400
    assert problem in response.reason, response.reason


def test_error_naming_non_latin1_input_still_gets_a_response(port):
    response = post_multipart(port, form("Broken 中文 line\r\n\r\nx".encode()))
    assert response.status == 400
    assert "malformed part header" in response.reason
    assert "\\u4e2d" in response.reason  # escaped, never raw bytes in the status line


def test_form_with_content_encoding_is_refused(port):
    with Client(port) as client:
        body = b"a=1"
        client.send(
            f"POST /upload HTTP/1.1\r\n{H}Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Encoding: gzip\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        assert client.response().status == 415


# -- the parser on its own --------------------------------------------------------------


def parse_in_pieces(body: bytes, piece: int, limits: HTTPLimits):
    args: dict = {}
    files: dict = {}
    parser = _MultipartParser(b"XyZ", args, files, limits)
    for i in range(0, len(body), piece):
        parser.feed(body[i : i + piece])
    parser.close()
    return (
        {k: v for k, v in args.items()},
        {k: [(f.filename, f.body) for f in fs] for k, fs in files.items()},
    )


def test_every_split_of_the_body_gives_the_same_result():
    body = b"preamble\r\n" + form(
        field("a", b"alpha\r\n--Xy-ish\r\n"),
        upload("f", "f.txt", b"\r\n\r\n--Xy"),
        field("b", b""),
    )
    body += b"epilogue"
    limits = HTTPLimits()
    expected = parse_in_pieces(body, len(body), limits)
    assert expected == (
        {"a": [b"alpha\r\n--Xy-ish\r\n"], "b": [b""]},
        {"f": [("f.txt", b"\r\n\r\n--Xy")]},
    )
    for piece in range(1, 40):
        assert parse_in_pieces(body, piece, limits) == expected, piece


def test_part_spills_past_the_threshold():
    limits = HTTPLimits(body_spill_threshold=1024)
    content = os.urandom(10_000)
    buffer = SpooledBuffer(1024)
    buffer.write(form(upload("f", "f.bin", content)))
    assert buffer.spilled
    files: dict = {}
    parser = _MultipartParser(b"XyZ", {}, files, limits)
    for block in buffer.iter_blocks(777):
        parser.feed(block)
    parser.close()
    (upload_file,) = files["f"]
    assert upload_file._buffer.spilled
    assert upload_file.file.read() == content


def test_parts_limit_is_enforced_while_reading():
    limits = HTTPLimits(max_multipart_parts=3)
    parser = _MultipartParser(b"XyZ", {}, {}, limits)
    with pytest.raises(MultipartError) as info:
        for i in range(100):
            parser.feed(b"--XyZ\r\n" + field(f"f{i}", b"v") + b"\r\n")
    assert info.value.status == 413
    assert i == 3  # refused at the fourth part, not after reading them all

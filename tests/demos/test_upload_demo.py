"""The upload demo, driven by curl's multipart forms."""

from __future__ import annotations

import hashlib
import os
import subprocess

from demos.upload.app import Application


def curl(*args: str) -> tuple[int, str]:
    out = subprocess.run(
        ["curl", "-s", "--max-time", "20", "-w", "\n%{http_code}", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    body, _, code = out.rpartition("\n")
    return int(code), body


def test_files_are_received_whole(serve, tmp_path):
    base = f"http://127.0.0.1:{serve(Application())}"
    code, form = curl(base + "/")
    assert code == 200 and 'enctype="multipart/form-data"' in form and "demo.css" in form
    small = tmp_path / "note <1>.txt"
    small.write_text("hello upload\n")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * 1024 * 1024))  # more than the server keeps in memory
    code, body = curl(
        "-F", f"file=@{small};type=text/plain", "-F", f"file=@{big}", base + "/upload"
    )  # fmt: skip
    assert code == 200, body
    assert "note &lt;1&gt;.txt" in body and "text/plain" in body
    for path in (small, big):
        assert hashlib.sha256(path.read_bytes()).hexdigest() in body
        assert f"<td>{path.stat().st_size}</td>" in body


def test_a_form_without_a_file_is_a_400(serve):
    base = f"http://127.0.0.1:{serve(Application())}"
    code, body = curl("-F", "other=1", base + "/upload")
    assert code == 400 and "No file" in body

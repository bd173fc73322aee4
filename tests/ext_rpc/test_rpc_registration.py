"""Registration: the cyclone.rpc entry points, their contract, and cyclone 1.x's import paths."""

from __future__ import annotations

import subprocess
import sys

import pytest

import cyclone_ext_rpc
from cyclone import plugins
from cyclone.web import Application, RequestHandler

RPC = "cyclone.rpc"


@pytest.mark.parametrize(
    ("name", "handler"),
    [("jsonrpc", cyclone_ext_rpc.JsonrpcRequestHandler),
     ("xmlrpc", cyclone_ext_rpc.XmlrpcRequestHandler)],
)  # fmt: skip
def test_entry_points_load_and_meet_their_contract(name, handler):
    assert name in plugins.names(RPC)
    loaded = plugins.load(RPC, name)  # checks the group's contract
    assert loaded is handler
    assert issubclass(loaded, RequestHandler)
    assert loaded.protocol == name
    assert "POST" in loaded.SUPPORTED_METHODS
    plugins.check_contract(RPC, loaded)
    assert plugins.extra_for(name) == "rpc"


def test_get_procedure_and_list_procedures(serve):
    from rpc_app import JsonHandler, XmlSubHandler

    seen = {}

    class Probe(JsonHandler):
        def post(self):
            seen["json"] = (self.get_procedure("echo"), self.get_procedure("nope"),
                            self.list_procedures())  # fmt: skip
            self.write("ok")

    class XmlProbe(XmlSubHandler):
        def post(self):
            seen["xml"] = (self.get_procedure("math.mul"), self.get_procedure("nope"),
                           self.list_procedures())  # fmt: skip
            self.write("ok")

    import urllib.request

    port = serve(Application([(r"/j", Probe), (r"/x", XmlProbe)]))
    for path in ("/j", "/x"):
        urllib.request.urlopen(
            urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=b"", method="POST"),
            timeout=10,
        ).read()
    echo, missing, names = seen["json"]
    assert callable(echo) and missing is None
    assert "echo" in names and "rpc.discover" in names
    mul, missing, names = seen["xml"]
    assert mul(2, 3) == 6 and missing is None
    assert "math.mul" in names and "system.multicall" in names


def test_cyclone_plugins_lists_them():
    result = subprocess.run(
        [sys.executable, "-m", "cyclone", "plugins", "--check"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    # The exit status also covers every other installed plugin: read the rows of ours.
    lines = [line.split() for line in result.stdout.splitlines()]
    rows = {row[0]: row for row in lines if row and row[0] in ("jsonrpc", "xmlrpc")}
    assert rows["jsonrpc"][1] == "cyclone-ext-rpc"
    assert rows["jsonrpc"][-1] == rows["xmlrpc"][-1] == "ok"


def test_old_import_paths():
    import cyclone.httpclient
    import cyclone.jsonrpc
    import cyclone.xmlrpc

    assert cyclone.jsonrpc.JsonrpcRequestHandler is cyclone_ext_rpc.JsonrpcRequestHandler
    assert cyclone.xmlrpc.XmlrpcRequestHandler is cyclone_ext_rpc.XmlrpcRequestHandler
    assert cyclone.httpclient.JsonRPC is cyclone_ext_rpc.JsonRPC
    from cyclone.httpclient import JsonRPC  # the 1.x spelling

    assert JsonRPC is cyclone_ext_rpc.JsonRPC
    assert set(cyclone.jsonrpc.__all__) == set(cyclone_ext_rpc.__all__)
    with pytest.raises(AttributeError):
        cyclone.httpclient.NoSuchClient  # noqa: B018


def test_without_the_extension_the_old_paths_name_the_extra(tmp_path):
    # A copy of the import system that cannot see cyclone_ext_rpc.
    probe = (
        "import sys, importlib.abc\n"
        "class Hide(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'cyclone_ext_rpc':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "for module in ('cyclone.jsonrpc', 'cyclone.xmlrpc'):\n"
        "    try:\n"
        "        __import__(module)\n"
        "    except ModuleNotFoundError as e:\n"
        "        print(e)\n"
        "try:\n"
        "    from cyclone.httpclient import JsonRPC\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path)  # fmt: skip
    lines = result.stdout.splitlines()
    assert len(lines) == 3, result
    for line in lines:
        assert "pip install 'cyclone[rpc]'" in line
    assert lines[0].startswith("cyclone.jsonrpc is provided by the RPC extension")
    assert lines[2].startswith("cyclone.httpclient.JsonRPC is provided by")

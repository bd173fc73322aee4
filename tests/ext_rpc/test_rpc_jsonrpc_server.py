"""The JSON-RPC server over HTTP, with urllib and requests as clients."""

from __future__ import annotations

import json
import time

import pytest
import requests
from rpc_app import Recorder, application
from rpc_http import post


def call(method: str, params=None, id=1, version="2.0"):
    request = {"method": method, "id": id}
    if version:
        request["jsonrpc"] = version
    if params is not None:
        request["params"] = params
    return request


@pytest.mark.parametrize("id_", ["abc", 7, 1.5, None, ""])
def test_any_id_type_is_echoed(jsonrpc, id_):
    assert jsonrpc(call("echo", ["x"], id=id_)) == {"jsonrpc": "2.0", "result": "x", "id": id_}


@pytest.mark.parametrize("id_", [[1], {"a": 1}, True])
def test_an_id_of_another_type_is_an_invalid_request(jsonrpc, id_):
    answer = jsonrpc(call("echo", ["x"], id=id_))
    assert answer["error"]["code"] == -32600
    assert answer["id"] is None


def test_positional_and_named_params(jsonrpc):
    assert jsonrpc(call("typed", [1, "a"]))["result"] == "1:a:1.0:None"
    assert jsonrpc(call("typed", {"name": "b", "n": 2, "tag": "t"}))["result"] == "2:b:1.0:t"
    assert jsonrpc(call("typed", [3, "c", 2]))["result"] == "3:c:2:None"  # an int is a float


@pytest.mark.parametrize(
    "params",
    [
        [],  # missing argument
        [1, "a", 1.0, None, "extra"],  # too many
        {"n": 1, "name": "a", "nope": 1},  # unknown name
        ["1", "a"],  # a str for an int
        [True, "a"],  # a bool is not an int
        [1, 2],  # an int for a str
        [1, "a", "x"],  # a str for a float
    ],
)
def test_params_that_do_not_fit_the_signature_are_invalid_params(jsonrpc, params):
    answer = jsonrpc(call("typed", params))
    assert answer["error"]["code"] == -32602
    assert answer["error"]["message"] == "Invalid params"
    assert isinstance(answer["error"]["data"], str)


@pytest.mark.parametrize("params", ['"x"', "1", "true", "null"])
def test_params_must_be_a_list_or_an_object(jsonrpc, params):
    text = '{"jsonrpc": "2.0", "method": "echo", "params": %s, "id": 1}' % params
    assert jsonrpc(text)["error"] == {"code": -32600, "message": "Invalid Request"}


@pytest.mark.parametrize(
    "request_",
    [
        {"jsonrpc": "1.0", "method": "echo", "id": 1},
        {"jsonrpc": 2.0, "method": "echo", "id": 1},
        {"jsonrpc": "2.0", "method": None, "id": 1},
        {"jsonrpc": "2.0", "id": 1},
    ],
)
def test_wrong_version_or_method_is_an_invalid_request(jsonrpc, request_):
    answer = jsonrpc(request_)
    assert answer == {
        "jsonrpc": "2.0",
        "error": {"code": -32600, "message": "Invalid Request"},
        "id": 1,
    }


@pytest.mark.parametrize("method", ["deferred", "inline", "coro"])
def test_every_kind_of_method(jsonrpc, method):
    assert jsonrpc(call(method, [{"a": [1, 2]}]))["result"] == {"a": [1, 2]}


def test_a_batch_runs_concurrently_and_answers_in_order(jsonrpc):
    batch = [call("coro", [i, 0.3 - i * 0.1], id=i) for i in range(3)]
    started = time.monotonic()
    answer = jsonrpc(batch)
    elapsed = time.monotonic() - started
    assert [a["result"] for a in answer] == [0, 1, 2]
    assert [a["id"] for a in answer] == [0, 1, 2]
    assert elapsed < 0.5  # one after another would take 0.6 s


def test_notifications_run_and_get_no_answer(port, jsonrpc):
    Recorder.seen.clear()
    assert jsonrpc({"jsonrpc": "2.0", "method": "record", "params": ["n1"]}) is None
    batch = [
        {"jsonrpc": "2.0", "method": "record", "params": ["n2"]},
        {"jsonrpc": "2.0", "method": "fail"},  # fails silently
        {"jsonrpc": "2.0", "method": "nope"},  # not found, silently
        call("echo", ["answered"], id="x"),
    ]
    assert jsonrpc(batch) == [{"jsonrpc": "2.0", "result": "answered", "id": "x"}]
    assert Recorder.seen == ["n1", "n2"]


def test_internal_errors_hide_the_traceback(jsonrpc):
    answer = jsonrpc(call("fail"))
    assert answer["error"] == {"code": -32603, "message": "Internal error"}
    assert "secret detail" not in json.dumps(answer)


def test_internal_errors_show_the_traceback_with_debug(debug_port):
    _status, _headers, body = post(debug_port, "/json", json.dumps(call("fail")))
    error = json.loads(body)["error"]
    assert error["code"] == -32603
    assert "ValueError: secret detail" in error["data"]


def test_a_result_that_is_not_json_is_an_internal_error_of_that_call_only(jsonrpc):
    answer = jsonrpc([call("not_json", id=1), call("echo", [2], id=2)])
    assert answer[0]["error"]["code"] == -32603
    assert answer[1] == {"jsonrpc": "2.0", "result": 2, "id": 2}


def test_methods_raise_their_own_errors(jsonrpc):
    assert jsonrpc(call("own_error"))["error"] == {
        "code": 42,
        "message": "my error",
        "data": {"why": "because"},
    }
    assert jsonrpc(call("fault"))["error"] == {"code": 7, "message": "a fault"}
    assert jsonrpc(call("forbidden"))["error"] == {
        "code": -32001,
        "message": "Forbidden",
        "data": {"status": 403},
    }


def test_current_user_and_authenticated(jsonrpc):
    assert jsonrpc(call("user"), headers={"X-User": "ann"})["result"] == "ann"
    assert jsonrpc(call("private"), headers={"X-User": "ann"})["result"] == "secret"
    assert jsonrpc(call("private"))["error"]["code"] == -32001


def test_the_1_0_shape_for_requests_without_jsonrpc(jsonrpc):
    # What cyclone 1.x's JsonRPC client sends, and what it expects back.
    assert jsonrpc({"method": "echo", "params": ["hi"], "id": 5}) == {
        "result": "hi",
        "error": None,
        "id": 5,
    }
    answer = jsonrpc({"method": "nope", "params": [], "id": 6})
    assert answer == {
        "result": None,
        "error": {"code": -32601, "message": "Method not found"},
        "id": 6,
    }
    Recorder.seen.clear()
    assert jsonrpc({"method": "record", "params": ["one-oh"], "id": None}) is None
    assert Recorder.seen == ["one-oh"]


def test_batch_length_limit(port):
    status, _h, body = post(port, "/json-small", json.dumps([call("echo", [i]) for i in range(4)]))
    answer = json.loads(body)
    assert status == 200
    assert answer["error"]["code"] == -32600
    assert "limit is 3" in answer["error"]["data"]
    status, _h, body = post(port, "/json-small", json.dumps([call("echo", [i]) for i in range(3)]))
    assert len(json.loads(body)) == 3


def test_default_batch_limit_is_100(jsonrpc):
    assert len(jsonrpc([call("echo", [i], id=i) for i in range(100)])) == 100
    assert jsonrpc([call("echo", [i], id=i) for i in range(101)])["error"]["code"] == -32600


def test_params_nesting_limit(port):
    deep = [[[["x"]]]]  # depth 4 as params' value: params itself is one more
    _status, _h, body = post(port, "/json-small", json.dumps(call("echo", [deep])))
    error = json.loads(body)["error"]
    assert error["code"] == -32602
    assert "deeper than 4" in error["data"]
    _status, _h, body = post(port, "/json-small", json.dumps(call("echo", [[["x"]]])))
    assert json.loads(body)["result"] == [["x"]]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_is_not_json(jsonrpc, constant):
    text = '{"jsonrpc": "2.0", "method": "echo", "params": [%s], "id": 1}' % constant
    assert jsonrpc(text)["error"]["code"] == -32700


def test_absurd_nesting_is_a_parse_error_not_a_crash(jsonrpc):
    text = '{"jsonrpc": "2.0", "method": "echo", "id": 1, "params": [' + "[" * 100000
    text += "]" * 100000 + "]}"
    answer = jsonrpc(text)
    assert answer["error"]["code"] in (-32700, -32602)
    assert jsonrpc(call("echo", ["still up"]))["result"] == "still up"


def test_the_servers_body_limit(serve):
    port = serve(application(max_body_size=1000))
    status, _h, _body = post(port, "/json", json.dumps(call("echo", ["x" * 2000])))
    assert status == 413
    status, _h, body = post(port, "/json", json.dumps(call("echo", ["x" * 100])))
    assert json.loads(body)["result"] == "x" * 100


def test_the_handlers_own_methods_are_not_rpc_methods(jsonrpc):
    for name in ("procedures", "methods", "post", "get_procedure", "finish", "_call"):
        assert jsonrpc(call(name))["error"]["code"] == -32601, name


def test_only_post(port):
    response = requests.get(f"http://127.0.0.1:{port}/json", timeout=10)
    assert response.status_code == 405


def test_requests_client(port):
    response = requests.post(f"http://127.0.0.1:{port}/json", json=call("echo", ["é"]), timeout=10)
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"jsonrpc": "2.0", "result": "é", "id": 1}


def test_xsrf_cookies_do_not_apply(serve):
    port = serve(application(xsrf_cookies=True, cookie_secret="s" * 32))
    response = requests.post(f"http://127.0.0.1:{port}/json", json=call("echo", [1]), timeout=10)
    assert response.json()["result"] == 1

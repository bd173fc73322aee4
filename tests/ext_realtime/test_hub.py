"""The in-process hub: subscribe, publish, cancel, JSON copies, errors, services= and handlers."""

from __future__ import annotations

import pytest
from cyclone_ext_realtime.hub import default_hub
from twisted.internet import defer

from cyclone import plugins
from cyclone.services import ServiceConfigError
from cyclone.testing import call
from cyclone.web import Application, RequestHandler
from cyclone_ext_realtime import Hub, HubMixin, Subscription


async def collect(hub: Hub, channel: str, messages: list, publish: list) -> list:
    """Subscribe, publish each of ``publish``, and return what the subscriber got."""
    got: list = []
    sub = hub.subscribe(channel, got.append)
    await sub.ready()
    for message in publish:
        await hub.publish(channel, message)
    sub.cancel()
    messages.extend(got)
    return got


def test_subscribers_receive_json_copies_of_what_is_published():
    hub = Hub()
    original = {"text": "hi", "n": [1, 2.5, None, True]}
    got: list = []
    call(collect, hub, "room", got, [original, "plain", 3])
    assert got == [original, "plain", 3]
    assert got[0] is not original


def test_delivery_happens_after_publish_returns_and_counts_receivers():
    hub = Hub()
    seen: list = []

    async def scenario():
        a = hub.subscribe("c", lambda m: seen.append(("a", m)))
        hub.subscribe("c", lambda m: seen.append(("b", m)))
        hub.subscribe("other", lambda m: seen.append(("other", m)))
        d = hub.publish("c", 1)
        synchronous = list(seen)
        count = await d
        a.cancel()
        a.cancel()  # idempotent
        second = await hub.publish("c", 2)
        return synchronous, count, second

    synchronous, count, second = call(scenario)
    assert synchronous == []
    assert (count, second) == (2, 1)
    assert seen == [("a", 1), ("b", 1), ("b", 2)]


def test_a_failing_subscriber_does_not_stop_the_others():
    hub = Hub()
    got: list = []

    async def scenario():
        hub.subscribe("c", lambda m: 1 / 0)
        hub.subscribe("c", lambda m: defer.fail(ValueError("async failure")))
        hub.subscribe("c", got.append)
        return await hub.publish("c", "still delivered")

    assert call(scenario) == 3
    assert got == ["still delivered"]


def test_unserializable_messages_and_bad_channels_are_refused():
    hub = Hub()
    with pytest.raises(TypeError):
        hub.publish("c", object())
    for bad in ("", None, b"bytes"):
        with pytest.raises(ValueError):
            hub.subscribe(bad, print)


def test_channels_and_counts_follow_subscriptions():
    hub = Hub()
    a = hub.subscribe("x", print)
    b = hub.subscribe("x", print)
    assert isinstance(a, Subscription) and a.active
    assert hub.channels() == ["x"] and hub.subscriber_count("x") == 2
    a.cancel()
    assert not a.active and hub.subscriber_count("x") == 1
    b.cancel()
    assert hub.channels() == [] and hub.subscriber_count("x") == 0
    assert "cancelled" in repr(b)


def test_from_url_and_services():
    assert type(Hub.from_url("memory://")) is Hub
    assert type(Hub.from_url("memory+hub://")) is Hub
    with pytest.raises(ValueError, match="unknown hub URL scheme"):
        Hub.from_url("kafka://x")
    assert "memory+hub" in plugins.names(plugins.STORAGE)
    assert "redis+hub" in plugins.names(plugins.STORAGE)
    app = Application([], services={"hub": "memory+hub://"})
    assert type(app.settings.hub) is Hub
    with pytest.raises(ServiceConfigError, match="unknown option"):
        Application([], services={"hub": "memory+hub://?poolsize=3"})


class Publisher(HubMixin, RequestHandler):
    async def post(self, channel):
        count = await self.publish(channel, {"body": self.request.body.decode()})
        self.write({"receivers": count})


def test_handlers_publish_on_the_hub_setting_or_the_default_hub(serve):
    import http.client
    import json

    own = Hub()
    for hub, settings in ((own, {"hub": own}), (default_hub(), {})):
        port = serve(Application([(r"/pub/(\w+)", Publisher)], **settings))
        got: list = []
        sub = hub.subscribe("news", got.append)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/pub/news", body=b"hello")
        response = conn.getresponse()
        assert json.loads(response.read()) == {"receivers": 1}
        conn.close()
        sub.cancel()
        assert got == [{"body": "hello"}]


def test_a_hub_setting_that_is_not_a_hub_is_explained():
    class Probe(HubMixin, RequestHandler):
        pass

    handler = Probe.__new__(Probe)
    handler.application = Application([], hub="redis://127.0.0.1")
    with pytest.raises(TypeError, match="services="):
        handler.hub  # noqa: B018

"""HubMixin on a WebSocketHandler: a room over the hub, subscriptions ending with the socket."""

from __future__ import annotations

import json

from waiting import wait_until
from websockets.sync.client import connect

from cyclone.web import Application
from cyclone_ext_realtime import Hub, HubMixin, WebSocketHandler


class Room(HubMixin, WebSocketHandler):
    def open(self, room):
        self.room = room
        self.subscribe(room)

    def on_message(self, message):
        return self.publish(self.room, {"said": message})


class ForgetfulRoom(Room):
    closed: list[str] = []

    def on_close(self):
        # does not call super(): the hub cleans up at the next message
        self.closed.append(self.room)


def test_websocket_clients_share_a_room_and_leave_it_on_close(serve):
    hub = Hub()
    port = serve(Application([(r"/room/(\w+)", Room)], hub=hub))
    url = f"ws://127.0.0.1:{port}/room/lobby"
    with connect(url) as alice, connect(url) as bob:
        wait_until(lambda: hub.subscriber_count("lobby") == 2)
        alice.send("hi bob")
        assert json.loads(bob.recv(timeout=5)) == {"said": "hi bob"}
        assert json.loads(alice.recv(timeout=5)) == {"said": "hi bob"}
        bob.close()
        wait_until(lambda: hub.subscriber_count("lobby") == 1)
        alice.send("alone")
        assert json.loads(alice.recv(timeout=5)) == {"said": "alone"}
    wait_until(lambda: hub.subscriber_count("lobby") == 0)


def test_a_subscription_left_by_an_on_close_override_ends_at_the_next_message(serve):
    hub = Hub()
    ForgetfulRoom.closed = []
    port = serve(Application([(r"/room/(\w+)", ForgetfulRoom)], hub=hub))
    url = f"ws://127.0.0.1:{port}/room/attic"
    with connect(url) as alice:
        with connect(url):
            wait_until(lambda: hub.subscriber_count("attic") == 2)
        # Positive signals: the server ran the second socket's on_close, then
        # served a marker socket opened after it (later reactor turns)...
        wait_until(lambda: ForgetfulRoom.closed == ["attic"])
        with connect(f"ws://127.0.0.1:{port}/room/marker") as marker:
            wait_until(lambda: hub.subscriber_count("marker") == 1)
            marker.send("ping")
            assert json.loads(marker.recv(timeout=5)) == {"said": "ping"}
        # ...and the closed socket's subscription is still there, until the next message.
        assert hub.subscriber_count("attic") == 2
        alice.send("anyone?")
        assert json.loads(alice.recv(timeout=5)) == {"said": "anyone?"}
        wait_until(lambda: hub.subscriber_count("attic") == 1)

"""An echo WebSocket app for the shutdown test, served by ``cyclone run`` in a subprocess."""

from cyclone.web import Application as WebApplication
from cyclone_ext_realtime import WebSocketHandler


class Echo(WebSocketHandler):
    def on_message(self, message):
        self.write_message(message)


def Application():
    return WebApplication([(r"/ws", Echo)])

"""cyclone-ext-badcontract: plugins that load fine but break their group's contract."""

import cyclone.web


def nooptions(url, **options):
    """A storage factory without the ``options`` mapping."""


def strictfactory(url):
    """A storage factory that declares an option it cannot accept."""


strictfactory.options = {"pool_max": int}


class NotAHandler:
    """Registered in cyclone.rpc but not a RequestHandler."""


class NoProcedure(cyclone.web.RequestHandler):
    """Registered in cyclone.rpc: names its protocol but has no way to dispatch."""

    protocol = "nothing"

    def post(self):
        self.write("?")


class NoTransport(cyclone.web.RequestHandler):
    """Registered in cyclone.realtime: a plain handler, no transport name, no on_close()."""

    def get(self):
        self.write("not a push transport")


class PostOnlyPush(cyclone.web.RequestHandler):
    """Registered in cyclone.realtime: a transport that cannot be opened with GET."""

    transport = "postonly"
    SUPPORTED_METHODS = ("POST",)

    def on_close(self):
        pass


class NumberedTransport(cyclone.web.RequestHandler):
    """Registered in cyclone.realtime: its transport name is not a str."""

    transport = 7

    def on_close(self):
        pass


class HalfScheme:
    name = "Half"

    def parse(self, header_value):
        return header_value


half = HalfScheme()


class BadVerifyScheme:
    """A whole scheme whose optional ``verify`` cannot take the arguments cyclone passes."""

    name = "BadVerify"

    def parse(self, header_value):
        return header_value

    def challenge(self, realm, **params):
        return f'BadVerify realm="{realm}"'

    def verify(self, credentials):
        return True


badverify = BadVerifyScheme()


class Unstartable:
    def stop(self):
        pass


def nostart(url, **options):
    """A storage factory whose service has no start()."""
    return Unstartable()


nostart.options = {}


class Silent:
    def start(self):
        pass

    def stop(self):
        pass


def nosend(url, **options):
    """A mail factory whose service cannot send."""
    return Silent()


nosend.options = {}

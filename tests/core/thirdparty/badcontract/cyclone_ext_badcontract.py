"""cyclone-ext-badcontract: plugins that load fine but break their group's contract."""


def nooptions(url, **options):
    """A storage factory without the ``options`` mapping."""


def strictfactory(url):
    """A storage factory that declares an option it cannot accept."""


strictfactory.options = {"pool_max": int}


class NotAHandler:
    """Registered in cyclone.rpc but not a RequestHandler."""


class HalfScheme:
    name = "Half"

    def parse(self, header_value):
        return header_value


half = HalfScheme()


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

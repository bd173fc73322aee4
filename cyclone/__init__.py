"""cyclone: Tornado's web API running as a Twisted protocol."""

version = "2.0.0.dev0"
version_info = (2, 0, 0, "dev0")
__version__ = version

"""cyclone-ext-othermemory: registers ``memory`` in cyclone.storage, like cyclone-ext-memory."""


def memory(url, **options):
    raise AssertionError("a conflicting plugin must never be called")


memory.options = {}

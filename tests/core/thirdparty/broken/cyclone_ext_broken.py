"""cyclone-ext-broken: its module fails while being imported."""

raise RuntimeError("cyclone_ext_broken needs libfoo 3, found libfoo 2")

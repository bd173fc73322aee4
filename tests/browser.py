"""Headless Chromium as the tests run it (the ``chromium`` fixture finds the binary)."""

# Quiet and self-contained: no sandbox (root in CI), no GPU, nothing fetched from outside.
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

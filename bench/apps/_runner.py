"""Run the reactor for a bench app, under cProfile when BENCH_PROFILE names a file."""

from __future__ import annotations

import os

from twisted.internet import reactor


def run_reactor() -> None:
    profile_path = os.environ.get("BENCH_PROFILE")
    if not profile_path:
        reactor.run()
        return
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        reactor.run()
    finally:
        profiler.disable()
        profiler.dump_stats(profile_path)

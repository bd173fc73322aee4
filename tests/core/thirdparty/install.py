"""Install the throwaway distributions of this folder into a directory on ``sys.path``."""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from cyclone import plugins

HERE = Path(__file__).resolve().parent

# distribution name → (folder here, version, {group: {entry name: value}})
DISTRIBUTIONS = {
    "cyclone-ext-memory": (
        "memory",
        "1.0",
        {
            "cyclone.storage": {"memory": "cyclone_ext_memory:memory"},
            "cyclone.auth": {"token": "cyclone_ext_memory:token"},
            "cyclone.rpc": {"echo": "cyclone_ext_memory:EchoHandler"},
            "cyclone.mail": {"outbox": "cyclone_ext_memory:outbox"},
            "cyclone.realtime": {"lines": "cyclone_ext_memory:LinesHandler"},
        },
    ),
    "cyclone-ext-othermemory": (
        "othermemory",
        "0.3",
        {"cyclone.storage": {"memory": "cyclone_ext_othermemory:memory"}},
    ),
    "cyclone-ext-cyc1": (
        "cyc1",
        "0.1",
        {"cyclone.auth": {"cyc1": "cyclone_ext_cyc1:cyc1"}},
    ),
    "cyclone-ext-broken": (
        "broken",
        "0.1",
        {"cyclone.storage": {"broken": "cyclone_ext_broken:factory"}},
    ),
    "cyclone-ext-badcontract": (
        "badcontract",
        "0.2",
        {
            "cyclone.storage": {
                "nooptions": "cyclone_ext_badcontract:nooptions",
                "strictfactory": "cyclone_ext_badcontract:strictfactory",
                "nostart": "cyclone_ext_badcontract:nostart",
            },
            "cyclone.rpc": {
                "notahandler": "cyclone_ext_badcontract:NotAHandler",
                "noprocedure": "cyclone_ext_badcontract:NoProcedure",
            },
            "cyclone.realtime": {
                "notransport": "cyclone_ext_badcontract:NoTransport",
                "postonly": "cyclone_ext_badcontract:PostOnlyPush",
                "numbered": "cyclone_ext_badcontract:NumberedTransport",
            },
            "cyclone.auth": {
                "half": "cyclone_ext_badcontract:half",
                "badverify": "cyclone_ext_badcontract:badverify",
            },
            "cyclone.mail": {"nosend": "cyclone_ext_badcontract:nosend"},
        },
    ),
}


def install(target: Path, *dist_names: str) -> Path:
    """Write the modules and ``*.dist-info`` of ``dist_names`` into ``target``; returns it."""
    target.mkdir(parents=True, exist_ok=True)
    for dist_name in dist_names:
        folder, version, groups = DISTRIBUTIONS[dist_name]
        for source in (HERE / folder).glob("*.py"):
            shutil.copy(source, target / source.name)
        info = target / f"{dist_name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n"
            f"Requires-Dist: cyclone\n"
        )
        lines = []
        for group, entries in groups.items():
            lines.append(f"[{group}]")
            lines.extend(f"{name} = {value}" for name, value in entries.items())
            lines.append("")
        (info / "entry_points.txt").write_text("\n".join(lines))
    return target


@contextlib.contextmanager
def installed(target: Path, *dist_names: str) -> Iterator[Path]:
    """Make ``dist_names`` importable and discoverable for the ``with`` block only."""
    path = str(install(target, *dist_names))
    sys.path.insert(0, path)
    plugins.clear_cache()
    try:
        yield target
    finally:
        sys.path.remove(path)
        for dist_name in dist_names:
            for source in (HERE / DISTRIBUTIONS[dist_name][0]).glob("*.py"):
                sys.modules.pop(source.stem, None)
        plugins.clear_cache()

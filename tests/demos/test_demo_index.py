"""demos/README.md, the front page of the demos, lists every demo and links files that exist."""

from __future__ import annotations

import re
from pathlib import Path

DEMOS = Path(__file__).resolve().parents[2] / "demos"
INDEX = (DEMOS / "README.md").read_text()


def test_every_demo_is_on_the_front_page():
    demos = sorted(p.name for p in DEMOS.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    assert len(demos) >= 20
    missing = [name for name in demos if f"[{name}]({name}/" not in INDEX]
    assert not missing, f"demos/README.md does not list {missing}"


def test_every_link_points_at_a_file():
    links = re.findall(r"\]\(([^)#]+)\)", INDEX)
    assert links
    broken = [link for link in links if not (DEMOS / link).exists()]
    assert not broken, broken


def test_the_commands_name_modules_that_exist():
    for dotted in re.findall(r"-r (demos\.[\w.]+)", INDEX) + re.findall(
        r"--ssl-app (demos\.[\w.]+)", INDEX
    ):
        module, _, name = dotted.rpartition(".")
        path = DEMOS.parent / (module.replace(".", "/") + ".py")
        assert path.exists(), dotted
        assert re.search(rf"^(def|class) {name}\b|^{name} = ", path.read_text(), re.M), dotted
    for script in re.findall(r"uv run python (demos/\S+\.py)", INDEX):
        assert (DEMOS.parent / script).exists(), script

"""``cyclone app``: write a new project from a skeleton.

Strategy: each skeleton is a tree of text files under ``cyclone/skeletons/``
(every file ends in ``.tmpl``, so neither Python tools nor the import checks
read them as code). The application skeletons are ``common/`` (deployment
files, configuration, tests) plus ``default/``, then the skeleton's own tree
laid over it (a file of the same path replaces the base one). ``@@name@@``
placeholders are replaced in contents and paths; ``.po`` catalogues are also
compiled to ``.mo`` so translations work without gettext tools. The target is
written in a fresh temporary directory next to it and renamed into place, so
an existing directory is never touched and a failure leaves nothing behind.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import keyword
import os
import re
import secrets
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["SKELETONS", "add_parser", "compile_po", "create_project"]

ROOT = Path(__file__).resolve().parent / "skeletons"
SKELETONS = ("default", "signup", "foreman", "extension")
# What each skeleton is made of, in order (later trees replace files of earlier ones).
LAYERS = {
    "default": ("common", "default"),
    "signup": ("common", "default", "signup"),
    "foreman": ("common", "default", "foreman"),
    "extension": ("extension",),
}
_PLACEHOLDER = re.compile(r"@@([a-z_]+)@@")
_PROJECT_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")

APACHE_NOTICE = """\
Copyright {year} the {project} authors

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
"""


class SkeletonError(Exception):
    """A request ``cyclone app`` refuses, with the reason in one line."""


def _check_identifier(name: str, what: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name) or not name.isascii():
        raise SkeletonError(
            f"{what} {name!r} is not a valid Python identifier (ASCII letters, digits and _,"
            " not starting with a digit, not a keyword)"
        )


def _values(
    project: str, modname: str, version: str, skeleton: str, set_pkg_version: bool
) -> dict[str, str]:
    package = f"cyclone_ext_{modname}" if skeleton == "extension" else modname
    distribution = (
        f"cyclone-ext-{modname.replace('_', '-')}" if skeleton == "extension" else project
    )
    if set_pkg_version:
        version_line = 'dynamic = ["version"]'
        version_tool = f'\n[tool.hatch.version]\npath = "{package}/__init__.py"\n'
        init_version = f'__version__ = "{version}"\n'
    else:
        version_line = f'version = "{version}"'
        version_tool = ""
        init_version = (
            "from importlib.metadata import PackageNotFoundError, version\n\n"
            "try:\n"
            f'    __version__ = version("{distribution}")\n'
            "except PackageNotFoundError:  # run from a checkout that is not installed\n"
            '    __version__ = "0+unknown"\n'
        )
    return {
        "project": project,
        "modname": modname,
        "upper": modname.upper(),
        "package": package,
        "distribution": distribution,
        "scheme": modname.replace("_", "-"),
        "version": version,
        "version_line": version_line,
        "version_tool": version_tool,
        "init_version": init_version,
        "year": str(datetime.date.today().year),
        "cookie_secret": secrets.token_urlsafe(32),
        "extras": "sql,mail" if skeleton == "signup" else "sql",
        "test_extra": ', "aiosmtpd>=1.4"' if skeleton == "signup" else "",
    }


def _render(text: str, values: dict[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"unknown placeholder @@{key}@@")
        return values[key]

    return _PLACEHOLDER.sub(sub, text)


def _files(skeleton: str) -> dict[str, Path]:
    """Output path (with placeholders) -> template file, the layers merged."""
    found: dict[str, Path] = {}
    for layer in LAYERS[skeleton]:
        base = ROOT / layer
        for path in sorted(base.rglob("*.tmpl")):
            relative = path.relative_to(base).as_posix()[: -len(".tmpl")]
            relative = "/".join(
                "." + part[len("dot-") :] if part.startswith("dot-") else part
                for part in relative.split("/")
            )
            found[relative] = path
    return found


def _po_string(lines: list[str]) -> str:
    return "".join(ast.literal_eval(line) for line in lines)


def compile_po(source: str) -> bytes:
    """A GNU ``.mo`` catalogue from the text of a ``.po`` file (no plural forms)."""
    entries: dict[str, str] = {}
    parts: dict[str, list[str]] = {}
    key: str | None = None
    fuzzy = entry_fuzzy = False

    def flush() -> None:
        if "msgid" in parts and "msgstr" in parts and not entry_fuzzy:
            msgstr = _po_string(parts["msgstr"])
            if msgstr:
                entries[_po_string(parts["msgid"])] = msgstr
        parts.clear()

    for raw in source.splitlines():
        line = raw.strip()
        if line.startswith("#,"):
            fuzzy = "fuzzy" in line
        elif not line or line.startswith("#"):
            continue
        elif line.startswith("msgid "):
            flush()
            entry_fuzzy, fuzzy = fuzzy, False
            key = "msgid"
            parts[key] = [line[len("msgid ") :]]
        elif line.startswith("msgstr "):
            key = "msgstr"
            parts[key] = [line[len("msgstr ") :]]
        elif line.startswith('"') and key is not None:
            parts[key].append(line)
    flush()

    ids = sorted(entries)
    keys = b"".join(i.encode() + b"\0" for i in ids)
    vals = b"".join(entries[i].encode() + b"\0" for i in ids)
    header_size = 7 * 4
    table = header_size + 16 * len(ids)
    key_offsets, val_offsets = [], []
    position = 0
    for i in ids:
        key_offsets.append((len(i.encode()), table + position))
        position += len(i.encode()) + 1
    position = 0
    for i in ids:
        val_offsets.append((len(entries[i].encode()), table + len(keys) + position))
        position += len(entries[i].encode()) + 1
    out = struct.pack("<7I", 0x950412DE, 0, len(ids), header_size, header_size + 8 * len(ids), 0, 0)
    for length, offset in key_offsets:
        out += struct.pack("<2I", length, offset)
    for length, offset in val_offsets:
        out += struct.pack("<2I", length, offset)
    return out + keys + vals


def _git(directory: Path, *args: str) -> None:
    git = shutil.which("git")
    if git is None:
        raise SkeletonError("-g/--git needs git on PATH")
    env = dict(os.environ)
    for name, fallback in (("user.name", "cyclone app"), ("user.email", "cyclone@localhost")):
        found = subprocess.run(
            [git, "config", name], cwd=directory, capture_output=True, text=True, env=env
        )
        if not found.stdout.strip():
            kind = "NAME" if name == "user.name" else "EMAIL"
            env[f"GIT_AUTHOR_{kind}"] = env[f"GIT_COMMITTER_{kind}"] = fallback
    result = subprocess.run([git, *args], cwd=directory, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SkeletonError(f"git {' '.join(args)} failed: {result.stderr.strip()}")


def create_project(
    project: str,
    *,
    modname: str | None = None,
    version: str = "0.1",
    target: str | Path = ".",
    license_file: str | Path | None = None,
    skeleton: str = "default",
    git: bool = False,
    set_pkg_version: bool = False,
) -> Path:
    """Write ``target/project`` from ``skeleton``; returns its path.

    Raises :class:`SkeletonError` for a bad name, an unknown skeleton or an
    existing directory (which is left as it is).
    """
    if skeleton not in SKELETONS:
        raise SkeletonError(f"unknown skeleton {skeleton!r}; choose one of {', '.join(SKELETONS)}")
    if modname is None:
        if not project.isidentifier():
            raise SkeletonError(
                f"project name {project!r} is not a valid Python identifier, so it cannot be"
                " the module name: give one with -m/--modname (e.g. -m "
                f"{re.sub(r'[^0-9A-Za-z_]', '_', project).lstrip('0123456789') or 'app'})"
            )
        modname = project
    _check_identifier(modname, "module name")
    if not _PROJECT_NAME.match(project):
        raise SkeletonError(f"project name {project!r} must be letters, digits, '.', '-' or '_'")
    target = Path(target)
    if not target.is_dir():
        raise SkeletonError(f"target directory {str(target)!r} does not exist")
    destination = target / project
    if destination.exists() or destination.is_symlink():
        raise SkeletonError(f"{destination} already exists; cyclone app never overwrites")
    license_text = None
    if license_file is not None:
        try:
            license_text = Path(license_file).read_text(encoding="utf-8")
        except OSError as e:
            raise SkeletonError(f"cannot read the license file {str(license_file)!r}: {e}")

    values = _values(project, modname, version, skeleton, set_pkg_version)
    values["license_field"] = (
        'license-files = ["LICENSE"]' if license_text is not None else 'license = "Apache-2.0"'
    )
    staging = Path(tempfile.mkdtemp(prefix=f".{project}-", dir=target))
    try:
        for relative, template in _files(skeleton).items():
            out = staging / _render(relative, values)
            out.parent.mkdir(parents=True, exist_ok=True)
            text = _render(template.read_text(encoding="utf-8"), values)
            out.write_text(text, encoding="utf-8")
            if template.stat().st_mode & 0o100:
                out.chmod(0o755)
            if out.suffix == ".po":
                out.with_suffix(".mo").write_bytes(compile_po(text))
        (staging / "LICENSE").write_text(
            license_text
            if license_text is not None
            else APACHE_NOTICE.format(year=values["year"], project=project),
            encoding="utf-8",
        )
        if destination.exists():
            raise SkeletonError(f"{destination} already exists; cyclone app never overwrites")
        staging.rename(destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if git:
        _git(destination, "init", "-q")
        _git(destination, "add", "-A")
        _git(
            destination, "commit", "-q", "-m", f"{project}: the {skeleton} skeleton of cyclone app"
        )
    return destination


def _cmd_app(args: argparse.Namespace) -> int:
    try:
        path = create_project(
            args.project,
            modname=args.modname,
            version=args.version,
            target=args.target,
            license_file=args.license,
            skeleton=args.appskel,
            git=args.git,
            set_pkg_version=args.set_pkg_version,
        )
    except SkeletonError as e:
        print(f"cyclone app: {e}", file=sys.stderr, flush=True)
        return 2
    print(f"cyclone app: created {path} ({args.appskel} skeleton)")
    print(f"  next: cd {path} and read README.md")
    return 0


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``cyclone app`` to the ``cyclone`` command's subparsers."""
    app = sub.add_parser(
        "app",
        help="create a new project from a skeleton",
        description="Create a new project: a cyclone application (default, signup, foreman)"
        " or a third-party extension distribution (extension).",
    )
    app.add_argument("-p", "--project", required=True, metavar="NAME", help="project name")
    app.add_argument(
        "-g", "--git", action="store_true", help="make it a git repository with a first commit"
    )
    app.add_argument(
        "-m", "--modname", metavar="NAME", help="Python module name (default: the project name)"
    )
    app.add_argument(
        "-v", "--version", default="0.1", help="project version (default: %(default)s)"
    )
    app.add_argument(
        "-s",
        "--set-pkg-version",
        action="store_true",
        help="keep the version in the package's __init__.py (pyproject reads it from there)",
    )
    app.add_argument(
        "-t", "--target", default=".", metavar="DIR",
        help="where the project directory is created (default: the current directory)",
    )  # fmt: skip
    app.add_argument(
        "-l", "--license", metavar="FILE",
        help="the project's LICENSE file (default: Apache 2)",
    )  # fmt: skip
    app.add_argument(
        "-a", "--appskel", default="default", choices=SKELETONS,
        help="the skeleton: default, signup (accounts, e-mail reset), foreman (Procfile),"
        " extension (a cyclone-ext-NAME distribution) (default: %(default)s)",
    )  # fmt: skip
    app.set_defaults(func=_cmd_app)
    return app

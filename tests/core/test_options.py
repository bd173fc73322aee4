"""cyclone.options: what Tornado users rely on, side by side with tornado.options.

Tornado's own test case runs in test_options_tornado.py; here each behaviour
is checked against Tornado's answer for the same input where both must agree,
and the differences (errors that name the option, strict booleans) are
checked on their own. The global ``options`` are exercised in a subprocess.
"""

from __future__ import annotations

import datetime
import io
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from cyclone import options as cyclone_options
from cyclone.options import Error, OptionParser

tornado_options = pytest.importorskip("tornado.options")


def both() -> list[Any]:
    return [OptionParser(), tornado_options.OptionParser()]


# -- the same answers as Tornado ----------------------------------------------------


@pytest.mark.parametrize(
    ("define", "argv"),
    [
        ({"default": 80}, ["--x=443"]),
        ({"default": 1.5}, ["--x=2.25"]),
        ({"type": str}, ["--x=a=b"]),
        ({"default": False}, ["--x"]),
        ({"default": True}, ["--x=false"]),
        ({"default": True}, ["--x=0"]),
        ({"type": bool}, ["--x=true"]),
        ({"type": int, "multiple": True}, ["--x=1,3,5:7"]),
        ({"type": str, "multiple": True}, ["--x=a,b,,c"]),
        ({"type": float, "multiple": True}, ["--x=1.5,2"]),
        ({"type": datetime.datetime}, ["--x=2013-04-28 05:16"]),
        ({"type": datetime.datetime}, ["--x=2013-04-28"]),
        ({"type": datetime.datetime}, ["--x=20130428 05:16:07"]),
        ({"type": datetime.datetime}, ["--x=2013-04-28T05:16"]),
        ({"type": datetime.timedelta}, ["--x=45s"]),
        ({"type": datetime.timedelta}, ["--x=5m"]),
        ({"type": datetime.timedelta}, ["--x=1.5h"]),
        ({"type": datetime.timedelta}, ["--x=2 days"]),
        ({"type": datetime.timedelta}, ["--x=1h 30m"]),
        ({"type": datetime.timedelta}, ["--x=90"]),
        ({"type": datetime.timedelta}, ["--x=1w"]),
        ({"default": 80}, []),
        ({}, []),
        ({"type": int, "multiple": True}, []),
    ],
)
def test_values_match_tornado(define: dict[str, Any], argv: list[str]) -> None:
    values = []
    for parser in both():
        parser.define("x", **define)
        rest = parser.parse_command_line(["prog", *argv, "rest", "--y"])
        assert rest == ["rest", "--y"]
        values.append(parser.x)
    assert values[0] == values[1]
    assert type(values[0]) is type(values[1])


def test_dashes_underscores_items_groups_and_dicts_match_tornado() -> None:
    results = []
    for parser in both():
        parser.define("log-dir", default="/tmp", group="files")
        parser.define("max_size", default=5, group="files")
        parser.define("name", default="x")
        parser.parse_command_line(["prog", "--log_dir=/var", "--max-size=7", "--", "--name=z"])
        results.append(
            (
                sorted(parser),
                sorted(parser.items()),
                parser.group_dict("files"),
                sorted(parser.groups()),
                parser.as_dict(),
                parser.log_dir,
                parser["log_dir"],
                "max-size" in parser,
                "nope" in parser,
            )
        )
    assert results[0] == results[1]
    assert results[0][5] == "/var"


def test_config_files_match_tornado(tmp_path: Path) -> None:
    config = tmp_path / "app.conf"
    config.write_text(
        textwrap.dedent(
            """
            import datetime
            port = 8000 + 1
            hosts = "a,b"
            ids = [1, 2]
            debug = True
            when = "2020-01-02 03:04"
            pause = datetime.timedelta(seconds=3)
            not_an_option = object()
            here = __file__
            """
        )
    )
    results = []
    for parser in both():
        parser.define("port", default=80)
        parser.define("hosts", type=str, multiple=True)
        parser.define("ids", type=int, multiple=True)
        parser.define("debug", default=False)
        parser.define("when", type=datetime.datetime)
        parser.define("pause", type=datetime.timedelta)
        parser.define("here", type=str)
        parser.parse_config_file(str(config))
        results.append(parser.as_dict())
    assert results[0] == results[1]
    assert results[0]["port"] == 8001 and results[0]["hosts"] == ["a", "b"]
    assert results[0]["here"] == str(config)


def test_callbacks_run_on_every_set_and_parse_callbacks_on_final_parses_only() -> None:
    for parser in both():
        seen: list[Any] = []
        parsed: list[str] = []
        parser.define("port", default=80, callback=seen.append)
        parser.add_parse_callback(lambda parsed=parsed: parsed.append("done"))
        parser.parse_command_line(["prog", "--port=81"], final=False)
        assert (seen, parsed) == ([81], [])
        parser.port = 82
        parser.parse_config_file.__func__  # noqa: B018 -- the method exists on both
        parser.parse_command_line(["prog"])
        assert (seen, parsed) == ([81, 82], ["done"])


def test_the_same_inputs_are_errors_for_both() -> None:
    for parser, error in zip(both(), (Error, tornado_options.Error), strict=True):
        parser.define("port", default=80)
        parser.define("flag", default=False)
        with pytest.raises(error):
            parser.define("port")
        with pytest.raises(error):
            parser.parse_command_line(["prog", "--nope=1"])
        with pytest.raises(error):
            parser.parse_command_line(["prog", "--port"])
        with pytest.raises(error):
            parser.port = "81"
        with pytest.raises(AttributeError):
            parser.nope  # noqa: B018
        with pytest.raises(AttributeError):
            parser.nope = 1


# -- errors name the bad option ------------------------------------------------------


def test_a_value_that_does_not_convert_names_the_option() -> None:
    parser = OptionParser()
    parser.define("port", default=80)
    parser.define("ids", type=int, multiple=True)
    parser.define("pause", type=datetime.timedelta)
    parser.define("when", type=datetime.datetime)
    cases = {
        "--port=eighty": "'port'",
        "--ids=1,x": "'ids'",
        "--ids=1:y": "'ids'",
        "--pause=3 fortnights": "'pause'",
        "--when=yesterday": "'when'",
    }
    for arg, name in cases.items():
        with pytest.raises(Error, match=name) as info:
            parser.parse_command_line(["prog", arg])
        assert isinstance(info.value, ValueError)  # code that caught ValueError still does
        assert arg.partition("=")[2] in str(info.value)


def test_unknown_and_valueless_options_name_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    parser = OptionParser()
    parser.define("port", default=80, help="where to listen")
    with pytest.raises(Error, match="Unrecognized command line option: 'prot'"):
        parser.parse_command_line(["prog", "--prot=1"])
    assert "--port" in capsys.readouterr().err  # the help is shown with it
    with pytest.raises(Error, match="Option 'port' requires a value"):
        parser.parse_command_line(["prog", "--port"])
    with pytest.raises(Error, match="Option 'port' is required to be a int"):
        parser.port = "81"
    with pytest.raises(Error, match=r"Option 'port' already defined in .*test_options\.py"):
        parser.define("port")


def test_config_file_type_errors_name_the_option(tmp_path: Path) -> None:
    config = tmp_path / "bad.conf"
    config.write_text("port = 8.5\nids = 3\n")
    parser = OptionParser()
    parser.define("port", default=80)
    with pytest.raises(Error, match="'port'"):
        parser.parse_config_file(str(config))
    parser = OptionParser()
    parser.define("ids", type=int, multiple=True)
    with pytest.raises(Error, match=r"'ids'.*list of int"):
        parser.parse_config_file(str(config))


def test_booleans_are_strict_where_tornado_takes_any_word_as_true() -> None:
    parser = OptionParser()
    parser.define("debug", default=False)
    for text, value in [("yes", True), ("on", True), ("no", False), ("off", False)]:
        parser.parse_command_line(["prog", f"--debug={text}"])
        assert parser.debug is value
    with pytest.raises(Error, match="'debug'"):
        parser.parse_command_line(["prog", "--debug=maybe"])
    tornado_parser = tornado_options.OptionParser()
    tornado_parser.define("debug", default=False)
    tornado_parser.parse_command_line(["prog", "--debug=no"])
    assert tornado_parser.debug is True  # the difference, documented in docs/compat.md


# -- help ---------------------------------------------------------------------------


def test_print_help_lists_groups_names_metavars_defaults_and_help() -> None:
    parser = OptionParser()
    parser.define("port", default=8888, help="the port to listen on")
    parser.define("db_url", type=str, metavar="URL", group="database", help="where the data is")
    parser.define("a_really_long_option_name_here", default=1, help="long one")
    out = io.StringIO()
    parser.print_help(out)
    text = out.getvalue()
    assert text.startswith("Usage: ")
    assert "[OPTIONS]" in text
    assert "database options:" in text
    assert "test_options.py options:" in text
    assert "--db-url=URL" in text and "where the data is" in text
    assert "--port" in text and "the port to listen on (default 8888)" in text
    assert "--help" in text and "show this help information" in text
    assert "--a-really-long-option-name-here" in text
    assert text.index("database options:") < text.index("--db-url")


def test_mockable_restores_the_value() -> None:
    # What mock.patch.object(options.mockable(), name, value) does: setattr, then delattr.
    parser = OptionParser()
    parser.define("port", default=80)
    patched = parser.mockable()
    setattr(patched, "port", 9)  # noqa: B010
    assert parser.port == 9
    delattr(patched, "port")
    assert parser.port == 80


# -- the global options, as a program uses them ------------------------------------

PROGRAM = textwrap.dedent(
    """
    import logging, sys
    from cyclone.options import define, options, parse_command_line, parse_config_file

    define("port", default=8888, help="the port to listen on")
    define("backends", type=str, multiple=True, group="db", help="database hosts")
    define("debug", default=False, callback=lambda v: print("debug set to", v))
    if len(sys.argv) > 1 and sys.argv[1].startswith("@"):
        parse_config_file(sys.argv[1][1:])
        rest = []
    else:
        rest = parse_command_line()
    logging.getLogger("app").debug("a debug line")
    print(options.port, options.backends, options.debug, rest)
    """
)


def run_program(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "prog.py"
    script.write_text(PROGRAM)
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=60
    )


def test_a_program_parses_its_command_line(tmp_path: Path) -> None:
    result = run_program(tmp_path, "--port=9000", "--backends=a,b", "--debug", "serve")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["debug set to True", "9000 ['a', 'b'] True ['serve']"]


def test_a_program_reads_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "prod.conf"
    config.write_text('port = 80\nbackends = ["db1", "db2"]\n')
    result = run_program(tmp_path, f"@{config}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "80 ['db1', 'db2'] False []"


def test_help_prints_the_options_and_exits_0(tmp_path: Path) -> None:
    result = run_program(tmp_path, "--help")
    assert result.returncode == 0
    assert "Usage: prog.py [OPTIONS]" in result.stderr
    assert "db options:" in result.stderr and "--backends" in result.stderr
    assert "--logging=debug|info|warning|error|none" in result.stderr
    assert result.stdout == ""


def test_a_bad_option_fails_naming_it(tmp_path: Path) -> None:
    result = run_program(tmp_path, "--port=high")
    assert result.returncode == 1
    assert "cyclone.options.OptionValueError: Option 'port': 'high' is not int" in result.stderr


def test_logging_options_configure_the_standard_library(tmp_path: Path) -> None:
    log_file = tmp_path / "app.log"
    result = run_program(tmp_path, "--logging=debug", f"--log-file-prefix={log_file}")
    assert result.returncode == 0, result.stderr
    assert "a debug line" in log_file.read_text()
    assert "a debug line" not in result.stderr  # a file, and no --log-to-stderr
    result = run_program(tmp_path, "--logging=debug")
    assert "a debug line" in result.stderr
    result = run_program(tmp_path, "--logging=info")
    assert "a debug line" not in result.stderr


def test_the_global_options_have_help_and_logging() -> None:
    assert {"help", "logging", "log_file_prefix", "log_to_stderr"} <= set(cyclone_options.options)

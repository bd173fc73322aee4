"""Render benchmark results (the JSON that run.py writes) as Markdown and as a text table."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

ENDPOINT_PATHS = {"hello": "/", "json": "/json", "user": "/user/42"}
MODES = ("keep-alive", "close")
BASELINE = "cyclone2"
TARGET_PEER = "starlette"
NOISE_THRESHOLD = 0.10  # share of a core used by other processes during a pass

INTRO_FILE = Path(__file__).resolve().parent / "intro.md"


def _ms(us: float) -> str:
    return f"{us / 1000:.2f}"


def _rps(x: float) -> str:
    return f"{x:,.0f}"


def _servers(results: dict) -> list[str]:
    return list(results["servers"])


def _label(results: dict, name: str) -> str:
    return results.get("labels", {}).get(name, name)


def _cell(results: dict, name: str, mode: str, endpoint: str) -> dict | None:
    return results["servers"].get(name, {}).get("modes", {}).get(mode, {}).get(endpoint)


def _ratio(results: dict, mode: str, endpoint: str, peer: str) -> float | None:
    base = _cell(results, BASELINE, mode, endpoint)
    other = _cell(results, peer, mode, endpoint)
    if not base or not other or not other["rps"]:
        return None
    return base["rps"] / other["rps"]


def _results_table(results: dict, mode: str) -> list[str]:
    head = "| server |"
    rule = "| --- |"
    for ep in ENDPOINT_PATHS:
        head += f" {ep} req/s | p50 ms | p99 ms |"
        rule += " ---: | ---: | ---: |"
    lines = [head, rule]
    for name in _servers(results):
        row = f"| {_label(results, name)} |"
        for ep in ENDPOINT_PATHS:
            c = _cell(results, name, mode, ep)
            if c is None:
                row += " - | - | - |"
            else:
                row += f" {_rps(c['rps'])} | {_ms(c['p50_us'])} | {_ms(c['p99_us'])} |"
        lines.append(row)
    return lines


def _ratio_table(results: dict) -> list[str]:
    head = "| cyclone 2 ÷ |"
    rule = "| --- |"
    for mode in MODES:
        for ep in ENDPOINT_PATHS:
            head += f" {ep} {mode} |"
            rule += " ---: |"
    lines = [head, rule]
    for name in _servers(results):
        if name == BASELINE:
            continue
        row = f"| {_label(results, name)} |"
        for mode in MODES:
            for ep in ENDPOINT_PATHS:
                r = _ratio(results, mode, ep, name)
                row += f" {r:.2f} |" if r is not None else " - |"
        lines.append(row)
    return lines


def _target_lines(results: dict) -> list[str]:
    lines = []
    if BASELINE not in results["servers"]:
        return ["cyclone 2 was not part of this run."]
    if TARGET_PEER in results["servers"]:
        for ep in ENDPOINT_PATHS:
            r = _ratio(results, "keep-alive", ep, TARGET_PEER)
            if r is None:
                continue
            verdict = "met" if r >= 1.0 else "NOT met"
            lines.append(
                f"- keep-alive `{ENDPOINT_PATHS[ep]}`: cyclone 2 is {r:.2f}x "
                f"starlette + uvicorn: **{verdict}**"
            )
    for mode in MODES:
        for ep in ENDPOINT_PATHS:
            c = _cell(results, BASELINE, mode, ep)
            if c is None or not c["p50_us"]:
                continue
            spread = c["p99_us"] / c["p50_us"]
            verdict = "met" if spread <= 2.0 else "NOT met"
            lines.append(
                f"- {mode} `{ENDPOINT_PATHS[ep]}`: cyclone 2 p99/p50 = {spread:.2f}: **{verdict}**"
            )
    return lines


def _error_lines(results: dict) -> list[str]:
    lines = []
    for name in _servers(results):
        for mode in MODES:
            for ep in ENDPOINT_PATHS:
                c = _cell(results, name, mode, ep)
                if c and any(c["errors"].values()):
                    errs = ", ".join(f"{k} {v}" for k, v in c["errors"].items() if v)
                    lines.append(
                        f"- {_label(results, name)}, {mode} `{ENDPOINT_PATHS[ep]}`: {errs}"
                    )
    return lines


def _noise_lines(results: dict) -> list[str]:
    lines = []
    for name in _servers(results):
        for mode in MODES:
            for ep in ENDPOINT_PATHS:
                c = _cell(results, name, mode, ep)
                if c and c.get("other_cpu", 0.0) > NOISE_THRESHOLD:
                    lines.append(
                        f"- {_label(results, name)}, {mode} `{ENDPOINT_PATHS[ep]}`: other "
                        f"processes used up to {100 * c['other_cpu']:.0f}% of a core in a pass"
                    )
    return lines


def render(results: dict) -> str:
    meta = results["meta"]
    s = meta["settings"]
    out = [INTRO_FILE.read_text().rstrip() + "\n", "## Latest results", ""]
    out += [
        f"- Date: {meta['date']}",
        f"- CPU: {meta['cpu']} ({meta['cores']} cores; server on core {s['server_cpu']}, "
        f"wrk on core {s['client_cpu']})",
        f"- Kernel: Linux {meta['kernel']}; Python {meta['host_python']}; {meta['wrk']}",
        f"- cyclone 2 revision: {meta['cyclone_revision']}",
        f"- Passes: {s['passes']} x {s['duration_s']:g} s after a {s['warmup_s']:g} s warm-up "
        f"per endpoint and mode; wrk -t1 -c{s['connections']}; medians over the passes",
        f"- Command: `{meta['command'].strip()}`",
        "- Load average (1 min) before the run: "
        + f"{meta.get('loadavg_start', [0])[0]:.2f}; after each server: "
        + ", ".join(
            f"{_label(results, n)} {results['servers'][n].get('loadavg_after', [0])[0]:.2f}"
            for n in _servers(results)
        )
        + " (the server and wrk together keep about 2 cores busy; more means other work ran)",
        "",
    ]
    for mode in MODES:
        title = (
            "Keep-alive"
            if mode == "keep-alive"
            else "`Connection: close` (a new connection per request)"
        )
        out += [f"### {title}", ""]
        out += _results_table(results, mode)
        out.append("")
    out += [
        "### Ratios: cyclone 2 requests/s divided by each other row's",
        "",
        "Above 1.00 means cyclone 2 served more requests per second.",
        "",
    ]
    out += _ratio_table(results)
    out += ["", "### Against the target", ""]
    out += _target_lines(results)
    errors = _error_lines(results)
    out += ["", "### wrk errors", ""]
    out += errors or ["None: no socket errors, timeouts or non-2xx responses in any pass."]
    has_noise_data = any(
        "other_cpu" in (_cell(results, n, m, e) or {})
        for n in _servers(results)
        for m in MODES
        for e in ENDPOINT_PATHS
    )
    if has_noise_data:
        out += [
            "",
            "### Noise",
            "",
            "CPU time used by processes other than the server and wrk during each pass "
            "(from /proc/stat); figures where it passed "
            f"{100 * NOISE_THRESHOLD:.0f}% of a core deserve less trust:",
            "",
        ]
        out += _noise_lines(results) or ["None."]
    log_bytes = results["servers"].get("cyclone2-accesslog", {}).get("access_log_bytes")
    if log_bytes:
        out += [
            "",
            f"The access-log row wrote {log_bytes / 1e6:,.1f} MB of log lines during its run.",
        ]
    out += ["", "### Exact commands", "", "Servers (PORT is a free port picked per run):", ""]
    out.append("```sh")
    for name in _servers(results):
        argv = results["servers"][name].get("argv", [])
        port_index = 5
        shown = ["PORT" if i == port_index else a for i, a in enumerate(argv)]
        out.append(" ".join(_shorten(a) for a in shown))
    out.append("```")
    out += ["", "wrk, for each endpoint path:", "", "```sh"]
    out += [meta["wrk_commands"][m] for m in MODES]
    out += ["```", "", "### Versions", ""]
    for name, env in meta["envs"].items():
        if "same_as" in env:
            out.append(f"- {_label(results, name)}: same environment as {env['same_as']}")
            continue
        where = (
            "the repository's `.venv`"
            if env.get("install") is None
            else f"`bench/.envs/{name}` ({'; '.join(' '.join(step) for step in env['install'])})"
        )
        out += [
            f"- {_label(results, name)}: Python {env['python']}, {where}",
            "",
            "  <details><summary>pip freeze</summary>",
            "",
            "  ```",
            *[f"  {line}" for line in env["freeze"]],
            "  ```",
            "",
            "  </details>",
            "",
        ]
    text = "\n".join(out).rstrip() + "\n"
    rpc_latest = Path(__file__).resolve().parent / "results" / "rpc-latest.json"
    if rpc_latest.exists():  # the RPC section (bench/rpc.py) comes before the WebSocket one
        import rpc

        text += "\n" + rpc.render(json.loads(rpc_latest.read_text()))
    if WS_LATEST.exists():  # the WebSocket section (bench/ws.py) stays at the end of the page
        text += "\n" + render_ws(json.loads(WS_LATEST.read_text()))
    return text


def _shorten(arg: str) -> str:
    marker = "/bench/"
    if marker in arg:
        return "bench/" + arg.split(marker, 1)[1]
    if arg.endswith("/.venv/bin/python"):
        return ".venv/bin/python"
    if arg.startswith("/tmp/cyclone2-access-"):
        return "FILE"
    return arg


def summary_table(results: dict) -> str:
    rows = []
    header = f"{'server':34s} {'mode':10s} {'endpoint':8s} {'req/s':>9s} {'p50 ms':>7s}"
    header += f" {'p99 ms':>7s}"
    rows.append(header)
    for name in _servers(results):
        for mode in MODES:
            for ep in ENDPOINT_PATHS:
                c = _cell(results, name, mode, ep)
                if c is None:
                    continue
                r = _ratio(results, mode, ep, TARGET_PEER) if name == BASELINE else None
                extra = f"  {r:.2f}x starlette" if r is not None else ""
                rows.append(
                    f"{_label(results, name):34s} {mode:10s} {ep:8s} {c['rps']:9.0f} "
                    f"{c['p50_us'] / 1000:7.2f} {c['p99_us'] / 1000:7.2f}{extra}"
                )
    return "\n".join(rows)


# -- the WebSocket section (bench/ws.py) ----------------------------------------------------

WS_MARKER = "## WebSocket benchmark"
WS_INTRO_FILE = Path(__file__).resolve().parent / "ws_intro.md"
WS_LATEST = Path(__file__).resolve().parent / "results" / "ws-latest.json"
WS_BASELINE = "cyclone2"
WS_PEER = "tornado"
SATURATED = 0.85  # share of a core above which a process is taken as the bottleneck


def strip_ws_section(text: str) -> str:
    """The page without its WebSocket section (which always comes last)."""
    index = text.find("\n" + WS_MARKER)
    return text if index < 0 else text[: index + 1]


def _ws_cell(results: dict, name: str, scenario: str) -> dict | None:
    return results["servers"].get(name, {}).get(scenario)


def _ws_ratio(results: dict, name: str, scenario: str) -> float | None:
    base = _ws_cell(results, name, scenario)
    peer = _ws_cell(results, WS_PEER, scenario)
    if not base or not peer or not peer["rate"]:
        return None
    return base["rate"] / peer["rate"]


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _bottleneck(c: dict) -> str:
    if c["client_cpu"] >= SATURATED and c["client_cpu"] >= c["server_cpu"]:
        return "client (figures are a lower bound)"
    if c["server_cpu"] >= SATURATED:
        return "server"
    if c["client_cpu"] > c["server_cpu"]:
        return "neither core saturated; the client worked more (its time is in the figure)"
    return "neither core saturated"


def _singles_cpu(fanout: dict) -> dict:
    """Median CPU shares during the single-broadcast windows of the fan-out passes."""
    cpus = [p["single"]["cpu"] for p in fanout["passes"]]
    return {
        key: statistics.median(c[f"{key.split('_')[0]}_s"] / c["wall_s"] for c in cpus)
        for key in ("server_cpu", "client_cpu")
    }


def render_ws(results: dict) -> str:
    meta = results["meta"]
    s = meta["settings"]
    names = list(results["servers"])
    label = results.get("labels", {})
    out = [WS_INTRO_FILE.read_text().rstrip() + "\n", "### Latest WebSocket results", ""]
    out += [
        f"- Date: {meta['date']}",
        f"- CPU: {meta['cpu']} ({meta['cores']} cores; server on core {s['server_cpu']}, "
        f"client on core {s['client_cpu']})",
        f"- Kernel: Linux {meta['kernel']}; Python {meta['host_python']}; client "
        f"`bench/ws_client.py` ({meta['client_websockets']} for the cross-check)",
        f"- cyclone 2 revision: {meta['cyclone_revision']}",
        f"- Echo: {s['connections']} connections, {s['size']}-byte text messages, "
        f"{s['passes']} passes x {s['duration_s']:g} s after a {s['warmup_s']:g} s warm-up",
        f"- Fan-out: {s['subscribers']:,} subscribers, bursts of {s['broadcasts']} broadcasts of "
        f"{s['size']} bytes ({s['subscribers'] * s['broadcasts']:,} deliveries per pass) and "
        f"{s['singles']} timed single broadcasts per pass, {s['passes']} passes after a "
        f"{s['warmup_broadcasts']}-broadcast warm-up",
        f"- Command: `{meta['command'].strip()}`; medians over the passes",
        "",
        "#### Echo (lean client)",
        "",
        "| server | messages/s | p50 ms | p99 ms | server CPU | client CPU | bottleneck |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for n in names:
        c = _ws_cell(results, n, "echo")
        if c:
            out.append(
                f"| {label.get(n, n)} | {_rps(c['rate'])} | {_ms(c['p50_us'])} | "
                f"{_ms(c['p99_us'])} | {_pct(c['server_cpu'])} | {_pct(c['client_cpu'])} | "
                f"{_bottleneck(c)} |"
            )
    out += [
        "",
        "#### Fan-out",
        "",
        "| server | deliveries/s | burst s | server / client CPU | bottleneck "
        "| one broadcast to all: p50 ms | p99 ms | server / client CPU | bottleneck |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for n in names:
        c = _ws_cell(results, n, "fanout")
        if c:
            singles = _singles_cpu(c)
            out.append(
                f"| {label.get(n, n)} | {_rps(c['rate'])} | {c['burst_s']:.3f} | "
                f"{_pct(c['server_cpu'])} / {_pct(c['client_cpu'])} | {_bottleneck(c)} | "
                f"{_ms(c['p50_us'])} | {_ms(c['p99_us'])} | "
                f"{_pct(singles['server_cpu'])} / {_pct(singles['client_cpu'])} | "
                f"{_bottleneck(singles)} |"
            )
    out.append("")
    out.append(
        "CPU columns: share of one core used during the measured windows (fan-out: the "
        "bursts, then the single broadcasts), from `/proc`; a process above "
        f"{_pct(SATURATED)} is taken as the bottleneck."
    )
    if any(_ws_cell(results, n, "echo_websockets") for n in names):
        out += [
            "",
            "#### Echo cross-check (the `websockets` library's client)",
            "",
            "| server | messages/s | p50 ms | p99 ms | server CPU | client CPU | bottleneck |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for n in names:
            c = _ws_cell(results, n, "echo_websockets")
            if c:
                out.append(
                    f"| {label.get(n, n)} | {_rps(c['rate'])} | {_ms(c['p50_us'])} | "
                    f"{_ms(c['p99_us'])} | {_pct(c['server_cpu'])} | {_pct(c['client_cpu'])} | "
                    f"{_bottleneck(c)} |"
                )
    out += [
        "",
        f"#### Ratios: each cyclone 2 row's rate divided by {label.get(WS_PEER, WS_PEER)}'s",
        "",
        "| cyclone 2 ÷ Tornado | echo | echo (websockets client) | fan-out |",
        "| --- | ---: | ---: | ---: |",
    ]
    for n in names:
        if n == WS_PEER:
            continue
        cells = []
        for scenario in ("echo", "echo_websockets", "fanout"):
            r = _ws_ratio(results, n, scenario)
            cells.append(f"{r:.2f}" if r is not None else "-")
        out.append(f"| {label.get(n, n)} | " + " | ".join(cells) + " |")
    out += ["", "#### Against the target", ""]
    r = _ws_ratio(results, WS_BASELINE, "echo")
    if r is None:
        out.append("cyclone 2 and Tornado were not both part of this run.")
    else:
        verdict = "met" if r >= 1.0 else "NOT met"
        out.append(f"- cyclone 2's echo rate is {r:.2f}x Tornado's: **{verdict}**")
    noisy = [
        f"- {label.get(n, n)}, {sc}: other processes used up to "
        f"{_pct(results['servers'][n][sc]['other_cpu'])} of a core"
        for n in names
        for sc in ("echo", "echo_websockets", "fanout")
        if (_ws_cell(results, n, sc) or {}).get("other_cpu", 0.0) > NOISE_THRESHOLD
    ]
    out += [
        "",
        "#### Noise",
        "",
        "Windows where other processes used more than "
        f"{_pct(NOISE_THRESHOLD)} of a core (these figures deserve less trust):",
        "",
    ]
    out += noisy or ["None."]
    out += [
        "",
        "#### Exact commands",
        "",
        "Servers and clients (PORT and PID are per run):",
        "",
        "```sh",
    ]
    for n in names:
        srv = results["servers"][n]
        out.append(" ".join(_ws_arg(a, i == 5) for i, a in enumerate(srv.get("argv", []))))
        for argv in srv.get("client_argv", {}).values():
            out.append("  " + " ".join(_ws_client_arg(argv, i) for i in range(len(argv))))
    out += ["```", "", "#### Versions", ""]
    for n, env in meta["envs"].items():
        if "same_as" in env:
            out.append(f"- {label.get(n, n)}: same environment as {env['same_as']}")
            continue
        where = (
            "the repository's `.venv`"
            if env.get("install") is None
            else f"`bench/.envs/{n}` ({'; '.join(' '.join(step) for step in env['install'])})"
        )
        pins = [
            line
            for line in env["freeze"]
            if line.split("==")[0].lower()
            in ("tornado", "twisted", "wsproto", "websockets", "cyclone")
            or line.startswith("-e")
        ]
        out.append(
            f"- {label.get(n, n)}: Python {env['python']}, {where}: "
            + ", ".join(f"`{p}`" for p in pins)
        )
    return "\n".join(out).rstrip() + "\n"


def _ws_arg(arg: str, is_port: bool) -> str:
    return "PORT" if is_port else _shorten(arg)


def _ws_client_arg(argv: list[str], i: int) -> str:
    prev = argv[i - 1] if i else ""
    if prev == "--port":
        return "PORT"
    if prev == "--server-pid":
        return "PID"
    return _shorten(argv[i])


def ws_summary(results: dict) -> str:
    rows = [f"{'server':24s} {'scenario':16s} {'rate':>10s} {'p50 ms':>7s} {'p99 ms':>7s}"]
    for n, srv in results["servers"].items():
        for scenario in ("echo", "echo_websockets", "fanout"):
            c = srv.get(scenario)
            if not c:
                continue
            r = _ws_ratio(results, n, scenario) if n != WS_PEER else None
            extra = f"  {r:.2f}x tornado" if r is not None else ""
            rows.append(
                f"{results['labels'].get(n, n):24s} {scenario:16s} {c['rate']:10.0f} "
                f"{c['p50_us'] / 1000:7.2f} {c['p99_us'] / 1000:7.2f}{extra}"
            )
    return "\n".join(rows)

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


PEERS = ("aiohttp", "starlette")  # the ≥ 1.2x targets
ACCESS_LOG_PEERS = ("aiohttp-accesslog", "starlette-accesslog")


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _rps_of(results: dict, name: str, mode: str, endpoint: str) -> float | None:
    c = _cell(results, name, mode, endpoint)
    return c["rps"] if c and c["rps"] else None


def _ratio_of(results: dict, a: str, b: str, mode: str, endpoint: str) -> float | None:
    x, y = _rps_of(results, a, mode, endpoint), _rps_of(results, b, mode, endpoint)
    return x / y if x and y else None


def _target_lines(results: dict) -> list[str]:
    lines = []
    if BASELINE not in results["servers"]:
        return ["cyclone 2 was not part of this run."]
    for mode in MODES:
        for peer in PEERS:
            for ep in ENDPOINT_PATHS:
                r = _ratio_of(results, BASELINE, peer, mode, ep)
                if r is not None:
                    lines.append(
                        f"- {mode} `{ENDPOINT_PATHS[ep]}`: cyclone 2 is {r:.2f}x "
                        f"{_label(results, peer)} (target 1.2): **{_verdict(r >= 1.2)}**"
                    )
    for ep in ENDPOINT_PATHS:
        c = _cell(results, BASELINE, "keep-alive", ep)
        if c is None or not c["p50_us"]:
            continue
        spread = c["p99_us"] / c["p50_us"]
        lines.append(
            f"- keep-alive `{ENDPOINT_PATHS[ep]}`: cyclone 2 p99/p50 = {spread:.2f} "
            f"(target 2): **{_verdict(spread <= 2.0)}**"
        )
    for ep in ENDPOINT_PATHS:
        r = _ratio_of(results, "cyclone2-accesslog", BASELINE, "keep-alive", ep)
        if r is not None:
            lines.append(
                f"- access log on, `{ENDPOINT_PATHS[ep]}`: {r:.2f}x cyclone 2's log-off "
                f"throughput (target 0.9): **{_verdict(r >= 0.9)}**"
            )
        for peer in ACCESS_LOG_PEERS:
            r = _ratio_of(results, "cyclone2-accesslog", peer, "keep-alive", ep)
            if r is not None:
                lines.append(
                    f"- access log on, `{ENDPOINT_PATHS[ep]}`: {r:.2f}x "
                    f"{_label(results, peer)} (target 1.2): **{_verdict(r >= 1.2)}**"
                )
    for ep in ENDPOINT_PATHS:
        r = _ratio_of(results, BASELINE, "bare", "keep-alive", ep)
        if r is not None:
            lines.append(
                f"- keep-alive `{ENDPOINT_PATHS[ep]}`: cyclone 2 is {r:.2f} of the bare floor "
                f"(target 0.65): **{_verdict(r >= 0.65)}**"
            )
        r = _ratio_of(results, BASELINE, "bare-cyclone-reactor", "keep-alive", ep)
        if r is not None:
            lines.append(
                f"- keep-alive `{ENDPOINT_PATHS[ep]}`: cyclone 2 is {r:.2f} of the bare floor "
                f"on the same reactor (cyclone.epollreactor; target 0.65): "
                f"**{_verdict(r >= 0.65)}**"
            )
    template = results.get("template") or {}
    if BASELINE in template:
        base = template[BASELINE]["rps"]
        for peer, target in (("tornado", 1.2), ("aiohttp", None)):
            if peer in template and template[peer]["rps"]:
                r = base / template[peer]["rps"]
                what = "Tornado 6.6" if peer == "tornado" else "aiohttp + Jinja2"
                goal = f" (target {target}): **{_verdict(r >= target)}**" if target else ""
                lines.append(f"- template: cyclone 2 is {r:.2f}x {what}{goal}")
    static = results.get("static") or {}
    if BASELINE in static:
        for key in ("4k", "1m"):
            for peer in ("aiohttp", "starlette"):
                base = static[BASELINE].get(key)
                other = static.get(peer, {}).get(key)
                if base and other and other["rps"]:
                    r = base["rps"] / other["rps"]
                    lines.append(
                        f"- static {STATIC_LABELS[key]}: cyclone 2 is {r:.2f}x "
                        f"{_label(results, peer)} (target 1.0): **{_verdict(r >= 1.0)}**"
                    )
    memory = results.get("memory") or {}
    for count in ("1000", "10000"):
        row = memory.get(BASELINE, {}).get(count)
        if row and "per_connection_bytes" in row:
            kib = row["per_connection_bytes"] / 1024
            lines.append(
                f"- memory with {int(count):,} idle connections: {kib:.1f} KiB each "
                f"(target 10): **{_verdict(kib <= 10)}**"
            )
    return lines


STATIC_LABELS = {"4k": "4 KiB", "1m": "1 MiB"}


def _extra_sections(results: dict) -> list[str]:
    out: list[str] = []
    if any(n in results["servers"] for n in ("cyclone2-accesslog", *ACCESS_LOG_PEERS)):
        out += [
            "### Access log on (keep-alive)",
            "",
            "Each server writes its access log to a file; the ratio columns are the "
            "cyclone 2 (access log on) row's requests/s divided by the row's.",
            "",
            "| server | " + " | ".join(f"{ep} req/s | ratio" for ep in ENDPOINT_PATHS) + " |",
            "| --- |" + " ---: | ---: |" * len(ENDPOINT_PATHS),
        ]
        for name in (
            BASELINE,
            "cyclone2-accesslog",
            "cyclone2-accesslog-events",
            *ACCESS_LOG_PEERS,
        ):
            if name not in results["servers"]:
                continue
            row = f"| {_label(results, name)} |"
            for ep in ENDPOINT_PATHS:
                rps = _rps_of(results, name, "keep-alive", ep)
                r = _ratio_of(results, "cyclone2-accesslog", name, "keep-alive", ep)
                row += f" {_rps(rps) if rps else '-'} | {f'{r:.2f}' if r else '-'} |"
            out.append(row)
        out.append("")
    template = results.get("template") or {}
    if template:
        out += [
            "### Template: `GET /template`",
            "",
            "100 rows with escaped text in a page that extends a base layout with blocks "
            "(`bench/apps/templates/`): cyclone 2 and Tornado 6.6 render the same "
            "`rows.html`, aiohttp renders `rows.j2` with Jinja2 (autoescape on). Keep-alive.",
            "",
            "| server | req/s | p50 ms | p99 ms | body bytes | cyclone 2 ÷ |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        base = template.get(BASELINE, {}).get("rps")
        for name, c in template.items():
            label = "aiohttp + Jinja2" if name == "aiohttp" else _label(results, name)
            r = f"{base / c['rps']:.2f}" if base and c["rps"] else "-"
            out.append(
                f"| {label} | {_rps(c['rps'])} | {_ms(c['p50_us'])} | {_ms(c['p99_us'])} | "
                f"{c.get('body_bytes', 0):,} | {r} |"
            )
        out.append("")
    static = results.get("static") or {}
    if static:
        out += [
            "### Static files (keep-alive)",
            "",
            "cyclone 2's `StaticFileHandler` (`static_path`), aiohttp's `FileResponse` and "
            "starlette's `StaticFiles` on uvicorn, serving the same files.",
            "",
            "| server | 4 KiB req/s | p99 ms | cyclone 2 ÷ | 1 MiB req/s | p99 ms | cyclone 2 ÷ |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, row in static.items():
            cells = []
            for key in ("4k", "1m"):
                c = row.get(key)
                base = static.get(BASELINE, {}).get(key)
                if not c:
                    cells.append("- | - | -")
                    continue
                r = f"{base['rps'] / c['rps']:.2f}" if base and c["rps"] else "-"
                cells.append(f"{_rps(c['rps'])} | {_ms(c['p99_us'])} | {r}")
            out.append(f"| {_label(results, name)} | " + " | ".join(cells) + " |")
        out.append("")
    memory = results.get("memory") or {}
    if any(k != "fd_limit" for k in memory):
        out += [
            "### Memory per idle keep-alive connection",
            "",
            "Server RSS (from `/proc/PID/status`) after opening the connections, each "
            "after one request and its response, minus the RSS before, divided by the "
            "count; the 10,000 figure holds the first 1,000 too. Latency: 200 sequential "
            "requests on a new connection, idle and then while the connections are held "
            f"(open-file limit raised to {memory.get('fd_limit', '?')}).",
            "",
            "| server | idle RSS MiB | 1,000: KiB/conn | p50 / p99 ms | "
            "10,000: KiB/conn | p50 / p99 ms | idle p50 / p99 ms |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, row in memory.items():
            if name == "fd_limit":
                continue
            cells = [f"{row['rss_idle_kib'] / 1024:.1f}"]
            for count in ("1000", "10000"):
                c = row.get(count, {})
                if "per_connection_bytes" not in c:
                    cells += [c.get("skipped", "-"), "-"]
                    continue
                cells += [
                    f"{c['per_connection_bytes'] / 1024:.1f}",
                    f"{c['latency']['p50_ms']:.2f} / {c['latency']['p99_ms']:.2f}",
                ]
            idle = row["latency_idle"]
            cells.append(f"{idle['p50_ms']:.2f} / {idle['p99_ms']:.2f}")
            out.append(f"| {_label(results, name)} | " + " | ".join(cells) + " |")
        out.append("")
    flame = results.get("flame")
    if flame:
        out += ["### Flame graph", ""]
        if "svg" in flame:
            link = flame["svg"].removeprefix("docs/")
            out += [
                f"[cyclone 2 under wrk on `GET /`, keep-alive]({link}) (py-spy, "
                f"{flame['duration_s']:g} s at 250 samples/s, "
                f"{_rps(flame['rps_while_sampled'])} req/s while sampled; open the SVG in a "
                "browser to zoom).",
                "",
            ]
        else:
            out += [f"Not made in this run: {flame.get('error')}", ""]
    return out


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


OTHER_SECTIONS = (
    "## Mail benchmark",
    "## RPC benchmark",
    "## WebSocket benchmark",
    "## Redis benchmark",
)


def render(results: dict, existing: str | None = None) -> str:
    """The page: the HTTP results, then ``existing``'s other sections (or rpc and ws)."""
    meta = results["meta"]
    s = meta["settings"]
    out = [INTRO_FILE.read_text().rstrip() + "\n", "## Latest results", ""]
    if "template" not in results:
        out += [
            "> These figures come from a run made before the harness of issue 16 (no "
            "template, static, memory or flame rows; its access-log row is the "
            "twisted.logger text observer). `uv run python bench/run.py --all` on a quiet "
            "machine replaces them.",
            "",
        ]
    out += [
        f"- Date: {meta['date']}",
        f"- CPU: {meta['cpu']} ({meta['cores']} cores; server on core {s['server_cpu']}, "
        f"wrk on core {s['client_cpu']})",
        f"- Kernel: Linux {meta['kernel']}; Python {meta['host_python']}; {meta['wrk']}",
        f"- cyclone 2 revision: {meta['cyclone_revision']}",
        f"- Passes: {s['passes']} x {s['duration_s']:g} s after a {s['warmup_s']:g} s warm-up "
        f"per endpoint and mode; wrk -t1 -c{s['connections']}; medians over the passes",
        f"- Command: `{meta['command'].strip()}`"
        + (f" ({meta['wall_s'] / 60:.1f} minutes)" if meta.get("wall_s") else ""),
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
    out += [""]
    out += _extra_sections(results)
    out += ["### Against the targets (issue 16)", ""]
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
    if existing is not None:
        # The other benchmarks' sections (mail, RPC, WebSocket, Redis) are written by
        # their own scripts into this page: keep them as they are.
        starts = [i for m in OTHER_SECTIONS if (i := existing.find("\n" + m)) >= 0]
        if starts:
            return text + existing[min(starts) :]
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
                r = _ratio(results, mode, ep, "aiohttp") if name == BASELINE else None
                extra = f"  {r:.2f}x aiohttp" if r is not None else ""
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

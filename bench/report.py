"""Render benchmark results (the JSON that run.py writes) as Markdown and as a text table."""

from __future__ import annotations

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
    return "\n".join(out).rstrip() + "\n"


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

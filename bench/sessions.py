"""Live updates for a team: many sessions following the same running jobs.

Stack: private Redis, the Reflex app in prod mode with ONE backend process, no RQ worker.
This process plays the worker: it starts `jobs` jobs per account and drives one
`ProgressReporter(job, interval=0.0)` per job (one update = one event) at `rate` updates/s per
job, with `update(step="bench <seq> <sent_ms>")`.

Watching them:
  * one Chromium tab of account 0 on /tasks: a MutationObserver records when each
    "bench <seq> <sent_ms>" step text reaches the DOM ("browser p50/p99"),
  * light sessions: websocket clients that replay exactly what that tab sent when it loaded
    /tasks (socket.io frames captured from Chromium, with a client token of their own), so the
    app serves each of them as it serves a browser; they record when each seq first arrives
    ("light p50/p99") and are spread over the accounts round-robin.

Reported per scenario: app CPU (cores), app CPU per event per session (ms), the event loop's
longest stall in the app (from `jobboard.core.loopwatch`: the time the loop was held, with the
time its thread waited for a core taken out; the wall-clock figure is in the note), and
events lost (never shown, nor superseded by a later update of the same job that was shown).

Scenarios (issue 10): 1 / 11 / 51 / 201 sessions of one account following 20 jobs at 2
updates/s ("team"); 200 sessions over 20 accounts with 200 running jobs ("teams"); one session
with 50 jobs at the reporter's cap of 10 updates/s ("throughput"). From the CPU per event per
session the run also reports how many sessions of one account one app process can follow
before it saturates a core.

Run alone: `python -m bench.sessions [--quick] [--sessions 1,11,51,201] [--teams] [--throughput]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass, field

from bench.browser_latency import _OBSERVER, _SHOWN_JS, _finish_jobs, _make_jobs
from bench.common import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Result,
    log,
    make_accounts,
    percentile,
    private_stack,
)
from bench.cpu import CpuMeter, bench_groups, wait_for_quiet

NAME = "sessions"
TARGET_P50_MS = 15.0
TARGET_P99_MS = 60.0
TARGET_CPU_MS = 0.1  # app CPU per event per session
TARGET_STALL_MS = 20.0
STALL_S = 15.0
_SEQ_RE = re.compile(r"bench (\d+) ([\d.]+)")
_HYDRATED = '"is_hydrated_rx_state_":true'  # the page's load has finished
LOAD_TIMEOUT_S = 120.0


@dataclass
class Scenario:
    label: str
    sessions: int  # Chromium tab included
    accounts: int
    jobs_per_account: int
    rate: float  # updates per second per job
    seconds: float
    warmup: float = 3.0
    p50_target: float = TARGET_P50_MS
    p99_target: float = TARGET_P99_MS
    sent: dict[int, tuple[str, float]] = field(default_factory=dict)  # seq -> job, sent ms

    @property
    def events_per_second(self) -> float:
        return self.accounts * self.jobs_per_account * self.rate


def team(sessions: int, seconds: float) -> Scenario:
    return Scenario(f"{sessions} session(s), 1 account", sessions, 1, 20, 2.0, seconds)


def teams(seconds: float) -> Scenario:
    return Scenario(
        "200 sessions, 20 accounts, 200 jobs", 200, 20, 10, 2.0, seconds, p99_target=100.0
    )


def throughput(seconds: float) -> Scenario:
    return Scenario(
        "1 session, 50 jobs x 10 updates/s", 1, 1, 50, 10.0, seconds, p50_target=30.0,
        p99_target=100.0,
    )  # fmt: skip


def default_scenarios(quick: bool) -> list[Scenario]:
    secs = 6.0 if quick else 20.0
    counts = (1, 11) if quick else (1, 11, 51, 201)
    out = [team(n, secs) for n in counts]
    if not quick:
        out += [teams(secs), throughput(secs)]
    return out


# --- light sessions (run in child processes so their decoding does not slow the driver) ---


def _client_class():
    from simple_websocket import Client

    class FirstFrameClient(Client):
        """simple_websocket's client, without its first-frame delay: a frame that arrived in
        the same read as the handshake's response stayed in wsproto's buffer until the next
        one came (engine.io's first ping, 25 s later). Up to 18 of 50 light sessions then
        loaded their page in the middle of the measured window."""

        def handshake(self) -> None:
            super().handshake()
            self._handle_events()  # before the reading thread starts: nothing races it

    return FirstFrameClient


def _light_client(
    url: str, cookie: str, frames: list[str], token: str, out: dict, stop: threading.Event
) -> None:
    from simple_websocket import ConnectionClosed

    Client = _client_class()

    seen: dict[int, float] = {}
    out["seen"] = seen
    out["frames"] = 0
    try:
        ws = Client.connect(url.replace("TOKEN", token), headers={"Cookie": cookie})
    except Exception as exc:  # reported with the results, not raised
        out["error"] = f"connect: {exc}"
        return
    try:
        opened = False
        while not stop.is_set():
            try:
                data = ws.receive(timeout=0.5)
            except ConnectionClosed:
                out["error"] = "closed by the app"
                return
            if data is None:
                continue
            if isinstance(data, bytes):
                data = data.decode(errors="replace")
            now = time.time() * 1000
            if data == "2":  # engine.io ping
                ws.send("3")
                continue
            if data.startswith("0") and not opened:  # engine.io open
                opened = True
                for frame in frames:
                    ws.send(frame.replace("TOKEN", token))
                continue
            out["frames"] += 1
            if _HYDRATED in data:
                out["loaded"] = True
            for m in _SEQ_RE.finditer(data):
                seen.setdefault(int(m[1]), now - float(m[2]))
    finally:
        with contextlib.suppress(Exception):
            ws.close()


def _light_group(url: str, clients: list[tuple[str, str]], frames: list[str], conn) -> None:
    """A child process holding several light sessions; sends their records when told to stop."""
    # These sessions stand for browsers on other machines: on this one they share the app's
    # two cores, and they must not take a core from the app they are measuring.
    os.nice(10)
    stop = threading.Event()
    outs: list[dict] = []
    threads = []
    for cookie, token in clients:
        out: dict = {}
        outs.append(out)
        t = threading.Thread(
            target=_light_client, args=(url, cookie, frames, token, out, stop), daemon=True
        )
        t.start()
        threads.append(t)
    # Every session has loaded its page (or failed) before the jobs move.
    deadline = time.monotonic() + LOAD_TIMEOUT_S
    while time.monotonic() < deadline and not all(o.get("loaded") or o.get("error") for o in outs):
        time.sleep(0.1)
    for o in outs:
        if not o.get("loaded") and not o.get("error"):
            o["error"] = f"page not loaded within {LOAD_TIMEOUT_S:g} s"
    conn.send("started")
    conn.recv()  # stop
    stop.set()
    for t in threads:
        t.join(3)
    conn.send(
        [
            {"seen": o.get("seen", {}), "frames": o.get("frames", 0), "error": o.get("error")}
            for o in outs
        ]
    )


def _capture_frames(page, token: str) -> tuple[str, list[str]]:
    """The socket.io frames the tab sent while loading /tasks, with its token as "TOKEN"."""
    frames: list[str] = page.evaluate("window.__sent")
    url: str = page.evaluate("window.__wsUrl")
    kept = [f.replace(token, "TOKEN") for f in frames if f not in ("3", "2")]
    return url.replace(token, "TOKEN"), kept


_SEND_HOOK = r"""
(() => {
  window.__sent = [];
  window.__wsUrl = "";
  const Orig = window.WebSocket;
  class Recording extends Orig {
    constructor(url, ...rest) {
      super(url, ...rest);
      window.__wsUrl = String(url);
      const send = this.send.bind(this);
      this.send = (data) => { if (typeof data === "string") window.__sent.push(data); send(data); };
    }
  }
  window.WebSocket = Recording;
})();
"""


def _loop_stall_ms():
    from jobboard.core import loopwatch

    return loopwatch.longest_stall_ms()  # held (the app's) and wall (with waits for a core)


def _result(metric: str, value: float, unit: str, target: float, note: str = "") -> Result:
    ok = None if value != value else value <= target  # NaN: nothing measured
    return Result(NAME, metric, value, unit, f"≤ {target:g} {unit}", ok, note)


def _stats(values: list[float]) -> tuple[float, float]:
    return percentile(values, 50), percentile(values, 99)


def run_scenario(browser, stack, sc: Scenario, seq0: int) -> tuple[list[Result], int]:
    from jobboard.core import loopwatch
    from jobboard.core.signin import SESSION_COOKIE

    accounts = make_accounts(sc.accounts)
    reporters: list = []
    per_account: list[list] = []
    for k, (user, _) in enumerate(accounts):
        rs = _make_jobs(sc.jobs_per_account, f"{sc.label} #{k}", owner=user.id)
        per_account.append(rs)
        reporters.extend(rs)
    secret0 = accounts[0][1]
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_cookies(
        [{"name": SESSION_COOKIE, "value": secret0, "url": stack.url, "httpOnly": True}]
    )
    context.add_init_script(_SEND_HOOK)
    page = context.new_page()
    ids0 = [r.job_id for r in per_account[0]]
    page.goto(f"{stack.url}/tasks", wait_until="load")
    page.wait_for_function(
        f"([ids, n]) => {_SHOWN_JS}(ids).length >= n",
        arg=[ids0, min(len(ids0), 20)],
        timeout=60_000,
    )
    visible = set(page.evaluate(_SHOWN_JS, ids0))
    token = page.evaluate("() => window.sessionStorage.getItem('token')") or ""
    ws_url, frames = _capture_frames(page, token)
    if not token or "TOKEN" not in ws_url:
        raise RuntimeError(
            f"could not find the tab's client token {token!r} in its socket frames: "
            f"{ws_url!r} {[f[:200] for f in frames[:4]]}"
        )
    page.evaluate(_OBSERVER)

    # Light sessions, round-robin over the accounts, in up to 4 child processes.
    lights = sc.sessions - 1
    clients = [
        (f"{SESSION_COOKIE}={accounts[i % sc.accounts][1]}", str(uuid.uuid4()))
        for i in range(lights)
    ]
    groups = []
    if clients:
        n_proc = min(4, len(clients))
        ctx = mp.get_context("spawn")
        for g in range(n_proc):
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=_light_group, args=(ws_url, clients[g::n_proc], frames, child), daemon=True
            )
            proc.start()
            groups.append((proc, parent))
        for _, parent in groups:
            parent.recv()
    # Let every light session load its page before the jobs move: 200 page loads at once keep
    # the app busy for a while (longer on a slower machine), and measuring during them
    # measured the loads, not the live updates. The app goes quiet once the last has loaded.
    time.sleep(3.0)
    wait_for_quiet(0.3, timeout=90.0, window=1.0)

    meter = CpuMeter(
        bench_groups(stack.app_proc.pid, stack.redis.process.pid if stack.redis.process else None)
    )
    gap = 1.0 / sc.events_per_second
    seq = seq0
    t_next = time.perf_counter()
    warm_until = time.perf_counter() + sc.warmup
    measuring = False
    measured: set[int] = set()
    measure_end = warm_until + sc.seconds
    # Then the event loop's stalls, with the same load: measuring them costs the app CPU
    # (jobboard.core.loopwatch), so it is not on while the CPU and latencies are measured.
    stall_seconds = max(5.0, sc.seconds / 2)
    total_rounds_end = measure_end + stall_seconds
    cpu: dict[str, float] = {}
    while time.perf_counter() < total_rounds_end:
        for reporter in reporters:
            now = time.perf_counter()
            if not measuring and not cpu and now >= warm_until:
                measuring = True
                meter.start()
                t_measure = now
            elif measuring and now >= measure_end:
                measuring = False
                cpu = meter.stop()
                elapsed = now - t_measure
                loopwatch.switch_on(stall_seconds + 3 * loopwatch.REPORT_EVERY)
            delay = t_next - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            t_next += gap
            seq += 1
            sent_ms = time.time() * 1000
            reporter.update(step=f"bench {seq} {sent_ms:.3f}")
            sc.sent[seq] = (reporter.job_id, sent_ms)
            if measuring:
                measured.add(seq)
    stall = _loop_stall_ms()

    # Wait until the tab shows (or supersedes) every measured update of its visible jobs.
    tab_expected = {s for s in measured if sc.sent[s][0] in visible}
    last_progress, last_n = time.monotonic(), -1
    lat: list[float] = []
    while time.monotonic() - last_progress < STALL_S:
        shown = {int(x) for x in page.evaluate("Array.from(window.__dom)")}
        newest: dict[str, int] = {}
        for s in shown:
            if s in sc.sent:
                job = sc.sent[s][0]
                newest[job] = max(newest.get(job, 0), s)
        n = sum(1 for s in tab_expected if s in shown or newest.get(sc.sent[s][0], 0) > s)
        if n >= len(tab_expected):
            break
        if n != last_n:
            last_n, last_progress = n, time.monotonic()
        time.sleep(0.2)
    lost_tab = len(tab_expected) - n
    for s, delay, _t in page.evaluate("window.__lat"):
        if int(s) in tab_expected:
            lat.append(float(delay))

    light_lat: list[float] = []
    light_errors: list[str] = []
    light_frames = 0
    for proc, parent in groups:
        parent.send("stop")
        for rec in parent.recv():
            light_frames += rec["frames"]
            if rec["error"]:
                light_errors.append(rec["error"])
            light_lat.extend(v for s, v in rec["seen"].items() if int(s) in measured)
        proc.join(5)
    context.close()
    _finish_jobs(reporters)

    app_cores = cpu.get("Reflex app (all processes)", 0.0) / elapsed
    session_events = sc.events_per_second * sc.sessions / sc.accounts  # events each session gets
    cpu_ms = app_cores * 1000 / session_events if session_events else float("nan")
    p50, p99 = _stats(lat)
    lp50, lp99 = _stats(light_lat) if light_lat else (float("nan"), float("nan"))
    note = (
        f"{sc.events_per_second:.0f} events/s; app {app_cores:.2f} cores; "
        f"light sessions p50 {lp50:.0f} / p99 {lp99:.0f} ms, {light_frames} frames"
        + (
            f"; {len(light_errors)} light session errors ({light_errors[0]})"
            if light_errors
            else ""
        )
    )
    results = [
        _result(f"{sc.label}: browser p50", p50, "ms", sc.p50_target, note),
        _result(f"{sc.label}: browser p99", p99, "ms", sc.p99_target, f"{lost_tab} lost"),
        _result(f"{sc.label}: app CPU per event per session", cpu_ms, "ms", TARGET_CPU_MS),
        _result(
            f"{sc.label}: longest event-loop stall",
            stall.held,
            "ms",
            TARGET_STALL_MS,
            f"wall clock {stall.wall:.1f} ms, waits for a core included",
        ),
    ]
    if sc.accounts == 1 and sc.sessions > 1 and cpu_ms == cpu_ms:
        # One core's worth of per-session work at this event rate (an estimate, not a run).
        saturates = 1000.0 / (cpu_ms * session_events / sc.sessions)
        results.append(
            Result(
                NAME,
                f"{sc.label}: sessions one process can follow (estimate)",
                saturates,
                "sessions",
                "",
                None,
                f"1 core / ({cpu_ms:.3f} ms x {session_events / sc.sessions:.0f} events/s)",
            )
        )
    log(f"{NAME}: " + "; ".join(f"{r.metric} {r.shown()} {r.unit}" for r in results))
    return results, seq


def run(
    quick: bool = False,
    sessions: list[int] | None = None,
    seconds: float = 20.0,
    env: dict[str, str] | None = None,
    with_teams: bool = False,
    with_throughput: bool = False,
) -> list[Result]:
    from playwright.sync_api import sync_playwright

    scenarios = default_scenarios(quick)
    if sessions is not None or with_teams or with_throughput:
        scenarios = [team(n, seconds) for n in sessions or ()]
        scenarios += [teams(seconds)] if with_teams else []
        scenarios += [throughput(seconds)] if with_throughput else []
    results: list[Result] = []
    with (
        private_stack(NAME, app=True, app_processes=1, extra_env=env) as (stack, _var),
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        seq = 0
        for sc in scenarios:
            got, seq = run_scenario(browser, stack, sc, seq)
            results.extend(got)
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sessions", help="comma-separated session counts, one account each")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds each")
    parser.add_argument("--teams", action="store_true", help="200 sessions over 20 accounts")
    parser.add_argument("--throughput", action="store_true", help="1 session, 50 jobs x 10/s")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the app")
    args = parser.parse_args()
    counts = [int(x) for x in args.sessions.split(",")] if args.sessions else None
    env = dict(kv.split("=", 1) for kv in args.env)
    for r in run(args.quick, counts, args.seconds, env, args.teams, args.throughput):
        print(json.dumps({"metric": r.metric, "value": r.value, "unit": r.unit, "note": r.note}))
    os._exit(0)


if __name__ == "__main__":
    main()

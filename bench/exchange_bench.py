"""Exchange throughput: envelopes per second routed in process, and per-hop latency.

    python bench/exchange_bench.py [--envelopes 200000] [--levels low medium high] [--gateways 1 2] [--repeat 3]
                                   [--nats URL [URL ...] | --nats-local]

With `--nats URL ...` (one per gateway, federated; one URL: all gateways on it) or
`--nats-local` (starts one local nats-server per gateway, federated by NATS gateways,
as `protoverify run --transport nats` does) the gateways talk through NATS, and the
same run measures plain nats-py publish/subscribe through the same servers (from the
first server to the last): pipelined (publish all, then wait for all: the client's
throughput) and lockstep (publish one, wait for it, repeat), so the exchange's rate
is given as a ratio to both. Over NATS the traffic runs on the *concurrent schedule*
(`--step`): every submission is a scheduler event, one every 0.025 simulated s, hops
take 1-2 simulated s (plus 1-2 s across the link), and an envelope enters only once
the previous one of its enactment has surely arrived; so about 60 (one gateway) or
115 (two) envelopes are in transit at once, and the agents' rate limit (5/s, burst
40) is never hit. The same schedule runs in process, over NATS pipelined and (with
`--lockstep`) over NATS one message at a time, alternating, and each log over NATS
is compared byte for byte with the in-process one.

Conformant Contract Net traffic is generated first (the Monitor's random
scheduler, 4 000 enactments, replicated with fresh keys; 12 agents take the
roles in turn), as typed envelopes. The measured loop is what the exchange does
for each of them: the sender's gateway authenticates it and applies the policy
level (at medium and high: the online Monitor's enabling check and update), writes
its `envelope` line, the bus routes it (across the federation link when the
addressee is on another gateway), and the addressee's gateway writes the
`deliver` line, updates its Monitor and, at high, sends the receipt. The log goes
to a real file. Simulated time advances 1 s per envelope, so each one is
delivered before the next is submitted (as a conformant enactment needs) and no
rate limit trips. Per-hop latency is wall time from submit to delivery. On a
shared machine the wall rate depends on the other jobs; the CPU rate (envelopes
per second of this process's CPU time) much less.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from protoverify.bspl import flatten, load  # noqa: E402
from protoverify.exchange.clock import Scheduler, SimClock  # noqa: E402
from protoverify.exchange.envelope import Envelope  # noqa: E402
from protoverify.exchange.faults import FaultConfig, Faults  # noqa: E402
from protoverify.exchange.gateway import Federation, Hops  # noqa: E402
from protoverify.exchange.log import LogWriter  # noqa: E402
from protoverify.monitor.simulate import Simulator  # noqa: E402

SPEC = REPO / "specs" / "contract-net.bspl"
AGENTS = [f"agent-{i + 1:02d}" for i in range(12)]


def traffic(n: int, seed: int = 1) -> list[tuple[str, str, tuple, dict]]:
    """(message, sender, to, payload) of `n` conformant envelopes."""
    flat = flatten(load(SPEC), "Contract Net")
    sim = Simulator(flat, random.Random(seed), delivery="send", run="bench")
    template = list(sim.enactments(4000, concurrency=8))
    who: dict[object, dict[str, str]] = {}
    out = []
    copy = 0
    while len(out) < n:
        for ev in template:
            key = f"{ev.bindings['cfpID']}-{copy}"
            roles = who.get(key)
            if roles is None:
                i = len(who)
                roles = who[key] = {"Initiator": AGENTS[i % 12], "Participant": AGENTS[(i * 5 + 1) % 12]}
            payload = dict(ev.bindings)
            payload["cfpID"] = key
            out.append((ev.message.rsplit("/", 1)[-1], (roles[ev.sender], ev.sender),
                        tuple((roles[r], r) for r in ev.recipients), payload))
        copy += 1
        who.clear()  # keys of the next copy are fresh
    return out[:n]


def measure(level: str, gateways: int, items: list, log_path: str,
            nats_url: str | list[str] | None = None) -> tuple[float, float, list[float]]:
    """(wall seconds, CPU seconds of this process, per-hop latencies in ns) of one pass."""
    flat = flatten(load(SPEC), "Contract Net")
    sched = Scheduler(SimClock())
    log = LogWriter(log_path)
    transport = None
    if nats_url is not None:
        from protoverify.exchange.nats import NatsTransport
        transport = NatsTransport(nats_url)
    fed = Federation({flat.name: flat}, level, sched, log, Faults(FaultConfig()), random.Random(0), "bench",
                     ngateways=gateways, transport=transport)
    for i, a in enumerate(AGENTS):
        fed.attach(a, i)
    lat: list[float] = []
    t_submit = [0]

    def delivered(env: Envelope, agent: str, role: str) -> None:
        lat.append(time.perf_counter_ns() - t_submit[0])

    fed.on_deliver = delivered
    envs = [Envelope(id=f"e{i}", protocol=flat.name, message=m, sender=s, to=to, payload=p)
            for i, (m, s, to, p) in enumerate(items)]
    clock = sched.clock
    submit, run_until = fed.submit, sched.run
    gc.collect()
    gc.freeze()  # the prebuilt traffic is long-lived: keep the cycle collector off it
    t0 = time.perf_counter()
    c0 = time.process_time()
    t = 0.0
    for env in envs:
        t += 1.0
        clock.t = t
        t_submit[0] = time.perf_counter_ns()
        if submit(env, env.sender[0])[0] != "accept":
            raise SystemExit(f"bench traffic rejected at {level}: {env}")
        run_until(t + 0.5)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    log.close()
    fed.transport.close()
    assert fed.delivered == len(envs), (fed.delivered, len(envs))
    gc.unfreeze()
    return wall, cpu, lat


def schedule(items: list, step: float, transit: float) -> list[float]:
    """Submit times for the concurrent schedule: one envelope every `step` simulated seconds in
    traffic order, but none before the previous envelope of its enactment has surely arrived
    (`transit`: the longest hop time), so that each is enabled when it enters."""
    ready: dict[object, float] = {}
    times = []
    t = 0.0
    for _, _, _, payload in items:
        t += step
        key = payload["cfpID"]
        at = max(t, ready.get(key, 0.0))
        ready[key] = at + transit + 0.001
        times.append(at)
    return times


def measure_concurrent(level: str, gateways: int, items: list, times: list[float], log_path: str,
                       nats_url: list[str] | None = None,
                       pipeline: bool = True) -> tuple[float, float, list[float], float]:
    """(wall s, CPU s, per-hop latencies in ns, mean envelopes in flight) of one pass of the
    concurrent schedule: every submission is a scheduler event at its time in `times`, so many
    envelopes are in transit at once (hops of 1-2 s, plus 1-2 s across the link)."""
    flat = flatten(load(SPEC), "Contract Net")
    sched = Scheduler(SimClock())
    log = LogWriter(log_path)
    transport = None
    if nats_url is not None:
        from protoverify.exchange.nats import NatsTransport
        transport = NatsTransport(nats_url, pipeline=pipeline)
    fed = Federation({flat.name: flat}, level, sched, log, Faults(FaultConfig()), random.Random(0), "bench",
                     ngateways=gateways, transport=transport, hops=Hops(hop=(1.0, 2.0), link=(1.0, 2.0)))
    for i, a in enumerate(AGENTS):
        fed.attach(a, i)
    lat: list[float] = []
    sent: dict[str, int] = {}
    inflight = [0]

    def delivered(env: Envelope, agent: str, role: str) -> None:
        lat.append(time.perf_counter_ns() - sent.pop(env.id))

    def submit(env: Envelope) -> None:
        inflight[0] += len(fed.pending)
        sent[env.id] = time.perf_counter_ns()
        if fed.submit(env, env.sender[0])[0] != "accept":
            raise SystemExit(f"bench traffic rejected at {level}: {env}")

    fed.on_deliver = delivered
    envs = [Envelope(id=f"e{i}", protocol=flat.name, message=m, sender=s, to=to, payload=p)
            for i, (m, s, to, p) in enumerate(items)]
    gc.collect()
    gc.freeze()
    t0 = time.perf_counter()
    c0 = time.process_time()
    for env, at in zip(envs, times, strict=True):
        sched.at(at, submit, env)
    sched.run()
    fed.transport.close()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    log.close()
    assert fed.delivered == len(envs), (fed.delivered, len(envs))
    gc.unfreeze()
    return wall, cpu, lat, inflight[0] / len(envs)


def nats_baseline(pub_url: str, sub_url: str, n: int, lockstep: bool, size: int = 400) -> float:
    """Messages per second of plain nats-py publish/subscribe of `size`-byte messages from a
    connection to `pub_url` to one to `sub_url`: pipelined, or lockstep (one in flight)."""
    import asyncio

    import nats

    async def go() -> float:
        pub = await nats.connect(pub_url)
        sub = await nats.connect(sub_url)
        got = 0
        done = asyncio.Event()
        one = asyncio.Event()

        async def cb(msg: object) -> None:
            nonlocal got
            got += 1
            one.set()
            if got == n:
                done.set()

        await sub.subscribe("bench.plain", cb=cb, pending_msgs_limit=-1, pending_bytes_limit=-1)
        await sub.flush()
        one.clear()
        while not one.is_set():  # interest crossed the federation
            await pub.publish("bench.plain", b"probe")
            await pub.flush()
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
        got = 0
        one.clear()
        data = b"x" * size
        t0 = time.perf_counter()
        if lockstep:
            for _ in range(n):
                one.clear()
                await pub.publish("bench.plain", data)
                await pub.flush()
                await one.wait()
        else:
            for _ in range(n):
                await pub.publish("bench.plain", data)
            await pub.flush()
            await done.wait()
        dt = time.perf_counter() - t0
        await pub.close()
        await sub.close()
        return n / dt

    return asyncio.run(go())


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(q / 100 * len(s))) - 1))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--envelopes", type=int, default=200_000)
    ap.add_argument("--levels", nargs="+", default=["low", "medium", "high"])
    ap.add_argument("--gateways", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--nats", nargs="+", default=None, metavar="URL",
                    help="route through the NATS servers at URL (one per gateway, federated) instead of in process")
    ap.add_argument("--nats-local", action="store_true",
                    help="start local federated nats-servers (one per gateway) and route through them")
    ap.add_argument("--step", type=float, default=0.025,
                    help="over NATS: simulated seconds between submissions (concurrent schedule)")
    ap.add_argument("--lockstep", action="store_true",
                    help="over NATS: also measure the transport with one message in flight")
    a = ap.parse_args(argv)
    if a.nats_local:
        from protoverify.exchange.natsserver import LocalFederation
        with tempfile.TemporaryDirectory() as d, LocalFederation(max(a.gateways), d) as fed:
            a.nats = fed.urls
            a.nats_local = False
            return run_all(a)
    return run_all(a)


def run_all(a: argparse.Namespace) -> int:
    """The table of the levels and gateways in `a` (and the NATS baselines)."""
    t0 = time.perf_counter()
    items = traffic(a.envelopes)
    print(f"generated {len(items)} envelopes in {time.perf_counter() - t0:.1f} s")
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}; "
          f"transport: {'NATS at ' + ', '.join(a.nats) if a.nats else 'in process'}")
    base: dict[int, tuple[float, float]] = {}
    if a.nats:
        for g in a.gateways:
            urls = a.nats[:g] if len(a.nats) >= g else a.nats[:1]
            pipelined = sorted(nats_baseline(urls[0], urls[-1], 100_000, False) for _ in range(a.repeat))
            lockstep = sorted(nats_baseline(urls[0], urls[-1], 5_000, True) for _ in range(a.repeat))
            base[g] = (pipelined[len(pipelined) // 2], lockstep[len(lockstep) // 2])
            print(f"plain nats-py, {len(urls)} server(s): pipelined {base[g][0]:,.0f} msg/s, "
                  f"lockstep {base[g][1]:,.0f} msg/s (medians of {a.repeat})")
    if a.nats:
        return run_concurrent(a, items, base)
    print("| level | gateways | envelopes | median wall s | envelopes/s (wall) | envelopes/CPU-s | "
          "hop p50 µs | hop p99 µs |" + (" / pipelined pub-sub | / lockstep pub-sub |" if a.nats else ""))
    print("|---|---|---|---|---|---|---|---|" + ("---|---|" if a.nats else ""))
    with tempfile.TemporaryDirectory() as d:
        for level in a.levels:
            for g in a.gateways:
                urls = None if not a.nats else (a.nats[:g] if len(a.nats) >= g else a.nats[:1])
                runs = sorted((measure(level, g, items, os.path.join(d, "x.jsonl"), urls)
                               for _ in range(a.repeat)),
                              key=lambda r: r[0])
                wall, cpu, lat = runs[len(runs) // 2]  # the run with the median wall time
                print(f"| {level} | {g} | {len(items)} | {wall:.3f} | {len(items) / wall:,.0f} | "
                      f"{len(items) / cpu:,.0f} | {pct(lat, 50) / 1000:.1f} | {pct(lat, 99) / 1000:.1f} |" +
                      (f" {len(items) / wall / base[g][0]:.3f} | {len(items) / wall / base[g][1]:.3f} |"
                       if g in base else ""), flush=True)
    return 0


def run_concurrent(a: argparse.Namespace, items: list, base: dict[int, tuple[float, float]]) -> int:
    """The NATS table: the concurrent schedule in process, over NATS pipelined and (with
    --lockstep) over NATS one message at a time; passes alternate, medians of --repeat; every
    log over NATS is compared byte for byte with the in-process one."""
    times = schedule(items, a.step, 4.0)
    modes = ["inproc", "pipelined"] + (["lockstep"] if a.lockstep else [])
    print(f"concurrent schedule: one envelope every {a.step} simulated s, hops 1-2 s (+1-2 s across the link)")
    print("| level | gateways | transport | envelopes | mean in flight | median wall s | envelopes/s (wall) | "
          "envelopes/CPU-s | hop p50 ms | hop p99 ms | / pipelined pub-sub | / lockstep pub-sub | "
          "log = in process |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as d:
        for level in a.levels:
            for g in a.gateways:
                urls = a.nats[:g] if len(a.nats) >= g else a.nats[:1]
                runs: dict[str, list[tuple[float, float, list[float], float]]] = {m: [] for m in modes}
                digest: dict[str, set[str]] = {m: set() for m in modes}
                for _ in range(a.repeat):
                    for m in modes:
                        path = os.path.join(d, f"{m}.jsonl")
                        runs[m].append(measure_concurrent(level, g, items, times, path,
                                                          None if m == "inproc" else urls, m == "pipelined"))
                        digest[m].add(hashlib.sha256(Path(path).read_bytes()).hexdigest())
                for m in modes:
                    wall, cpu, lat, fl = sorted(runs[m], key=lambda r: r[0])[len(runs[m]) // 2]
                    rate = len(items) / wall
                    same = "yes" if digest[m] == digest["inproc"] and len(digest[m]) == 1 else "NO"
                    print(f"| {level} | {g} | {m if m == 'inproc' else 'NATS ' + m} | {len(items)} | {fl:.0f} | "
                          f"{wall:.3f} | {rate:,.0f} | {len(items) / cpu:,.0f} | {pct(lat, 50) / 1e6:.2f} | "
                          f"{pct(lat, 99) / 1e6:.2f} | " +
                          ("- | - | - |" if m == "inproc" else
                           f"{rate / base[g][0]:.3f} | {rate / base[g][1]:.3f} | {same} |"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

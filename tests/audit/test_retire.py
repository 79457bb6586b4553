"""Retirement of idle, complete multi-key enactments (docs/auditing.md, "Memory and the
retirement horizon"): memory bounded by the horizon, CMP003 instead of false findings
for a late message of a retired enactment, and nothing else changed."""
from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from protoverify.auditor.driver import RETIRE_AFTER, AuditResult, audit
from protoverify.bspl import FlatProtocol, flatten, load
from protoverify.monitor import Monitor
from protoverify.monitor.simulate import Simulator
from protoverify.traces.event import Event
from tests.helpers.keyed import flat_keyed_protocols
from tests.helpers.paths import REPO
from tests.helpers.strategies import flat_protocols

AHOY = REPO / "tests" / "fixtures" / "ahoy" / "purchase-logistics.bspl"
LOGISTICS = flatten(load(AHOY), "Logistics")
M, W, L, P = "Merchant", "Wrapper", "Labeler", "Packer"


def order(o: str, items: list[str], packed: bool = True) -> list[tuple[str, str, str, dict[str, Any]]]:
    """The messages of one Ahoy Logistics order with `items` (Packed omitted: incomplete)."""
    out = [("RequestLabel", M, L, {"orderID": o, "address": f"addr-{o}"}),
           ("Labeled", L, P, {"orderID": o, "address": f"addr-{o}", "label": f"lab-{o}"})]
    for i in items:
        out += item(o, i, packed)
    return out


def item(o: str, i: str, packed: bool = True) -> list[tuple[str, str, str, dict[str, Any]]]:
    out = [("RequestWrapping", M, W, {"orderID": o, "itemID": i, "item": f"thing-{i}"}),
           ("Wrapped", W, P, {"orderID": o, "itemID": i, "item": f"thing-{i}", "wrapping": "paper"})]
    if packed:
        out.append(("Packed", P, M, {"orderID": o, "itemID": i, "item": f"thing-{i}", "wrapping": "paper",
                                     "label": f"lab-{o}", "status": "ok"}))
    return out


def events(msgs: list[tuple[str, str, str, dict[str, Any]]]) -> list[Event]:
    return [Event(kind="send", message=m, sender=s, recipients=(r,), bindings=b, source="log.jsonl", line=n)
            for n, (m, s, r, b) in enumerate(msgs, 1)]


def key(r: AuditResult) -> list[tuple[Any, ...]]:
    return [(f.code, f.source, f.line, f.run, f.enactment, f.message, f.role, f.text, f.expected) for f in r]


def test_default_horizon_is_the_same_everywhere() -> None:
    import inspect

    from protoverify import api
    from protoverify.auditor import parallel

    for fn in (api.audit, parallel.audit_parallel):
        assert inspect.signature(fn).parameters["retire_after"].default == RETIRE_AFTER


def test_late_item_of_a_retired_order_is_cmp003_not_causality() -> None:
    log = order("o1", ["i1"]) + [m for k in range(2, 6) for m in order(f"o{k}", [f"i{k}"])] + item("o1", "i9")
    evs = events(log)
    full = audit(LOGISTICS, [evs], retire_after=None)
    assert list(full) == [] and full.complete == 5
    r = audit(LOGISTICS, [evs], retire_after=5)
    late = [e.line for e in evs[-3:]]
    assert [(f.code, f.line, f.enactment) for f in r] == [("CMP003", n, "orderID=o1") for n in late]
    assert "retired as complete after 5 events" in r.findings[0].text
    assert r.complete == 5 and r.incomplete == 0
    # a horizon longer than the log changes nothing
    assert key(audit(LOGISTICS, [evs], retire_after=len(evs))) == key(full)


def test_without_its_grave_the_late_item_would_be_a_false_causality_error() -> None:
    """What CMP003 replaces: once the grave is forgotten too, the late item's Packed has no
    label it could know (the order's context is gone)."""
    log = order("o1", ["i1"]) + [m for k in range(2, 6) for m in order(f"o{k}", [f"i{k}"])] + item("o1", "i9")
    mon = Monitor(LOGISTICS, retire_after=2, forget_after=3)
    codes = [f.code for e in events(log) for f in mon.apply(e)]
    assert "CAU001" in codes and "CMP003" not in codes


def test_incomplete_enactments_are_never_retired() -> None:
    log = order("o1", ["i1"], packed=False) + [m for k in range(2, 5) for m in order(f"o{k}", [f"i{k}"])]
    evs = events(log)
    full = audit(LOGISTICS, [evs], retire_after=None)
    assert [(f.code, f.enactment) for f in full] == [("CMP001", "orderID=o1")]
    assert key(audit(LOGISTICS, [evs], retire_after=0)) == key(full)


def test_memory_follows_the_horizon_not_the_log() -> None:
    mon = Monitor(LOGISTICS, retire_after=20, forget_after=40)
    assert mon.retirement is not None and mon.index is not None
    peak_open = peak_graves = 0
    line = 0
    for k in range(400):
        for m, s, r, b in order(f"o{k}", [f"i{k}a", f"i{k}b"]):
            line += 1
            assert mon.apply(Event(kind="send", message=m, sender=s, recipients=(r,), bindings=b, line=line)) == []
        peak_open = max(peak_open, len(mon.open))
        peak_graves = max(peak_graves, len(mon.retirement.graves))
    # 8 events and 3 contexts an order: about 20 / 8 orders open, 40 / 8 graves
    assert peak_open <= 3 * 4 and peak_graves <= 7
    assert mon.retirement.retired >= 390 and mon.complete_count == mon.retirement.retired
    idx = mon.index
    assert max(len(idx.seen), len(idx.carriers), len(idx.first), len(idx._members)) <= 3 * 4 * 3
    assert sum(len(v) for v in idx.values.values()) <= 3 * 4 * 3
    assert mon.finish() == [] and mon.complete_count == 400


def test_single_key_protocols_are_not_affected() -> None:
    purchase = flatten(load(REPO / "specs" / "purchase.bspl"), "Purchase")
    assert Monitor(purchase, retire_after=0).retirement is None


def _log(flat: FlatProtocol, seed: int, delivery: str, mutation: int) -> list[Event]:
    """Conformant interleaved enactments of `flat` (the simulator), with one event
    dropped or repeated (`mutation`: 0 none, 1 drop, 2 repeat) for findings to compare."""
    rng = random.Random(seed)
    try:
        evs = list(Simulator(flat, rng, delivery=delivery, run="r", source="gen.jsonl").enactments(6, 3))
    except (ValueError, AssertionError):  # no message can start an enactment; the simulator's
        evs = []  # own Monitor refused its pick (its limits on generated protocols, not ours)
    assume(evs)
    if mutation and len(evs) > 2:
        i = rng.randrange(len(evs))
        evs = evs[:i] + evs[i + 1:] if mutation == 1 else evs[:i + 1] + evs[i:]
    return [msgspec.structs.replace(e, line=n) for n, e in enumerate(evs, 1)]


def _judged(r: AuditResult) -> list[tuple[Any, ...]]:
    """The findings without what retirement may change besides CMP003 (docs/auditing.md):
    the messages listed as still enabled (`expected`), and so whether an incomplete
    enactment is stalled (CMP001) or deadlocked (CMP002); not that it is incomplete,
    nor what it lacks."""
    out = []
    for f in r:
        if f.code in ("CMP001", "CMP002"):
            out.append(("CMP00x", f.source, f.line, f.run, f.enactment, f.text.split(" unbound")[0]))
        else:
            out.append((f.code, f.source, f.line, f.run, f.enactment, f.message, f.role, f.text))
    return out


def _same_except_retired(flat: FlatProtocol, evs: list[Event], delivery: str, horizon: int) -> None:
    full = audit(flat, [evs], delivery=delivery, retire_after=None)
    tiny = audit(flat, [evs], delivery=delivery, retire_after=horizon)
    _same_except_retired_result(full, tiny)
    retired = {(f.source, f.line) for f in tiny if f.code == "CMP003"}
    assert tiny.complete + tiny.incomplete <= full.complete + full.incomplete + len(retired)
    assert key(audit(flat, [evs], delivery=delivery, retire_after=len(evs))) == key(full)


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.filter_too_much])


@SETTINGS
@given(flat=flat_keyed_protocols(), seed=st.integers(0, 2**16), horizon=st.integers(0, 6),
       delivery=st.sampled_from(["send", "receive"]), mutation=st.integers(0, 2))
def test_tiny_horizon_changes_only_retired_messages_keyed(flat, seed, horizon, delivery, mutation):
    _same_except_retired(flat, _log(flat, seed, delivery, mutation), delivery, horizon)


@SETTINGS
@given(flat=flat_protocols(multikey=True), seed=st.integers(0, 2**16), horizon=st.integers(0, 6),
       delivery=st.sampled_from(["send", "receive"]), mutation=st.integers(0, 2))
def test_tiny_horizon_changes_only_retired_messages_multikey(flat, seed, horizon, delivery, mutation):
    _same_except_retired(flat, _log(flat, seed, delivery, mutation), delivery, horizon)


def _native(msgs: list[tuple[str, str, str, dict[str, Any]]], run: str) -> bytes:
    return b"".join(orjson.dumps({"kind": "send", "message": m, "sender": s, "recipients": [r], "bindings": b,
                                  "run": run}) + b"\n" for m, s, r, b in msgs)


def _orders(prefix: str, n: int) -> list[tuple[str, str, str, dict[str, Any]]]:
    return [m for k in range(n) for m in order(f"{prefix}{k}", [f"{prefix}{k}-i"])]


@pytest.fixture
def late_logs(tmp_path: Path) -> list[str]:
    """Two runs, each over two files; each ends with a late item of its first order."""
    files = {"1-a.jsonl": _native(_orders("a", 3), "a"),
             "2-a.jsonl": _native(_orders("x", 2) + item("a0", "late"), "a"),
             "3-b.jsonl": _native(_orders("b", 4), "b"),
             "4-b.jsonl": _native(item("b0", "late"), "b")}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return [str(tmp_path / n) for n in files]


def test_parallel_audit_retires_as_one_process_does(late_logs: list[str]) -> None:
    from protoverify.auditor.parallel import audit_parallel

    single = audit(AHOY, late_logs, protocol="Logistics", retire_after=5, record_enactments=True)
    assert [(f.code, Path(f.source).name, f.enactment) for f in single] == \
        [("CMP003", "2-a.jsonl", "orderID=a0")] * 3 + [("CMP003", "4-b.jsonl", "orderID=b0")] * 3
    par = audit_parallel(AHOY, late_logs, protocol="Logistics", retire_after=5, record_enactments=True, jobs=2)
    assert key(par) == key(single)
    assert par.summary() == single.summary() and par.complete == 9
    assert sorted(par.statuses, key=repr) == sorted(single.statuses, key=repr)


def _cli(*args: str) -> tuple[int, Any]:
    from protoverify.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, orjson.loads(out.getvalue()) if out.getvalue().startswith("{") else err.getvalue()


def test_cli_and_configuration_take_the_horizon(late_logs: list[str], tmp_path: Path, monkeypatch) -> None:
    base = ["audit", "--spec", str(AHOY), "--protocol", "Logistics", "--format", "json"]
    code, doc = _cli(*base, *late_logs)
    assert code == 0 and doc["findings"] == []  # the default horizon is far beyond these logs
    code, doc = _cli(*base, "--retire-after", "5", *late_logs)
    assert code == 0 and [f["code"] for f in doc["findings"]] == ["CMP003"] * 6  # a warning: exit 0
    assert _cli(*base, "--retire-after", "-1", *late_logs)[0] == 2
    (tmp_path / ".git").mkdir()
    table = f'[tool.protoverify]\n[[tool.protoverify.audit]]\nspec = "{AHOY}"\nlogs = ["*.jsonl"]\n' \
            'protocol = "Logistics"\n'
    (tmp_path / "pyproject.toml").write_text(table + "retire-after = 5\n")
    monkeypatch.chdir(tmp_path)
    code, doc = _cli("audit", "--format", "json")
    assert code == 0 and [f["code"] for f in doc["findings"]] == ["CMP003"] * 6
    code, doc = _cli("audit", "--format", "json", "--retire-after", "100")  # the command line wins
    assert code == 0 and doc["findings"] == []
    (tmp_path / "pyproject.toml").write_text(table + "retire-after = -5\n")
    code, err = _cli("audit")
    assert code == 2 and "retire-after must be a number of events" in err


def test_a_choice_in_a_retired_enactment_is_cmp003_not_dec003() -> None:
    log = events(order("o1", ["i1"]) + _orders("x", 4))
    choice = Event(kind="decision", message="Logistics/RequestWrapping", sender=M, source="log.jsonl",
                   line=len(log) + 1, agent="merchant",
                   decision={"agent": "merchant", "role": M, "choice": 1, "parsed": {"choice": 1}, "raw": "{}",
                             "params": {"itemID": "i2", "item": "cup"},
                             "options": [{"number": 1, "message": "Logistics/RequestWrapping",
                                          "bound": {"orderID": "o1"}, "fill": ["itemID", "item"]}]})
    assert list(audit(LOGISTICS, [[*log, choice]], retire_after=None)) == []
    r = audit(LOGISTICS, [[*log, choice]], retire_after=5)
    assert [(f.code, f.line, f.enactment, f.role) for f in r] == [("CMP003", choice.line, "orderID=o1", M)]
    assert r.findings[0].text.endswith("this choice was not checked")


def test_real_logs_audit_the_same_with_and_without_retirement() -> None:
    """The Ahoy corpus and the shipped mixed example: the default horizon is exact (the
    logs are shorter), and even a horizon of 0 changes nothing but CMP003 lines."""
    from tests.helpers.paths import corpus_path

    root = corpus_path("ahoy")
    logs = [(AHOY, p) for p in sorted(root.glob("demo/**/*.log"))]
    logs.append(([REPO / "specs" / "purchase.bspl", REPO / "specs" / "logistics.bspl"],
                 REPO / "examples" / "logs" / "mixed" / "purchase-and-logistics.jsonl"))
    assert len(logs) > 20
    events = 0
    for spec, log in logs:
        full = audit(spec, [log], retire_after=None)
        assert key(audit(spec, [log])) == key(full), log
        _same_except_retired_result(full, audit(spec, [log], retire_after=0))
        events += full.events
    assert events > 50


def _same_except_retired_result(full: AuditResult, tiny: AuditResult) -> None:
    retired = {(f.source, f.line) for f in tiny if f.code == "CMP003"}
    assert [k for k in _judged(tiny) if k[0] != "CMP003"] == \
        [k for k in _judged(full) if (k[1], k[2]) not in retired]

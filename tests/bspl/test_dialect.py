"""The dialect decisions (docs/language.md): what bspl accepts, we accept and verify.

Each fixture of tests/fixtures/dialect/ carries `// expect:` verdicts and a
`// dialect: <Protocol> warns=<codes> strict=<codes>` line: the warnings `check`
gives by default, and the errors that `strict=True` turns them into (empty: strict
mode accepts the protocol too).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from protoverify.bspl import flatten, load, parse, validate
from protoverify.check import check_file
from protoverify.monitor.monitor import Monitor
from protoverify.prover import verify
from protoverify.prover.rules import Rules
from protoverify.traces.event import Event
from tests.helpers import oracle
from tests.helpers.paths import REPO

DIALECT = REPO / "tests" / "fixtures" / "dialect"
FIXTURES = sorted(DIALECT.glob("*.bspl"))
_LINE = re.compile(r"^//\s*dialect:\s*(?P<name>.+?)\s+warns=(?P<warns>\S*)\s+strict=(?P<strict>\S*)\s*$", re.M)


def dialect_headers(path: Path) -> dict[str, tuple[set[str], set[str]]]:
    """{protocol: (warning codes by default, error codes in strict mode)}."""
    return {m["name"]: (set(filter(None, m["warns"].split(","))), set(filter(None, m["strict"].split(","))))
            for m in _LINE.finditer(path.read_text(encoding="utf-8"))}


def test_there_is_a_fixture_per_category():
    names = {p.stem for p in FIXTURES}
    assert {"polymorphic-message", "identical-message", "self-addressed", "public-and-private",
            "unbound-public-out", "duplicate-parameter", "unadorned-reference",
            "mutual-exclusion"} <= names


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixture_verdicts_and_warnings(path: Path):
    expect, dialect = oracle.read_expectations(path), dialect_headers(path)
    assert set(expect) == set(dialect) == set(oracle.protocol_names(path))
    rep = check_file(path, verify=True, timeout=20)
    for p in rep.protocols:
        d = p.to_dict()
        assert p.wellformed == (expect[p.name]["wellformed"] == "true"), [x.format() for x in p.diagnostics]
        assert d["safety"]["verdict"] == expect[p.name]["safety"], p.name
        assert d["liveness"]["verdict"] == expect[p.name]["liveness"], p.name
        assert {x.code for x in p.diagnostics} == dialect[p.name][0], [x.format() for x in p.diagnostics]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixture_in_strict_mode(path: Path):
    dialect = dialect_headers(path)
    rep = check_file(path, verify=True, timeout=20, strict=True)
    for p in rep.protocols:
        errors = {x.code for x in p.diagnostics if x.severity == "error"}
        assert errors == dialect[p.name][1], [x.format() for x in p.diagnostics]
        if errors:  # ill-formed: verification skipped, as before the dialect was accepted
            assert p.result is not None and p.to_dict()["safety"]["verdict"] == "skipped"
        else:
            assert p.result is not None


# -- 1. polymorphic messages -------------------------------------------------------------

def _flat(name: str, fixture: str = "polymorphic-message.bspl"):
    return flatten(load(DIALECT / fixture), name)


def test_polymorphic_declarations_get_numbered_flat_names():
    flat = _flat("Poly")
    assert [m.name for m in flat.messages] == ["order", "answer", "answer#2", "settle", "settle#2"]
    assert [m.local for m in flat.messages] == ["order", "answer", "answer", "settle", "settle"]
    assert set(flat.polymorphic) == {"answer", "settle", "Poly/answer", "Poly/settle"}
    ref = _flat("Poly Ref")
    assert "Poly/answer#2" in ref.by_name and ref.by_name["Poly/answer#2"].local == "answer"
    assert {"Poly/answer", "answer", "Poly Ref/Poly/answer"} <= set(ref.polymorphic)


def test_identical_copy_is_one_schema():
    flat = _flat("Dup Same", "identical-message.bspl")
    assert [m.name for m in flat.messages] == ["note", "reply"] and not flat.polymorphic


def test_suffix_counts_written_declarations():
    spec = parse("P { roles A, B parameters out id key, out x, out y\n"
                 " A -> B: m[out id key, out x]\n A -> B: m[out id key, out x]\n"
                 " A -> B: m[out id key, out y] }")
    assert [m.name for m in flatten(spec, "P").messages] == ["m", "m#3"]


def test_resolve_by_carried_parameters():
    flat = _flat("Poly")
    assert flat.resolve("answer", ["id", "item", "price"]).name == "answer"
    assert flat.resolve("answer", {"id", "item", "reason"}).name == "answer#2"
    assert flat.resolve("Poly/answer", ["id", "item", "reason"]).name == "answer#2"
    # no exact match: the unique closest declaration (one parameter missing)
    assert flat.resolve("answer", ["id", "reason"]).name == "answer#2"
    # equally far from both: no guess
    assert flat.resolve("answer", ["id", "item"]) is None
    # a name that is not polymorphic: the ordinary look-up
    assert flat.resolve("order", []).name == "order"
    assert flat.resolve("nothing", ["id"]) is None


def test_resolve_uses_the_sender_only_to_break_a_tie():
    flat = _flat("Poly Unsafe")  # close: Seller [id, item, done]; close#2: Buyer [id, done]
    assert flat.resolve("close", ["id", "done"], sender="Buyer").name == "close#2"
    # the parameters decide, whatever sender a log reader guessed
    assert flat.resolve("close", ["id", "done"], sender="Seller").name == "close#2"
    assert flat.resolve("close", ["id", "item", "done"], sender="Buyer").name == "close"
    # one parameter set, two senders: a tie the sender breaks, or no guess
    both = flatten(parse("P { roles A, B parameters out id key, out x\n"
                         " A -> B: m[out id key, out x]\n B -> A: m[out id key, out x] }"), "P")
    assert both.resolve("m", ["id", "x"], sender="B").name == "m#2"
    assert both.resolve("m", ["id", "x"], sender="A").name == "m"
    assert both.resolve("m", ["id", "x"]) is None


def test_counterexample_names_the_declaration():
    rep = check_file(DIALECT / "polymorphic-message.bspl", verify=True, timeout=20)
    unsafe = next(p for p in rep.protocols if p.name == "Poly Unsafe")
    shown = str(unsafe.to_dict()["safety"]["counterexample"])
    assert "close#2" in shown


def _event(kind: str, message: str, sender: str, recipients: tuple[str, ...], bindings: dict,
           line: int) -> Event:
    return Event(kind=kind, message=message, sender=sender, recipients=recipients,
                 bindings=bindings, source="<test>", line=line, protocol="Poly")


def test_monitor_picks_the_declaration_a_log_event_carries():
    """Poly: order, the second answer (with a reason), settle on the reason."""
    mon = Monitor(_flat("Poly"))
    B, S = "Buyer", "Seller"
    found = []
    found += mon.apply(_event("send", "order", B, (S,), {"id": 1, "item": "pen"}, 1))
    found += mon.apply(_event("send", "answer", S, (B,), {"id": 1, "item": "pen", "reason": "none"}, 2))
    found += mon.apply(_event("send", "settle", B, (S,), {"id": 1, "reason": "none", "done": "ok"}, 3))
    found += mon.finish()
    assert not [f for f in found if f.severity == "error"], [(f.code, f.text) for f in found]
    ctx = next(iter(mon.contexts()))
    assert set(ctx.sent) == {"order", "answer#2", "settle#2"}


def test_audit_of_a_log_with_a_polymorphic_message(tmp_path: Path):
    """End to end (native JSONL reader, driver, Monitor): both answers of Poly, each in
    its own enactment, audit clean and complete."""
    from protoverify import audit
    from tests.helpers.audit import ev, write

    B, S = "Buyer", "Seller"
    records = []
    for i, (said, val) in enumerate([("price", 10), ("reason", "sold out")]):
        records += [ev("send", "Poly/order", B, [S], {"id": i, "item": "pen"}),
                    ev("send", "Poly/answer", S, [B], {"id": i, "item": "pen", said: val}),
                    ev("send", "Poly/settle", B, [S], {"id": i, said: val, "done": "ok"})]
    result = audit(DIALECT / "polymorphic-message.bspl", [write(tmp_path / "log.jsonl", records)],
                   protocol="Poly")
    assert not [f for f in result if f.severity == "error"], [(f.code, f.text) for f in result]
    assert result.complete == 2, result


def test_monitor_still_reports_what_fits_no_declaration():
    mon = Monitor(_flat("Poly"))
    mon.apply(_event("send", "order", "Buyer", ("Seller",), {"id": 1, "item": "pen"}, 1))
    found = mon.apply(_event("send", "answer", "Seller", ("Buyer",), {"id": 1, "item": "pen"}, 2))
    assert "REC005" in {f.code for f in found}  # a parameter missing, whichever declaration


# -- 2. self-addressed messages ----------------------------------------------------------

def test_verifier_drops_the_sender_from_its_own_recipients():
    flat = _flat("Self", "self-addressed.bspl")
    process = Rules(flat).by_name["process"]
    assert process.sender == "Worker" and process.recipients == ()
    rep = verify(flat, timeout=20)
    assert (rep.safety.verdict, rep.liveness.verdict) == ("safe", "live")
    assert rep.enactable and all(rep.enactable.values())


@pytest.mark.parametrize("delivery,self_receipt", [("send", False), ("receive", True), ("receive", False)])
def test_monitor_accepts_a_self_addressed_message(delivery: str, self_receipt: bool):
    """No error either way; a receive-mode log without the self-receipt gets at most a
    delivery warning, and the enactment completes."""
    mon = Monitor(_flat("Self", "self-addressed.bspl"), delivery=delivery)
    W, C = "Worker", "Client"
    events = [("send", "ask", C, (W,), {"id": 1}), ("receive", "ask", C, (W,), {"id": 1}),
              ("send", "process", W, (W,), {"id": 1, "decision": "y"}),
              ("receive", "process", W, (W,), {"id": 1, "decision": "y"}),
              ("send", "tell", W, (C,), {"id": 1, "decision": "y", "done": "ok"}),
              ("receive", "tell", W, (C,), {"id": 1, "decision": "y", "done": "ok"})]
    found = []
    for n, (kind, msg, s, r, b) in enumerate(events, 1):
        if kind == "receive" and (delivery == "send" or (r == (s,) and not self_receipt)):
            continue
        found += mon.apply(Event(kind=kind, message=msg, sender=s, recipients=r, bindings=b,
                                 source="<test>", line=n))
    found += mon.finish()
    assert not [f for f in found if f.severity == "error" or f.family == "completion"], \
        [(f.code, f.text) for f in found]
    assert mon.complete_count == 1


# -- 3, 5. repeated and public-and-private declarations ----------------------------------

def test_public_and_private_is_public():
    flat = flatten(load(DIALECT / "public-and-private.bspl"), "Pub Priv")
    assert "x" in flat.outs and "x" not in flat.private


def test_public_and_private_in_a_referenced_protocol_binds_the_argument():
    spec = parse("Sub { roles A, B parameters in id key, out x private x\n"
                 "  A -> B: m[in id key, out x] }\n"
                 "Top { roles A, B parameters out id key, out y\n"
                 "  A -> B: go[out id key]\n  Sub(A, B, id, y) }")
    flat = flatten(spec, "Top")
    assert flat.by_name["Sub/m"].outs == {"y"}
    assert not [d for d in validate(spec) if d.severity == "error"]


def test_repeated_parameter_is_one_reference_argument():
    spec = parse("Sub { roles A, B parameters in id key, out x, out x\n"
                 "  A -> B: m[in id key, out x] }\n"
                 "Top { roles A, B parameters out id key, out y\n"
                 "  A -> B: go[out id key]\n  Sub(A, B, id, y) }")
    assert not [d for d in validate(spec) if d.severity == "error"]
    assert flatten(spec, "Top").by_name["Sub/m"].outs == {"y"}


def test_repeated_key_declaration_makes_a_key():
    p = parse("P { roles A, B parameters out id, out id key\n A -> B: m[out id] }")["P"]
    assert p.keys == ("id",) and len(p.public_params) == 1


# -- 4. public out nothing binds ---------------------------------------------------------

def test_unbound_public_out_is_nonlive_with_the_parameter_missing():
    rep = check_file(DIALECT / "unbound-public-out.bspl", verify=True, timeout=20)
    (p,) = rep.protocols
    liveness = p.to_dict()["liveness"]
    assert p.wellformed and liveness["verdict"] == "nonlive"
    assert liveness["missing"] == ["y"]
    assert [d.code for d in p.diagnostics] == ["W108"]


# -- 6. unadorned reference arguments ----------------------------------------------------

def test_unadorned_arguments_flatten_like_adorned_ones():
    text = (DIALECT / "unadorned-reference.bspl").read_text(encoding="utf-8")
    adorned = text.replace("Wrap(Merchant, Wrapper, Packer, orderID, label, itemID, item, wrapping, status)",
                           "Wrap(Merchant, Wrapper, Packer, in orderID key, in label, out itemID key, "
                           "out item, out wrapping, out status)")
    assert adorned != text
    a, b = flatten(parse(text), "Shop"), flatten(parse(adorned), "Shop")
    assert a.messages == b.messages and a.keys == b.keys
    assert {p for m in a.messages for p in m.outs} >= {"itemID", "item", "wrapping", "status"}


# -- 7. strict mode through the CLI ------------------------------------------------------

def _cli(*args: str) -> tuple[int, str]:
    import io

    from protoverify.cli import main

    out = io.StringIO()
    return main(list(args), out, io.StringIO()), out.getvalue()


def test_cli_strict_flag():
    path = str(DIALECT / "polymorphic-message.bspl")
    code, out = _cli("check", "--no-verify", path)
    assert code == 0 and "ILL-FORMED" not in out, out
    code, out = _cli("check", "--no-verify", "--strict", path)
    assert code == 1 and "ILL-FORMED" in out and "E019" in out, out
    code, out = _cli("check", "--strict", str(DIALECT / "unbound-public-out.bspl"))
    assert code == 1 and "verification skipped" in out and "E014" in out, out
    assert "--strict" in _cli("check", "--help")[1]


def test_language_doc_lists_every_code_and_every_decision():
    from protoverify.bspl import CODES

    doc = (REPO / "docs" / "language.md").read_text(encoding="utf-8")
    for code, (severity, title, hint) in CODES.items():
        assert f"| `{code}` | {severity} | {title} | {hint} |" in doc, code
    decisions = doc[doc.index("## Dialect decisions"):]
    for word in ("polymorphic", "self-addressed", "public and private", "public `out` no message binds",
                 "declared twice", "unadorned reference", "mutual-exclusion", "W106", "W107", "W108",
                 "W109", "E019", "E022", "E004", "E014", "E003", "#2", "resolve"):
        assert word in decisions, word

"""Run the property queries on Z3 and turn models into minimal counterexamples.

The only module (with `encode`'s callers) that imports z3. One solver per protocol is
loaded from SMT-LIB text once; every query is a `check` under assumption literals,
each with its own timeout, and `unknown` (timeout) is reported, never waited out.
"""
from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterable

import z3

from ..bspl.compose import FlatProtocol
from .encode import Encoding, encode
from .result import Event, LivenessResult, Report, SafetyResult, Verdict, input_event, receive_event, send_event
from .rules import ReplayError, Rules, State, replay, simulate

PROPERTIES = ("safety", "liveness", "enactability")


class Session:
    def __init__(self, rules: Rules, timeout: float, rlimit: int | None = None):
        self.rules = rules
        self.timeout_ms = max(1, int(timeout * 1000))
        self.enc: Encoding = encode(rules)
        self.solver = z3.SolverFor("QF_IDL")  # difference logic: 2-5x faster than the default here
        self.solver.set("timeout", self.timeout_ms)
        if rlimit is not None:  # Z3 resource units per query: an `unknown` that does not depend on load
            self.solver.set("rlimit", rlimit)
        self.solver.from_string(self.enc.text)
        self.sent = [z3.Bool(f"s{m.index}") for m in rules.messages]

    def lit(self, name: str) -> z3.BoolRef:
        return z3.Bool(name)

    def check(self, *assumptions: z3.BoolRef, budget_ms: int | None = None) -> z3.CheckSatResult:
        self.solver.set("timeout", max(1, budget_ms if budget_ms is not None else self.timeout_ms))
        return self.solver.check(*assumptions)

    def minimal_model(self, assumptions: list[z3.BoolRef]) -> z3.ModelRef:
        """A model whose set of sent messages is subset-minimal, as far as the timeout allows.

        Call after a `sat` check under `assumptions`. Each step asks for a model that
        sends a strict subset of the current one (cheap: every other message is fixed
        unsent); at `unsat` no sent message can be dropped. The best model so far is
        kept if the time runs out.
        """
        model = self.solver.model()
        deadline = time.monotonic() + self.timeout_ms / 1000
        step = 0
        while True:
            on = [s for s in self.sent if z3.is_true(model.eval(s, model_completion=True))]
            left = int((deadline - time.monotonic()) * 1000)
            if not on or left <= 0:
                return model
            step += 1
            smaller = z3.Bool(f"__smaller{step}")
            on_ids = {o.get_id() for o in on}
            off = [z3.Not(s) for s in self.sent if s.get_id() not in on_ids]
            self.solver.add(z3.Implies(smaller, z3.And(*off, z3.Not(z3.And(*on)))))
            r = self.check(*assumptions, smaller, budget_ms=left)
            if r != z3.sat:
                return model
            model = self.solver.model()

    # -- models to events -------------------------------------------------------------

    def events(self, model: z3.ModelRef) -> list[Event]:
        """The sends, receptions and input arrivals of a model, in an order that is a valid
        enactment. An input role without an arrival variable (none of its sends mentions
        an input) gets its arrival last: it changes no enabling."""
        def val(name: str) -> int:
            return int(model.eval(z3.Int(name), model_completion=True).as_long())

        def true(name: str) -> bool:
            return bool(z3.is_true(model.eval(z3.Bool(name), model_completion=True)))

        timed: list[tuple[int, int, int, Event]] = []
        for m in self.rules.messages:
            if not true(f"s{m.index}"):
                continue
            timed.append((val(f"t{m.index}"), 0, m.index, send_event(m)))
            for j, r in enumerate(m.recipients):
                if true(f"v{m.index}_{j}"):
                    timed.append((val(f"u{m.index}_{j}"), 1, m.index, receive_event(m, r)))
        n = len(self.rules.messages)
        for k, r in enumerate(self.rules.input_roles):
            var = self.enc.arrivals.get(r)
            timed.append((val(var) if var else self.enc.horizon + 1, 1, n + k, input_event(self.rules, r)))
        return canonical_order(timed)


def canonical_order(timed: list[tuple[int, int, int, Event]]) -> list[Event]:
    """One fixed linearization of a model's events, given as (time, 0 send / 1 otherwise,
    message index, event).

    Z3's times order the independent events of different roles by accident: they depend
    on what the process solved before, so one protocol printed its counterexample in
    other orders alone, after other specs, or under `check --jobs`. The order kept is
    each role's own (its local history, hence every enabling, is unchanged) and each
    send before its receptions, and two sends one of which binds as `out` a key the other
    binds too keep theirs (whether every key a send binds is already bound is the one
    global condition of enabling); among the events free to go next, the lowest message
    index goes first, a send before a reception.
    """
    ordered = sorted(timed, key=lambda x: x[:3])
    deps: list[set[int]] = [set() for _ in ordered]
    last_of_role: dict[str, int] = {}
    send_at: dict[int, int] = {}
    for i, (_, _, index, e) in enumerate(ordered):
        if e["role"] in last_of_role:
            deps[i].add(last_of_role[e["role"]])
        last_of_role[e["role"]] = i
        if e["kind"] == "send":
            send_at[index] = i
    sends = [i for i, x in enumerate(ordered) if x[3]["kind"] == "send"]
    outs = {i: {p[4:] for p in ordered[i][3]["params"] if p.startswith("out ")} for i in sends}
    out_keys = {i: outs[i] & set(ordered[i][3]["keys"]) for i in sends}
    for i, (_, _, index, e) in enumerate(ordered):
        if e["kind"] == "receive" and index in send_at:
            deps[i].add(send_at[index])
        elif e["kind"] == "send":  # a send binding a key another binds too: the first starts the enactment
            deps[i].update(j for j in sends if j < i and (out_keys[j] & outs[i] or out_keys[i] & outs[j]))
    waiting = [len(d) for d in deps]
    after: list[list[int]] = [[] for _ in ordered]
    for i, d in enumerate(deps):
        for j in d:
            after[j].append(i)
    ready = [(ordered[i][2], ordered[i][1], i) for i in range(len(ordered)) if not waiting[i]]
    heapq.heapify(ready)
    out: list[Event] = []
    while ready:
        *_, i = heapq.heappop(ready)
        out.append(ordered[i][3])
        for j in after[i]:
            waiting[j] -= 1
            if not waiting[j]:
                heapq.heappush(ready, (ordered[j][2], ordered[j][1], j))
    return out


def prune_receptions(rules: Rules, events: list[Event], holds: Callable[[State], bool]) -> list[Event]:
    """Drop every reception and input arrival the violation does not need (checked by replay)."""
    kept = list(events)
    for e in [e for e in events if e["kind"] in ("receive", "input")]:
        trial = [x for x in kept if x is not e]
        try:
            state = replay(rules, trial)
        except ReplayError:
            continue
        if holds(state):
            kept = trial
    return kept


def _bits(model: z3.ModelRef, names: list[str]) -> list[bool]:
    return [z3.is_true(model.eval(z3.Bool(n), model_completion=True)) for n in names]


def run(flat: FlatProtocol, properties: Iterable[str] = PROPERTIES, timeout: float = 5.0, minimize: bool = True,
        rlimit: int | None = None) -> Report:
    start = time.monotonic()
    rules = Rules(flat)
    report = Report(flat.name)
    ses = Session(rules, timeout, rlimit)
    props = set(properties)
    if "safety" in props:
        report.safety = _safety(ses, minimize)
    if "liveness" in props:
        report.liveness = _liveness(ses, minimize)
    if "enactability" in props:
        report.enactable, report.complete = _enactability(ses)
    report.seconds = time.monotonic() - start
    return report


def _safety(ses: Session, minimize: bool) -> SafetyResult:
    rules = ses.rules
    if not ses.enc.unsafe:
        return SafetyResult(Verdict.SAFE)
    r = ses.check(ses.lit("q_unsafe"))
    if r == z3.unknown:
        return SafetyResult(Verdict.UNKNOWN)
    if r == z3.unsat:
        return SafetyResult(Verdict.SAFE)
    model = ses.solver.model()
    param = next(p for p, q in ses.enc.unsafe.items() if z3.is_true(model.eval(z3.Bool(q), model_completion=True)))
    if minimize:
        q = ses.lit(ses.enc.unsafe[param])
        if ses.check(q) == z3.sat:
            model = ses.minimal_model([q])
    events = ses.events(model)

    def holds(state: State) -> bool:
        return len({m.sender for m in rules.binders[param] if m.index in state[0]}) > 1

    events = prune_receptions(rules, events, holds)
    roles = sorted({e["sender"] for e in events if e["kind"] == "send"
                    and rules.by_name[e["message"]] in rules.binders[param]})
    return SafetyResult(Verdict.UNSAFE, param, events, roles)


def _liveness(ses: Session, minimize: bool) -> LivenessResult:
    rules = ses.rules
    q = ses.lit("q_stuck")
    r = ses.check(q)
    if r == z3.unknown:
        return LivenessResult(Verdict.UNKNOWN)
    if r == z3.unsat:
        return LivenessResult(Verdict.LIVE)
    model = ses.minimal_model([q]) if minimize else ses.solver.model()
    events = ses.events(model)
    sent, received, arrived = replay(rules, events)
    obs = rules.observations(sent, received, arrived)
    seen = {r: frozenset(p for o in os for p in o.carried) for r, os in obs.items()}
    bound = rules.bound(sent)
    disabled = {m.name: rules.disabled_reasons(m, sent, rules.context(m, obs[m.sender]), bound, seen[m.sender])
                for m in rules.messages if m.index not in sent}
    missing = [p for p in rules.public_outs if p not in bound]
    return LivenessResult(Verdict.NONLIVE, missing, events,
                          {r: sorted(seen[r]) for r in rules.roles}, disabled)


def _enactability(ses: Session) -> tuple[dict[str, bool | None], bool | None]:
    """Which messages some enactment sends: each model settles all it sends at once."""
    rules = ses.rules
    result: dict[str, bool | None] = {m.name: None for m in rules.messages}
    seen: set[int] = set()
    for seed in range(4 if len(rules.messages) < 400 else 1):  # cheap random runs first
        seen |= simulate(rules, seed)
    for i in seen:
        result[rules.messages[i].name] = True
    open_ = [m.index for m in rules.messages if m.index not in seen]
    r = ses.check(ses.lit("q_complete"))
    complete = None if r == z3.unknown else r == z3.sat
    if r == z3.sat:  # a complete enactment usually settles most messages at once
        bits = _bits(ses.solver.model(), [f"s{i}" for i in open_])
        for i, b in zip(open_, bits, strict=True):
            if b:
                result[rules.messages[i].name] = True
        open_ = [i for i, b in zip(open_, bits, strict=True) if not b]
    rounds = 0
    while open_:
        rounds += 1
        some = z3.Bool(f"__enact{rounds}")
        ses.solver.add(z3.Implies(some, z3.Or(*[ses.sent[i] for i in open_])))
        r = ses.check(some)
        if r == z3.unknown:
            break
        if r == z3.unsat:
            for i in open_:
                result[rules.messages[i].name] = False
            break
        model = ses.solver.model()
        bits = _bits(model, [f"s{i}" for i in open_])
        for i, b in zip(list(open_), bits, strict=True):
            if b:
                result[rules.messages[i].name] = True
        open_ = [i for i, b in zip(open_, bits, strict=True) if not b]
    return result, complete

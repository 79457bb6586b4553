"""Executable reference semantics: enumerate every reachable state of one enactment.

A state is (sent messages, received (message, role) pairs, roles the External inputs
have arrived at); knowledge follows from it (`Rules.knowledge`). From a state, any
enabled message may be sent, any sent, unreceived message may be received by any of
its recipients, and the inputs may arrive at any input role they have not reached. The explorer answers
the questions the Z3 back end answers, by brute force, for small protocols (the
number of states grows exponentially): it is the oracle the property tests compare
the encoding with, not a production checker.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ..bspl.compose import FlatProtocol
from .rules import Rules

State = tuple[frozenset[int], frozenset[tuple[int, str]], frozenset[str]]


@dataclass
class Exploration:
    rules: Rules
    states: int = 0
    enactable: dict[str, bool] = field(default_factory=dict)
    unsafe: dict[str, State] = field(default_factory=dict)  # parameter -> a witness state
    stuck: list[State] = field(default_factory=list)  # quiescent, incomplete states
    complete: bool = False
    truncated: bool = False

    @property
    def safe(self) -> bool:
        return not self.unsafe

    @property
    def live(self) -> bool:
        return not self.stuck


def explore(protocol: FlatProtocol | Rules, max_states: int = 200_000) -> Exploration:
    """Breadth-first search over the reachable states of one enactment."""
    rules = protocol if isinstance(protocol, Rules) else Rules(protocol)
    res = Exploration(rules, enactable={m.name: False for m in rules.messages})
    contested = rules.contested()
    start: State = (frozenset(), frozenset(), frozenset())
    seen = {start}
    queue = deque([start])
    while queue:
        sent, received, arrived = state = queue.popleft()
        res.states += 1
        k = rules.knowledge(sent, received, arrived)
        bound = rules.bound(sent)
        for i in sent:
            res.enactable[rules.messages[i].name] = True
        for p in contested:
            if p not in res.unsafe and len({m.sender for m in rules.binders[p] if m.index in sent}) > 1:
                res.unsafe[p] = state
        if all(p in bound for p in rules.public_outs):
            res.complete = True
        successors: list[State] = []
        for m in rules.messages:
            if rules.enabled(m, sent, k[m.sender], bound):
                successors.append((sent | {m.index}, received, arrived))
        pending = [(i, r) for i in sent for r in rules.messages[i].recipients if (i, r) not in received]
        for ir in pending:
            successors.append((sent, received | {ir}, arrived))
        for r in rules.input_roles:
            if r not in arrived:
                successors.append((sent, received, arrived | {r}))
        if not successors and any(p not in bound for p in rules.public_outs):
            res.stuck.append(state)
        for s in successors:
            if s not in seen:
                if len(seen) >= max_states:
                    res.truncated = True
                    return res
                seen.add(s)
                queue.append(s)
    return res


def path_to(rules: Rules, target: State) -> list[dict]:
    """One enactment (events) reaching `target`: sends in an enabled order, else
    receptions and arrivals (greedy: may stop short when a `nil` needs a late input)."""
    from .result import input_event, receive_event, send_event

    sent, received, arrived = target
    events: list[dict] = []
    done: set[int] = set()
    got: set[tuple[int, str]] = set()
    k = rules.knowledge((), ())
    bound: set[str] = set()
    progress = True
    while progress:
        progress = False
        for i in sorted(sent - done):
            m = rules.messages[i]
            if rules.enabled(m, done, k[m.sender], bound):
                events.append(send_event(m))
                done.add(i)
                k[m.sender].update(m.carried)
                bound |= m.outs
                progress = True
                break
        if progress:
            continue
        for i, r in sorted(received - got):
            if i in done:
                events.append(receive_event(rules.messages[i], r))
                got.add((i, r))
                k[r].update(rules.messages[i].carried)
                progress = True
                break
        if progress:
            continue
        for r in sorted(arrived - {e["role"] for e in events if e["kind"] == "input"}):
            events.append(input_event(rules, r))
            k[r].update(rules.inputs)
            progress = True
            break
    return events

"""Executable reference semantics: enumerate every reachable state of one enactment.

A state is (sent messages, received (message, role) pairs, roles the External inputs
have arrived at); knowledge follows from it (`Rules.context`: what a role may use for
a message is its key context, a fixpoint over its observations, so their order does not
matter and the state needs none). From a state, any
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
from .result import Event, input_event, receive_event, send_event
from .rules import Rules, State

# how a state was reached: ("send", i), ("receive", (i, r)), ("input", r); () for the start
Step = tuple[()] | tuple[str, int | str | tuple[int, str]]


@dataclass
class Exploration:
    rules: Rules
    states: int = 0
    enactable: dict[str, bool] = field(default_factory=dict)
    unsafe: dict[str, State] = field(default_factory=dict)  # parameter -> a witness state
    stuck: list[State] = field(default_factory=list)  # quiescent, incomplete states
    complete: bool = False
    truncated: bool = False
    # state -> (predecessor, step): steps are ("send", i), ("receive", (i, r)), ("input", r)
    parents: dict[State, tuple[State, Step]] = field(default_factory=dict, repr=False)

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
    seen = res.parents
    seen[start] = (start, ())
    queue = deque([start])
    while queue:
        sent, received, arrived = state = queue.popleft()
        res.states += 1
        obs = rules.observations(sent, received, arrived)
        contexts: dict[tuple[str, frozenset[str]], frozenset[str]] = {}  # (sender, keys) -> knowledge
        bound = rules.bound(sent)
        for i in sent:
            res.enactable[rules.messages[i].name] = True
        for p in contested:
            if p not in res.unsafe and len({m.sender for m in rules.binders[p] if m.index in sent}) > 1:
                res.unsafe[p] = state
        if all(p in bound for p in rules.public_outs):
            res.complete = True
        successors: list[tuple[State, Step]] = []
        for m in rules.messages:
            if m.index in sent:
                continue
            ctx = contexts.get((m.sender, m.keys))
            if ctx is None:
                ctx = contexts[m.sender, m.keys] = rules.context(m, obs[m.sender])
            if rules.enabled(m, sent, ctx, bound):
                successors.append(((sent | {m.index}, received, arrived), ("send", m.index)))
        pending = [(i, r) for i in sent for r in rules.messages[i].recipients if (i, r) not in received]
        for ir in pending:
            successors.append(((sent, received | {ir}, arrived), ("receive", ir)))
        for r in rules.input_roles:
            if r not in arrived:
                successors.append(((sent, received, arrived | {r}), ("input", r)))
        if not successors and any(p not in bound for p in rules.public_outs):
            res.stuck.append(state)
        for s, step in successors:
            if s not in seen:
                if len(seen) >= max_states:
                    res.truncated = True
                    return res
                seen[s] = (state, step)
                queue.append(s)
    return res


def path_to(res: Exploration, target: State) -> list[Event]:
    """A shortest enactment (events) from the empty state to `target`, which `explore`
    must have reached: read back along the breadth-first search's parent links."""
    rules = res.rules
    if target not in res.parents:
        raise KeyError("target state was not reached by this exploration")
    steps: list[Step] = []
    state = target
    while True:
        prev, step = res.parents[state]
        if not step:
            break
        steps.append(step)
        state = prev
    events: list[Event] = []
    for step in reversed(steps):
        what = step[1] if step else None
        if isinstance(what, int):
            events.append(send_event(rules.messages[what]))
        elif isinstance(what, tuple):
            events.append(receive_event(rules.messages[what[0]], what[1]))
        elif isinstance(what, str):
            events.append(input_event(rules, what))
    return events

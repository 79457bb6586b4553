"""One enactment of a protocol as SMT-LIB text (integer difference logic plus Booleans).

Variables (i a message, j a recipient of it, r a role, p a parameter):

  s_i      message i is sent                 t_i    its send time, 1..H
  v_i_j    recipient j has received it        u_i_j  reception time, t_i < u_i_j <= H
  a_r      when the External inputs (every public `in`) arrive at input role r, 1..H
  K_r_p    the earliest time r knows p, 1..INF (INF = never)

K_r_p is the minimum over r's observations of p (its sends and receptions of messages
carrying p, and for a public `in` p the arrival a_r, which always occurs):
`occurs -> K <= time` for each, and `K = INF or K = time of an occurring one`. So knowledge is linear in the protocol: one integer per (role, parameter) that
the role's messages mention, not a pairwise ordering of messages.

Sending i by r at t_i needs K_r_p < t_i for each `in` p, K_r_p >= t_i for each
`out`/`nil` p (so a message whose out parameter its sender already knows is disabled),
and, when i binds keys as out, that some such key had no earlier binder.

Events may share a time. Two events of different roles commute, and at one role,
sends ordered before receptions of the same instant give the same knowledge checks,
(arrivals count as receptions) except for two sends by one role that both bind p (`out`/`out`: never both) or one
binding p and one with p `nil` (the nil one strictly first). Those pairs are added
explicitly: the only place the encoding is pairwise, and only within one role and
one parameter. Hence every model orders into a valid interleaving (see `order`).

Named query literals (used as assumptions): `q_unsafe_<p>`, `q_unsafe`, `q_stuck`,
`q_complete`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .rules import Rules


@dataclass
class Encoding:
    rules: Rules
    text: str
    horizon: int
    arrivals: dict[str, str] = field(default_factory=dict)  # input role -> its arrival time variable
    unsafe: dict[str, str] = field(default_factory=dict)  # parameter -> query literal
    param_ids: dict[str, int] = field(default_factory=dict)

    def sent(self, i: int) -> str:
        return f"s{i}"


def _or(xs: list[str]) -> str:
    if not xs:
        return "false"
    return xs[0] if len(xs) == 1 else f"(or {' '.join(xs)})"


def _and(xs: list[str]) -> str:
    if not xs:
        return "true"
    return xs[0] if len(xs) == 1 else f"(and {' '.join(xs)})"


def encode(rules: Rules) -> Encoding:
    msgs = rules.messages
    pid: dict[str, int] = {}
    for m in msgs:
        for p in (*m.carried, *sorted(m.nils)):
            pid.setdefault(p, len(pid))
    rid = {r: n for n, r in enumerate(rules.roles)}
    # observations of p by r: (occurs, time); only where r sends a message mentioning p
    needed: set[tuple[str, str]] = set()
    for m in msgs:
        for p in m.ins | m.outs | m.nils:
            needed.add((m.sender, p))
    arrivals = [r for r in rules.input_roles if any((r, p) in needed for p in rules.inputs)]
    horizon = sum(1 + len(m.recipients) for m in msgs) + len(arrivals) + 1
    inf = horizon + 1
    out: list[str] = []
    add = out.append

    for m in msgs:
        i = m.index
        add(f"(declare-const s{i} Bool)(declare-const t{i} Int)(assert (<= 1 t{i} {horizon}))")
        for j in range(len(m.recipients)):
            add(f"(declare-const v{i}_{j} Bool)(declare-const u{i}_{j} Int)"
                f"(assert (<= u{i}_{j} {horizon}))(assert (=> v{i}_{j} (and s{i} (< t{i} u{i}_{j}))))")

    for r in arrivals:
        add(f"(declare-const a{rid[r]} Int)(assert (<= 1 a{rid[r]} {horizon}))")
    obs: dict[tuple[str, str], list[tuple[str, str]]] = {rp: [] for rp in needed}
    for r in arrivals:
        for p in rules.inputs:
            if (r, p) in obs:
                obs[(r, p)].append(("true", f"a{rid[r]}"))
    for m in msgs:
        for p in m.carried:
            if (m.sender, p) in obs:
                obs[(m.sender, p)].append((f"s{m.index}", f"t{m.index}"))
            for j, r in enumerate(m.recipients):
                if (r, p) in obs:
                    obs[(r, p)].append((f"v{m.index}_{j}", f"u{m.index}_{j}"))

    def kvar(r: str, p: str) -> str:
        return f"K{rid[r]}_{pid[p]}"

    for (r, p), os in sorted(obs.items(), key=lambda x: (rid[x[0][0]], pid[x[0][1]])):
        k = kvar(r, p)
        add(f"(declare-const {k} Int)(assert (<= 1 {k} {inf}))")
        for occ, tm in os:
            add(f"(assert (=> {occ} (<= {k} {tm})))")
        add(f"(assert {_or([f'(= {k} {inf})'] + [f'(and {occ} (= {k} {tm}))' for occ, tm in os])})")

    def knows_before(r: str, p: str, t: str) -> str:
        return f"(< {kvar(r, p)} {t})"

    def unknown_before(r: str, p: str, t: str) -> str:
        return f"(<= {t} {kvar(r, p)})"

    # E_r_p: r knows p once every sent message is delivered (a Boolean shortcut for
    # K_r_p < INF in the stuck query, which propagates far better than the times);
    # every input has arrived by then, so a public `in` is simply known
    for (r, p), os in sorted(obs.items(), key=lambda x: (rid[x[0][0]], pid[x[0][1]])):
        if p in rules.public_ins:
            continue
        sources = [f"s{m.index}" for m in msgs if p in m.carried and (m.sender == r or r in m.recipients)]
        add(f"(declare-const E{rid[r]}_{pid[p]} Bool)(assert (= E{rid[r]}_{pid[p]} {_or(sources)}))")

    def knows_at_end(r: str, p: str) -> str:  # valid when every sent message is received
        return "true" if p in rules.public_ins else f"E{rid[r]}_{pid[p]}"

    bound = {p: _or([f"s{b.index}" for b in bs]) for p, bs in rules.binders.items()}

    for m in msgs:
        i, t = m.index, f"t{m.index}"
        conds = [knows_before(m.sender, p, t) for p in sorted(m.ins)]
        conds += [unknown_before(m.sender, p, t) for p in sorted(m.outs | m.nils)]
        if m.out_keys:
            alts = []
            for k in sorted(m.out_keys):
                others = [b for b in rules.binders[k] if b.index != i]
                alts.append(_and([f"(=> s{b.index} (< {t} t{b.index}))" for b in others]))
            conds.append(_or(alts))
        add(f"(assert (=> s{i} {_and(conds)}))")

    # same role, same parameter: out/out never both; nil strictly before out
    for p in pid:
        by_role: dict[str, tuple[list[int], list[int]]] = {}
        for m in msgs:
            if p in m.outs:
                by_role.setdefault(m.sender, ([], []))[0].append(m.index)
            elif p in m.nils:
                by_role.setdefault(m.sender, ([], []))[1].append(m.index)
        for outs_, nils_ in by_role.values():
            if len(outs_) > 1:
                add(f"(assert ((_ at-most 1) {' '.join(f's{a}' for a in outs_)}))")
            for a in outs_:
                for b in nils_:
                    add(f"(assert (=> (and s{a} s{b}) (< t{b} t{a})))")

    enc = Encoding(rules, "", horizon, {r: f"a{rid[r]}" for r in arrivals}, param_ids=pid)

    # safety: p bound by two roles
    qs = []
    for n, p in enumerate(rules.contested()):
        roles: dict[str, list[str]] = {}
        for b in rules.binders[p]:
            roles.setdefault(b.sender, []).append(f"s{b.index}")
        bits = [_or(v) for v in roles.values()]
        q = f"q_unsafe_{n}"
        add(f"(declare-const {q} Bool)(assert (= {q} ((_ at-least 2) {' '.join(bits)})))")
        enc.unsafe[p] = q
        qs.append(q)
    add(f"(declare-const q_unsafe Bool)(assert (= q_unsafe {_or(qs)}))")

    # liveness: quiescent (everything delivered, nothing enabled) and incomplete
    stuck = []
    for m in msgs:
        for j in range(len(m.recipients)):
            stuck.append(f"(= v{m.index}_{j} s{m.index})")
    for m in msgs:
        en = [f"(not s{m.index})"]
        en += [knows_at_end(m.sender, p) for p in sorted(m.ins)]
        en += [f"(not {knows_at_end(m.sender, p)})" for p in sorted(m.outs | m.nils)]
        if m.out_keys:
            en.append(_or([f"(not {bound[k]})" for k in sorted(m.out_keys)]))
        stuck.append(f"(not {_and(en)})")
    stuck.append(_or([f"(not {bound.get(p, 'false')})" for p in rules.public_outs]))
    add(f"(declare-const q_stuck Bool)(assert (= q_stuck {_and(stuck)}))")
    add(f"(declare-const q_complete Bool)(assert (= q_complete "
        f"{_and([bound.get(p, 'false') for p in rules.public_outs])}))")
    enc.text = "\n".join(out)
    return enc

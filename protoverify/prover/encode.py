"""One enactment of a protocol as SMT-LIB text (integer difference logic plus Booleans).

Variables (i a message, j a recipient of it, r a role, p a parameter):

  s_i      message i is sent                 t_i    its send time, 1..H
  v_i_j    recipient j has received it        u_i_j  reception time, t_i < u_i_j <= H
  a_r      when the External inputs (every public `in`) arrive at input role r, 1..H

What r may use when it sends i is its knowledge in i's key context (rules.py,
protoverify/enactment): the parameters of those of its observations (sends,
receptions, arrival) linked to i's key set KS. Two cases per (r, KS):

*Direct* (the common single-key case): every observation of r that carries a
parameter r's KS-messages mention carries a key of KS itself, so it is linked as soon
as it occurs, and knowledge is today's earliest-observation time: one integer
K_r_p per (role, parameter), the minimum over r's observations of p (`occurs -> K <=
time`, and `K = INF or K = time of an occurring one`); INF = H + 1 means never. Linear
in the protocol, not a pairwise ordering of messages.

*Linked* (otherwise): per observation o of r that carries a key token and can reach
KS through shared tokens, a link time L_o = the earliest time from which o is in the
context, i.e. the least, over chains o = o_0, ..., o_k of occurring observations with
adjacent ones sharing a token and o_k carrying a key of KS, of the latest time on the
chain (INF when none). Encoded as the least fixpoint it is: L_o = obs_o when o
carries a key of KS; else L_o <= max(obs_o, L_o') for every neighbour o' (upper
bounds), and L_o = INF or L_o = max(obs_o, L_o') for a *supporter* o' with L_o' < L_o
or (L_o' = L_o and rank_o' < rank_o), an integer rank per observation, so support is
well-founded (no cycle of observations vouching for one another). Then r knows p
before t for KS iff some observation carrying p has L_o < t.

Sending i by r at t_i needs each `in` known before t_i in i's context and no
`out`/`nil` known before t_i (so a message whose out parameter its sender already
knows is disabled), and, when i binds keys as out, that some such key had no earlier
binder.

Events may share a time. Two events of different roles commute (knowledge is per
role; the only global test, keys already bound, is strict). At one role, sends are
ordered before receptions and arrivals of the same instant, which the strict `< t`
of the send conditions already assumes. Two sends m1, m2 of one role at one instant
are where a model could differ from its interleaving: the one placed first joins the
other's context if linked, with what it carries and (linked case) what it links.
Hence, for m1 carrying a parameter p that is out/nil in m2: if m1 carries a key of
m2's key set, m1 after m2 would disable m2, so m2 is strictly first (`t2 < t1`;
both ways, e.g. out/out in the direct case: `at-most 1`); else they never share a
time. And for m2 of the linked case, any m1 with key tokens never shares m2's time
(it could link further observations). In the direct case this is exactly the former
rule (out/out never both, nil strictly before out): sharing an instant with an `in`
of p is already contradictory there. Any real interleaving gives every event its own
time, so these constraints lose no run; with them every model orders into a valid
interleaving (see `solve.Session.events`).

Inputs: the arrival at r carries every public `in`; its tokens are the public `in`
key parameters. In a protocol with no key parameter every observation is linked (one
implicit enactment): everything is direct.

Named query literals (used as assumptions): `q_unsafe_<p>`, `q_unsafe`, `q_stuck`,
`q_complete`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..enactment import linked
from .rules import Msg, Rules


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



@dataclass(frozen=True)
class _Obs:
    """One observation of a role in the encoding: when it occurs, at what time, its key
    tokens and the parameters it carries."""

    occ: str
    time: str
    tokens: frozenset[str]
    carried: frozenset[str]


def _observations(rules: Rules, arrival_var: dict[str, str]) -> dict[str, list[_Obs]]:
    """Every role's possible observations. An input role's arrival is listed only when it
    has a time variable (otherwise it is last, after every send: it changes nothing)."""
    obs: dict[str, list[_Obs]] = {r: [] for r in rules.roles}
    for r, a in arrival_var.items():
        obs[r].append(_Obs("true", a, rules.input_tokens, frozenset(rules.inputs)))
    for m in rules.messages:
        c = frozenset(m.carried)
        obs[m.sender].append(_Obs(f"s{m.index}", f"t{m.index}", m.links, c))
        for j, r in enumerate(m.recipients):
            obs[r].append(_Obs(f"v{m.index}_{j}", f"u{m.index}_{j}", m.links, c))
    return obs


def _mentions(rules: Rules) -> dict[tuple[str, frozenset[str]], set[str]]:
    """(role, key set) -> the parameters that role's messages with that key set test."""
    out: dict[tuple[str, frozenset[str]], set[str]] = {}
    for m in rules.messages:
        out.setdefault((m.sender, m.keys), set()).update(m.ins | m.outs | m.nils)
    return out


def _direct(rules: Rules, roles_obs: dict[str, list[_Obs]], r: str, ks: frozenset[str], ps: set[str]) -> bool:
    """Every observation of r carrying a parameter of `ps` carries a key of `ks` itself."""
    if rules.keyless:
        return True
    return all(o.tokens & ks for o in roles_obs[r] if o.carried & ps)


def encode(rules: Rules) -> Encoding:
    msgs = rules.messages
    pid: dict[str, int] = {}
    for m in msgs:
        for p in (*m.carried, *sorted(m.nils)):
            pid.setdefault(p, len(pid))
    rid = {r: n for n, r in enumerate(rules.roles)}
    mentions = _mentions(rules)
    # which (role, key set) pairs are direct, decided on every possible observation (an
    # arrival counts for every input role, time variable or not)
    static = _observations(rules, {r: f"a{rid[r]}" for r in rules.input_roles})
    direct = {rk: _direct(rules, static, rk[0], rk[1], ps) for rk, ps in mentions.items()}
    # K_r_p (earliest knowledge) for the direct pairs only
    needed: set[tuple[str, str]] = set()
    for (r, ks), ps in mentions.items():
        if direct[(r, ks)]:
            needed |= {(r, p) for p in ps}
    linked_roles = {r for (r, ks), d in direct.items() if not d}
    arrivals = [r for r in rules.input_roles
                if any((r, p) in needed for p in rules.inputs) or (r in linked_roles and rules.input_tokens)]
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
    role_obs = _observations(rules, {r: f"a{rid[r]}" for r in arrivals})

    # -- direct pairs: earliest knowledge times ---------------------------------------
    obs: dict[tuple[str, str], list[tuple[str, str]]] = {rp: [] for rp in needed}
    for r, os in role_obs.items():
        for o in os:
            for p in sorted(o.carried):
                if (r, p) in obs:
                    obs[(r, p)].append((o.occ, o.time))

    def kvar(r: str, p: str) -> str:
        return f"K{rid[r]}_{pid[p]}"

    for (r, p), times in sorted(obs.items(), key=lambda x: (rid[x[0][0]], pid[x[0][1]])):
        k = kvar(r, p)
        add(f"(declare-const {k} Int)(assert (<= 1 {k} {inf}))")
        for occ, tm in times:
            add(f"(assert (=> {occ} (<= {k} {tm})))")
        add(f"(assert {_or([f'(= {k} {inf})'] + [f'(and {occ} (= {k} {tm}))' for occ, tm in times])})")

    # E_r_p: r knows p once every sent message is delivered (a Boolean shortcut for
    # K_r_p < INF in the stuck query, which propagates far better than the times);
    # every input has arrived by then, so a public `in` is simply known
    for r, p in sorted(obs, key=lambda rp: (rid[rp[0]], pid[rp[1]])):
        if p in rules.public_ins:
            continue
        sources = [f"s{m.index}" for m in msgs if p in m.carried and (m.sender == r or r in m.recipients)]
        add(f"(declare-const E{rid[r]}_{pid[p]} Bool)(assert (= E{rid[r]}_{pid[p]} {_or(sources)}))")

    # -- linked pairs: link times L per observation --------------------------------------
    # (role, key set) -> [(L variable, observation)] for the observations that may link
    links: dict[tuple[str, frozenset[str]], list[tuple[str, _Obs]]] = {}
    for c, ((r, ks), d) in enumerate(sorted(direct.items(), key=lambda x: (rid[x[0][0]], sorted(x[0][1])))):
        if d:
            continue
        nodes = [o for o in role_obs[r] if o.tokens]
        nodes = linked(ks, nodes, lambda o: o.tokens)  # statically reachable from ks
        names = [(f"L{c}_{n}", f"R{c}_{n}") for n in range(len(nodes))]
        links[(r, ks)] = [(lv, o) for (lv, _), o in zip(names, nodes, strict=True)]
        for (lv, rv), o in zip(names, nodes, strict=True):
            add(f"(declare-const {lv} Int)(declare-const {rv} Int)(assert (<= {lv} {inf}))"
                f"(assert (=> (not {o.occ}) (= {lv} {inf})))")
        for (lv, rv), o in zip(names, nodes, strict=True):
            if o.tokens & ks:
                add(f"(assert (=> {o.occ} (= {lv} {o.time})))")
                continue
            add(f"(assert (=> {o.occ} (<= {o.time} {lv})))")
            support = [f"(= {lv} {inf})"]
            for (lw, rw), o2 in zip(names, nodes, strict=True):
                if o2 is o or not (o2.tokens & o.tokens):
                    continue
                add(f"(assert (=> {o.occ} (or (<= {lv} {o.time}) (<= {lv} {lw}))))")
                support.append(f"(and (<= {lw} {lv}) (or (= {lv} {o.time}) (= {lv} {lw})) "
                               f"(or (< {lw} {lv}) (< {rw} {rv})))")
            add(f"(assert {_or(support)})")

    def knows_before(m: Msg, p: str, t: str) -> str:
        if direct[(m.sender, m.keys)]:
            return f"(< {kvar(m.sender, p)} {t})"
        return _or([f"(< {lv} {t})" for lv, o in links[(m.sender, m.keys)] if p in o.carried])

    def unknown_before(m: Msg, p: str, t: str) -> str:
        if direct[(m.sender, m.keys)]:
            return f"(<= {t} {kvar(m.sender, p)})"
        return _and([f"(<= {t} {lv})" for lv, o in links[(m.sender, m.keys)] if p in o.carried])

    def knows_at_end(m: Msg, p: str) -> str:  # valid when every sent message is received
        if direct[(m.sender, m.keys)]:
            return "true" if p in rules.public_ins else f"E{rid[m.sender]}_{pid[p]}"
        return _or([f"(< {lv} {inf})" for lv, o in links[(m.sender, m.keys)] if p in o.carried])

    bound = {p: _or([f"s{b.index}" for b in bs]) for p, bs in rules.binders.items()}

    for m in msgs:
        i, t = m.index, f"t{m.index}"
        conds = [knows_before(m, p, t) for p in sorted(m.ins)]
        conds += [unknown_before(m, p, t) for p in sorted(m.outs | m.nils)]
        if m.out_keys:
            alts = []
            for k in sorted(m.out_keys):
                others = [b for b in rules.binders[k] if b.index != i]
                alts.append(_and([f"(=> s{b.index} (< {t} t{b.index}))" for b in others]))
            conds.append(_or(alts))
        add(f"(assert (=> s{i} {_and(conds)}))")

    _same_role_sends(rules, direct, list(pid), add)

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
        en += [knows_at_end(m, p) for p in sorted(m.ins)]
        en += [f"(not {knows_at_end(m, p)})" for p in sorted(m.outs | m.nils)]
        if m.out_keys:
            en.append(_or([f"(not {bound[k]})" for k in sorted(m.out_keys)]))
        stuck.append(f"(not {_and(en)})")
    stuck.append(_or([f"(not {bound.get(p, 'false')})" for p in rules.public_outs]))
    add(f"(declare-const q_stuck Bool)(assert (= q_stuck {_and(stuck)}))")
    add(f"(declare-const q_complete Bool)(assert (= q_complete "
        f"{_and([bound.get(p, 'false') for p in rules.public_outs])}))")
    enc.text = "\n".join(out)
    return enc


def _same_role_sends(rules: Rules, direct: dict[tuple[str, frozenset[str]], bool],
                     params: list[str], add: Callable[[str], None]) -> None:
    """Two sends of one role at one instant (see the module docstring): `t2 < t1` where m1
    after m2 would disable m2, never the same time where it could change m2's context.
    Emitted per parameter in `params` order first, as the direct-case rule always was."""
    by_role: dict[str, list[Msg]] = {}
    for m in rules.messages:
        by_role.setdefault(m.sender, []).append(m)
    first: set[tuple[int, int]] = set()  # (a, b): b strictly before a
    apart: set[tuple[int, int]] = set()  # a < b, never at one time
    for ms in by_role.values():
        carriers: dict[str, list[Msg]] = {}
        for m in ms:
            for p in m.carried:
                carriers.setdefault(p, []).append(m)
        with_tokens = [m for m in ms if m.links]
        for m2 in ms:
            d2 = direct[(m2.sender, m2.keys)]
            cands = {m.index: m for p in m2.outs | m2.nils for m in carriers.get(p, ())}
            if not d2:
                cands.update((m.index, m) for m in with_tokens)
            for m1 in cands.values():
                if m1 is m2:
                    continue
                hit = set(m1.carried) & (m2.outs | m2.nils)
                linked_ = rules.keyless or bool(m1.links & m2.keys)
                if hit and linked_ and (not d2 or hit & m1.outs):
                    first.add((m1.index, m2.index))
                elif not d2 and (hit or m1.links):
                    apart.add((min(m1.index, m2.index), max(m1.index, m2.index)))
    done: set[tuple[int, int]] = set()
    for p in params:  # out/out: at most one; nil strictly before out
        order = dict.fromkeys(m.sender for m in rules.messages if p in m.outs or p in m.nils)
        for ms in (by_role[r] for r in order):
            outs_ = [m.index for m in ms if p in m.outs]
            nils_ = [m.index for m in ms if p in m.nils]
            pairs = [(a, b) for a in outs_ for b in outs_ if a != b]
            if len(outs_) > 1 and all(ab in first for ab in pairs):
                add(f"(assert ((_ at-most 1) {' '.join(f's{a}' for a in outs_)}))")
                done.update(pairs)
            for a in outs_:
                for b in nils_:
                    if (a, b) in first and (a, b) not in done:
                        add(f"(assert (=> (and s{a} s{b}) (< t{b} t{a})))")
                        done.add((a, b))
    for a, b in sorted(first - done):
        if (b, a) in first:
            if a < b:
                add(f"(assert (not (and s{a} s{b})))")
            continue
        add(f"(assert (=> (and s{a} s{b}) (< t{b} t{a})))")
    for a, b in sorted(apart):
        if (a, b) not in first and (b, a) not in first:
            add(f"(assert (=> (and s{a} s{b}) (not (= t{a} t{b}))))")

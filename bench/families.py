"""Scalable protocol families for benchmarks and tests: each function returns BSPL text.

Every family states its expected verdicts in the first line (`// expect: ...`), in the
format the specs/ files use, so a test can check them.
"""
from __future__ import annotations


def _proto(name: str, roles: str, params: list[str], messages: list[str], expect: str) -> str:
    body = "\n".join(f"  {m}" for m in messages)
    return (f"// expect: {name} wellformed=true {expect}\n"
            f"{name} {{\n  roles {roles}\n  parameters {', '.join(params)}\n\n{body}\n}}\n")


def independent_choices(n: int, deadlock: bool = False) -> str:
    """A starts; for each i, B answers yes_i or no_i (both bind c_i: a choice, safe);
    A finishes once it has every c_i. With `deadlock`, a pair of messages each waits
    for the other's out parameter, so y and z are never bound: nonlive."""
    params = ["out id key"] + [f"out c{i}" for i in range(n)] + ["out done"]
    msgs = ["A -> B: start[out id key]"]
    for i in range(n):
        msgs.append(f"B -> A: yes{i}[in id key, out c{i}]")
        msgs.append(f"B -> A: no{i}[in id key, out c{i}]")
    msgs.append(f"A -> B: finish[in id key, {', '.join(f'in c{i}' for i in range(n))}, out done]")
    if deadlock:
        params += ["out y", "out z"]
        msgs.append("A -> B: ping[in id key, in y, out z]")
        msgs.append("B -> A: pong[in id key, in z, out y]")
    name = f"Choices{n}" + ("Deadlock" if deadlock else "")
    return _proto(name, "A, B", params, msgs,
                  "safety=safe liveness=" + ("nonlive" if deadlock else "live"))


def concurrent_replies(n: int) -> str:
    """A asks; B sends n replies, all enabled at once; A joins when it has them all."""
    params = ["out id key"] + [f"out r{i}" for i in range(n)] + ["out done"]
    msgs = ["A -> B: ask[out id key]"]
    msgs += [f"B -> A: reply{i}[in id key, out r{i}]" for i in range(n)]
    msgs.append(f"A -> B: join[in id key, {', '.join(f'in r{i}' for i in range(n))}, out done]")
    return _proto(f"Replies{n}", "A, B", params, msgs, "safety=safe liveness=live")


def deadlocked_pair() -> str:
    """Two messages each need the other's out parameter: neither can ever be sent."""
    return _proto("Deadlock", "A, B", ["out id key", "out x", "out y"],
                  ["A -> B: start[out id key]",
                   "A -> B: m1[in id key, in y, out x]",
                   "B -> A: m2[in id key, in x, out y]"],
                  "safety=safe liveness=nonlive")


def races(n: int) -> str:
    """n parameters, each bound by A (offer_i) and by B (counter_i) once both know id: unsafe."""
    params = ["out id key"] + [f"out p{i}" for i in range(n)]
    msgs = ["A -> B: start[out id key]"]
    for i in range(n):
        msgs.append(f"A -> B: offer{i}[in id key, out p{i}]")
        msgs.append(f"B -> A: counter{i}[in id key, out p{i}]")
    return _proto(f"Races{n}", "A, B", params, msgs, "safety=unsafe liveness=live")


def chain(n: int) -> str:
    """A strict chain: m_i needs x_{i-1} and binds x_i, alternating between A and B."""
    params = ["out id key"] + [f"out x{i}" for i in range(n)]
    msgs = ["A -> B: start[out id key, out x0]"] if n else ["A -> B: start[out id key]"]
    for i in range(1, n):
        s, r = ("B", "A") if i % 2 else ("A", "B")
        msgs.append(f"{s} -> {r}: m{i}[in id key, in x{i - 1}, out x{i}]")
    return _proto(f"Chain{n}", "A, B", params, msgs, "safety=safe liveness=live")


FAMILIES = {"choices": independent_choices, "replies": concurrent_replies, "deadlock": deadlocked_pair,
            "races": races, "chain": chain}


if __name__ == "__main__":  # python -m bench.families NAME N > file.bspl
    import sys

    fn = FAMILIES[sys.argv[1]]
    args = [int(a) for a in sys.argv[2:]]
    if sys.argv[1] == "choices" and len(args) > 1:
        print(fn(args[0], bool(args[1])))
    else:
        print(fn(*args))

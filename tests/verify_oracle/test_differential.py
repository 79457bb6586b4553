"""Differential test: `protoverify check` (Z3) against the reference tool `bspl verify all`.

(a) Every protocol of specs/*.bspl, tests/fixtures/bspl_quirks/*.bspl,
    tests/fixtures/dialect/*.bspl (the dialect decisions) and the Ahoy corpus
    (../shared/corpus/ahoy/protocols) must get the same safe/live verdicts from both tools,
    wherever bspl finishes and protoverify verifies (well-formed), except the cases in
    BSPL_BUGS (bspl 1.1.0 is wrong; the fixture's `// bspl-1.1.0:` header records what it
    prints and `// expect:` the right verdict).
(b) Hypothesis-generated protocols (tests/helpers/strategies.py, single-key and
    multi-key), many per bspl call (one file, one `bspl verify all`, to amortise its ~1 s
    start-up), must agree too, except where a deliberate departure of our key-context
    rule from bspl's known() explains the difference (KNOWN_DIVERGENCES: bspl's rule run
    on our explorer, tests/verify_oracle/bspl_known.py, gives bspl's verdict) or bspl's
    partial-order reduction does. Each departure has a minimal fixture whose headers
    record both verdicts. Any other disagreement is delta-minimised (drop messages,
    parameters, recipients while it persists, each round one bspl call) and printed. Variants
    of them with a self-addressed or a polymorphic message (the dialect decisions, which
    the generator does not write) must agree too.

Skips (with the reason) only when no bspl oracle is available; see tests/helpers/oracle.py.
The default run checks 80 draws (~65 distinct protocols, fixed); `--run-slow` adds 4 x 300
draws with random seeds (printed on failure).

Minimise a file by hand:  python tests/verify_oracle/test_differential.py FILE.bspl
"""
from __future__ import annotations

import re
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

if __name__ == "__main__":  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.helpers import oracle  # noqa: E402
from tests.helpers.paths import CORPUS, corpus_path  # noqa: E402

REPO = oracle.REPO_ROOT
SHARED_AHOY = CORPUS / "ahoy" / "protocols"
QUIRKS = REPO / "tests" / "fixtures" / "bspl_quirks"
DIVERGENCES = REPO / "tests" / "fixtures" / "bspl_divergences"
DIALECT = REPO / "tests" / "fixtures" / "dialect"

pytestmark = pytest.mark.oracle

BSPL_TIMEOUT = 120.0  # seconds per bspl call (a batch file)
PV_TIMEOUT = 20.0  # seconds per solver query

# -- documented bspl 1.1.0 bugs: (file name, protocol) -> (property, bspl's word, reason) -----

BSPL_BUGS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("renamed-reference.bspl", "Renamed Order"): (
        "liveness", "nonlive",
        "renamed key of a reference: paths.py known() matches the key context (actual names) "
        "against formal names, so Seller never knows what it received; it is live"),
    ("unscoped-private.bspl", "Both"): (
        "safety", "unsafe",
        "privates of sub-protocols are not scoped: Left's tag and Right's tag are merged "
        "into one parameter bound by two roles; it is safe"),
    ("logistics.bspl", "Logistics"): (
        "safety", "unsafe",
        "the same unscoped-private bug on a real spec: Pack's and Load's private ticket are "
        "merged and reported bound by Packer and Carrier; it is safe"),
    ("reduction-misses-nonlive.bspl", "Race Stuck"): (
        "liveness", "live",
        "partial-order reduction (default in `verify all`) skips the stuck path "
        "(A!m0, B?m0, A!m3, B?m3); `bspl verify liveness --reduction=False` finds it: nonlive"),
    ("multikey-safety.bspl", "Multi Key"): (
        "safety", "safe",
        "check_all_parameter_conflicts() groups binders by the exact key tuple, so ('id',) "
        "and ('id', 'sub') never conflict; it is unsafe (bspl's Mambo query agrees)"),
}


# -- deliberate departures of protoverify from bspl's knowledge rule (not bspl bugs) ------


@dataclass(frozen=True)
class Divergence:
    name: str
    fixture: str  # minimal case in tests/fixtures/bspl_divergences/
    reason: str


KNOWN_DIVERGENCES: list[Divergence] = [
    Divergence(
        "nonkey-link", "nonkey-link.bspl",
        "(a) only key parameters link a role's observations into one key context; bspl's "
        "known() links through any parameter a message mentions (and grows the context with "
        "every carried one). A non-key value identifies nothing: linking through it merges "
        "enactments that merely share a value."),
    Divergence(
        "link-fixpoint", "link-fixpoint.bspl",
        "(b) the key context is a fixpoint over everything the role observed; bspl's known() "
        "scans the path once in order, so an observation linked only by a later one is "
        "missed, and what a role knows depends on the order its messages arrived in."),
    # "unlinked-external-input" (a public non-key `in` while no key is `in`) and
    # "late-external-input" were divergences until the inputs' arrival became an
    # observation linked by its key tokens, at an arbitrary time (docs/semantics.md);
    # their fixtures in tests/fixtures/bspl_divergences/ are now checked for agreement
    # by test_files_agree_with_bspl.
]


def divergence_of(text: str, row: dict) -> Divergence | None:
    """The departure that explains a disagreement: bspl's knowledge rule, run on our own
    explorer (tests/verify_oracle/bspl_known.py), gives bspl's verdicts, ours gives ours."""
    from tests.verify_oracle.bspl_known import explained

    why = explained(text, row)
    if why is None:
        return None
    if why == "multikey-safety":  # a bspl 1.1.0 bug (BSPL_BUGS), not a departure
        return Divergence("bspl-multikey-safety", "", BSPL_BUGS[("multikey-safety.bspl", "Multi Key")][2])
    names = why.split("+")
    found = [d for d in KNOWN_DIVERGENCES if d.name in names]
    if len(found) == 1:
        return found[0]
    return Divergence(why, "", "; ".join(d.reason for d in found))


# -- running both tools ---------------------------------------------------------------


_need_oracle = oracle.need_oracle


def ours(path: Path) -> dict[str, dict]:
    """protoverify's verdicts per protocol: {name: {"safety", "liveness", "wellformed", ...}}."""
    from protoverify.check import check_file

    rep = check_file(path, verify=True, timeout=PV_TIMEOUT)
    out = {}
    for p in rep.protocols:
        d = p.to_dict()
        out[p.name] = {"wellformed": d["wellformed"],
                       "safety": (d.get("safety") or {}).get("verdict"),
                       "liveness": (d.get("liveness") or {}).get("verdict"),
                       "diagnostics": [x.get("code") for x in d.get("diagnostics", [])]}
    if not rep.readable:
        out["<file>"] = {"error": [x.to_dict() for x in rep.diagnostics]}
    return out


def theirs(path: Path) -> dict[str, dict] | str:
    """bspl's verdicts per protocol ({name: {"safety": word|None, "liveness": ..., "raw"}})
    or the load error it printed."""
    r = oracle.verify_all(path, timeout=BSPL_TIMEOUT)
    if isinstance(r, str):
        return r
    return {n: {**oracle.verdict_words(v), "raw": v["raw"], "timed_out": v["timed_out"],
                "error": v["error"]} for n, v in r.items()}


def compare(path: Path) -> tuple[list[dict], str | None]:
    """Both tools on one file: a list of per-protocol comparisons, and bspl's load error."""
    a, b = ours(path), theirs(path)
    if isinstance(b, str):
        return [], b
    rows = []
    for name, o in a.items():
        if name == "<file>":
            continue
        t = b.get(name)
        row = {"protocol": name, "ours": o, "bspl": t, "compared": [], "differs": []}
        if t is None or not o["wellformed"]:
            rows.append(row)
            continue
        for prop in ("safety", "liveness"):
            if t[prop] is None or o[prop] in (None, "skipped"):
                continue
            row["compared"].append(prop)
            if o[prop] != t[prop]:
                row["differs"].append(prop)
        rows.append(row)
    return rows, None


def describe(row: dict) -> str:
    o, t = row["ours"], row["bspl"] or {}
    return (f"{row['protocol']}: protoverify {o.get('safety')}/{o.get('liveness')} "
            f"vs bspl {t.get('safety')}/{t.get('liveness')}"
            + (f"\n  bspl printed:{t.get('raw', '')}" if t else ""))


# -- (a) the files ----------------------------------------------------------------------


def _files() -> list[Path]:
    files = sorted((REPO / "specs").glob("*.bspl")) + sorted(QUIRKS.glob("*.bspl")) \
        + sorted(DIALECT.glob("*.bspl"))
    # minimal cases of divergences since resolved (late-external-input.bspl): must agree now
    known = {d.fixture for d in KNOWN_DIVERGENCES}
    files += [p for p in sorted(DIVERGENCES.glob("*.bspl")) if p.name not in known]
    if SHARED_AHOY.is_dir():
        files += sorted(SHARED_AHOY.glob("*.bspl"))
    return files


def _file_id(p: Path) -> str:
    return f"{p.parent.name}/{p.name}"


@pytest.mark.parametrize("path", _files(), ids=_file_id)
def test_files_agree_with_bspl(path: Path) -> None:
    _need_oracle()
    rows, load_error = compare(path)
    if load_error is not None:
        # nothing to compare; the fixture must say that bspl 1.1.0 rejects it, and how
        documented = oracle.read_bspl_error(path)
        assert documented and documented in load_error, (
            f"bspl cannot load {path.name} and its `// bspl-1.1.0-error:` header does not say so "
            f"({documented!r}): {load_error.splitlines()[0][:160]}")
        return
    problems, compared = [], 0
    bspl_header = oracle.read_bspl_expectations(path)
    for row in rows:
        compared += len(row["compared"])
        o, t = row["ours"], row["bspl"]
        if o["wellformed"] and t is not None and not (t.get("timed_out") or t.get("error")):
            for prop in ("safety", "liveness"):
                assert o[prop] not in ("unknown", None), (
                    f"{path.name}: {row['protocol']}: protoverify {prop} is {o[prop]!r}")
        for prop in row["differs"]:
            bug = BSPL_BUGS.get((path.name, row["protocol"]))
            if bug and bug[0] == prop and t[prop] == bug[1]:
                # documented: the fixture header must say the same thing
                if row["protocol"] in bspl_header:
                    assert bspl_header[row["protocol"]].get(prop) == bug[1], (
                        f"{path.name}: BSPL_BUGS and the // bspl-1.1.0: header disagree")
                continue
            problems.append(f"{prop}: " + describe(row))
    assert not problems, f"{path.name}: protoverify and bspl disagree:\n" + "\n".join(problems)
    if not compared:
        expected = oracle.read_expectations(path)
        if expected and all(e["wellformed"] == "false" for e in expected.values()):
            # ill-formed by design: nothing for bspl to agree on, and we must say ill-formed
            assert rows and not any(row["ours"]["wellformed"] for row in rows), path.name
            return
        pytest.skip(f"{path.name}: nothing comparable (bspl did not finish)")


def test_corpus_protocols_are_compared() -> None:
    """The corpus protocols join the comparison only where ../shared is present: say so, or fail in CI."""
    corpus_path("ahoy", "protocols")
    corpus = set(SHARED_AHOY.glob("*.bspl"))
    assert corpus and corpus <= set(_files())


@pytest.mark.parametrize("path", sorted(DIALECT.glob("*.bspl")), ids=_file_id)
def test_dialect_fixtures_record_what_bspl_says(path: Path) -> None:
    """Each dialect fixture records bspl 1.1.0's verdicts (`// bspl-1.1.0:`, equal to
    ours: checked above) or the load error it gives instead (`// bspl-1.1.0-error:`,
    a divergence documented in docs/language.md)."""
    _need_oracle()
    got = oracle.verify_all(path, timeout=BSPL_TIMEOUT)
    err = oracle.read_bspl_error(path)
    if err:
        assert isinstance(got, str) and err in got, got
        return
    assert isinstance(got, dict), got
    said = oracle.read_bspl_expectations(path)
    assert set(said) == set(oracle.protocol_names(path))
    for name, words in said.items():
        assert oracle.verdict_words(got[name]) == words, f"{name}: bspl said\n{got[name]['raw']}"


def test_bspl_bug_table_is_live() -> None:
    """Every BSPL_BUGS entry names a fixture that exists and a protocol in it."""
    for (fname, proto), (prop, word, _reason) in BSPL_BUGS.items():
        path = next((d / fname for d in (QUIRKS, REPO / "specs") if (d / fname).exists()),
                    QUIRKS / fname)
        assert path.exists(), f"BSPL_BUGS names a missing fixture {fname}"
        assert proto in oracle.protocol_names(path), f"{fname} has no protocol {proto!r}"
        exp = oracle.read_expectations(path)[proto]
        assert exp[prop] != word, f"{fname}: {proto}: BSPL_BUGS says bspl's {word} is wrong, " \
                                  f"but // expect: agrees with it"
        assert oracle.read_bspl_expectations(path).get(proto, {}).get(prop) == word


# -- (b) generated protocols --------------------------------------------------------------


def generate(n: int, seed: int | None, multikey: bool = False) -> list[str]:
    """n protocols from tests/strategies.bspl_protocols, named Gen0..Gen{n-1}.

    Drawn through a throw-away @given run (reproducible with a seed), so the draws are
    as varied as Hypothesis makes them (the first draws of a list would be minimal)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    from tests.helpers.strategies import bspl_protocols

    texts: list[str] = []

    @settings(max_examples=n, database=None, deadline=None, derandomize=seed is None,
              suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate])
    @given(bspl_protocols(multikey=multikey))
    def collect(t: str) -> None:
        texts.append(t)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (hseed(seed)(collect) if seed is not None else collect)()
    seen, out = set(), []
    for t in texts:  # Hypothesis may replay a draw
        if t not in seen:
            seen.add(t)
            out.append(t)
    return [rename(t, f"Gen{i}") for i, t in enumerate(out)]


def rename(text: str, name: str) -> str:
    return re.sub(r"^\s*[A-Za-z_][\w ]*?\s*\{", f"{name} {{", text, count=1)


def run_batch(texts: list[str], tmp: Path, tag: str = "batch") -> list[dict]:
    """Both tools on many one-protocol texts written to ONE file; a comparison row per text."""
    path = tmp / f"{tag}.bspl"
    path.write_text("\n".join(texts), encoding="utf-8")
    rows, err = compare(path)
    if err is not None:  # one bad protocol spoils the file for bspl: fall back one by one
        rows = []
        for i, t in enumerate(texts):
            p = tmp / f"{tag}-{i}.bspl"
            p.write_text(t, encoding="utf-8")
            r, e = compare(p)
            rows += r if e is None else [{"protocol": f"Gen{i}", "ours": {}, "bspl": None,
                                          "compared": [], "differs": [], "error": e}]
    return rows


NOREDUCTION_TIMEOUT = 30.0


def bspl_without_reduction(text: str, prop: str, tmp: Path, tag: str) -> str | None:
    """bspl's own exhaustive verdict word for one protocol: `verify safety|liveness FILE
    --reduction=False --external=True` (same External model as `verify all`), or None."""
    path = tmp / f"{tag}.bspl"
    path.write_text(text, encoding="utf-8")
    cmd = "safety" if prop == "safety" else "liveness"
    r = oracle.verify(path, cmd, timeout=NOREDUCTION_TIMEOUT,
                      extra_args=["--reduction=False", "--external=True"])
    if isinstance(r, str) or len(r) != 1:
        return None
    return oracle.verdict_words(next(iter(r.values())))[prop]


def explain(text: str, row: dict, tmp: Path, tag: str) -> list[str] | None:
    """Why each differing property differs (the properties are decided independently,
    so one protocol may show two causes): a known departure or bspl bug, or bspl's
    partial-order reduction. None when some property is unexplained."""
    names = []
    for prop in row["differs"]:
        div = divergence_of(text, {**row, "differs": [prop]})
        if div is not None:
            names.append(div.name)
        elif any(bspl_without_reduction(text, prop, tmp, f"{tag}-{prop}-{n}") == row["ours"][prop]
                 for n in range(2)):  # bspl's search order varies run to run: one may time out
            names.append("bspl-reduction-bug")
        else:
            return None
    return names


def signature(row: dict) -> tuple:
    return tuple((p, row["ours"][p], row["bspl"][p]) for p in row["differs"])


def _candidates(text: str) -> list[str]:
    """One-step reductions of a one-protocol text: drop a message, a message parameter, a
    recipient, or a declared parameter no message uses any more."""
    lines = text.splitlines()
    out: list[str] = []
    msg_idx = [i for i, line in enumerate(lines) if re.search(r"->\s*[^:]+:\s*\w+\[", line)]
    for i in msg_idx:
        if len(msg_idx) > 1:
            out.append("\n".join(lines[:i] + lines[i + 1:]))
        m = re.match(r"^(\s*\w+\s*->\s*)([^:]+)(:\s*\w+\[)(.*)(\]\s*)$", lines[i])
        if not m:
            continue
        recips = [r.strip() for r in m.group(2).split(",")]
        if len(recips) > 1:
            for r in recips:
                rest = ", ".join(x for x in recips if x != r)
                out.append("\n".join(lines[:i] + [m.group(1) + rest + "".join(m.group(3, 4, 5))]
                                     + lines[i + 1:]))
        params = [p.strip() for p in m.group(4).split(",")]
        for p in params:
            if "key" in p.split():
                continue
            rest = ", ".join(x for x in params if x != p)
            out.append("\n".join(lines[:i] + [m.group(1) + m.group(2) + m.group(3) + rest + m.group(5)]
                                 + lines[i + 1:]))
    used = set(re.findall(r"\b(?:in|out|nil|any|opt)\s+(\w+)", "\n".join(lines[i] for i in msg_idx)))
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*(?:parameters|private)\s+)(.*)$", line)
        if not m:
            continue
        items = [x.strip() for x in m.group(2).split(",")]
        for it in items:
            name = it.split()[-1] if it.split()[-1] != "key" else it.split()[-2]
            if name not in used:
                rest = [x for x in items if x != it]
                new = [m.group(1) + ", ".join(rest)] if rest else []
                out.append("\n".join(lines[:i] + new + lines[i + 1:]))
    return out


def _wellformed(text: str) -> bool:
    from protoverify.bspl import parse, validate

    try:
        spec = parse(text, "<candidate>")
        return not any(d.severity == "error" for d in validate(spec, text))
    except Exception:
        return False


def minimise(text: str, tmp: Path, max_rounds: int = 40) -> tuple[str, dict]:
    """Greedy delta-minimisation of a disagreeing protocol, keeping its disagreement
    signature; each round runs all one-step reductions in one bspl call."""
    rows = run_batch([rename(text, "Gen0")], tmp, "min-start")
    assert rows and rows[0]["differs"], "not a disagreement"
    sig, best, best_row = signature(rows[0]), rename(text, "Gen0"), rows[0]
    for rnd in range(max_rounds):
        cands = [c for c in _candidates(best) if _wellformed(c)]
        if not cands:
            break
        named = [rename(c, f"Gen{i}") for i, c in enumerate(cands)]
        crow = run_batch(named, tmp, f"min-{rnd}")
        hit = next((i for i, r in enumerate(crow) if r.get("differs") and signature(r) == sig), None)
        if hit is None:
            break
        best, best_row = rename(cands[hit], "Gen0"), crow[hit]
    return best, best_row


def _check_generated(n: int, seed: int | None, multikey: bool = False,
                     transform: Callable[[str], str | None] | None = None) -> None:
    _need_oracle()
    texts = generate(n, seed, multikey)
    assert len(texts) >= n // 2, f"only {len(texts)} distinct protocols generated"
    if transform is not None:  # dialect variants: keep those the transform applies to
        texts = [rename(v, f"Gen{i}") for i, v in
                 enumerate(v for v in map(transform, texts) if v is not None)]
        assert len(texts) >= n // 4, f"only {len(texts)} variants"
    with tempfile.TemporaryDirectory(prefix="pv-diff-") as d:
        tmp = Path(d)
        rows = run_batch(texts, tmp)
        by_name = {r["protocol"]: r for r in rows}
        compared = sum(1 for r in rows if r["compared"])
        failures, diverged = [], []
        for i, t in enumerate(texts):
            r = by_name.get(f"Gen{i}")
            if r is None or not r["differs"]:
                continue
            why = explain(t, r, tmp, f"noreduction-{i}")
            if why is None:
                failures.append((t, r))
            else:
                diverged += why
        if failures:
            t, r = failures[0]
            small, srow = minimise(t, tmp)
            pytest.fail(
                f"{len(failures)} of {len(texts)} generated protocols disagree (seed={seed}); "
                f"first:\n{t}\n{describe(r)}\n\nminimised:\n{small}\n{describe(srow)}",
                pytrace=False)
    print(f"{len(texts)} generated, {compared} compared, known divergences / bspl bugs: "
          f"{ {k: diverged.count(k) for k in set(diverged)} }")
    assert compared >= len(texts) // 2, "bspl or protoverify finished too few generated protocols"


def test_generated_protocols_agree_with_bspl() -> None:
    _check_generated(80, seed=None)


_MESSAGE = re.compile(r"^(\s*)(\w+)(\s*->\s*)([^:]+)(:\s*)(\w+)(\[.*\])\s*$", re.M)


def self_addressed(text: str) -> str | None:
    """The protocol with its last message sent to its own sender (a local record)."""
    ms = list(_MESSAGE.finditer(text))
    if len(ms) < 2:
        return None
    m = ms[-1]
    return text[:m.start(4)] + m.group(2) + text[m.end(4):]


def polymorphic(text: str) -> str | None:
    """The protocol with its last message renamed as the one before it: one name, two
    declarations (bspl renames the second `<name>2`; we name it `<name>#2`)."""
    ms = list(_MESSAGE.finditer(text))
    if len(ms) < 3:
        return None
    last, prev = ms[-1], ms[-2]
    return text[:last.start(6)] + prev.group(6) + text[last.end(6):]


@pytest.mark.parametrize("transform", [self_addressed, polymorphic], ids=lambda f: f.__name__)
def test_dialect_variants_of_generated_protocols_agree_with_bspl(transform) -> None:
    """Generated protocols made self-addressing or polymorphic (the generator writes
    neither): both tools verify them, with the same verdicts."""
    _check_generated(60, seed=7, transform=transform)


def test_generated_multikey_protocols_agree_with_bspl() -> None:
    """2-3 keys, sub-enactments, relay chains: where key contexts matter."""
    _check_generated(80, seed=None, multikey=True)


@pytest.mark.slow
@pytest.mark.parametrize("batch", range(4))
def test_generated_protocols_agree_with_bspl_more(batch: int) -> None:
    import random

    _check_generated(300, seed=random.randrange(2**32), multikey=batch % 2 == 1)


# -- minimal cases of the departures: both tools still say what the headers record ---------


@pytest.mark.parametrize("div", KNOWN_DIVERGENCES, ids=lambda d: d.name)
def test_known_divergence_fixture(div: Divergence) -> None:
    """The fixture's `// expect:` is ours, its `// bspl-1.1.0:` is bspl's; they differ, and
    the difference is this departure (bspl's rule on our explorer gives bspl's verdict)."""
    path = DIVERGENCES / div.fixture
    assert path.exists()
    text = path.read_text(encoding="utf-8")
    _need_oracle()
    rows, err = compare(path)
    assert err is None, err
    expected, bspl_said = oracle.read_expectations(path), oracle.read_bspl_expectations(path)
    assert rows and all(r["protocol"] in expected and r["protocol"] in bspl_said for r in rows)
    for row in rows:
        for prop in ("safety", "liveness"):
            assert row["ours"][prop] == expected[row["protocol"]][prop], describe(row)
            assert row["bspl"][prop] == bspl_said[row["protocol"]][prop], describe(row)
        assert row["differs"], f"{div.fixture}: the tools agree now: {describe(row)}"
        assert divergence_of(text, row) == div, f"{div.fixture} is not explained by {div.name}"


if __name__ == "__main__":  # python tests/verify_oracle/test_differential.py FILE.bspl
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/verify_oracle/test_differential.py FILE.bspl  (shrinks a disagreement)")
    src = Path(sys.argv[1]).read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as d:
        small, row = minimise(src, Path(d))
    print(small)
    print(describe(row))

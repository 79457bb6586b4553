"""Audits and runs as pandas DataFrames: findings, enactments, LLM decisions, events.

`load(spec, paths)` audits logs and exchange run directories and returns `Frames`;
`from_result` and `from_json` build the same frames from an `AuditResult` or from
`protoverify audit --format json` output. The logs themselves are read once more for
what an audit does not keep: times, agents, message counts, and the decision records.
Columns and dtypes: `protoverify.analysis.columns`, docs/analysis.md.
"""
from __future__ import annotations

import os
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from ..api import Delivery, LogFormat, SpecSource, audit
from ..auditor.result import AuditInputError, AuditResult
from ..bspl import FlatProtocol, Specification, flatten
from ..bspl import load as load_spec
from ..findings import CODES, SEVERITIES, Finding
from ..traces import FormatError, Schema, detect_format, read
from ..traces._common import EmptyLog
from ..traces.event import Event
from .columns import CATEGORIES, FRAMES, ORDERED, Column
from .rundir import RUN_FILES, RUN_LOG, is_run_dir, is_run_log, run_summary
from .taxonomy import MODE_OF

LOG_SUFFIXES = (".jsonl", ".ndjson", ".json", ".log", ".txt", ".gz", ".bz2", ".xz")
MISBEHAVIOURS = frozenset({"out-of-turn", "forged", "wrong-role", "duplicate"})
Labels = Mapping[str, Mapping[str, Any]]


@dataclass
class Log:
    """One log to analyse, with what its run directory says about it."""

    path: str
    run: str | None = None  # the run directory's name
    summary: dict[str, Any] = field(default_factory=dict)
    adversarial: frozenset[str] = frozenset()
    labels: dict[str, Any] = field(default_factory=dict)


@dataclass
class Frames:
    """The frames of one analysis (see docs/analysis.md for every column)."""

    findings: pd.DataFrame
    enactments: pd.DataFrame
    decisions: pd.DataFrame
    events: pd.DataFrame
    result: AuditResult | None = None
    #: files under the directories given that were skipped as not logs (READMEs, specs, metrics)
    skipped: list[str] = field(default_factory=list)

    def modes(self, by: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Findings per failure mode (rows: every mode, zeros included), one column per value
        of `by` (e.g. "policy", "agent_kind", ["policy", "model"]), or one column `findings`."""
        return mode_counts(self.findings, by)

    def enactment(self, enactment: str, file: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(events, findings) of one enactment, by line; `file` when several logs have one of that name."""
        ev, fi = self.events, self.findings
        sel_e, sel_f = ev["enactment"] == enactment, fi["enactment"] == enactment
        if file is not None:
            sel_e &= ev["file"] == file
            sel_f &= fi["file"] == file
        files = set(ev.loc[sel_e.fillna(False), "file"]) | set(fi.loc[sel_f.fillna(False), "file"])
        if len(files) > 1:
            raise ValueError(f"enactment {enactment!r} is in several logs ({', '.join(sorted(files))}): name the file")
        if not files:
            raise KeyError(f"no enactment {enactment!r}" + (f" in {file}" if file else ""))
        return (ev[sel_e.fillna(False)].sort_values("line").reset_index(drop=True),
                fi[sel_f.fillna(False)].sort_values("line").reset_index(drop=True))


# ------------------------------------------------------------------ public entry points
def load(spec: SpecSource | Sequence[SpecSource], *paths: str | os.PathLike[str],
         labels: Labels | None = None, separate: bool = True, protocol: str | None = None,
         format: LogFormat | None = None, checker: Mapping[str, Any] | str | None = None,
         delivery: Delivery | None = None) -> Frames:
    """Audit logs and exchange run directories against `spec`; return their frames.

    `paths`: log files, run directories (exchange.jsonl + summary.json) and folders of
    either (searched recursively; files that are not logs are skipped and listed in
    `Frames.skipped`). `labels`: {path as given: {column: value}}: extra columns for every
    row from that path (e.g. the kind of agents a run used). `separate`: audit each log on
    its own (exchange runs reuse run ids and keys); False replays them all as one audit
    (the logs are parts of one run). The other options are `protoverify.audit`'s.
    """
    logs, skipped = find_logs(paths, labels)
    specs = _loaded(spec)
    kw: dict[str, Any] = dict(protocol=protocol, format=format, checker=checker, delivery=delivery,
                              record_enactments=True)
    result = AuditResult()
    if separate:
        per: Counter[tuple[str | None, str | None]] = Counter()
        for log in logs:
            one = audit(specs, [log.path], **kw)
            result.add(one)
            result.delivery = one.delivery
            per.update(one.by_enactment)
        result.by_enactment = per
    elif logs:
        result = audit(specs, [lg.path for lg in logs], **kw)
    frames = _frames(_finding_rows(result.findings), _status_rows(result), logs, schema=_schema(specs))
    frames.result = result
    frames.skipped = skipped
    return frames


def from_result(result: AuditResult, labels: Labels | None = None, read_logs: bool = True,
                spec: SpecSource | Sequence[SpecSource] | None = None) -> Frames:
    """The frames of an audit made elsewhere (audit with `record_enactments=True` to have every
    enactment, not only those with findings). The logs it names are read again for times, agents
    and decisions when `read_logs` and they exist; `spec` gives the recipients of logs that do
    not name them (Ahoy, adapter captures)."""
    logs = _logs_of(result.sources, labels) if read_logs else []
    schema = _schema(_loaded(spec)) if spec is not None else None
    frames = _frames(_finding_rows(result.findings), _status_rows(result), logs, schema=schema)
    frames.result = result
    return frames


def from_json(*paths: str | os.PathLike[str], labels: Labels | None = None, read_logs: bool = True,
              spec: SpecSource | Sequence[SpecSource] | None = None) -> Frames:
    """The frames of `protoverify audit --format json` files. The logs they name (relative to the
    working directory, else to the JSON file) are read again when `read_logs` and they exist
    (`spec`: as in `from_result`)."""
    findings: list[dict[str, Any]] = []
    statuses: list[dict[str, Any]] = []
    sources: list[str] = []
    for p in paths:
        try:
            doc = orjson.loads(Path(p).read_bytes())
        except OSError as e:
            raise AuditInputError(f"cannot read {p}: {e.strerror or e}") from None
        except orjson.JSONDecodeError as e:
            raise AuditInputError(f"{p} is not JSON: {e}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
            raise AuditInputError(f"{p} is not the JSON of `protoverify audit --format json` (no findings list)")
        _check_audit_json(p, doc)
        base = Path(p).parent
        rename: dict[str, str] = {}
        for s in doc.get("sources") or []:
            name = s.get("path") if isinstance(s, dict) else None
            if isinstance(name, str):
                found = name if os.path.exists(name) else str(base / name) if (base / name).exists() else name
                rename[name] = found
                sources.append(found)
        for f in doc["findings"]:
            severity = f.get("severity") or CODES[f["code"]].severity.value
            findings.append({**f, "severity": severity, "source": rename.get(f.get("source"), f.get("source"))})
        for s in doc.get("enactments") or []:
            statuses.append({**s, "source": rename.get(s.get("source"), s.get("source"))})
    logs = _logs_of(sources, labels) if read_logs else []
    schema = _schema(_loaded(spec)) if spec is not None else None
    return _frames(findings, statuses, logs, names=sources, schema=schema)


#: fields of an audit JSON finding or enactment row and the type of their values (None allowed)
_FINDING_FIELDS: dict[str, type] = {"family": str, "severity": str, "source": str, "line": int, "run": str,
                                    "enactment": str, "message": str, "role": str, "agent": str, "text": str,
                                    "expected": str}
_ENACTMENT_FIELDS: dict[str, type] = {"run": str, "status": str, "source": str, "first_line": int,
                                      "last_line": int, "events": int}
_SEVERITY_VALUES = frozenset(s.value for s in SEVERITIES)


def _check_audit_json(path: str | os.PathLike[str], doc: dict[str, Any]) -> None:
    """Refuse, with its place, what `protoverify audit --format json` never writes: a finding that
    is not an object with a known code, fields of the wrong type, enactment rows without their
    key, a `sources` that is not a list."""
    def bad(where: str, why: str) -> AuditInputError:
        return AuditInputError(f"{path}: {where}: {why} (not the JSON of `protoverify audit --format json`)")

    def fields(row: dict[str, Any], types: dict[str, type], where: str) -> None:
        for name, kind in types.items():
            v = row.get(name)
            if v is None:
                continue
            if kind is int and not (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63):
                raise bad(where, f"{name} is not a line or count")
            if kind is str and not isinstance(v, str):
                raise bad(where, f"{name} is not a string")

    for i, f in enumerate(doc["findings"]):
        where = f"findings[{i}]"
        if not isinstance(f, dict):
            raise bad(where, "not an object")
        if not isinstance(f.get("code"), str) or f["code"] not in CODES:
            raise bad(where, f"unknown code {f.get('code')!r}")
        fields(f, _FINDING_FIELDS, where)
        if f.get("severity") is not None and f["severity"] not in _SEVERITY_VALUES:
            raise bad(where, f"unknown severity {f['severity']!r}")
    enactments = doc.get("enactments")
    if enactments is not None and not isinstance(enactments, list):
        raise bad("enactments", "not a list")
    for i, row in enumerate(enactments or []):
        where = f"enactments[{i}]"
        if not isinstance(row, dict) or not isinstance(row.get("enactment"), str):
            raise bad(where, "not an object with an `enactment` key")
        fields(row, _ENACTMENT_FIELDS, where)
        missing = row.get("missing")
        if missing is not None and not (isinstance(missing, list) and all(isinstance(m, str) for m in missing)):
            raise bad(where, "missing is not a list of parameter names")
    if doc.get("sources") is not None and not isinstance(doc["sources"], list):
        raise bad("sources", "not a list")


def find_logs(paths: Iterable[str | os.PathLike[str]], labels: Labels | None = None) -> tuple[list[Log], list[str]]:
    """The logs under `paths` (files as given; run directories; folders searched) and the files
    skipped as not logs."""
    labels = labels or {}
    logs: list[Log] = []
    skipped: list[str] = []
    for given in paths:
        p = Path(given)
        extra = dict(labels.get(str(given), labels.get(os.fspath(given), {})))
        if not p.is_dir():
            logs.append(_log(str(p), extra))
            continue
        for root, dirs, files in os.walk(p):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            here = Path(root)
            if is_run_dir(here):
                logs.append(_log(str(here / RUN_LOG), extra))
                skipped.extend(str(here / f) for f in sorted(files) if f != RUN_LOG)
                continue
            for f in sorted(files):
                path = str(here / f)
                if f in RUN_FILES or not f.lower().endswith(LOG_SUFFIXES) or not _is_log(path):
                    skipped.append(path)
                else:
                    logs.append(_log(path, extra))
    return logs, skipped


def concat(parts: Sequence[Frames]) -> Frames:
    """One Frames of several (e.g. loads of logs that need different specs): rows in order,
    column dtypes as in each part (categories merged); the audits added up."""
    frames: dict[str, pd.DataFrame] = {}
    for name in FRAMES:
        dfs = [getattr(p, name) for p in parts]
        df = pd.concat(dfs, ignore_index=True) if dfs else typed([], name)
        names = [c[0] for c in FRAMES[name]]
        for col, dtype, _ in FRAMES[name]:
            df[col] = _as(df[col], col, dtype)
        for col in df.columns:
            if col not in names:
                df[col] = df[col].astype(object).where(df[col].notna(), None).astype("category")
        frames[name] = df
    result = None
    if parts and all(p.result is not None for p in parts):
        result = AuditResult()
        for p in parts:
            assert p.result is not None
            result.add(p.result)
            result.by_enactment.update(p.result.by_enactment)
    return Frames(frames["findings"], frames["enactments"], frames["decisions"], frames["events"], result,
                  [s for p in parts for s in p.skipped])


# ------------------------------------------------------------------ logs and their runs
def _is_log(path: str) -> bool:
    """Does detection take `path` for a log (an empty file is one: zero events)?"""
    try:
        detect_format(path)
    except EmptyLog:
        return True
    except (FormatError, OSError, ValueError):
        return False
    return True


def _log(path: str, labels: dict[str, Any]) -> Log:
    here = Path(path).parent
    summary: dict[str, Any] = {}
    run = None
    adversarial: set[str] = set()
    if is_run_log(path):
        summary = run_summary(path)
        run = here.name
        adversarial = _adversarial(here / "injections.jsonl")
    return Log(path, run, summary, frozenset(adversarial), labels)


def _adversarial(path: Path) -> set[str]:
    """Agents that misbehaved in a run: injections of a misbehaviour (a duplicate the bus
    made names the envelope it copied, `extra.of`; an agent's own duplicate does not)."""
    out: set[str] = set()
    if not path.is_file():
        return out
    with open(path, "rb") as f:
        for line in f:
            try:
                inj = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if (isinstance(inj, dict) and inj.get("kind") in MISBEHAVIOURS and isinstance(inj.get("agent"), str)
                    and not (inj["kind"] == "duplicate" and (inj.get("extra") or {}).get("of"))):
                out.add(inj["agent"])
    return out


def _logs_of(sources: Iterable[str], labels: Labels | None) -> list[Log]:
    labels = labels or {}
    return [_log(s, dict(labels.get(s, {}))) for s in sources if os.path.isfile(s)]


def _loaded(spec: SpecSource | Sequence[SpecSource]) -> Any:
    """Specs parsed once (each separate audit would parse them again)."""
    def one(s: SpecSource) -> Specification | FlatProtocol:
        if isinstance(s, (Specification, FlatProtocol)):
            return s
        try:
            return load_spec(Path(s))
        except OSError as e:
            raise AuditInputError(f"cannot read spec {s}: {e.strerror or e}") from None
    if isinstance(spec, (list, tuple)):
        return [one(s) for s in spec]
    return one(spec)  # type: ignore[arg-type]


# ------------------------------------------------------------------ rows from an audit
def _finding_rows(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [f.to_dict() for f in findings]


def _status_rows(result: AuditResult) -> list[dict[str, Any]]:
    return [{"run": s.run, "enactment": s.enactment, "status": s.status, "source": s.source,
             "first_line": s.first_line, "last_line": s.last_line, "events": s.events,
             "missing": list(s.missing)} for s in result.statuses]


# ------------------------------------------------------------------ the frames
@dataclass
class _Scan:
    """What one log says beyond the audit: its message events and decisions."""

    log: Log
    events: list[Event] = field(default_factory=list)
    decisions: list[Event] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)  # agent -> model
    run_model: str | None = None
    run_id: str | None = None
    deciders: set[str] = field(default_factory=set)  # agents that wrote decision records
    read: bool = False  # the log was read (it exists and is a log)


def _schema(specs: Any) -> Schema:
    """Sender and recipients by message name (`Protocol/message`, else the bare name), for the
    readers of logs that do not name recipients, as the audit's own look-up does."""
    table: dict[str, tuple[str, tuple[str, ...]]] = {}
    for spec in specs if isinstance(specs, list) else [specs]:
        flats = [spec] if isinstance(spec, FlatProtocol) else []
        if isinstance(spec, Specification):
            for name in spec.names:
                try:
                    flats.append(flatten(spec, name))
                except Exception:  # noqa: BLE001 - a protocol that cannot be flattened names no messages here
                    continue
        for fp in flats:
            for m in fp.messages:
                table.setdefault(f"{fp.name}/{m.name}", (m.sender, m.recipients))
                table.setdefault(m.name, (m.sender, m.recipients))
    return table.get


def _scan(log: Log, schema: Schema | None = None) -> _Scan:
    sc = _Scan(log)
    models: dict[str, set[str]] = defaultdict(set)
    try:
        for ev in read(log.path, schema=schema):
            if not isinstance(ev, Event):
                continue
            if ev.kind == "decision":
                sc.decisions.append(ev)
                d = ev.decision or {}
                agent = d.get("agent") or ev.agent
                if isinstance(agent, str):
                    sc.deciders.add(agent)
                    if isinstance(d.get("model"), str):
                        models[agent].add(d["model"])
            else:
                sc.events.append(ev)
            if sc.run_id is None and ev.run is not None:
                sc.run_id = ev.run
        sc.read = True
    except (FormatError, OSError, ValueError):
        pass  # the audit reported it (REC007); nothing more to read
    sc.models = {a: next(iter(m)) for a, m in models.items() if len(m) == 1}
    every = {m for ms in models.values() for m in ms}
    model = log.summary.get("model")
    sc.run_model = model if isinstance(model, str) else (next(iter(every)) if len(every) == 1 else None)
    return sc


def _kind(sc: _Scan | None, agent: Any) -> str | None:
    if sc is None or not isinstance(agent, str):
        return None
    if agent in sc.log.adversarial:
        return "adversarial"
    if agent in sc.deciders:
        return "llm"
    return "scripted" if sc.log.run is not None else None


def _label_pairs(label: str) -> list[tuple[str, str]]:
    """`orderID=o1,itemID=i2` -> [(orderID, o1), (itemID, i2)] (values as the label shows them)."""
    pairs = []
    for part in label.split(","):
        k, eq, v = part.partition("=")
        if eq:
            pairs.append((k, v))
    return pairs


def _shows(v: Any, shown: str) -> bool:
    """Does the label's `shown` value stand for the binding `v` (labels cut values past 60 chars)?"""
    text = v if isinstance(v, str) else repr(v)
    if text == shown:
        return True
    return shown.endswith("...") and len(text) > 60 and text.startswith(shown[:-3])


def _attribute(sc: _Scan, statuses: list[dict[str, Any]]) -> dict[int, str]:
    """index of event in sc.events -> the enactment label it belongs to: an event of the same run,
    from the enactment's first line on, whose bindings show its key values (late duplicates come
    after an enactment's last line); of two enactments with one label, the later one that began
    before the event."""
    by_value: dict[tuple[Any, str, str], list[int]] = defaultdict(list)
    for i, ev in enumerate(sc.events):
        for k, v in ev.bindings.items():
            by_value[(ev.run, k, v if isinstance(v, str) else repr(v))].append(i)
    lines = [ev.line for ev in sc.events]
    out: dict[int, str] = {}
    for st in sorted(statuses, key=lambda x: -(x.get("first_line") or 0)):
        label = st["enactment"]
        pairs = _label_pairs(label or "")
        if not pairs:
            continue
        k0, v0 = pairs[0]
        if v0.endswith("..."):
            cands: Iterable[int] = range(bisect_left(lines, st.get("first_line") or 0), len(lines))
        else:
            cands = by_value.get((st["run"], k0, v0), ())
        first = st.get("first_line") or 0
        for i in cands:
            ev = sc.events[i]
            if i in out or ev.run != st["run"] or ev.line < first:
                continue
            b = ev.bindings
            if all(k not in b or _shows(b[k], v) for k, v in pairs) and any(k in b for k, _ in pairs):
                out[i] = label
    return out


def _frames(findings: list[dict[str, Any]], statuses: list[dict[str, Any]], logs: list[Log],
            names: Sequence[str] = (), schema: Schema | None = None) -> Frames:
    scans: dict[Any, _Scan] = {lg.path: _scan(lg, schema) for lg in logs}
    for name in names:
        scans.setdefault(name, _Scan(Log(name)))

    def run_of(file: Any, run_id: Any) -> Any:
        sc = scans.get(file)
        return sc.log.run if sc is not None and sc.log.run is not None else run_id

    def meta(file: Any, agents: Iterable[Any]) -> dict[str, Any]:
        sc = scans.get(file)
        if sc is None:
            return {"policy": None, "model": None}
        known = [a for a in agents if isinstance(a, str)]
        ms = sorted({sc.models[a] for a in known if a in sc.models})
        model = ",".join(ms) if ms else None if known else sc.run_model
        return {"policy": sc.log.summary.get("policy"), "model": model, **sc.log.labels}

    # events, with their enactments
    ev_rows: list[dict[str, Any]] = []
    by_file: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for s in statuses:
        by_file[s.get("source")].append(s)
    enact_events: dict[tuple[Any, Any, Any], list[Event]] = defaultdict(list)
    for path, sc in scans.items():
        owner = _attribute(sc, by_file.get(path, []))
        for i, ev in enumerate(sc.events):
            label = owner.get(i)
            if label is not None:
                enact_events[(path, ev.run, label)].append(ev)
            ev_rows.append({"file": path, "line": ev.line, "run": run_of(path, ev.run), "run_id": ev.run,
                            "kind": ev.kind, "ts": ev.ts, "message": _qualified(ev), "sender": ev.sender,
                            "recipients": ",".join(ev.recipients), "agent": ev.agent, "enactment": label, "id": ev.id,
                            "policy": sc.log.summary.get("policy"), **(sc.log.labels)})

    # findings
    at_line: dict[tuple[Any, Any], list[str]] = defaultdict(list)
    per_enactment: Counter[tuple[Any, Any, Any]] = Counter()
    errors: Counter[tuple[Any, Any, Any]] = Counter()
    f_rows: list[dict[str, Any]] = []
    for f in findings:
        code = f["code"]
        file = f.get("source")
        at_line[(file, f.get("line"))].append(code)
        if f.get("enactment") is not None:
            key = (file, f.get("run"), f["enactment"])
            per_enactment[key] += 1
            errors[key] += f.get("severity") == "error"
        f_rows.append({"code": code, "family": f.get("family"), "mode": MODE_OF.get(code),
                       "severity": str(f.get("severity")), "file": file, "line": f.get("line"),
                       "run": run_of(file, f.get("run")), "run_id": f.get("run"), "enactment": f.get("enactment"),
                       "message": f.get("message"), "role": f.get("role"), "agent": f.get("agent"),
                       "agent_kind": _kind(scans.get(file), f.get("agent")),
                       **meta(file, [f.get("agent")]), "text": f.get("text"), "expected": f.get("expected")})

    # enactments
    e_rows: list[dict[str, Any]] = []
    for s in statuses:
        file, run_id, label = s.get("source"), s.get("run"), s["enactment"]
        evs = enact_events.get((file, run_id, label), [])
        ts = [ev.ts for ev in evs if ev.ts is not None]
        agents = sorted({ev.agent for ev in evs if ev.agent})
        roles = sorted({r for ev in evs for r in (ev.sender, *ev.recipients) if r})
        protocol = next((ev.protocol for ev in evs if ev.protocol), None)
        esc = scans.get(file)
        if protocol is None and esc is not None:
            protocol = esc.log.summary.get("protocol")
        e_rows.append({"file": file, "run": run_of(file, run_id), "run_id": run_id, "enactment": label,
                       "protocol": protocol, "status": s.get("status"), "complete": s.get("status") == "complete",
                       "first_line": s.get("first_line"), "last_line": s.get("last_line"), "events": s.get("events"),
                       "messages": sum(ev.kind == "send" for ev in evs) if esc is not None and esc.read else None,
                       "start": min(ts) if ts else None, "end": max(ts) if ts else None,
                       "duration": (max(ts) - min(ts)) if ts else None,
                       "agents": ",".join(agents) if evs else None, "roles": ",".join(roles) if evs else None,
                       "missing": ",".join(s.get("missing") or ()),
                       "findings": per_enactment.get((file, run_id, label), 0),
                       "errors": errors.get((file, run_id, label), 0), **meta(file, agents)})

    # decisions
    d_rows: list[dict[str, Any]] = []
    for path, dsc in scans.items():
        for ev in dsc.decisions:
            d = ev.decision or {}
            agent = d.get("agent") or ev.agent
            tokens: dict[str, Any] = d["tokens"] if isinstance(d.get("tokens"), dict) else {}
            options = d.get("options")
            enact = d.get("enactment")
            if isinstance(enact, dict):
                enact = ",".join(f"{k}={v}" for k, v in enact.items()) or None
            m = meta(path, [agent])
            if isinstance(d.get("model"), str):
                m["model"] = d["model"]
            d_rows.append({"file": path, "line": ev.line, "run": run_of(path, ev.run), "run_id": ev.run,
                           "ts": ev.ts, "agent": agent, "agent_kind": _kind(dsc, agent),
                           "role": d.get("role") or ev.sender, **m,
                           "attempt": _int(d.get("attempt")), "outcome": _outcome(d),
                           "choice": _int(d.get("choice")), "message": ev.message if ev.message else d.get("message"),
                           "options": len(options) if isinstance(options, list) else None,
                           "latency_s": _float(d.get("latency_s")), "prompt_tokens": _int(tokens.get("prompt")),
                           "completion_tokens": _int(tokens.get("completion")),
                           "error": d.get("error") if isinstance(d.get("error"), str) else None,
                           "enactment": enact if isinstance(enact, str) else None,
                           "codes": ",".join(at_line.get((path, ev.line), []))})
    return Frames(typed(f_rows, "findings"), typed(e_rows, "enactments"), typed(d_rows, "decisions"),
                  typed(ev_rows, "events"))


def _qualified(ev: Event) -> str | None:
    if ev.message is None or "/" in ev.message or not ev.protocol:
        return ev.message
    return f"{ev.protocol}/{ev.message}"


def _outcome(d: Mapping[str, Any]) -> str:
    if d.get("failed") is True:
        return "failed"
    if d.get("raw") is None and d.get("parsed") is None:
        return "unanswered"
    if d.get("error"):
        return "invalid"
    choice, options = d.get("choice"), d.get("options")
    if choice is None:
        return "declined"
    if isinstance(options, list) and choice not in [o.get("number", i) for i, o in enumerate(options, 1)
                                                    if isinstance(o, dict)]:
        return "invalid"  # a record that did not judge its own choice (the audit says DEC002)
    return "chosen"


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _float(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def typed(rows: list[dict[str, Any]], frame: str) -> pd.DataFrame:
    """A frame of `rows` with the columns of `frame` in order and their dtypes (extra label
    columns from `labels` follow, as categories)."""
    cols: tuple[Column, ...] = FRAMES[frame]
    names = [c[0] for c in cols]
    extra = list(dict.fromkeys(k for r in rows for k in r if k not in names))
    df = pd.DataFrame.from_records(rows, columns=names + extra) if rows else pd.DataFrame(columns=names + extra)
    for name, dtype, _ in cols:
        df[name] = _as(df[name], name, dtype)
    for name in extra:
        df[name] = df[name].astype("category")
    return df


def _as(s: pd.Series, name: str, dtype: str) -> pd.Series:
    if dtype == "category":
        fixed = CATEGORIES.get(name)
        values = [v for v in dict.fromkeys(s.dropna()) if fixed is None or v not in fixed]
        cats = list(fixed or ()) + sorted(str(v) for v in values)
        return pd.Series(pd.Categorical(s.astype(object).where(s.notna(), None), categories=cats,
                                        ordered=name in ORDERED), index=s.index, name=name)
    if dtype == "string":
        return s.astype(object).where(s.notna(), None).astype("string")
    if dtype == "Int64":
        return pd.Series(pd.array(s.astype(object).where(s.notna(), None).tolist(), dtype="Int64"), index=s.index)
    if dtype == "boolean":
        return s.astype("boolean")
    return pd.to_numeric(s, errors="coerce").astype("float64")


# ------------------------------------------------------------------ tables
def mode_counts(findings: pd.DataFrame, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Findings per failure mode: rows every mode (zeros included); columns the values of `by`
    (NA shown as "n/a"), or one column `findings`."""
    modes = findings["mode"].cat.categories if len(findings.columns) else []
    if by is None:
        out = findings.groupby("mode", observed=False).size().rename("findings").to_frame()
        return out.reindex(modes, fill_value=0)
    keys = [by] if isinstance(by, str) else list(by)
    df = findings.copy()
    for k in keys:
        if isinstance(df[k].dtype, pd.CategoricalDtype):
            col = df[k] if "n/a" in df[k].cat.categories else df[k].cat.add_categories(["n/a"])
            df[k] = col.fillna("n/a")
        else:
            df[k] = df[k].astype(object).where(df[k].notna(), "n/a")
    table = df.groupby(["mode", *keys], observed=True).size().unstack(keys, fill_value=0)
    return table.reindex(modes, fill_value=0)


def taxonomy_frame(findings: pd.DataFrame | None = None) -> pd.DataFrame:
    """The taxonomy as a frame (mode, title, codes, description), with `findings` counted per mode
    when a findings frame is given."""
    from .taxonomy import table

    df = pd.DataFrame(table())
    if findings is not None:
        counts = findings.groupby("mode", observed=False).size()
        df["findings"] = [int(counts.get(m, 0)) for m in df["mode"]]
    return df

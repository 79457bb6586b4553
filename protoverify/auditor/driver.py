"""The audit driver: stream every log through the readers and the Monitor.

Memory is bounded by the open enactments (and the findings), not by the size of
the logs: readers stream, the Monitor retires enactments once they are complete
and quiescent, and only enactments with findings or left incomplete keep a
status record (unless `record_enactments=True`, which JUnit needs).
"""
from __future__ import annotations

import gc
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import orjson

from ..bspl import FlatProtocol, Specification, flatten, load
from ..findings import CODES, Finding, Severity, finding
from ..monitor.compact import CompactSends
from ..monitor.monitor import Delivery, EnactmentStatus, Monitor
from ..traces._common import account_events
from ..traces._open import open_log
from ..traces.event import BadRecord, Event, ReadStats
from .receipts import _READ_ERRORS, _receipts, _ReceiptsFound, _ReceiptWatch
from .result import AuditInputError, AuditResult

Progress = Callable[[str, int], None]

#: The default retirement horizon of multi-key enactments, in events of their protocol:
#: a complete enactment with no event of its own for this long is retired (CMP003 if it
#: turns up again). Memory grows with it (docs/benchmarks.md, "audit memory").
RETIRE_AFTER = 20_000


def _load_spec(spec: Specification | FlatProtocol | str | os.PathLike[str]) -> Specification | FlatProtocol:
    if isinstance(spec, (Specification, FlatProtocol)):
        return spec
    # a str holding '{' is the spec's text itself (as `load` takes it); anything else is a path
    source = spec if isinstance(spec, Path) or (isinstance(spec, str) and "{" in spec) else Path(spec)
    try:
        return load(source)
    except OSError as e:
        raise AuditInputError(f"cannot read spec {spec}: {e.strerror or e}") from None
    except Exception as e:  # BSPLError and syntax errors
        raise AuditInputError(str(e) if str(spec) in str(e) else f"{spec}: {e}") from None


def _checker(checker: Mapping[str, Any] | str | None) -> Mapping[str, Any]:
    """A checker profile: {"disable": [codes], "severity": {code: level}}, or a JSON file / shipped profile name."""
    if checker is None:
        return {}
    if isinstance(checker, Mapping):
        prof = checker
    else:
        from importlib.resources import files  # the profiles ship in the package (checkers/ in the repo)

        path = Path(checker)
        try:
            if path.exists():
                data = path.read_bytes()
            else:
                shipped = files("protoverify.checkers")
                resource = shipped.joinpath(f"{checker}.json")
                if "/" in checker or "\\" in checker or not resource.is_file():
                    names = sorted(p.name[:-5] for p in shipped.iterdir() if p.name.endswith(".json"))
                    raise AuditInputError(f"cannot read checker {checker}: no such file, "
                                          f"nor a shipped profile ({', '.join(names)})")
                data = resource.read_bytes()
            prof = orjson.loads(data)
        except (OSError, orjson.JSONDecodeError) as e:
            raise AuditInputError(f"cannot read checker {checker}: {e}") from None
    if not isinstance(prof, Mapping) or not isinstance(prof.get("disable", []), list) \
            or not isinstance(prof.get("severity", {}), Mapping):
        raise AuditInputError(f"checker {checker}: expected an object "
                              '{"disable": [codes], "severity": {code: level}}')
    for code in list(prof.get("disable", [])) + list(prof.get("severity", {})):
        if code not in CODES:
            raise AuditInputError(f"checker names unknown finding code {code!r}")
    for level in prof.get("severity", {}).values():
        if level not in Severity.__members__.values():
            raise AuditInputError(f"checker severity {level!r} is not one of "
                                  f"{', '.join(s.value for s in sorted(Severity, reverse=True))}")
    return prof


@contextmanager
def _rare_gc(gen0: int = 100_000) -> Iterator[None]:
    """Collect the youngest generation every `gen0` allocations (CPython: 700) while
    auditing, and restore the thresholds after.

    The replay allocates a few small containers per event that mostly die young or
    live as long as their enactment; with the default threshold the cycle collector
    runs every few hundred events and took ~15% of a long audit. Cycles are still
    collected, just in bigger batches, so memory stays bounded.
    """
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], gen0), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _roots(spec: Specification) -> list[str]:
    """The protocols of `spec` that no other protocol of it composes."""
    used = {r.name for p in spec for r in p.references}
    return [n for n in spec.names if n not in used] or list(spec.names)


class _Router:
    """Routes events to one Monitor per protocol (one, unless the spec has several and none is named)."""

    def __init__(self, specs: Sequence[Specification | FlatProtocol], protocol: str | None, delivery: Delivery,
                 on_status: Callable[[EnactmentStatus], None], keep_closed: int,
                 retire_after: int | None = None) -> None:
        self.delivery = delivery
        self.on_status = on_status
        self.keep_closed = keep_closed
        self.retire_after = retire_after
        self.monitors: dict[str, Monitor] = {}
        self.flat: dict[str, FlatProtocol] = {}
        self.default: str | None = None
        if len(specs) == 1 and isinstance(specs[0], FlatProtocol):
            self.flat = {specs[0].name: specs[0]}
            self.default = specs[0].name
            return
        if protocol is not None:
            owners: list[Specification | FlatProtocol] = [
                s for s in specs if (s.get(protocol) is not None if isinstance(s, Specification)
                                     else s.name == protocol)]
            if not owners:
                has = [n for s in specs for n in (s.names if isinstance(s, Specification) else (s.name,))]
                where = specs[0].source if len(specs) == 1 and isinstance(specs[0], Specification) \
                    else "the specs"
                raise AuditInputError(f"no protocol named {protocol!r} in {where}; it has: {', '.join(has)}")
            specs = owners[:1]
        origin: dict[str, str] = {}
        for spec in specs:
            if isinstance(spec, FlatProtocol):
                names, source = [spec.name], "<flat>"
            else:
                source = spec.source
                # several specs: each one's top-level protocols (a sub-protocol's messages are
                # its composition's, and routing them to both would make every name ambiguous)
                names = [protocol] if protocol else list(spec.names) if len(specs) == 1 else _roots(spec)
            for n in names:
                if n in origin:
                    raise AuditInputError(f"protocol {n!r} is defined in both {origin[n]} and {source}")
                origin[n] = source
                try:
                    self.flat[n] = spec if isinstance(spec, FlatProtocol) else flatten(spec, n)
                except Exception as e:
                    raise AuditInputError(f"{source}: {e}") from None
        self.default = next(iter(self.flat)) if len(self.flat) == 1 else None

    def owners(self, ev: Event) -> list[str]:
        """The protocols that have the event's message (more than one: an ambiguous name)."""
        if ev.message is None:
            return []
        return [n for n, fp in self.flat.items() if fp.message(ev.message) is not None]

    def monitor(self, name: str) -> Monitor:
        m = self.monitors.get(name)
        if m is None:
            m = self.monitors[name] = Monitor(self.flat[name], delivery=self.delivery,
                                              keep_closed=self.keep_closed, on_status=self.on_status,
                                              retire_after=self.retire_after)
        return m

    def route(self, ev: Event) -> Monitor | None:
        if self.default is not None:
            return self.monitor(self.default)
        proto = ev.protocol or (ev.message.split("/", 1)[0] if ev.message and "/" in ev.message else None)
        if proto in self.flat:
            return self.monitor(proto)
        if ev.message is not None:
            owners = [n for n, fp in self.flat.items() if fp.message(ev.message) is not None]
            if len(owners) == 1:
                return self.monitor(owners[0])
        if ev.kind == "decision" and ev.message is None:
            return self.monitor(self._decision_protocol(ev))
        return None

    def _decision_protocol(self, ev: Event) -> str:
        """The protocol of an LLM decision that chose nothing (declined, unanswered, cut off).

        Its checks (DEC001/2/5/6) need no enactment, so it must never be lost as an
        "unknown message": it goes to the protocol of its role, else of its first offered
        option, else to the first protocol of the spec.
        """
        d = ev.decision or {}
        role = d.get("role") or ev.sender
        if role is not None:
            owners = [n for n, fp in self.flat.items() if role in fp.roles]
            if len(owners) == 1:
                return owners[0]
        for o in d.get("options") or ():
            msg = str(o.get("message") or "")
            proto = msg.split("/", 1)[0] if "/" in msg else None
            if proto in self.flat:
                return proto
        return next(iter(self.flat))

    def schema(self, name: str) -> tuple[str, tuple[str, ...]] | None:
        proto, _, bare = name.rpartition("/")
        candidates = [self.flat[proto]] if proto in self.flat else list(self.flat.values())
        for fp in candidates:
            m = fp.message(name if proto in self.flat else bare)
            if m is not None:
                return m.sender, m.recipients
        return None


def _unreadable(path: str, format: str | None,
                detect: Callable[[str], str]) -> str | tuple[str]:
    """Why `path` cannot be audited (a sentence), or `(format,)` when it can ("empty": zero events)."""
    from ..traces import FormatError
    from ..traces._common import EmptyLog

    if not os.path.exists(path):
        return "no such log file"
    if os.path.isdir(path):
        return "a directory, not a log file (name the directory on the command line to recurse into it)"
    if not os.path.isfile(path):
        return "not a regular file"
    try:
        return (format or detect(path),)
    except EmptyLog:
        return ("empty",)
    except FormatError as e:
        return str(e)
    except _READ_ERRORS as e:
        return f"cannot read it: {getattr(e, 'strerror', None) or e}"


def _not_audited(path: str, why: str, line: int | None = None) -> Finding:
    return finding("REC007", f"{path} was not audited: {why}" if line is None
                   else f"{path} was audited only in part: {why}", source=path, line=line,
                   expected="a log in one of the formats of docs/formats.md")


def _bad_record(bad: BadRecord) -> Finding:
    code = "REC002" if bad.reason.startswith("missing") and "field" in bad.reason else "REC001"
    return finding(code, bad.reason, source=bad.source, line=bad.line,
                   expected=None if code == "REC001" else "every required field (docs/formats.md)")


SpecArg = Specification | FlatProtocol | str | os.PathLike[str]


def audit(spec: SpecArg | Sequence[SpecArg],
          sources: str | os.PathLike[str] | Sequence[str | os.PathLike[str] | Iterable[Event | BadRecord]],
          protocol: str | None = None, format: str | None = None,
          checker: Mapping[str, Any] | str | None = None, delivery: str | None = None,
          record_enactments: bool = False, keep_closed: int = 10000,
          progress: Progress | None = None, retire_after: int | None = RETIRE_AFTER) -> AuditResult:
    """Audit logs against a BSPL protocol, or several specs at once.

    `spec`: one spec (a path, its text, a Specification or a FlatProtocol) or a
    list of them; with several, each event goes to the protocol that has its
    message (REC008 when two have it), so a log mixing Purchase and Logistics
    audits in one pass.

    `sources`: paths (format detected per file unless `format` is given), or
    iterables of already-normalized Events. `delivery`: "send" (recipients learn
    at send time) or "receive" (only at receipt); by default "receive" when some
    native/envelope log records receipts. `checker`: a profile disabling codes or
    changing severities. Raises AuditInputError for an unreadable spec or checker;
    an input that cannot be audited (missing, unreadable, not a log, binary) is a
    REC007 finding and is listed in `result.unread`, and the others are audited.
    An empty file is a log of zero events.

    `retire_after`: the retirement horizon of multi-key enactments, in events (None: keep
    them all; docs/auditing.md, "Memory and the retirement horizon").
    """
    prep = prepare(spec, sources, format, checker, delivery, defer_native=True)
    try:
        replay = _replay_all(prep, protocol, record_enactments, keep_closed, progress, retire_after)
    except _ReceiptsFound:  # a native log not scanned before has receipts after all
        prep = replace(prep, mode="receive", unsure=frozenset())
        replay = _replay_all(prep, protocol, record_enactments, keep_closed, progress, retire_after)
    for mon in replay.router.monitors.values():
        replay.emit(mon.finish())
    result = replay.result
    per = result.by_enactment
    # statuses of complete enactments that got findings after they were recorded as complete
    if not record_enactments:
        result.statuses[:] = [s for s in result.statuses if s.status != "complete" or per.get((s.run, s.enactment))]
    result.hints = _hints(result, prep.specs, format, prep.plan)
    return result


def _replay_all(prep: Prepared, protocol: str | None, record_enactments: bool, keep_closed: int,
                progress: Progress | None, retire_after: int | None) -> Replay:
    replay = Replay(prep.loaded, protocol, prep.mode, prep.profile, record_enactments, keep_closed, progress,
                    retire_after)
    replay.unsure = prep.unsure
    for path, fmt, items in prep.plan:
        replay.feed(path, fmt, items, prep.failed.get(path))
    replay.settle()
    return replay


@dataclass
class Prepared:
    """What an audit knows before it reads a log: specs, profile, the plan of inputs, the delivery."""

    specs: Sequence[SpecArg]
    loaded: list[Specification | FlatProtocol]
    profile: Mapping[str, Any]
    plan: list[tuple[str, str | None, Any]]
    failed: dict[str, str]
    mode: Delivery
    #: native logs not scanned for receipts (`mode` is "send" on the guess they have none):
    #: `Replay.feed` finds out as it reads them, and raises _ReceiptsFound if they have
    unsure: frozenset[str] = frozenset()


def prepare(spec: SpecArg | Sequence[SpecArg],
            sources: str | os.PathLike[str] | Sequence[str | os.PathLike[str] | Iterable[Event | BadRecord]],
            format: str | None, checker: Mapping[str, Any] | str | None, delivery: str | None,
            defer_native: bool = False) -> Prepared:
    """Load the specs and the checker, detect each input's format and decide the delivery.

    `defer_native`: when no other input records receipts, leave the native logs
    unscanned (`Prepared.unsure`): their replay reads every line anyway, and sees
    whether one is a receipt without a second pass over the file."""
    from ..traces import detect_format  # readers load lazily

    many: Sequence[SpecArg] = spec if isinstance(spec, (list, tuple)) else [cast(SpecArg, spec)]
    if not many:
        raise AuditInputError("no spec given")
    loaded = [_load_spec(s) for s in many]
    prof = _checker(checker)
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    plan: list[tuple[str, str | None, Any]] = []
    failed: dict[str, str] = {}
    for src in sources:
        if isinstance(src, (str, os.PathLike)):
            path = os.fspath(src)
            why = _unreadable(path, format, detect_format)
            if isinstance(why, str):
                failed[path] = why
                plan.append((path, None, None))
            else:
                plan.append((path, why[0], None))
        else:
            plan.append(("<events>", None, src))
    unsure: set[str] = set()
    if delivery is None:
        delivery = "send"
        for p, fmt, _ in plan:
            if fmt == "native" and defer_native:
                unsure.add(p)
            elif fmt and _receipts(p, fmt):
                delivery = "receive"
                unsure.clear()
                break
    if delivery not in ("send", "receive"):
        raise AuditInputError(f"delivery must be 'send' or 'receive', not {delivery!r}")
    mode: Delivery = "receive" if delivery == "receive" else "send"
    return Prepared(many, loaded, prof, plan, failed, mode, frozenset(unsure))


class Replay:
    """One audit's state: the router and its Monitors, and the result being filled.

    `feed` replays one input after the other (in the order given: findings come out
    in input order, then line order); the caller then calls `settle` and finishes the
    monitors. The parallel audit (`parallel.py`) runs one Replay per partition of the inputs.

    A native log audited against one protocol goes first through `CompactSends`
    (plain sends in compact form); the Monitor takes over, with the exact state,
    at the first event that is not one, and for every other input.
    """

    def __init__(self, loaded: Sequence[Specification | FlatProtocol], protocol: str | None, mode: Delivery,
                 profile: Mapping[str, Any], record_enactments: bool, keep_closed: int,
                 progress: Progress | None = None, retire_after: int | None = None) -> None:
        self.result = result = AuditResult(delivery=mode)
        self.record_enactments = record_enactments
        self.progress = progress
        self.events = 0
        statuses = result.statuses

        def on_status(st: EnactmentStatus) -> None:
            if st.status == "complete":
                result.complete += 1
                if self.record_enactments or result.by_enactment.get((st.run, st.enactment)):
                    statuses.append(st)
            else:
                result.incomplete += 1
                statuses.append(st)

        self.router = _Router(loaded, protocol, mode, on_status, keep_closed, retire_after)
        result.protocols = list(self.router.flat)
        self._compact: CompactSends | None = None
        self._compact_tried = False
        #: native logs to check for receipts as they are read (see `Prepared.unsure`)
        self.unsure: frozenset[str] = frozenset()
        self.disabled = frozenset(profile.get("disable", ()))
        self.severity = {code: Severity(level) for code, level in profile.get("severity", {}).items()}

    def emit(self, fs: list[Finding]) -> None:
        out, per = self.result.findings, self.result.by_enactment
        for f in fs:
            if f.code in self.disabled:
                continue
            if f.code in self.severity:
                f = replace(f, severity=self.severity[f.code])
            out.append(f)
            if f.enactment is not None:
                per[(f.run, f.enactment)] += 1

    def _compact_replay(self) -> CompactSends | None:
        """The compact replay of the single Monitor, while it is on (see `CompactSends`)."""
        if not self._compact_tried:
            self._compact_tried = True
            router = self.router
            if router.default is not None and not self.record_enactments and self.result.delivery == "send":
                mon = router.monitor(router.default)
                if CompactSends.applies(mon):
                    self._compact = CompactSends(mon)
        c = self._compact
        return c if c is not None and c.active else None

    def _handover(self, history: bool = True) -> None:
        """The Monitor takes over from the compact replay (`history`: with the retired
        enactments, needed unless the input has ended)."""
        c = self._compact
        if c is not None:
            c.flush(history)
            self.result.complete += c.completed
            c.completed = 0

    def settle(self) -> None:
        """The input has ended: the Monitors hold every enactment before they finish."""
        self._handover(history=False)

    def feed(self, path: str, fmt: str | None, items: Any,
             failed: str | None) -> None:
        """Replay one input (a path of format `fmt`, or `items` already read)."""
        from ..traces import FormatError, read  # readers load lazily

        result, router, emit, progress = self.result, self.router, self.emit, self.progress
        out = result.findings
        stats = ReadStats()
        if items is None:
            result.sources.append(path)
            if failed is not None:
                result.formats[path] = "?"
                result.unread.append(path)
                out.append(_not_audited(path, failed))
                return
            result.formats[path] = fmt or "?"
            if fmt == "empty":
                return
            if fmt == "native":
                compact = self._compact_replay()
                if compact is not None:
                    self._feed_compact(path, compact, stats, watch=path in self.unsure)
                    return
                if path in self.unsure and _receipts(path, fmt):
                    raise _ReceiptsFound(path)
            try:
                items = read(path, format=fmt, schema=router.schema, stats=stats)
            except (FormatError, ValueError) as e:
                result.unread.append(path)
                out.append(_not_audited(path, str(e)))
                return
        self._handover()
        route = router.route  # used only when there is no single monitor
        single = router.monitor(router.default) if router.default is not None else None
        events = self.events
        with _rare_gc():
            try:
                for it in items:
                    if type(it) is not BadRecord:
                        events += 1
                        mon = single if single is not None else route(it)
                        if mon is None:
                            owners = router.owners(it)
                            if len(owners) > 1:
                                emit([finding("REC008", f"message {it.message!r} is in several protocols "
                                              f"({', '.join(owners)}); name its protocol in the record",
                                              source=it.source, line=it.line, run=it.run, message=it.message,
                                              role=it.sender, agent=it.agent,
                                              expected=" or ".join(f"{o}/{it.message}" for o in owners))])
                                continue
                            emit([finding("REC003", f"message {it.message!r} is in none of the protocols "
                                          f"{', '.join(router.flat)}", source=it.source, line=it.line,
                                          run=it.run, message=it.message, role=it.sender, agent=it.agent,
                                          expected="a message of " + ", ".join(router.flat))])
                            continue
                        fs = mon.apply(it)
                        if fs:
                            emit(fs)
                        if progress is not None and not events % 50000:
                            progress(path, events)
                    else:
                        emit([_bad_record(it)])
            except _READ_ERRORS as e:
                result.unread.append(path)
                out.append(_not_audited(path, f"reading stopped after line {stats.lines}: "
                                        f"{getattr(e, 'strerror', None) or e}", line=stats.lines or None))
        self.events = result.events = events
        result.records += stats.lines
        if progress is not None:
            progress(path, events)

    def _feed_compact(self, path: str, compact: CompactSends, stats: ReadStats, watch: bool) -> None:
        """Replay a native log through `compact` while it takes the lines, then through the
        Monitor (`feed`'s loop for one Monitor, over `read_native_fast`'s lines).

        `watch`: raise _ReceiptsFound if the log records receipts (`_ReceiptWatch`).
        """
        from ..traces.native_fast import chunk_items, line_items, native_chunks

        result, emit, progress = self.result, self.emit, self.progress
        mon = compact.monitor
        take = compact.take
        events = self.events
        no = 0
        receipts = _ReceiptWatch(path, watch, compact.receipt_free)
        with _rare_gc():
            try:
                with open_log(path) as f:
                    for lines, ended, start, end in native_chunks(f):  # lines[start:end] not too long
                        n = len(lines)
                        i = 0
                        before = events
                        while i < n:
                            if not compact.active:  # the rest of the chunk, as `feed` replays it
                                for it in chunk_items(lines[i:] if i else lines, no, path, stats, ended):
                                    if type(it) is not BadRecord:
                                        events += 1
                                        fs = mon.apply(it)
                                        if fs:
                                            emit(fs)
                                    else:
                                        emit([_bad_record(it)])
                                no += n - i
                                break
                            if start <= i < end:
                                k = take(lines, i, end, no, path)
                                if k:
                                    receipts.reset()
                                    account_events(stats, k)
                                    i += k
                                    no += k
                                    events += k
                                    continue
                            line = lines[i]
                            i += 1
                            no += 1
                            if receipts.lines:
                                receipts.line(line, not start < i <= end)
                            for it in line_items(line, no, path, stats, ended or i < n):
                                if type(it) is BadRecord:
                                    emit([_bad_record(it)])
                                    continue
                                if compact.active:
                                    receipts.give_up()
                                    self._handover()
                                events += 1
                                fs = mon.apply(it)
                                if fs:
                                    emit(fs)
                        if progress is not None and events // 50000 > before // 50000:
                            progress(path, events)
            except _READ_ERRORS as e:
                receipts.give_up()
                result.unread.append(path)
                result.findings.append(_not_audited(path, f"reading stopped after line {stats.lines}: "
                                                    f"{getattr(e, 'strerror', None) or e}",
                                                    line=stats.lines or None))
        receipts.end()
        result.complete += compact.completed
        compact.completed = 0
        self.events = result.events = events
        result.records += stats.lines
        if progress is not None:
            progress(path, events)


#: The share of failing records above which the audit suggests another spec or format.
HINT_SHARE = 0.8
_RECORD_CODES = ("REC001", "REC002")
_SPEC_CODES = ("REC003", "REC004", "REC005", "REC008")


def _hints(result: AuditResult, specs: Sequence[SpecArg], format: str | None,
           plan: list[tuple[str, str | None, Any]]) -> list[str]:
    """"Did you mean …" when almost every record fails for the spec or the format chosen."""
    from ..traces import FormatError, detect_format

    total = max(result.records, result.events)
    if total < 3:
        return []
    codes = result.codes()
    hints: list[str] = []
    if format is not None and (sum(codes[c] for c in _RECORD_CODES) >= HINT_SHARE * total
                               or not result.events):
        for path, _, items in plan:
            if items is None and path not in result.unread:
                try:
                    seen = detect_format(path)
                except (FormatError, OSError):
                    continue
                if seen != format:
                    hints.append(f"almost no record of {path} reads as {format}: "
                                 f"did you mean --format-in {seen} (or auto)?")
                    break
    unknown = [f for f in result.findings if f.code in _SPEC_CODES]
    if result.events and len({(f.source, f.line) for f in unknown}) >= HINT_SHARE * result.events:
        which = ", ".join(result.protocols)
        if sum(codes[c] for c in ("REC003", "REC008")) * 2 >= len(unknown):  # mostly unknown messages
            names = sorted({(f.message or "").rsplit("/", 1)[-1] for f in unknown
                            if f.message and f.code in ("REC003", "REC008")})
            better = _better_spec(specs, names)
            hints.append(f"almost every event fails against {which}"
                         + (f": did you mean --spec {better}?" if better
                            else f"; the log's messages ({', '.join(names[:6])}) are not theirs"))
        else:  # the messages are known but their parameters are not
            params = sorted({m.group(1) for f in unknown if f.code == "REC004"
                             for m in [re.search(r"no parameter '([^']+)'", f.text)] if m})
            hints.append(f"almost every event fails against {which}: the log's parameters "
                         f"({', '.join(params[:6]) or 'see REC004/REC005'}) are not the protocol's; "
                         "did you mean another version of the spec?")
    return hints


def _better_spec(specs: Sequence[SpecArg], names: list[str]) -> str | None:
    """A .bspl file next to a given spec (or in ./specs) that has most of the `names`."""
    given = [Path(s).resolve() for s in specs if isinstance(s, (str, os.PathLike))
             and not (isinstance(s, str) and "{" in s)]
    folders = {p.parent for p in given} | ({Path("specs").resolve()} if Path("specs").is_dir() else set())
    best: tuple[int, str] | None = None
    for folder in sorted(folders):
        for cand in sorted(folder.glob("*.bspl")):
            if cand.resolve() in given:
                continue
            try:
                text = cand.read_text(encoding="utf-8")
            except (OSError, UnicodeError):
                continue
            hits = sum(1 for n in names if re.search(rf":\s*{re.escape(n)}\s*\[", text))
            if hits and (best is None or hits > best[0]):
                best = (hits, os.path.relpath(cand))
    return best[1] if best and best[0] * 2 >= len(names) else None

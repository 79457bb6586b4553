"""The audit over several processes (`--jobs N`) or a Dask cluster (`--engine dask`).

Findings are identical to the single-process audit's (codes, files, lines, texts
and order). How:

* **Partitioning rule.** An enactment is identified within its run, so files that
  share no run id cannot share an enactment. A cheap first pass (itself parallel)
  reads each file and collects its run ids; events without a run id all share one
  pseudo-run. Files that share a run id (or both hold run-less events) are grouped;
  each group is then widened to the contiguous span of inputs from its first file to
  its last (merging overlapping spans), so that every partition is a run of
  consecutive inputs. Contiguity is what makes the order exact: the Monitor's
  bounded memory of closed enactments (`keep_closed`) evicts by how many
  enactments closed since, and between two files of one partition every closing
  happens in that partition. Retirement of multi-key enactments (`retire_after`)
  counts the Monitor's events since an enactment's last one, all in its partition.
* **Replay.** Each partition (consecutive partitions are batched into one task) is
  replayed by its own `Replay`, in input order, as the single-process audit would.
* **Merge.** Findings during replay concatenate in input order. The end-of-log
  findings of each Monitor (DEL001 on open then on closed enactments, then
  CMP001/2) concatenate per Monitor in partition order, the Monitors in the order
  of their first use; a DEL001 on a closed enactment is kept only if the
  single-process audit would still remember that enactment (fewer than
  `keep_closed` closings after it, counting later partitions).

A partition is the unit of work, so a corpus whose runs all span every file gets no
speed-up (one partition), and is still audited correctly.
"""
from __future__ import annotations

import lzma
import os
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..findings import Finding
from ..monitor.monitor import Delivery, EnactmentStatus
from .driver import RETIRE_AFTER, Progress, Replay, SpecArg, _hints, _load_spec, prepare
from .result import AuditInputError, AuditResult

#: Sentinel token of run-less events (all of them share one pseudo-run).
_NO_RUN = "\0no-run"
#: Aim at this many tasks per worker, so that uneven partitions still balance.
TASKS_PER_WORKER = 4

Mapper = Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]]


@dataclass
class _Task:
    """A batch of consecutive inputs for one worker (plain data: it crosses process boundaries)."""

    specs: list[Any]
    protocol: str | None
    mode: Delivery
    profile: dict[str, Any]
    record_enactments: bool
    keep_closed: int
    entries: list[tuple[str, str | None, str | None]]  # (path, format, why it cannot be read)
    retire_after: int | None = RETIRE_AFTER


@dataclass
class _End:
    """One Monitor's end-of-log findings in one task, split as the merge needs them."""

    del_open: list[Finding] = field(default_factory=list)
    del_closed: list[tuple[int, Finding]] = field(default_factory=list)  # (age: closings since, finding)
    cmp: list[Finding] = field(default_factory=list)
    statuses: list[EnactmentStatus] = field(default_factory=list)
    closes: int = 0


@dataclass
class _Part:
    result: AuditResult
    monitors: list[str]
    ends: dict[str, _End]


def _native_runs(path: str) -> set[str]:
    """The run ids of a native log, from each line's top-level `run` only (msgspec skips the rest).

    Conservative: a line that is a JSON object without a string `run` counts as run-less
    (grouping more files than needed is never wrong); a line that is no JSON object is
    no event."""
    import msgspec

    from ..traces._open import open_log

    class RunOnly(msgspec.Struct):
        run: Any = None

    decode = msgspec.json.Decoder(RunOnly).decode
    runs: set[str] = set()
    with open_log(path) as f:
        for line in f:
            if not line.strip():
                continue
            try:
                run = decode(line).run
            except (msgspec.DecodeError, ValueError, RecursionError):
                continue
            runs.add(run if type(run) is str else _NO_RUN)
    return runs


def _scan(task: _Task) -> list[frozenset[str]]:
    """First pass: the run ids of each input (`_NO_RUN` for events without one)."""
    from ..traces import FormatError, read
    from ..traces.event import BadRecord
    from .driver import _Router

    router = _Router([_load_spec(s) for s in task.specs], task.protocol, task.mode, lambda st: None, 0)
    out: list[frozenset[str]] = []
    for path, fmt, failed in task.entries:
        runs: set[str] = set()
        try:
            if failed is not None or fmt == "empty":
                pass
            elif fmt == "native":
                runs = _native_runs(path)
            else:
                for it in read(path, format=fmt, schema=router.schema):
                    if type(it) is not BadRecord:
                        run = it.run  # type: ignore[union-attr]
                        runs.add(_NO_RUN if run is None else str(run))
        except (FormatError, ValueError, OSError, EOFError, lzma.LZMAError, zlib.error):
            pass  # the replay reports it
        out.append(frozenset(runs))
    return out


def _del001_counts(ctxs: Iterable[Any]) -> list[int]:
    """How many DEL001 `Monitor.finish` reports for each context (its own loop, counted)."""
    counts = []
    for ctx in ctxs:
        n = 0
        if ctx.pending:
            for s in ctx.sent.values():
                if s.pending:
                    n += sum(1 for v in s.pending.values() if v > 0)
        counts.append(n)
    return counts


def _replay(task: _Task) -> _Part:
    """Replay one task's inputs in order; end each Monitor with its findings tagged for the merge."""
    replay = Replay([_load_spec(s) for s in task.specs], task.protocol, task.mode, task.profile,
                    task.record_enactments, task.keep_closed, retire_after=task.retire_after)
    for path, fmt, failed in task.entries:
        replay.feed(path, fmt, None, failed)
    replay.settle()
    replay.record_enactments = True  # the merge decides which end-of-log statuses to keep
    ends: dict[str, _End] = {}
    statuses = replay.result.statuses
    for name, mon in replay.router.monitors.items():
        end = ends[name] = _End(closes=mon.complete_count)
        opened, closed = list(mon.open.values()), list(mon.closed.values())
        n_open, n_closed = _del001_counts(opened), _del001_counts(closed)
        before = len(statuses)
        raw = mon.finish()
        end.statuses = statuses[before:]
        del statuses[before:]
        i = sum(n_open)
        end.del_open = raw[:i]
        for age, n in zip(range(len(closed) - 1, -1, -1), n_closed, strict=True):
            end.del_closed.extend((age, f) for f in raw[i:i + n])
            i += n
        end.cmp = raw[i:]
        _apply_profile(replay, end)
    return _Part(replay.result, list(replay.router.monitors), ends)


def _apply_profile(replay: Replay, end: _End) -> None:
    """The checker profile on end-of-log findings, as `Replay.emit` applies it."""
    def keep(fs: list[Finding]) -> list[Finding]:
        return [replace(f, severity=replay.severity[f.code]) if f.code in replay.severity else f
                for f in fs if f.code not in replay.disabled]

    end.del_open = keep(end.del_open)
    end.del_closed = [(a, f) for a, fs in ((a, keep([f])) for a, f in end.del_closed) for f in fs]
    end.cmp = keep(end.cmp)


def _partitions(runs: list[frozenset[str]]) -> list[tuple[int, int]]:
    """Spans [first, last] of consecutive inputs such that no run id crosses a span's border."""
    first: dict[str, int] = {}
    reach = list(range(len(runs)))  # the last input that shares a run with input i (or i)
    for i, rs in enumerate(runs):
        for r in rs:
            j = first.setdefault(r, i)
            reach[j] = max(reach[j], i)
    spans: list[tuple[int, int]] = []
    start, end = 0, -1
    for i in range(len(runs)):
        end = max(end, reach[i])
        if i == end:
            spans.append((start, end))
            start = i + 1
    return spans


def _batches(spans: list[tuple[int, int]], sizes: list[int], workers: int) -> list[tuple[int, int]]:
    """Consecutive spans joined into about TASKS_PER_WORKER tasks per worker, by bytes."""
    target = max(1, sum(sizes) // max(1, workers * TASKS_PER_WORKER))
    out: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    acc = 0
    for a, b in spans:
        cur = (cur[0] if cur else a, b)
        acc += sum(sizes[a:b + 1])
        if acc >= target:
            out.append(cur)
            cur, acc = None, 0
    if cur is not None:
        out.append(cur)
    return out


def _merge(parts: list[_Part], keep_closed: int, record_enactments: bool, delivery: str) -> AuditResult:
    result = AuditResult(delivery=delivery)
    order: list[str] = []
    for p in parts:
        result.add(p.result)
        order.extend(m for m in p.monitors if m not in order)
    per = result.by_enactment
    for f in result.findings:
        if f.enactment is not None:
            per[(f.run, f.enactment)] += 1
    for name in order:
        ends = [(i, p.ends[name]) for i, p in enumerate(parts) if name in p.ends]
        later = [sum(e.closes for j, e in ends if j > i) for i, _ in ends]
        for st in (st for _, e in ends for st in e.statuses):  # on_status runs before the emit
            if st.status != "complete" or record_enactments or per.get((st.run, st.enactment)):
                result.statuses.append(st)
        fs = [f for _, e in ends for f in e.del_open]
        fs += [f for (_, e), n in zip(ends, later, strict=True) for age, f in e.del_closed
               if age + n < keep_closed]
        fs += [f for _, e in ends for f in e.cmp]
        result.findings.extend(fs)
        for f in fs:
            if f.enactment is not None:
                per[(f.run, f.enactment)] += 1
    if not record_enactments:
        result.statuses[:] = [s for s in result.statuses if s.status != "complete" or per.get((s.run, s.enactment))]
    return result


def _local_mapper(jobs: int) -> tuple[Mapper, Callable[[], None]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))

    def run(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        return list(pool.map(fn, items))

    return run, lambda: pool.shutdown()


def _dask_mapper(scheduler: str | None, workers: int) -> tuple[Mapper, Callable[[], None], int]:
    import importlib

    try:  # untyped: imported as a module object (Dask is an optional extra, loaded only here)
        distributed: Any = importlib.import_module("dask.distributed")
    except ImportError:
        raise AuditInputError("--engine dask needs Dask: pip install 'protoverify[scale]'") from None
    cluster = None
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout="20s")
        except OSError as e:
            raise AuditInputError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
    else:
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = distributed.Client(cluster)
    n = max(1, len(client.scheduler_info().get("workers", {})) or workers)

    def run(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        return list(client.gather(client.map(fn, list(items), pure=False)))

    def close() -> None:
        client.close()
        if cluster is not None:
            cluster.close()

    return run, close, n


def audit_parallel(spec: SpecArg | Sequence[SpecArg], sources: Sequence[str | os.PathLike[str]],
                   protocol: str | None = None, format: str | None = None,
                   checker: Mapping[str, Any] | str | None = None, delivery: str | None = None,
                   record_enactments: bool = False, keep_closed: int = 10000,
                   progress: Progress | None = None, jobs: int = 2, engine: str = "local",
                   scheduler: str | None = None, retire_after: int | None = RETIRE_AFTER) -> AuditResult:
    """`driver.audit` over `jobs` local processes (engine "local") or a Dask cluster
    (engine "dask": `scheduler` address, or a LocalCluster of `jobs` workers).
    Same arguments and same result; inputs are paths only."""
    from .driver import audit

    paths = [os.fspath(s) for s in sources]
    if engine == "local" and (jobs <= 1 or len(paths) <= 1):  # before `prepare`: `audit` prepares its own
        return audit(spec, sources, protocol, format, checker, delivery, record_enactments, keep_closed, progress,
                     retire_after)
    prep = prepare(spec, paths, format, checker, delivery)
    Replay(prep.loaded, protocol, prep.mode, prep.profile, record_enactments, keep_closed)  # spec errors, now
    entries = [(p, fmt, prep.failed.get(p)) for p, fmt, _ in prep.plan]
    specs = [os.fspath(s) if isinstance(s, os.PathLike) else s for s in prep.specs]
    mode: Delivery = prep.mode

    def task(es: list[tuple[str, str | None, str | None]]) -> _Task:
        return _Task(specs, protocol, mode, dict(prep.profile), record_enactments, keep_closed, es, retire_after)

    if engine == "dask":
        run, close, workers = _dask_mapper(scheduler, jobs)
    elif engine == "local":
        (run, close), workers = _local_mapper(jobs), jobs
    else:
        raise AuditInputError(f"engine must be 'local' or 'dask', not {engine!r}")
    try:
        sizes = [os.path.getsize(p) if failed is None and os.path.isfile(p) else 0 for p, _, failed in entries]
        chunks = _batches([(i, i) for i in range(len(entries))], sizes, workers)
        runs = [rs for part in run(_scan, [task(entries[a:b + 1]) for a, b in chunks]) for rs in part]
        spans = _batches(_partitions(runs), sizes, workers)
        parts: list[_Part] = run(_replay, [task(entries[a:b + 1]) for a, b in spans])
    finally:
        close()
    result = _merge(parts, keep_closed, record_enactments, prep.mode)
    if progress is not None and prep.plan:
        progress(prep.plan[-1][0], result.events)
    result.hints = _hints(result, prep.specs, format, prep.plan)
    return result


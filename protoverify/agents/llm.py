"""LLM agents: an Agent that asks a chat model which enabled message to send.

Each decision concerns one enactment (the slot that changed, or opening a new
negotiation): the prompt shows only that enactment, so concurrent enactments
never mix. Every call to the model is one `decision` record (prompt size, raw
reply truncated, parsed choice or error, latency, tokens, attempt), written
through the sink the exchange attaches; an invalid reply is retried up to
`attempts` times with a message that says what was wrong.

The model is any `ChatModel`: `OpenAIChat` (any OpenAI-compatible endpoint;
`openai` is imported only when it is built) or `SimulatedLLM` (offline).
"""
from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .base import Choice, Send, View
from .prompt import SYSTEM, options_of, read_reply, user_prompt
from .scripted import send_of

RAW_LIMIT = 2000  # characters of a reply kept in its decision record


@dataclass
class Request:
    """One chat call: the messages, plus the options in structured form (a simulated model
    reads those instead of the text)."""

    messages: list[dict[str, str]]
    options: list[dict[str, Any]]
    agent: str
    rng: random.Random
    context: list[dict[str, Any]] = field(default_factory=list)  # the other enactments of the negotiation


@dataclass
class Reply:
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    http_errors: list[str] = field(default_factory=list)  # statuses retried before this reply
    latency_s: float | None = None  # set by a simulated model (its modelled latency)


class LLMError(Exception):
    """The model could not be reached or did not answer in time (after the transport retries)."""

    def __init__(self, text: str, http_errors: list[str]) -> None:
        super().__init__(text)
        self.http_errors = http_errors


class ChatModel(Protocol):
    name: str

    def complete(self, req: Request) -> Reply: ...


class OpenAIChat:
    """A chat model behind an OpenAI-compatible `POST /v1/chat/completions`.

    The key comes from `OPENAI_API_KEY` (any placeholder for servers that need none) and
    is never written anywhere. 429 and 5xx are retried with exponential backoff
    (`backoff` · 2^n seconds, or the server's Retry-After when shorter than `max_wait`);
    a call past `timeout` seconds is an error of that attempt.
    """

    def __init__(self, model: str, base_url: str | None = None, timeout: float = 30.0,
                 http_retries: int = 3, backoff: float = 0.5, max_wait: float = 20.0,
                 temperature: float | None = 0.0) -> None:
        import openai  # lazy: ~1 s to import, and `check` never needs it

        self._openai = openai
        self.name = model
        self.http_retries = http_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.temperature = temperature
        self._client = openai.OpenAI(api_key=os.environ.get("OPENAI_API_KEY") or "unset",
                                     base_url=base_url, timeout=timeout, max_retries=0)

    def _wait(self, n: int, err: Exception) -> float:
        resp = getattr(err, "response", None)
        ra = resp.headers.get("retry-after") if resp is not None else None
        try:
            if ra is not None and 0 <= float(ra) <= self.max_wait:
                return float(str(ra))
        except ValueError:
            pass
        return float(min(self.max_wait, self.backoff * 2 ** n))

    def complete(self, req: Request) -> Reply:
        oa = self._openai
        errors: list[str] = []
        for n in range(self.http_retries + 1):
            try:
                kw: dict[str, Any] = {"model": self.name, "messages": req.messages}
                if self.temperature is not None:
                    kw["temperature"] = self.temperature
                r = self._client.chat.completions.create(**kw)
            except oa.APITimeoutError:
                raise LLMError("LLM call timed out", errors) from None
            except oa.APIStatusError as e:
                if e.status_code == 429 or e.status_code >= 500:
                    errors.append(str(e.status_code))
                    if n < self.http_retries:
                        time.sleep(self._wait(n, e))
                        continue
                raise LLMError(f"LLM endpoint answered HTTP {e.status_code}", errors) from None
            except oa.APIConnectionError:
                errors.append("connection")
                if n < self.http_retries:
                    time.sleep(min(self.max_wait, self.backoff * 2 ** n))
                    continue
                raise LLMError("cannot reach the LLM endpoint", errors) from None
            text = (r.choices[0].message.content or "") if r.choices else ""
            u = r.usage
            return Reply(text, u.prompt_tokens if u else None, u.completion_tokens if u else None, errors)
        raise LLMError("LLM endpoint kept failing", errors)  # not reached: the loop returns or raises


Sink = Callable[[dict[str, Any]], Any]

GOALS = {
    "start": "open a negotiation when it serves you; fill every parameter with a sensible value",
    "default": "complete each enactment you are in correctly, choosing what serves your role; "
               "where you called several agents, accept only the best offer among them",
}


class LLMAgent:
    """Asks `model` at every decision which of the enabled messages to send."""

    kind = "llm"

    def __init__(self, name: str, model: ChatModel, spec_text: str, attempts: int = 3,
                 goals: dict[str, str] | None = None) -> None:
        self.name = name
        self.model = model
        self.spec_text = spec_text
        self.attempts = attempts
        self.goals = dict(GOALS, **(goals or {}))
        self.sink: Sink | None = None
        self.history: dict[tuple[Any, ...], list[str]] = {}  # enactment -> what this agent sent there
        self.calls = 0

    def attach(self, sink: Sink) -> None:
        """Where decision records go (the exchange writes them into its log)."""
        self.sink = sink

    def decide(self, view: View) -> Choice | None:
        ekey: tuple[Any, Any]
        if view.start:
            if not view.peers:
                return None
            enabled, peer, knows, ekey = view.enabled, None, {}, ("start", view.conversation)
        else:
            s = view.slot
            if s is None:
                return None
            enabled, peer, knows = s.enabled, s.peer, dict(s.knows)
            ekey = (view.conversation, tuple(sorted(s.key.items())))
        if not enabled:
            return None
        others = [x for x in view.slots if x is not view.slot]
        if (not view.start and others and view.reply_by is not None and view.now <= view.reply_by
                and any(not x.replied for x in view.slots)):
            # a negotiation's caller decides once its call closes (every answer in, or the
            # deadline), as the scripted one does: no model call until then
            return Choice(wait_until=view.reply_by + 0.5)
        context = [dict(x.knows, agent=x.peer) for x in others]
        role = view.role or (enabled[0].role if enabled else "?")
        options = options_of(enabled)
        goal = self.goals.get(role, self.goals["start" if view.start else "default"])
        if view.start:
            caps = ", ".join(sorted(view.capabilities))
            peers = "; ".join(f"{p.name} ({', '.join(sorted(p.capabilities))})" for p in view.peers)
            goal += f". Your capabilities: {caps}. Peers: {peers}"
        prompt = user_prompt(role, goal, self.spec_text, knows, options, self.history.get(ekey, []), context)
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]
        keys = frozenset(view.protocol.keys)
        for attempt in range(1, self.attempts + 1):
            self.calls += 1
            t0 = time.perf_counter()
            rec: dict[str, Any] = {"agent": self.name, "role": role, "options": options, "attempt": attempt,
                                   "model": self.model.name, "prompt_chars": sum(len(m["content"]) for m in messages),
                                   "enactment": None if view.start else dict(view.slot.key if view.slot else {}),
                                   "conversation": view.conversation}
            try:
                reply = self.model.complete(Request(list(messages), options, self.name, view.rng, context))
            except LLMError as e:
                rec.update(failed=True, raw=None, parsed=None, choice=None, params=None, error=str(e), declined=False,
                           latency_s=round(time.perf_counter() - t0, 4), tokens=None, http_errors=e.http_errors)
                self._emit(rec)
                messages = messages[:2]  # ask again afresh
                continue
            latency = reply.latency_s if reply.latency_s is not None else time.perf_counter() - t0
            reading = read_reply(reply.text, options, keys)
            rec.update(failed=False, raw=reply.text[:RAW_LIMIT], parsed=reading.parsed, choice=reading.choice,
                       params=reading.params, error=reading.error, declined=reading.declined,
                       latency_s=round(latency, 4),
                       tokens={"prompt": reply.prompt_tokens, "completion": reply.completion_tokens},
                       http_errors=reply.http_errors)
            if reading.option is not None:
                rec["message"] = reading.option["message"]
            self._emit(rec)
            if reading.error is None:
                if reading.option is None:
                    return None  # declined
                return self._send(view, enabled[options.index(reading.option)], reading.params, peer, ekey)
            messages = messages[:2] + [{"role": "assistant", "content": reply.text[:RAW_LIMIT]},
                                       {"role": "user", "content": f"Invalid reply: {reading.error}. "
                                        'Answer again with one JSON object {"choice": N, "params": {...}}.'}]
        return None

    def _emit(self, rec: dict[str, Any]) -> None:
        if self.sink is not None:
            self.sink(rec)

    def _send(self, view: View, e: Any, params: dict[str, Any], peer: str | None,
              ekey: tuple[Any, ...]) -> Choice:
        values = dict(params)
        for p in e.fill:  # the runtime generates keys the model left out (as Ahoy's does)
            if p not in values and p in view.protocol.keys:
                values[p] = view.new_id()
        if view.start:
            return Choice(self._open(view, e, values))
        assert peer is not None
        send = send_of(view, e, values, peer)
        key_after = (view.conversation, tuple(sorted((view.slot.key if view.slot else {}).items())))
        self.history.setdefault(key_after, []).append(
            f"sent {send.message}(" + ", ".join(f"{k}={v!r}" for k, v in send.payload.items()) + ")")
        return Choice([send])

    def _open(self, view: View, e: Any, values: dict[str, Any]) -> list[Send]:
        """Open a negotiation: to every peer with the capability the values name (a Contract Net
        task `cap:…`), else to one peer; each invitee is its own enactment (fresh keys)."""
        text = " ".join(str(v) for v in values.values())
        invited = [p.name for p in view.peers if any(c in text for c in p.capabilities)] or \
            [view.rng.choice(view.peers).name]
        rb = view.now + view.reply_window
        sends = []
        for i, peer in enumerate(invited):
            vals = dict(values)
            if i:
                vals.update({p: view.new_id() for p in e.fill if p in view.protocol.keys})
            s = send_of(view, e, vals, peer, reply_by=rb)
            sends.append(s)
        return sends


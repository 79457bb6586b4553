"""Reader for Ahoy agent logs (docs/formats.md §3).

An Ahoy results log is a harness log with the LLM agent's debug log appended
(possibly several sections, sometimes cut mid-line). Lines are grouped into
records: a line starting with a timestamp opens one, any other line continues
it (multi-line prompts, LLM replies, tracebacks, banners). What becomes events:

- `Sending message: m(k=v,…){system='P'}` -> one `send` of `P/m`;
- each `USER PROMPT FOR MESSAGE CHOICE` / `RAW LLM RESPONSE` /
  `PARSED LLM RESPONSE` group -> one `decision` (a prompt with no reply, or a
  reply whose prompt was cut off, is still one decision);
- entries of `=== MESSAGE HISTORY ===` sent by another role -> `receive`,
  once: histories are cumulative, so an entry is new only when a block shows
  it more often than any earlier block of the same agent section did.

Everything else is counted irrelevant; a send line that cannot be parsed is
a BadRecord. Timestamps have no zone and are read as UTC (only order matters).
"""
from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from ._common import Item, Schema, iter_lines, lookup_roles, show
from ._pyrepr import ReprError, parse_kwargs
from .event import BadRecord, Event, ReadStats

_TS = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:,(\d{3}))?(?=\s|$)")
_AGENT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - (?:DEBUG|INFO|WARNING|ERROR|CRITICAL) -(?: (.*))?$")
_SEND = re.compile(r"Sending message:\s*([A-Za-z_]\w*)\((.*)\)\{(.*)\}\s*$")
_ROLE_PAIR = re.compile(r"\b([A-Za-z]\w*):([A-Za-z]\w*)\b")
_DOT_PAIR = re.compile(r"(?:llm_decision called for|Generic agent ready for) ([A-Za-z]\w*)\.([A-Za-z]\w*)")
_ROLE_HINT = re.compile(r"^(?:Read config:|CHIPS config|Adapter created successfully for|Agent assigned to:)")
_HARNESS_HINT = re.compile(r"ahoy|config|ROLES", re.I)
_ADAPTER = re.compile(r"Adapter: ([A-Za-z_]\w*)\s*$")
_YOU_ARE = re.compile(r"You are agent '([^']+)'")
_BANNER_START = re.compile(r"AHOY\.PY DETAILED LOG \((.*)\)\s*$")
_BANNER_END = re.compile(r"END AHOY\.PY LOG\s*$")
_HIST_ENTRY = re.compile(r"\s*(\d+)\.\s+(\S+)\s+\(from\s+(.+?)\s+to\s+(.+?)\)\s*$")
_HIST_PARAM = re.compile(r"\s{2,}([A-Za-z_]\w*):\s?(.*)$")
_OPTION = re.compile(r"(\d+)\)\s+(\S+)(?: \[BOUND: (.*)\])?\s*$")
_BOUND_SPLIT = re.compile(r", (?=[A-Za-z_]\w*=)")
_INT = re.compile(r"-?\d+\Z")
_FLOAT = re.compile(r"-?\d+\.\d+\Z")
_FENCE = re.compile(r"```(?:json)?\s*\n(.*?)```", re.S)

HEADERS = {"USER PROMPT FOR MESSAGE CHOICE": "prompt", "RAW LLM RESPONSE": "raw",
           "PARSED LLM RESPONSE": "parsed", "EXECUTING TOOL REQUESTS": "tools"}
MAX_CONT = 20000  # continuation lines kept per record; more are counted, not kept


@dataclass
class _Record:
    no: int
    ts: float | None
    agent: bool  # an agent debug line (vs harness or other logger)
    text: str
    conts: list[tuple[int, str]] = field(default_factory=list)
    dropped: int = 0

    @property
    def nlines(self) -> int:
        return 1 + len(self.conts) + self.dropped


@dataclass
class _Pending:
    """One LLM decision being assembled from its prompt, raw and parsed blocks."""
    line: int
    agent: str | None = None
    prompt_ts: float | None = None
    options: list[dict[str, Any]] | None = None
    raw: str | None = None
    raw_ts: float | None = None
    raw_line: int | None = None
    parsed: str | None = None


def _ts(text: str) -> float | None:
    m = _TS.match(text)
    if not m:
        return None
    t = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()
    return t + (int(m.group(2)) / 1000 if m.group(2) else 0.0)


def display_value(text: str) -> Any:
    """Values shown in prompts are str(value): numbers are read back as numbers so
    they compare equal to the same value carried in a send; all else stays text."""
    t = text.strip()
    if _INT.match(t):
        return int(t)
    if _FLOAT.match(t):
        return float(t)
    return t


def parse_send(text: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """`…Sending message: rfq(ID='x'){system='P'}` -> ("rfq", bindings, meta); ReprError if not."""
    m = _SEND.search(text)
    if not m:
        raise ReprError("malformed or truncated 'Sending message:' line")
    return m.group(1), parse_kwargs(m.group(2)), parse_kwargs(m.group(3))


def parse_options(lines: list[str]) -> list[dict[str, Any]]:
    """The numbered `Options:` list -> [{number, message, bound, fill}]."""
    out = []
    for line in lines:
        head, sep, fill_text = line.strip().rpartition(" - FILL ONLY: ")
        m = _OPTION.match(head if sep else line.strip())
        if not m:
            continue
        bound: dict[str, Any] = {}
        if m.group(3):
            for part in _BOUND_SPLIT.split(m.group(3)):
                k, _, v = part.partition("=")
                bound[k.strip()] = display_value(v)
        fill: list[Any] = []
        if sep:
            try:
                fill = list(ast.literal_eval(fill_text))
            except (ValueError, SyntaxError, TypeError):
                fill = [fill_text]
        out.append({"number": int(m.group(1)), "message": m.group(2), "bound": bound, "fill": fill})
    return out


def extract_reply(raw: str) -> tuple[Any, str | None]:
    """Find the JSON object in an LLM reply (fenced block, whole text, or outer braces)."""
    candidates = [m.group(1) for m in _FENCE.finditer(raw)] + [raw]
    if "{" in raw and "}" in raw:
        candidates.append(raw[raw.index("{"):raw.rindex("}") + 1])
    first_err = None
    found = None
    for c in candidates:
        try:
            obj = orjson.loads(c.strip())
        except orjson.JSONDecodeError as e:
            first_err = first_err or str(e)
            continue
        if isinstance(obj, dict) and "choice" in obj:
            return obj, None
        found = found if found is not None else obj
    if found is not None:
        return found, None
    return None, f"reply is not valid JSON: {first_err}"


def check_choice(parsed: Any, options: list[dict[str, Any]] | None
                 ) -> tuple[Any, Any, str | None, dict[str, Any] | None]:
    """-> (choice, params, error, chosen option) for a parsed reply."""
    if not isinstance(parsed, dict):
        return None, None, f"reply is not a JSON object (got {type(parsed).__name__})", None
    if "choice" not in parsed:
        return None, parsed.get("params"), "reply has no 'choice'", None
    choice, params = parsed["choice"], parsed.get("params", {})
    if params is not None and not isinstance(params, dict):
        return choice, params, f"params is not an object (got {type(params).__name__})", None
    if choice is None:
        return None, params, None, None
    if isinstance(choice, bool) or not isinstance(choice, int):
        return choice, params, f"choice {choice!r} is not an integer", None
    if options is None:  # prompt not in the log: cannot check the range
        return choice, params, None, None
    numbers = [o["number"] for o in options]
    for o in options:
        if o["number"] == choice:
            return choice, params, None, o
    if not numbers:
        return choice, params, f"choice {choice} but no options were offered", None
    if sorted(numbers) == list(range(min(numbers), max(numbers) + 1)):
        return choice, params, f"choice {choice} out of range {min(numbers)}..{max(numbers)}", None
    return choice, params, f"choice {choice} is not an offered option ({', '.join(map(str, numbers))})", None


class _AhoyReader:
    def __init__(self, path: str, schema: Schema | None, stats: ReadStats) -> None:
        self.path, self.schema, self.stats = path, schema, stats
        self.roles: dict[str, str] = {}      # protocol -> role the LLM agent plays
        self.agent: str | None = None        # agent name Ahoy prints ("Adapter: Buyer")
        self.seen: Counter[tuple[Any, ...]] = Counter()       # history entries already turned into receives
        self.block: str | None = None
        self.phase = ""
        self.body: list[tuple[int, str]] = []
        self.block_line = 0
        self.block_ts: float | None = None
        self.pending: _Pending | None = None

    # -- accounting -------------------------------------------------------
    def _count(self, items: list[Item]) -> list[Item]:
        for it in items:
            if isinstance(it, Event):
                self.stats.events += 1
            else:
                self.stats.bad += 1
        return items

    def _lines(self, kind: str, n: int) -> None:
        if kind == "event":
            self.stats.event_lines += n
        elif kind == "bad":
            self.stats.bad_lines += n
        else:
            self.stats.irrelevant += n

    # -- roles ------------------------------------------------------------
    def _learn_roles(self, text: str, *, harness: bool) -> None:
        if harness:
            if _HARNESS_HINT.search(text):
                for p, r in _ROLE_PAIR.findall(text.split("]", 2)[-1]):
                    self.roles[p] = r
            return
        if _ROLE_HINT.match(text):
            if text.startswith("Agent assigned to:"):
                try:
                    for p, r in ast.literal_eval(text.split(":", 1)[1].strip()):
                        self.roles[str(p)] = str(r)
                except (ValueError, SyntaxError, TypeError):
                    pass
            else:
                for p, r in _ROLE_PAIR.findall(text):
                    self.roles[p] = r
        m = _DOT_PAIR.search(text)
        if m:
            self.roles[m.group(1)] = m.group(2)
        m = _ADAPTER.match(text)
        if m:
            self.agent = m.group(1)

    def _role_of(self, protocol: str | None) -> str | None:
        if protocol and protocol in self.roles:
            return self.roles[protocol]
        return self.agent if self.agent in self.roles.values() else None

    # -- records ----------------------------------------------------------
    def record(self, rec: _Record) -> Iterator[Item]:
        text = rec.text.strip() if rec.agent else rec.text
        if not rec.agent:
            self._learn_roles(rec.text, harness=True)
            self._lines("irrelevant", rec.nlines)
            yield from self._banners(rec)
            return
        is_sep = len(text) >= 10 and set(text) == {"="}
        if text in HEADERS:
            yield from self._close_block()
            self.block, self.phase = HEADERS[text], "underline"
            self.block_line, self.block_ts, self.body = rec.no, rec.ts, []
            self._lines("irrelevant" if self.block == "tools" else "event", 1)
            self._lines("irrelevant", rec.nlines - 1)
            return
        if self.block and is_sep:
            block = self.block
            if self.phase == "underline":
                self.phase = "body"
            else:
                yield from self._close_block()
            self._lines("irrelevant" if block == "tools" else "event", 1)
            self._lines("irrelevant", rec.nlines - 1)
            yield from self._banners(rec)
            return
        if self.block:
            self.phase = "body"
            self.body.append((rec.no, rec.text))
            self.body.extend(rec.conts)
            self._lines("irrelevant" if self.block == "tools" else "event", rec.nlines)
            return
        # An ordinary agent line.
        self._learn_roles(text, harness=False)
        items: list[Item] = []
        if "Sending message:" in text:
            items = self._send(rec, text)
        self._count(items)
        kind = "event" if any(isinstance(i, Event) for i in items) else "bad" if items else "irrelevant"
        self._lines(kind, 1)
        self._lines("irrelevant", rec.nlines - 1)
        yield from items
        yield from self._banners(rec)

    def _banners(self, rec: _Record) -> Iterator[Item]:
        """Section banners are unstamped lines, so they arrive as continuations."""
        for _, line in rec.conts:
            m = _BANNER_START.search(line)
            if m:
                yield from self.finish()
                for p, r in _ROLE_PAIR.findall(m.group(1)):
                    self.roles[p] = r
                self.agent, self.seen = None, Counter()
            elif _BANNER_END.search(line):
                yield from self.finish()

    def _send(self, rec: _Record, text: str) -> list[Item]:
        try:
            name, bindings, meta = parse_send(text)
        except ReprError as e:
            return [BadRecord(self.path, rec.no, str(e), show(rec.text))]
        system = meta.get("system")
        protocol = system if isinstance(system, str) else None
        message = f"{protocol}/{name}" if protocol else name
        spec = lookup_roles(self.schema, protocol, name)
        sender = self._role_of(protocol) or (spec[0] if spec else None)
        return [Event(kind="send", message=message, protocol=protocol, sender=sender,
                      recipients=spec[1] if spec else (), bindings=bindings, source=self.path,
                      line=rec.no, ts=rec.ts, agent=self.agent or sender)]

    # -- decisions --------------------------------------------------------
    def _close_block(self) -> Iterator[Item]:
        block, body = self.block, self.body
        self.block, self.phase, self.body = None, "", []
        if block == "prompt":
            yield from self._flush_pending()
            self.pending = _Pending(line=self.block_line, prompt_ts=self.block_ts)
            yield from self._prompt(body)
        elif block == "raw":
            if self.pending is None or self.pending.raw is not None or self.pending.parsed is not None:
                yield from self._flush_pending()
                self.pending = _Pending(line=self.block_line, agent=self.agent)
            self.pending.raw = "\n".join(t for _, t in body)
            self.pending.raw_ts, self.pending.raw_line = self.block_ts, self.block_line
        elif block == "parsed":
            if self.pending is None or self.pending.parsed is not None:
                yield from self._flush_pending()
                self.pending = _Pending(line=self.block_line, agent=self.agent)
            self.pending.parsed = "\n".join(t for _, t in body)
            yield from self._flush_pending()

    def _prompt(self, body: list[tuple[int, str]]) -> Iterator[Item]:
        p = self.pending
        assert p is not None
        texts = [t for _, t in body]
        m = _YOU_ARE.search(texts[0]) if texts else None
        if m:
            self.agent = m.group(1)
        p.agent = self.agent
        try:
            start = [t.strip() for t in texts].index("Options:") + 1
        except ValueError:
            start = len(texts)
        p.options = parse_options(texts[start:]) if start < len(texts) else []
        yield from self._count(list(self._history(body)))

    def _history(self, body: list[tuple[int, str]]) -> Iterator[Item]:
        entries: list[dict[str, Any]] = []
        inside = False
        for no, t in body:
            if t.startswith("=== MESSAGE HISTORY"):
                inside = True
            elif t.startswith("=== END HISTORY"):
                inside = False
            elif inside:
                m = _HIST_ENTRY.match(t)
                if m:
                    entries.append({"line": no, "name": m.group(2), "from": m.group(3).strip(),
                                    "to": tuple(r.strip() for r in m.group(4).split(",")), "b": {}})
                elif entries and (pm := _HIST_PARAM.match(t)):
                    entries[-1]["b"][pm.group(1)] = display_value(pm.group(2))
        in_block: Counter[tuple[Any, ...]] = Counter()
        for e in entries:
            protocol, message = self._history_protocol(e["name"], e["to"])
            if e["from"] == self._role_of(protocol) or e["from"] == self.agent:
                continue  # the agent's own send, already read from its `Sending message:` line
            key = (message, e["from"], e["to"], tuple(sorted((k, repr(v)) for k, v in e["b"].items())))
            in_block[key] += 1
            if in_block[key] <= self.seen[key]:
                continue
            self.seen[key] = in_block[key]
            yield Event(kind="receive", message=message, protocol=protocol, sender=e["from"],
                        recipients=e["to"], bindings=e["b"], source=self.path, line=e["line"],
                        ts=self.block_ts, agent=self.agent)

    def _history_protocol(self, name: str, to: tuple[str, ...]) -> tuple[str | None, str]:
        """History entries print bare names: the protocol is the one in which the
        agent's role is the recipient, else the one whose spec knows the message."""
        if "/" in name:
            return name.split("/", 1)[0], name
        mine = [p for p, r in self.roles.items() if r in to]
        if len(mine) != 1 and self.schema is not None:
            mine = [p for p in (mine or self.roles) if lookup_roles(self.schema, p, f"{p}/{name}")]
        if len(mine) == 1:
            return mine[0], f"{mine[0]}/{name}"
        return None, name

    def _flush_pending(self) -> Iterator[Item]:
        p, self.pending = self.pending, None
        if p is None:
            return
        error: str | None = None
        parsed: Any = None
        if p.parsed is not None:
            try:
                parsed = orjson.loads(p.parsed)
            except orjson.JSONDecodeError as e:
                error = f"parsed response is not valid JSON: {e}"
        elif p.raw is not None:
            parsed, error = extract_reply(p.raw)
        else:
            error = "no LLM response in log"
        choice = params = chosen = None
        if error is None:
            choice, params, error, chosen = check_choice(parsed, p.options)
        protocol = chosen["message"].split("/", 1)[0] if chosen and "/" in chosen["message"] else None
        role = self._role_of(protocol) if protocol else (p.agent if p.agent in self.roles.values() else None)
        latency = (round(p.raw_ts - p.prompt_ts, 3)
                   if p.raw_ts is not None and p.prompt_ts is not None else None)
        decision = {
            "agent": p.agent, "role": role, "options": p.options, "raw": p.raw, "parsed": parsed,
            "choice": choice, "params": params, "error": error, "latency_s": latency, "model": None,
            "declined": error is None and parsed is not None and choice is None,
            "prompt_line": p.line if p.prompt_ts is not None or p.options is not None else None,
            "response_line": p.raw_line,
        }
        yield from self._count([Event(kind="decision", message=chosen["message"] if chosen else None,
                                      protocol=protocol, sender=role, source=self.path, line=p.line,
                                      ts=p.raw_ts if p.raw_ts is not None else p.prompt_ts,
                                      agent=p.agent, decision=decision)])

    def finish(self) -> Iterator[Item]:
        """End of a section or file: close any open block and emit the pending decision."""
        if self.block:
            yield from self._close_block()
        yield from self._flush_pending()


def read_ahoy(path: str, schema: Schema | None = None,
              stats: ReadStats | None = None) -> Iterator[Event | BadRecord]:
    """Stream events from an Ahoy results/debug log.

    `schema(name)` gives recipients (and the sender when the log does not say
    which role the agent plays); it is asked `Protocol/message`, then `message`.
    """
    stats = stats if stats is not None else ReadStats()
    reader = _AhoyReader(path, schema, stats)
    rec: _Record | None = None
    for line in iter_lines(path):
        stats.lines += 1
        text = line.data.decode("utf-8", "replace")
        if line.no == 1:
            text = text.lstrip("\ufeff")
        if line.too_long:
            if rec is not None:
                yield from reader.record(rec)
                rec = None
            bad = BadRecord(path, line.no, "line too long to read", show(text))
            reader._count([bad])
            reader._lines("bad", 1)
            yield bad
            continue
        if _TS.match(text):
            if rec is not None:
                yield from reader.record(rec)
            m = _AGENT.match(text)
            rec = _Record(line.no, _ts(text), m is not None, (m.group(1) or "") if m else text)
        elif rec is None:
            reader._lines("irrelevant", 1)  # text before the first stamped line
        elif len(rec.conts) < MAX_CONT:
            rec.conts.append((line.no, text))
        else:
            rec.dropped += 1
    if rec is not None:
        yield from reader.record(rec)
    yield from reader.finish()

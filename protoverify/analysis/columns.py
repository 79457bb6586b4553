"""The columns of the analysis frames: name, dtype and meaning, in order.

One table per frame, the single source of the frames' dtypes and of the column tables
in docs/analysis.md (a test checks the docs against it). Names are stable: a column is
added, never renamed or dropped.
"""
from __future__ import annotations

from ..findings import CODES, FAMILIES, SEVERITIES
from .taxonomy import MODE_IDS

#: Category values fixed in advance (so counts show zeros, and frames concatenate).
CODE_VALUES: tuple[str, ...] = tuple(CODES)
FAMILY_VALUES: tuple[str, ...] = FAMILIES
MODE_VALUES: tuple[str, ...] = MODE_IDS
SEVERITY_VALUES: tuple[str, ...] = tuple(s.value for s in reversed(SEVERITIES))  # info < warning < error
STATUS_VALUES: tuple[str, ...] = ("complete", "stalled", "deadlock")
OUTCOME_VALUES: tuple[str, ...] = ("chosen", "declined", "invalid", "failed", "unanswered")
KIND_VALUES: tuple[str, ...] = ("llm", "scripted", "adversarial")
EVENT_VALUES: tuple[str, ...] = ("send", "receive", "reject", "drop")
POLICY_VALUES: tuple[str, ...] = ("low", "medium", "high")

Column = tuple[str, str, str]  # name, dtype, meaning

_RUN: tuple[Column, ...] = (
    ("run", "string", "the run: the run directory's name for an exchange run (summary.json beside "
     "the log), else the run id in the log"),
    ("run_id", "string", "the run id written in the log (exchange runs reuse `run-0`)"),
)
_META: tuple[Column, ...] = (
    ("policy", "category", "the exchange's policy level (low < medium < high) from summary.json; NA "
     "outside exchange runs"),
    ("model", "string", "the LLM model of the row's agents (from their decision records; several "
     "comma-separated); for a row without agents, summary.json's `model`, else the log's only model; "
     "NA for agents that made no LLM decisions"),
)

FINDINGS: tuple[Column, ...] = (
    ("code", "category", "finding code (all codes of `protoverify.CODES` are categories)"),
    ("family", "category", "the code's family"),
    ("mode", "category", "the failure mode of the code (`protoverify.analysis.taxonomy`)"),
    ("severity", "category", "info < warning < error (ordered)"),
    ("file", "string", "the log the finding is in (`Finding.source`)"),
    ("line", "Int64", "line of the log (NA at the end of the log)"),
    *_RUN,
    ("enactment", "string", "the enactment's key bindings, `ID=1` (NA outside one)"),
    ("message", "string", "`Protocol/message` concerned"),
    ("role", "string", "the role that acted"),
    ("agent", "string", "the agent that acted, as the log names it"),
    ("agent_kind", "category", "llm (wrote decision records), adversarial (misbehaved: "
     "injections.jsonl), scripted (any other agent of an exchange run); NA elsewhere"),
    *_META,
    ("text", "string", "what happened"),
    ("expected", "string", "what would have been right there"),
)

ENACTMENTS: tuple[Column, ...] = (
    ("file", "string", "the log"),
    *_RUN,
    ("enactment", "string", "the enactment's key bindings, `ID=1`"),
    ("protocol", "string", "the protocol of its messages (else summary.json's)"),
    ("status", "category", "complete, stalled or deadlock (at the end of the log)"),
    ("complete", "boolean", "status is complete"),
    ("first_line", "Int64", "line of its first event"),
    ("last_line", "Int64", "line of its last event"),
    ("events", "Int64", "events the audit counted in it (sends, receipts, rejects, drops)"),
    ("messages", "Int64", "`send` events of it in the log"),
    ("start", "float64", "time of its first event (seconds: the log's `ts`; simulated seconds in "
     "exchange runs, seconds since the epoch elsewhere)"),
    ("end", "float64", "time of its last event (seconds)"),
    ("duration", "float64", "end - start (seconds)"),
    ("agents", "string", "the agents that sent or received its messages, sorted, comma-separated"),
    ("roles", "string", "the roles that sent or received its messages, sorted, comma-separated"),
    ("missing", "string", "public parameters left unbound, comma-separated (empty when complete)"),
    ("findings", "Int64", "findings in it"),
    ("errors", "Int64", "error findings in it"),
    *_META,
)

DECISIONS: tuple[Column, ...] = (
    ("file", "string", "the log"),
    ("line", "Int64", "line of the decision record (Ahoy: of its prompt)"),
    *_RUN,
    ("ts", "float64", "time of the decision (seconds)"),
    ("agent", "string", "the agent that asked its model"),
    ("agent_kind", "category", "as in findings"),
    ("role", "string", "the role it decided for"),
    *_META,
    ("attempt", "Int64", "1 for a first call, 2.. for a retry after an invalid reply (NA if unknown)"),
    ("outcome", "category", "chosen (a valid option), declined (no choice, no error), invalid (the "
     "reply was rejected), failed (the call got no reply), unanswered (the log has the prompt but no "
     "reply: cut off)"),
    ("choice", "Int64", "the option number chosen (NA when none)"),
    ("message", "string", "the chosen option's message"),
    ("options", "Int64", "how many options were offered"),
    ("latency_s", "float64", "seconds the model took"),
    ("prompt_tokens", "Int64", "tokens of the prompt (NA when not reported)"),
    ("completion_tokens", "Int64", "tokens of the reply (NA when not reported)"),
    ("error", "string", "why the reply was rejected, or why the call failed"),
    ("enactment", "string", "the enactment it decided in, `ID=1` (NA when it starts one or the log "
     "does not say)"),
    ("codes", "string", "the finding codes at this decision, comma-separated (empty when none)"),
)

EVENTS: tuple[Column, ...] = (
    ("file", "string", "the log"),
    ("line", "Int64", "line of the event"),
    *_RUN,
    ("kind", "category", "send, receive, reject or drop"),
    ("ts", "float64", "time (seconds)"),
    ("message", "string", "`Protocol/message` (or the bare name the log gives)"),
    ("sender", "string", "the sending role"),
    ("recipients", "string", "the receiving roles, comma-separated"),
    ("agent", "string", "the agent that sent (send, reject, drop) or received (receive)"),
    ("enactment", "string", "the enactment it belongs to (NA when it matches none the audit reported)"),
    ("id", "string", "the message id (a receive names its send's id; NA when the log has none)"),
    _META[0],
)

#: frame name -> its columns
FRAMES: dict[str, tuple[Column, ...]] = {"findings": FINDINGS, "enactments": ENACTMENTS,
                                         "decisions": DECISIONS, "events": EVENTS}

#: category column -> its fixed categories (others take the values present)
CATEGORIES: dict[str, tuple[str, ...]] = {
    "code": CODE_VALUES, "family": FAMILY_VALUES, "mode": MODE_VALUES, "severity": SEVERITY_VALUES,
    "status": STATUS_VALUES, "outcome": OUTCOME_VALUES, "agent_kind": KIND_VALUES, "kind": EVENT_VALUES,
    "policy": POLICY_VALUES,
}
#: ordered categories
ORDERED = frozenset({"severity", "policy"})

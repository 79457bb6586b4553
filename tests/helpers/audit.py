"""Helpers for audit tests: write native JSONL logs and audit them (real files, no mocks)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from protoverify.auditor.driver import AuditResult, audit
from tests.helpers.paths import REPO

PURCHASE = REPO / "specs" / "purchase.bspl"

B, S, H = "Buyer", "Seller", "Shipper"


def ev(kind: str, message: str, sender: str, recipients: list[str], bindings: dict[str, Any],
       **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "message": message, "sender": sender, "recipients": recipients,
            "bindings": bindings, **extra}


def send(message: str, bindings: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A send with the roles the Purchase spec gives `message`."""
    roles = {"rfq": (B, [S]), "quote": (S, [B]), "accept": (B, [S]), "reject": (B, [S]),
             "ship": (S, [H]), "deliver": (H, [B])}[message.split("/")[-1]]
    return ev("send", message, roles[0], list(roles[1]), bindings, **extra)


def receive(message: str, bindings: dict[str, Any], **extra: Any) -> dict[str, Any]:
    e = send(message, bindings, **extra)
    e["kind"] = "receive"
    return e


def happy(o: str = "o1", run: str | None = None) -> list[dict[str, Any]]:
    """One complete, conformant Purchase enactment (accept path)."""
    extra = {"run": run} if run else {}
    return [
        send("rfq", {"orderID": o, "item": "pen"}, **extra),
        send("quote", {"orderID": o, "item": "pen", "price": 10}, **extra),
        send("accept", {"orderID": o, "item": "pen", "price": 10, "address": "A", "decision": "yes"}, **extra),
        send("ship", {"orderID": o, "item": "pen", "address": "A", "shipment": "s1"}, **extra),
        send("deliver", {"orderID": o, "item": "pen", "shipment": "s1", "outcome": "ok"}, **extra),
    ]


def write(path: Path, records: list[Any]) -> Path:
    """One JSON line per record; a str record is written verbatim (corrupt lines)."""
    with open(path, "wb") as f:
        for r in records:
            f.write((r.encode() if isinstance(r, str) else orjson.dumps(r)) + b"\n")
    return path


def run(tmp_path: Path, records: list[Any], spec: Path = PURCHASE, **kw: Any) -> AuditResult:
    return audit(spec, [write(tmp_path / "log.jsonl", records)], **kw)


def codes(result: AuditResult) -> list[str]:
    return [f.code for f in result]


def at(result: AuditResult, code: str) -> list[int | None]:
    return [f.line for f in result if f.code == code]

"""A scripted OpenAI-compatible chat server on 127.0.0.1 (standard library only).

`POST /v1/chat/completions` answers from a script of replies, then, when the
script is used up, like a careful model: option 1 with every FILL parameter
filled. TCP_NODELAY is set on every accepted socket (else each small reply
waits for the peer's delayed ACK).
"""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_OPTION = re.compile(r"^  (\d+)\. (\S+) to .*?(?:\[FILL: ([^\]]*)\])?$", re.M)
VALUES = {"task": "translate:doc", "bid": 120, "verdict": "accept", "award": "a1", "result": "done",
          "outcome": "done"}


def careful(prompt: str, n: int) -> str:
    """Option 1 with each FILL parameter given a plain value (fresh ones, numbered `n`, for others)."""
    m = _OPTION.search(prompt)
    if m is None:
        return json.dumps({"choice": None})
    fill = [p.strip() for p in (m.group(3) or "").split(",") if p.strip()]
    return json.dumps({"choice": int(m.group(1)), "params": {p: VALUES.get(p, f"v-{p}-{n}") for p in fill}})


@dataclass
class Script:
    """Replies in order: ("text", body) | ("status", code) | ("slow", seconds) | ("careful", None)."""

    steps: list[tuple[str, Any]]
    requests: int = 0
    statuses: list[int] = field(default_factory=list)
    auth: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> tuple[str, Any]:
        with self.lock:
            self.requests += 1
            return self.steps.pop(0) if self.steps else ("careful", None)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    script: Script

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, addr


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if code == 429:
            self.send_header("Retry-After", "0")
        self.server.script.statuses.append(code)
        try:
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up waiting (the slow reply)
            self.close_connection = True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        req = json.loads(self.rfile.read(length))
        script = self.server.script
        script.auth.add(self.headers.get("Authorization", ""))
        if self.path != "/v1/chat/completions":
            self._answer(404, {"error": {"message": "not found"}})
            return
        kind, arg = script.next()
        prompt = req["messages"][1]["content"]
        if kind == "status":
            self._answer(arg, {"error": {"message": "try later", "type": "rate_limit"}})
            return
        if kind == "slow":
            time.sleep(arg)
        text = arg if kind == "text" else careful(prompt, script.requests)
        self._answer(200, {"id": "c1", "object": "chat.completion", "created": 0, "model": req["model"],
                           "choices": [{"index": 0, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": text}}],
                           "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(text) // 4,
                                     "total_tokens": (len(prompt) + len(text)) // 4}})


class ChatServer:
    """The server in a daemon thread; `url` is the base URL for the openai client."""

    def __init__(self, script: Script) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.script = script
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

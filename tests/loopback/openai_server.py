"""A small OpenAI-compatible chat-completions server on 127.0.0.1, standing in for OpenAI (or vLLM,
llama.cpp, Ollama) in tests.

It records every request it gets and answers from a script. Extraction requests - the ones asking for
``response_format: json_object``, as mem0's fact extraction does - have their own script, so a test can
script the conversation and the extraction separately. An empty script answers harmlessly.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Kind = Literal["chat", "extraction"]
DEFAULT_CHAT_ANSWER = "Noted."
DEFAULT_EXTRACTION = '{"memory": []}'


@dataclass(frozen=True)
class Step:
    """One scripted response: after ``delay`` seconds, ``status`` with either a completion whose
    message is ``content`` or, when ``raw`` is set, exactly that body."""

    status: int = 200
    content: str | None = None
    raw: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def answer(text: str) -> Step:
    return Step(content=text)


def extracted(*facts: str) -> Step:
    """What mem0's extraction prompt asks the model for: ``{"memory": [{"id", "text"}, ...]}``."""
    memory = [{"id": str(number), "text": fact} for number, fact in enumerate(facts)]
    return Step(content=json.dumps({"memory": memory}))


def failure(status: int, *, retry_after: str | None = "0.01") -> Step:
    """An error status. ``retry_after`` (seconds) keeps the client's retries quick; None sends none."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    body = json.dumps({"error": {"message": "scripted failure", "type": "server_error", "code": status}})
    return Step(status=status, raw=body, headers=headers)


def stall(seconds: float) -> Step:
    """An answer that comes only after ``seconds``."""
    return Step(content=DEFAULT_CHAT_ANSWER, delay=seconds)


def raw(body: str) -> Step:
    """A 200 whose body is exactly ``body`` (for malformed responses)."""
    return Step(raw=body)


@dataclass(frozen=True)
class Received:
    kind: Kind
    body: dict[str, Any]
    headers: dict[str, str]  # names in lower case

    @property
    def messages(self) -> list[dict[str, str]]:
        return self.body["messages"]

    @property
    def text(self) -> str:
        """Everything the request carried, decoded, for "does X appear anywhere" checks."""
        return json.dumps(self.body, ensure_ascii=False)


def _completion(model: str, content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class FakeOpenAI:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._scripts: dict[Kind, deque[Step]] = {"chat": deque(), "extraction": deque()}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, kind: Kind, *steps: Step) -> None:
        with self._lock:
            self._scripts[kind].extend(steps)

    def requests(self, kind: Kind) -> list[Received]:
        with self._lock:
            return [request for request in self.received if request.kind == kind]

    def close(self) -> None:
        self._closing.set()  # cuts every stalled response short
        self._server.shutdown()
        self._server.server_close()

    def _take(self, body: dict[str, Any], headers: dict[str, str]) -> Step:
        kind: Kind = "extraction" if body.get("response_format") == {"type": "json_object"} else "chat"
        with self._lock:
            self.received.append(Received(kind, body, headers))
            if self._scripts[kind]:
                return self._scripts[kind].popleft()
        return answer(DEFAULT_CHAT_ANSWER if kind == "chat" else DEFAULT_EXTRACTION)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, json.dumps({"error": {"message": "not found"}}), {})
                    return
                step = fake._take(body, {name.lower(): value for name, value in self.headers.items()})
                if step.delay and fake._closing.wait(step.delay):
                    return
                if step.raw is not None:
                    payload = step.raw
                else:
                    payload = json.dumps(_completion(body.get("model", ""), step.content or ""))
                self._send(step.status, payload, step.headers)

            def _send(self, status: int, payload: str, headers: dict[str, str]) -> None:
                data = payload.encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as it should

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler

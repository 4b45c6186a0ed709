"""A local stand-in for CloudFormation's ResponseURL (a presigned S3 URL), for end-to-end tests.

A threaded ``http.server`` on 127.0.0.1 (port 0: the OS picks a free one) that records every
request exactly as it arrived (method, raw path and query from the request line, headers in order,
body) and answers each path from a script of actions: a status (optionally after a delay), or
closing the connection without any answer. The last action of a script repeats, so ``[500, 200]``
means "first 500, then 200 for ever" and ``[403]`` means "always 403".

Usage::

    with ResponseReceiver() as receiver:
        url = receiver.url_for("StreamEncryption", script=[500, 200])
        ...  # something PUTs to url
        [first, second] = receiver.requests_for(url)

``url_for`` builds a URL shaped like CloudFormation's: the path is the percent-encoded
``<stack ARN>|<logical id>|<request id>`` and the query carries SigV4 presign parameters with a
fake, random signature, so tests can check that a client PUTs to exactly the string it was given and
never prints the query or the signature.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import quote, urlsplit

DEFAULT_STACK_ID = (
    "arn:aws:cloudformation:us-east-1:123456789012:stack/orders-encryption/"
    "1f2e3d4c-5b6a-11ef-8a9b-0a1b2c3d4e5f"
)
FAKE_ACCESS_KEY_ID = "ASIAQEXAMPLERECEIVER"  # shaped like a session key id; not a credential
S3_ACCESS_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Request has expired</Message><RequestId>4QZ8R3Y0K9E2HQ1B</RequestId></Error>"
)
S3_INTERNAL_ERROR = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
    b"<Message>We encountered an internal error. Please try again.</Message></Error>"
)


# -- scripted answers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Respond:
    """Answer with ``status`` (after ``delay`` seconds). ``body`` defaults to what S3 sends."""

    status: int
    delay: float = 0.0
    body: bytes | None = None

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body
        if self.status >= 500:
            return S3_INTERNAL_ERROR
        if self.status >= 400:
            return S3_ACCESS_DENIED
        return b""


@dataclass(frozen=True)
class Close:
    """Read the request, then close the connection without answering (after ``delay``)."""

    delay: float = 0.0


Action = Respond | Close
ScriptItem = Action | int


def _action(item: ScriptItem) -> Action:
    if isinstance(item, int):
        return Respond(item)
    if isinstance(item, Respond | Close):
        return item
    raise TypeError(f"not a receiver action: {item!r}")


# -- what was received -----------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request as it arrived. ``target`` is the raw path+query from the request line."""

    method: str
    target: str
    http_version: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    received_at: float
    action: Action
    sequence: int = 0  # 1-based arrival order, set when recorded

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    @property
    def status(self) -> int | None:
        """The status answered, or None when the connection was closed without an answer."""
        return self.action.status if isinstance(self.action, Respond) else None

    @property
    def accepted(self) -> bool:
        status = self.status
        return status is not None and 200 <= status < 300

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), None when absent."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)
    requests: list[RecordedRequest] = field(default_factory=list)
    scripts: dict[str, list[Action]] = field(default_factory=dict)
    served: dict[str, int] = field(default_factory=dict)
    default: list[Action] = field(default_factory=lambda: [Respond(200)])
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    def next_action(self, path: str) -> Action:
        with self.lock:
            script = self.scripts.get(path, self.default)
            index = self.served.get(path, 0)
            self.served[path] = index + 1
            return script[min(index, len(script) - 1)]

    def record(self, request: RecordedRequest) -> None:
        with self.changed:
            self.requests.append(replace(request, sequence=len(self.requests) + 1))
            self.changed.notify_all()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_PUT(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def _handle(self) -> None:
        state = self.server.state
        body = self._read_body()
        received_at = time.monotonic()
        action = state.next_action(self.path.partition("?")[0])
        if action.delay and state.stopping.wait(action.delay):
            action = Close()  # shutting down: do not keep the client (or the test) waiting
        state.record(
            RecordedRequest(
                method=self.command,
                target=self.path,
                http_version=self.request_version,
                headers=tuple(self.headers.items()),
                body=body,
                received_at=received_at,
                action=action,
            )
        )
        if isinstance(action, Close):
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        payload = b"" if self.command == "HEAD" else action.payload()
        self.send_response(action.status)
        if payload:
            self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amz-request-id", secrets.token_hex(8).upper())
        self.send_header("Connection", "close")
        self.end_headers()
        if payload:
            self.wfile.write(payload)
        self.close_connection = True

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the default writes every request line (with its query) to stderr."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # the default listen backlog of 5 resets bursts of connections
    state: _State


# -- the receiver ----------------------------------------------------------------------------


class ResponseReceiver:
    """A scripted, recording HTTP endpoint on loopback; use as a context manager."""

    def __init__(self, default: Sequence[ScriptItem] = (200,), host: str = "127.0.0.1") -> None:
        self._state = _State()
        self.set_default(default)
        self._host = host
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> ResponseReceiver:
        if self._server is not None:
            raise RuntimeError("the receiver is already running")
        self._state.stopping.clear()
        server = _Server((self._host, 0), _Handler)
        server.state = self._state
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="response-receiver",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._state.stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> ResponseReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the receiver is not running")
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}"

    # scripts

    def set_default(self, script: Sequence[ScriptItem]) -> None:
        """How paths without a script of their own are answered."""
        actions = [_action(item) for item in script]
        if not actions:
            raise ValueError("a script needs at least one action")
        with self._state.lock:
            self._state.default = actions

    def script(self, url_or_path: str, script: Sequence[ScriptItem]) -> None:
        """Answers for one path, in order; the last one repeats. Resets that path's count."""
        actions = [_action(item) for item in script]
        if not actions:
            raise ValueError("a script needs at least one action")
        path = _path_of(url_or_path)
        with self._state.lock:
            self._state.scripts[path] = actions
            self._state.served.pop(path, None)

    def url_for(
        self,
        name: str = "StreamEncryption",
        *,
        stack_id: str = DEFAULT_STACK_ID,
        request_id: str | None = None,
        script: Sequence[ScriptItem] | None = None,
    ) -> str:
        """A presigned-looking URL: percent-encoded ``<stack>|<name>|<request id>`` path and a
        query with SigV4 parameters and a random fake signature (unique per call)."""
        request_id = request_id or str(uuid.uuid4())
        resource = quote(f"{stack_id}|{name}|{request_id}", safe="/")
        url = f"{self.base_url}/{resource}?{presigned_query()}"
        if script is not None:
            self.script(url, script)
        return url

    # records

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    def requests_for(self, url_or_path: str) -> list[RecordedRequest]:
        path = _path_of(url_or_path)
        return [request for request in self.requests if request.path == path]

    def clear(self) -> None:
        """Forget recorded requests, scripts and counts (the default script stays)."""
        with self._state.lock:
            self._state.requests.clear()
            self._state.scripts.clear()
            self._state.served.clear()

    def wait_for(
        self, count: int, *, url_or_path: str | None = None, timeout: float = 10.0
    ) -> list[RecordedRequest]:
        """Block until at least ``count`` requests (for one path, if given) have been recorded."""
        path = _path_of(url_or_path) if url_or_path is not None else None
        deadline = time.monotonic() + timeout

        def matching() -> list[RecordedRequest]:
            return [r for r in self._state.requests if path is None or r.path == path]

        with self._state.changed:
            while len(found := matching()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(found)} of {count} requests arrived in {timeout} s")
                self._state.changed.wait(left)
            return list(found)


def presigned_query(
    *,
    region: str = "us-east-1",
    signature: str | None = None,
    date: str | None = None,
    expires: int = 7200,
) -> str:
    """The query string of an S3 presigned PUT URL (parameter order as CloudFormation's)."""
    signature = signature or secrets.token_hex(32)
    stamp = date or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    credential = quote(f"{FAKE_ACCESS_KEY_ID}/{stamp[:8]}/{region}/s3/aws4_request", safe="")
    return "&".join(
        [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            f"X-Amz-Date={stamp}",
            "X-Amz-SignedHeaders=host",
            f"X-Amz-Expires={expires}",
            f"X-Amz-Credential={credential}",
            f"X-Amz-Signature={signature}",
        ]
    )


def secrets_of(url: str) -> list[str]:
    """The parts of a ResponseURL that must never be printed: the URL, its query, its signature."""
    query = urlsplit(url).query
    found = [url, query]
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key == "X-Amz-Signature" and value:
            found.append(value)
    return [part for part in found if part]


def request_target(url: str) -> str:
    """The raw path and query of ``url``: what must appear, unchanged, in the request line.

    Not urlsplit(): it would be fine, but keep it byte-for-byte without any parsing.
    """
    rest = url.split("://", 1)[1]
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else "/"


def _path_of(url_or_path: str) -> str:
    is_url = url_or_path.startswith(("http://", "https://"))
    return (request_target(url_or_path) if is_url else url_or_path).partition("?")[0]

"""A real HTTP server on 127.0.0.1 that serves feeds the way tests tell it to.

Each route is a :class:`Route`: a body (or a callable making one), a status,
headers, optional gzip, ETag/Last-Modified validation, slow "dribbling", and a
request log, so tests can check what the poller sent (User-Agent, If-None-Match).
Used by the integration tests and the benchmark; nothing here is mocked.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes | Callable[[], bytes] = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str = ""
    last_modified: str = ""
    gzip: bool = False
    raw_gzip_body: bytes | None = None  # pre-compressed bytes sent as-is with Content-Encoding: gzip
    dribble_delay: float = 0.0  # seconds between single bytes
    send_content_length: bool = True


@dataclass
class SeenRequest:
    path: str
    headers: dict[str, str]


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Without this, Nagle's algorithm and delayed ACKs add ~40 ms to each
                # response whose body follows its headers in a second write.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(SeenRequest(self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = server.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    self._send(404, b"not found", {"Content-Type": "text/plain"})
                    return
                server._serve(self, route)

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, route: Route | None = None, **kwargs: object) -> str:
        self.routes[path] = route or Route(**kwargs)  # type: ignore[arg-type]
        return self.url(path)

    def requests_to(self, path: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.path == path]

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _serve(self, handler: BaseHTTPRequestHandler, route: Route) -> None:
        request_headers = {k.lower(): v for k, v in handler.headers.items()}
        if route.status == 200 and route.etag and request_headers.get("if-none-match") == route.etag:
            self._respond(handler, 304, b"", {"ETag": route.etag}, route)
            return
        if (
            route.status == 200
            and route.last_modified
            and not route.etag
            and request_headers.get("if-modified-since") == route.last_modified
        ):
            self._respond(handler, 304, b"", {"Last-Modified": route.last_modified}, route)
            return
        body = route.body() if callable(route.body) else route.body
        headers = {"Content-Type": route.content_type, **route.headers}
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        if route.raw_gzip_body is not None:
            body = route.raw_gzip_body
            headers["Content-Encoding"] = "gzip"
        elif route.gzip and "gzip" in request_headers.get("accept-encoding", ""):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        self._respond(handler, route.status, body, headers, route)

    def _respond(
        self, handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str], route: Route
    ) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        if route.send_content_length or status == 304:
            handler.send_header("Content-Length", str(len(body)))
        else:
            handler.send_header("Connection", "close")
        handler.end_headers()
        try:
            if route.dribble_delay:
                for index in range(len(body)):
                    handler.wfile.write(body[index : index + 1])
                    handler.wfile.flush()
                    time.sleep(route.dribble_delay)
            else:
                handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the poller gave up, as it should
        if not route.send_content_length:
            handler.close_connection = True

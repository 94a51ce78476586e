"""Fetch a feed over HTTP, politely and defensively. No ORM here.

feedparser can fetch URLs itself, but without timeouts, size limits or an address
guard, so the tracker fetches with httpx and hands feedparser only the bytes
(:mod:`tracker.parsing`). What this module guarantees for one :func:`fetch`:

* connect, per-read and total timeouts (a server dribbling bytes hits the total);
* a body cap enforced while streaming, on the compressed *and* the decompressed
  size, with our own bounded gzip/deflate decoder (a gzip bomb stops at the cap);
* conditional GET with the stored ETag/Last-Modified sent back verbatim;
* redirects followed by hand, at most ``max_redirects``, loops detected, and the
  target of an all-permanent chain reported so the caller can adopt it later;
* every connection checked *after* DNS resolution: unless allowed, addresses that
  are not globally routable (private, loopback, link-local, shared, reserved,
  multicast) are refused, and the socket connects to the address that was checked.

Transport problems raise :class:`FetchError` subclasses whose ``str()`` is a message
for a person; any HTTP response, including 4xx/5xx, is returned as a
:class:`FetchResult` for the caller to judge.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECT_STATUSES = frozenset({301, 308})
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)


@dataclass(frozen=True)
class FetchPolicy:
    """The knobs of one fetch; services build it from ``TRACKER_*`` settings."""

    user_agent: str
    max_body_bytes: int = 15 * 1024 * 1024
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_redirects: int = 5
    allow_private_addresses: bool = False


@dataclass
class FetchResult:
    status_code: int
    url: str  # the URL that finally answered, after redirects
    headers: dict[str, str]
    body: bytes | None  # None unless the status is 200
    bytes_received: int  # on the wire, before decompression
    permanent_redirect: str | None = None  # target of an all-permanent redirect chain
    redirects: list[str] = field(default_factory=list)

    @property
    def etag(self) -> str:
        return self.headers.get("etag", "")

    @property
    def last_modified(self) -> str:
        return self.headers.get("last-modified", "")


class FetchError(Exception):
    """A fetch that produced no HTTP response worth judging. ``str()`` is for people."""


class BlockedAddressError(FetchError):
    pass


class BodyTooLargeError(FetchError):
    pass


class FetchTimeoutError(FetchError):
    pass


class TooManyRedirectsError(FetchError):
    pass


class ConnectionFailedError(FetchError):
    pass


class ContentDecodingError(FetchError):
    pass


_NAT64_PREFIXES = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_NEVER_PUBLIC_V6 = (
    ipaddress.IPv6Network("fec0::/10"),  # deprecated site-local
    ipaddress.IPv6Network("::/96"),  # deprecated IPv4-compatible
)


def address_is_public(address: str) -> bool:
    """True for globally routable unicast addresses.

    IPv6 forms that carry an IPv4 address (IPv4-mapped, 6to4, NAT64) are judged by
    that IPv4 address, so ``64:ff9b::a9fe:a9fe`` is the metadata address it is.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in network for network in _NEVER_PUBLIC_V6):
            return False
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and any(ip in network for network in _NAT64_PREFIXES):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_is_public(str(embedded))
    return ip.is_global and not ip.is_multicast


# The monotonic time by which the current fetch must be done. Every socket operation
# of the fetch (connect, TLS, request, status line, headers, body) gets at most what
# is left, so a server dribbling its headers is cut off like one dribbling its body.
_deadline: ContextVar[float | None] = ContextVar("fetch_deadline", default=None)


def _remaining(timeout: float | None) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the fetch's total time limit has passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read and write honours the fetch's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _remaining(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, _remaining(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


# getaddrinfo() has no timeout of its own; lookups run here so a slow resolver is
# bounded by the fetch's deadline. A timed-out lookup finishes in the background.
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="feed-dns")


def _resolve(host: str, port: int, *, timeout: float | None) -> list[Any]:
    future = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        return future.result(timeout=timeout)
    except FuturesTimeout:
        raise FetchTimeoutError(f"Looking up {host!r} took too long.") from None
    except socket.gaierror as exc:
        raise ConnectionFailedError(f"Could not resolve host {host!r}: {exc.strerror}.") from None
    except UnicodeError:  # a label IDNA cannot encode (too long, or empty)
        raise ConnectionFailedError(f"{host!r} is not a valid host name.") from None


class GuardedNetworkBackend(httpcore.SyncBackend):
    """Resolves the host itself, refuses non-public addresses, connects to a checked one.

    Connecting to the address we checked (not re-resolving) closes the DNS
    rebinding gap between check and connect. TLS still verifies the original host
    name: httpcore passes it separately as the SNI/server name.
    """

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        infos = _resolve(host, port, timeout=_remaining(timeout))
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        if not self.allow_private:
            blocked = [a for a in addresses if not address_is_public(str(a))]
            if blocked:
                raise BlockedAddressError(
                    f"Refused to connect to {host!r}: it resolves to {blocked[0]}, which is "
                    "not a public address (private, loopback, link-local or reserved). "
                    "Set TRACKER_ALLOW_PRIVATE_ADDRESSES=1 only for tests and local demos."
                )
        last_error: Exception | None = None
        for address in addresses:
            try:
                stream = super().connect_tcp(str(address), port, _remaining(timeout), local_address, socket_options)
                return DeadlineStream(stream)
            except httpcore.ConnectError as exc:
                last_error = exc
        raise ConnectionFailedError(f"Could not connect to {host}:{port}: {last_error}.")


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with :class:`GuardedNetworkBackend` underneath."""

    def __init__(self, *, allow_private: bool) -> None:
        context = tls_context()
        super().__init__(verify=context, retries=0)  # given a context, httpx builds none of its own
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_connections=10,
            max_keepalive_connections=5,
            http1=True,
            network_backend=GuardedNetworkBackend(allow_private=allow_private),
        )


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The certificate-verifying TLS context every fetch shares, built once per process.

    Loading the CA bundle costs about 25 ms of CPU: per poll, that was a third of
    a poll's cost (``make bench-scale``). A context is safe to share between clients
    and threads once configured, and nothing configures it after this.
    """
    return httpx.create_ssl_context()


class BoundedDecoder:
    """Decodes a Content-Encoding stream without ever holding more than ``limit`` bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.encoding = encoding
        self.limit = limit
        self.produced = 0
        self._zlib: Any = None
        if encoding in {"gzip", "x-gzip"}:
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = None  # zlib-wrapped or raw: decided on the first chunk
        elif encoding not in {"", "identity"}:
            raise ContentDecodingError(f"The server used an unsupported Content-Encoding: {encoding!r}.")

    def decode(self, chunk: bytes) -> bytes:
        if self.encoding in {"", "identity"}:
            return self._count(chunk)
        if self._zlib is None:  # deflate
            wbits = zlib.MAX_WBITS if chunk[:1] and (chunk[0] & 0x0F) == 8 else -zlib.MAX_WBITS
            self._zlib = zlib.decompressobj(wbits)
        out = bytearray()
        pending = chunk
        try:
            while pending:
                room = self.limit - self.produced - len(out)
                part = self._zlib.decompress(pending, max(room, 0) + 1)
                out += part
                self._check(len(out))
                pending = self._zlib.unconsumed_tail
                if not part and pending:
                    break
        except zlib.error as exc:
            raise ContentDecodingError(f"The {self.encoding} body could not be decoded: {exc}.") from None
        return self._count(bytes(out))

    def _check(self, pending: int) -> None:
        if self.produced + pending > self.limit:
            raise BodyTooLargeError(
                f"The feed is larger than the {self.limit:,} byte limit once decompressed; stopped reading."
            )

    def _count(self, data: bytes) -> bytes:
        self._check(len(data))
        self.produced += len(data)
        return data


def fetch(
    url: str,
    *,
    policy: FetchPolicy,
    etag: str = "",
    last_modified: str = "",
    client: httpx.Client | None = None,
) -> FetchResult:
    """GET ``url`` under ``policy``; see the module docstring for the guarantees."""
    deadline = time.monotonic() + policy.total_timeout
    headers = {
        "User-Agent": policy.user_agent,
        "Accept": ACCEPT,
        "Accept-Encoding": "gzip, deflate",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    owns_client = client is None
    if client is None:
        client = build_client(policy)
    deadline_token = _deadline.set(deadline)
    try:
        return _follow(client, url, headers=headers, policy=policy, deadline=deadline)
    finally:
        _deadline.reset(deadline_token)
        if owns_client:
            client.close()


def build_client(policy: FetchPolicy) -> httpx.Client:
    """A client that can be shared by many fetches with the same policy."""
    return httpx.Client(
        transport=GuardedTransport(allow_private=policy.allow_private_addresses),
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(
            connect=policy.connect_timeout,
            read=policy.read_timeout,
            write=policy.read_timeout,
            pool=policy.connect_timeout,
        ),
    )


def _follow(
    client: httpx.Client, url: str, *, headers: dict[str, str], policy: FetchPolicy, deadline: float
) -> FetchResult:
    seen = [url]
    all_permanent = True
    current = url
    for _hop in range(policy.max_redirects + 1):
        scheme = checked_url(current, redirected=len(seen) > 1).scheme
        if scheme not in {"http", "https"}:
            raise FetchError(f"Only http and https feeds can be fetched, not {scheme or 'this'} URL {current!r}.")
        result = _request(client, current, headers=headers, policy=policy, deadline=deadline)
        if result.status_code not in REDIRECT_STATUSES or "location" not in result.headers:
            result.redirects = seen[1:]
            if len(seen) > 1 and all_permanent:
                result.permanent_redirect = current
            return result
        all_permanent = all_permanent and result.status_code in PERMANENT_REDIRECT_STATUSES
        try:
            target = str(httpx.URL(current).join(result.headers["location"]))
        except httpx.InvalidURL as exc:
            location = result.headers["location"]
            raise FetchError(f"The server redirected to {location!r}, not a valid URL: {exc}.") from None
        if target in seen:
            raise TooManyRedirectsError(f"Redirect loop: {' -> '.join([*seen[seen.index(target) :], target])}.")
        seen.append(target)
        current = target
    raise TooManyRedirectsError(f"More than {policy.max_redirects} redirects, starting at {url} (last: {current}).")


def checked_url(url: str, *, redirected: bool = False) -> httpx.URL:
    """``url`` parsed, or :class:`FetchError` saying why it cannot be fetched (a bad host or port)."""
    where = "The server redirected to" if redirected else "The URL"
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FetchError(f"{where} {url!r} is not a valid URL: {exc}.") from None
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise FetchError(f"{where} {url!r} is not a valid URL: port {parsed.port} is out of range.")
    return parsed


def _request(
    client: httpx.Client, url: str, *, headers: dict[str, str], policy: FetchPolicy, deadline: float
) -> FetchResult:
    try:
        with client.stream("GET", url, headers=headers) as response:
            response_headers = {k.lower(): v for k, v in response.headers.items()}
            received = 0
            if response.status_code != 200:
                return FetchResult(response.status_code, url, response_headers, None, 0)
            declared = response_headers.get("content-length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > policy.max_body_bytes:
                raise BodyTooLargeError(
                    f"The feed declares {int(declared):,} bytes, over the "
                    f"{policy.max_body_bytes:,} byte limit; not downloaded."
                )
            decoder = BoundedDecoder(
                response_headers.get("content-encoding", "").strip().lower(), policy.max_body_bytes
            )
            parts: list[bytes] = []
            # No chunk_size: httpx would buffer up to it, and a server dribbling a small
            # body would then never reach the deadline check below.
            for chunk in response.iter_raw():
                received += len(chunk)
                if received > policy.max_body_bytes:
                    raise BodyTooLargeError(
                        f"The feed is larger than the {policy.max_body_bytes:,} byte limit; stopped reading."
                    )
                parts.append(decoder.decode(chunk))
                if time.monotonic() > deadline:
                    raise FetchTimeoutError(
                        f"The server took longer than {policy.total_timeout:g} s to send the feed "
                        f"({received:,} bytes received); gave up."
                    )
            return FetchResult(200, url, response_headers, b"".join(parts), received)
    except httpx.TimeoutException as exc:
        if time.monotonic() >= deadline:
            raise FetchTimeoutError(
                f"The server at {httpx.URL(url).host} took longer than {policy.total_timeout:g} s in all; gave up."
            ) from None
        kind = type(exc).__name__.replace("Timeout", " timeout").lower()
        raise FetchTimeoutError(f"The server at {httpx.URL(url).host} did not answer in time ({kind}).") from None
    except httpx.TransportError as exc:
        raise ConnectionFailedError(f"Could not fetch {url}: {exc or type(exc).__name__}.") from None


def post_json(url: str, *, body: bytes, headers: dict[str, str], policy: FetchPolicy) -> tuple[int, str]:
    """POST a JSON body through the same guarded transport as feeds (address guard,
    timeouts, no redirects followed). Returns (status code, first 500 characters of the answer).

    Raises :class:`FetchError` for transport problems, with a message for people.
    """
    checked_url(url)
    deadline = time.monotonic() + policy.total_timeout
    token = _deadline.set(deadline)
    try:
        with build_client(policy) as client:
            response = client.post(
                url,
                content=body,
                headers={"User-Agent": policy.user_agent, "Content-Type": "application/json", **headers},
            )
            return response.status_code, response.text[:500]
    except httpx.TimeoutException:
        raise FetchTimeoutError(f"{httpx.URL(url).host} did not answer within {policy.total_timeout:g} s.") from None
    except httpx.TransportError as exc:
        raise ConnectionFailedError(f"Could not reach {url}: {exc or type(exc).__name__}.") from None
    finally:
        _deadline.reset(token)

"""The meeting server's doors: headers, body size, hosts, origins, the token and its cookie.

Plain ASGI middleware and small functions, each with one job, so that
:func:`allocator.web.app.create_app` only puts them in order:

* :class:`SecurityHeaders`: every answer carries a Content-Security-Policy (no script
  at all; the page's one style block by its hash), frame refusal, ``no-store``,
  ``nosniff`` and a same-origin referrer policy;
* :class:`BodyLimit`: a request body above the limit is refused with 413 as soon as
  its declared length, or the bytes read so far, pass it, never read whole;
* :class:`AllowedHosts`: only the expected ``Host`` names are served (no DNS
  rebinding), IPv6 literals included (``[::1]:8000``);
* :func:`check_token`, :func:`session_value`: a token's minimum, and the cookie's value
  derived from it (an HMAC), never the token itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from contextlib import suppress
from typing import Any

from allocator.contract.models import CONTROL_CHARACTERS
from allocator.meeting.overrides import a_person, character_kind

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The largest request body accepted by default (bytes): a form or an override is a
#: few hundred bytes; the limit is there so that no body is read whole into memory.
MAX_BODY = 1_000_000
#: Shortest token accepted (characters, printable ASCII).
MIN_TOKEN = 16
#: How long the session cookie lasts (seconds): a working day.
SESSION_SECONDS = 12 * 3600
#: The deepest JSON accepted in a body (arrays and objects nested).
MAX_JSON_DEPTH = 32


def style_hash(css: str) -> str:
    """The CSP source for one ``<style>`` block's text: ``'sha256-...'``."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"


def content_security_policy(styles: Iterable[str]) -> str:
    """Nothing but this server's own forms, links and the given style blocks: no
    script, no frame, no object, no base, nothing loaded from elsewhere."""
    hashes = " ".join(style_hash(css) for css in styles)
    return (
        "default-src 'none'; "
        f"style-src {hashes}; "
        "img-src 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'; "
        "base-uri 'none'"
    )


class SecurityHeaders:
    """Add the security headers to every answer (errors and refusals included).

    ``Referrer-Policy: same-origin``, not ``no-referrer``: with ``no-referrer`` a
    browser sends ``Origin: null`` on the page's own form posts, and the server
    refuses a form whose origin it cannot check. ``same-origin`` sends nothing to any
    other site (the page links to none) and keeps that check.
    """

    def __init__(self, app: ASGIApp, *, csp: str) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"cache-control", b"no-store"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {self_name for self_name, _ in self.headers}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + self.headers
            await send(message)

        await self.app(scope, receive, with_headers)


class HeadAsGet:
    """Answer ``HEAD`` as ``GET`` without the body (RFC 9110: a server that answers GET
    answers HEAD): ``curl -I`` and link checkers see the status and the headers the
    page would have, not 405. Nothing else changes: a HEAD runs what the GET runs,
    and every route it reaches only reads."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse a request body above ``limit`` bytes with 413, before it is read whole.

    A declared ``Content-Length`` above the limit is refused at once; a body sent in
    chunks is counted as it arrives and refused when the count passes the limit.
    """

    def __init__(self, app: ASGIApp, *, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_big = f"the request body is larger than {self.limit} bytes"
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _refuse(send, 400, "Content-Length is not a number")
                    return
                if declared > self.limit:
                    await _refuse(send, 413, too_big)
                    return
        seen = 0
        started = over = False

        async def counted() -> Message:
            nonlocal seen, started, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # Answer now, and tell the app the client is gone: it stops reading.
                    over = True
                    if not started:
                        started = True
                        await _refuse(send, 413, too_big)
                    return {"type": "http.disconnect"}
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if over:
                return  # the 413 is the answer
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except Exception:
            if not over:
                raise  # the app's own failure; a body cut off is answered already


def host_of(header: str) -> str:
    """The host name of a ``Host`` header, without its port, lower case.

    >>> host_of("[::1]:8000"), host_of("Example.org:80"), host_of("127.0.0.1")
    ('[::1]', 'example.org', '127.0.0.1')
    """
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        return header[: end + 1] if end > 0 else ""
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def host_name(host: str) -> str:
    """A host as a ``Host`` header names it, without a port: an IPv6 literal in brackets.

    >>> host_name("::1"), host_name("localhost"), host_name("Alloc.example:8443")
    ('[::1]', 'localhost', 'alloc.example')
    """
    import ipaddress

    host = host.strip().lower()
    if host.startswith("["):
        return host_of(host)
    try:
        return f"[{ipaddress.IPv6Address(host)}]"
    except ValueError:
        return host_of(host)


class AllowedHosts:
    """Serve only requests whose ``Host`` names one of ``hosts`` (400 otherwise)."""

    def __init__(self, app: ASGIApp, *, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = {host_name(h) for h in hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            header = next((v for k, v in scope.get("headers", []) if k == b"host"), b"")
            if host_of(header.decode("latin-1")) not in self.hosts:
                await _refuse(send, 400, "invalid host header")
                return
        await self.app(scope, receive, send)


_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")


def check_token(token: str) -> str:
    """``token`` if it is at least :data:`MIN_TOKEN` printable ASCII characters (no
    space); otherwise a :class:`ValueError` saying what a token must be."""
    if len(token) < MIN_TOKEN or _PRINTABLE_ASCII.fullmatch(token) is None:
        raise ValueError(
            f"a token must be at least {MIN_TOKEN} printable ASCII characters, no spaces "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(24))')"
        )
    return token


def same_secret(presented: str, expected: str) -> bool:
    """Constant-time comparison of any string a client sent (non-ASCII included)."""
    return hmac.compare_digest(
        presented.encode("utf-8", "surrogateescape"), expected.encode("utf-8")
    )


def session_value(user: str, key: bytes, issued: int | None = None) -> str:
    """The session cookie's value for ``user`` (``""``: the shared token's holder),
    issued at ``issued`` (seconds since the epoch; default now): the user's name, the
    time and an HMAC of both under this server's random ``key``.

    The cookie is not the token (it cannot be used as a bearer token, nor read back
    into one), cannot be forged for another name or a later time without the key, is
    refused by the server :data:`SESSION_SECONDS` after it was issued (whatever the
    browser keeps: a copied cookie stops working too), and no cookie outlives the
    server that issued it.
    """
    when = int(time.time()) if issued is None else issued
    name = base64.urlsafe_b64encode(user.encode()).decode()
    signed = b"allocator session\0" + user.encode() + b"\0" + str(when).encode()
    mac = hmac.new(key, signed, hashlib.sha256).hexdigest()
    return f"{name}.{when}.{mac}"


def session_user(value: str, key: bytes) -> str | None:
    """The user a session cookie's value names (``""``: the shared token), or ``None``
    when this server did not issue it, or issued it :data:`SESSION_SECONDS` ago or
    more."""
    name, _, rest = value.partition(".")
    issued = rest.partition(".")[0]
    if not issued.isascii() or not issued.isdigit():
        return None
    try:
        user = base64.urlsafe_b64decode(name.encode("ascii")).decode()
    except (ValueError, UnicodeError):
        return None
    if not same_secret(value, session_value(user, key, int(issued))):
        return None
    age = time.time() - int(issued)
    return user if age < SESSION_SECONDS else None


def token_digest(token: str) -> str:
    """What a users file holds for a person's token: ``sha256:`` and its hex digest.

    A token is at least :data:`MIN_TOKEN` random characters, so a plain SHA-256
    cannot be reversed by guessing; the file holds no token.
    """
    return "sha256:" + hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")


def one_toml_table(path: str, name: str, lines: str, *, empty: bool = True) -> dict[str, Any]:
    """The one table ``[name]`` of a local TOML file (the users file, the display
    names), its keys as written.

    Raises
    ------
    ValueError
        A file that cannot be read, is not TOML, or holds anything but one ``[name]``
        table (an empty one too, unless ``empty``); the sentence names the file, the
        table and ``lines`` (what each line of it holds).
    """
    import tomllib

    from allocator.io import InputError, decode_utf8

    try:
        with open(path, "rb") as handle:
            data = tomllib.loads(decode_utf8(handle.read(), path))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the {name} file ({exc.strerror})") from None
    except InputError as exc:
        raise ValueError(f"{exc}, expected a TOML file saved as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not a TOML file ({exc})") from None
    except ValueError as exc:
        from allocator.io import unreadable_number

        raise ValueError(f"{path}: not a TOML file ({unreadable_number(exc)})") from None
    table = data.get(name)
    if not isinstance(table, dict) or (not table and not empty) or set(data) - {name}:
        raise ValueError(f"{path}: expected one [{name}] table, {lines}")
    return table


def load_users(path: str) -> dict[str, str]:
    """The people who may sign in, from a TOML users file: display name -> token digest.

    ``[users]`` with one line per person, ``"Ann Smith" = "sha256:..."``
    (:func:`token_digest` of their own token).

    Raises
    ------
    ValueError
        A file that cannot be read, or an entry that is not a name and a digest; the
        sentence names the file and the entry (never a digest's value).
    """
    table = one_toml_table(
        path,
        "users",
        'one line per person: "Ann Smith" = "sha256:<the SHA-256 of their token, in hex>"',
        empty=False,
    )
    users: dict[str, str] = {}
    seen: dict[str, str] = {}
    for name, value in table.items():
        if not 1 <= len(name.strip()) <= 100:
            raise ValueError(f"{path}: {name!r}: a name of 1 to 100 printable characters")
        if found := _CONTROL.search(name):
            raise ValueError(
                f"{path}: {name!r}: a person's name as it reads: "
                f"{character_kind(found.group())} is not accepted"
            )
        try:
            a_person(name.strip())
        except ValueError as exc:  # the same names the page accepts typed
            raise ValueError(f"{path}: {name!r}: {exc}") from None
        if not isinstance(value, str) or _DIGEST.fullmatch(value.strip().lower()) is None:
            raise ValueError(
                f'{path}: {name!r}: expected "sha256:" and 64 hex digits (the SHA-256 of '
                "the person's token)"
            )
        digest = value.strip().lower()
        if digest in seen:
            raise ValueError(f"{path}: {name!r} and {seen[digest]!r} have the same token")
        seen[digest] = name
        users[name.strip()] = digest
    return users


def user_of(presented: str, users: dict[str, str]) -> str | None:
    """The person whose token ``presented`` is, or ``None`` (compared in constant time
    with every entry)."""
    digest = token_digest(presented)
    found = None
    for name, expected in users.items():
        if hmac.compare_digest(digest, expected):
            found = name
    return found


def json_depth_ok(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether no array or object in ``body`` is nested deeper than ``limit``.

    Counted on the bytes before parsing (brackets outside strings), so a 100,000-deep
    array is refused without recursing into it.
    """
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return False
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return True


class Proxies:
    """The council's reverse proxies: addresses or networks, comma-separated
    (``10.0.0.5, 10.1.0.0/24``); ``*`` is refused (anybody would be the proxy)."""

    def __init__(self, spec: str) -> None:
        import ipaddress

        self.networks: list[Any] = []
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(
                    f"{item!r}: expected the proxy's IP address or network (10.0.0.5, 10.1.0.0/24)"
                ) from None
        if not self.networks:
            raise ValueError("expected the proxy's IP address or network (10.0.0.5)")

    def __contains__(self, host: object) -> bool:
        import ipaddress

        try:
            address = ipaddress.ip_address(str(host))
        except ValueError:
            return False
        return any(address in network for network in self.networks)


class TrustedHeader:
    """Keep the sign-on's user header only on requests that come from the proxy.

    Sits outside everything else (before the forwarded-for address replaces the
    peer's): a request from any other address loses the header, so nobody who can
    reach the server directly can name themselves.
    """

    def __init__(self, app: ASGIApp, *, header: str, proxies: Proxies) -> None:
        self.app = app
        self.header = header.lower().encode("latin-1")
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            peer = (scope.get("client") or (None,))[0]
            if peer not in self.proxies:
                scope = dict(scope)
                scope["headers"] = [(k, v) for k, v in scope["headers"] if k != self.header]
        await self.app(scope, receive, send)


def header_user(value: str | None) -> str | None:
    """The person a sign-on header names: 1 to 100 printable characters, or ``None``.

    HTTP hands header bytes over as Latin-1; a proxy sends a name in UTF-8 ("Siân"),
    so the bytes are read as UTF-8 where they are that (else as Latin-1, as sent)."""
    if value is None:
        return None
    with suppress(UnicodeError):  # not UTF-8: the Latin-1 reading stands
        value = value.encode("latin-1").decode("utf-8")
    name = value.strip()
    if not 1 <= len(name) <= 100 or _CONTROL.search(name):
        return None
    try:
        return a_person(name)  # the same names the page accepts typed
    except ValueError:
        return None


async def log_unavailable(request: Any, exc: Exception) -> Any:
    """The answer when the decision log fails mid-request: 503 for a statement that ran
    out of time (a table locked elsewhere, a stalled server), 500 otherwise; one
    sentence, nothing of the request or its data, and nothing was logged (the write
    is one transaction)."""
    from starlette.responses import JSONResponse

    from allocator.meeting.log import STATEMENT_TIMEOUT
    from allocator.ssd.tables import timed_out

    if timed_out(exc):
        return JSONResponse(
            {
                "detail": f"the decision log did not answer within its {STATEMENT_TIMEOUT:g}-"
                "second statement timeout (locked by another session, or a stalled "
                "server): nothing was logged; try again"
            },
            status_code=503,
        )
    return JSONResponse(
        {"detail": "the decision log could not be written or read: nothing was logged"},
        status_code=500,
    )

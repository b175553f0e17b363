"""The meeting server attacked at its doors (issue 24), each probe written as the attack.

Headers and assets (CSP, framing, caching, the API docs' CDN script), bounded bodies
(a 200 MB body, a 100,000-deep JSON array), a bounded ``/log``, an indexed
``/history``, NUL at the door, the token (too short, non-ASCII, left in the address,
raw in the cookie), hosts (0.0.0.0, ``[::1]``, a proxy keeping or rewriting ``Host``)
and HTTPS through uvicorn. A tiny service: workers A, B; referrals R1, R2.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from builders import case, snapshot, worker
from click.testing import CliRunner
from fastapi.testclient import TestClient
from needs import need

from allocator.cli import main
from allocator.contract.policy import Policy
from allocator.io import write_snapshot
from allocator.meeting.log import DecisionLog
from allocator.meeting.overrides import WHAT_A_NAME_IS, Override
from allocator.present.html_report import AFTER_COLOUR, BEFORE_COLOUR, CSS, OVER_COLOUR
from allocator.problems.daily import allocate
from allocator.web.app import TOKEN_COOKIE, Meeting, create_app

HTML = {"accept": "text/html"}
TOKEN = "correct-horse-battery-staple"
PAGES = ["/", "/log", "/history/R1", "/workers/A", "/report.html"]


def service():  # type: ignore[no-untyped-def]
    return snapshot([worker("A"), worker("B")], [case("R1"), case("R2")])


@pytest.fixture
def meeting(tmp_path: Path) -> Iterator[Meeting]:
    snap, policy = service(), Policy()
    log = DecisionLog(str(tmp_path / "log.db"))
    yield Meeting.open(snap, policy, log, allocate(snap, policy, work_units=1.0))
    log.close()


@pytest.fixture
def client(meeting: Meeting) -> TestClient:
    return TestClient(create_app(meeting, allowed_hosts=["testserver"]))


def csrf_of(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/", headers=HTML).text)
    assert found is not None
    return found.group(1)


# ---------------------------------------------------------------- headers and assets


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    answers = [client.get(p, headers=HTML) for p in PAGES]
    answers += [client.get("/"), client.get("/log"), client.get("/plan.json")]
    answers += [client.get("/workers/NOPE"), client.post("/signoff", json={"manager": ""})]
    for answer in answers:
        h = answer.headers
        csp = h["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, answer.url
        assert "unsafe-inline" not in csp and "script-src" not in csp
        assert h["x-frame-options"] == "DENY" and h["cache-control"] == "no-store"
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "same-origin"


def test_refusals_carry_the_headers_too(meeting: Meeting) -> None:
    other_host = TestClient(create_app(meeting), base_url="http://evil.example").get("/")
    no_token = TestClient(create_app(meeting, token=TOKEN, allowed_hosts=["testserver"])).get("/")
    assert (other_host.status_code, no_token.status_code) == (400, 401)
    for answer in (other_host, no_token):
        assert answer.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_the_csp_allows_each_style_block_of_each_page_and_nothing_inline(
    client: TestClient,
) -> None:
    csp = client.get("/").headers["content-security-policy"]
    for path in PAGES:
        text = client.get(path, headers=HTML).text
        assert "<script" not in text and " style=" not in text and "javascript:" not in text
        blocks = re.findall(r"<style>(.*?)</style>", text, flags=re.S)
        assert blocks, path
        for css in blocks:
            digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in csp, path


def test_the_legend_colours_are_the_charts() -> None:
    for colour in (BEFORE_COLOUR, AFTER_COLOUR, OVER_COLOUR):
        assert colour in CSS


def test_no_api_docs_page_loads_script_from_a_cdn(meeting: Meeting) -> None:
    client = TestClient(create_app(meeting, token=TOKEN, allowed_hosts=["testserver"]))
    bearer = {"authorization": f"Bearer {TOKEN}"}
    assert client.get("/docs", headers=bearer).status_code == 404
    assert client.get("/redoc", headers=bearer).status_code == 404
    assert client.get("/openapi.json").status_code == 401  # the schema is behind the token
    assert "/overrides" in client.get("/openapi.json", headers=bearer).json()["paths"]


# ---------------------------------------------------------------- bounded doors


def test_a_body_over_the_limit_is_413(meeting: Meeting) -> None:
    client = TestClient(create_app(meeting, allowed_hosts=["testserver"], max_body=2048))
    big = client.post("/signoff", content=b"x" * 4096, headers={"content-type": "application/json"})
    assert big.status_code == 413 and "larger than 2048 bytes" in big.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(10):
            yield b" " * 1024

    streamed = client.post(
        "/signoff", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    # Behind the token's middleware too (its own task reads the body).
    guarded = TestClient(
        create_app(meeting, token=TOKEN, allowed_hosts=["testserver"], max_body=2048)
    )
    headers = {"content-type": "application/json", "authorization": f"Bearer {TOKEN}"}
    assert guarded.post("/signoff", content=chunks(), headers=headers).status_code == 413
    assert meeting.log.decisions()[0].kind == "proposed"  # nothing logged


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_json_is_400_not_500(client: TestClient, depth: int) -> None:
    body = b"[" * depth + b"]" * depth
    answer = client.post("/overrides", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400 and "nested too deep" in answer.json()["detail"]


@pytest.mark.parametrize(("limit", "status"), [(0, 422), (-1, 422), (1001, 422), (1000, 200)])
def test_the_log_page_is_bounded(client: TestClient, limit: int, status: int) -> None:
    assert client.get(f"/log?limit={limit}").status_code == status


def test_an_unknown_childs_history_reads_no_stored_snapshot(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import allocator.meeting.log

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a stored snapshot was parsed")

    monkeypatch.setattr(allocator.meeting.log.DecisionLog, "content", refuse)
    assert client.get("/history/NOPE").status_code == 404


@pytest.mark.parametrize(
    ("route", "body", "said"),
    [
        ("/overrides", {"case": "R1", "action": "unallocate", "reason": "a\x00b", "manager": "Mo"},
         "reason: a NUL character (U+0000) is not accepted"),
        ("/overrides", {"case": "R1", "action": "unallocate", "reason": "r", "manager": "\x1b[2J"},
         "manager: an escape character (U+001B) is not accepted"),
        ("/signoff", {"manager": "Ann\x00", "decision_id": 1},
         "manager: a NUL character (U+0000) is not accepted"),
        # An 8-bit CSI (C1) and a right-to-left override: a fresh trial's 200s. The
        # override was said to be a control character "such as NUL or escape".
        ("/overrides", {"case": "R1", "action": "unallocate", "reason": "r",
                        "manager": "A\x9b31mB"},
         "manager: an 8-bit escape sequence (U+009B) is not accepted"),
        ("/overrides", {"case": "R1", "action": "unallocate", "reason": "ok\u202eko",
                        "manager": "Mo"},
         "reason: a character that reverses text (U+202E RIGHT-TO-LEFT OVERRIDE) is not "
         "accepted"),
        ("/signoff", {"manager": "Ann\u202eSmith", "decision_id": 1},
         "manager: a character that reverses text (U+202E RIGHT-TO-LEFT OVERRIDE) is not "
         "accepted"),
        ("/signoff", {"manager": "Ann\u2067Smith", "decision_id": 1},
         "manager: a character that changes the direction text reads in (U+2067 "
         "RIGHT-TO-LEFT ISOLATE) is not accepted"),
        ("/signoff", {"manager": "Ann\x07", "decision_id": 1},
         "manager: a control character (U+0007) is not accepted"),
    ],
)  # fmt: skip
def test_nul_and_escape_codes_are_refused_at_the_door(
    client: TestClient, meeting: Meeting, route: str, body: dict[str, str], said: str
) -> None:
    # Each refusal names the kind of character found, in one sentence.
    answer = client.post(route, json=body)
    field, _, why = said.partition(": ")
    detail = answer.json()["detail"]
    assert answer.status_code == 422 and detail.startswith(field + ": ") and detail.endswith(why)
    assert "control characters" not in detail
    assert meeting.log.decisions()[0].kind == "proposed"


# ---------------------------------------------------------------- the token


@pytest.mark.parametrize("token", [" ", "short", "x" * 15, "é" * 20, "sixteen chars ok"])
def test_a_weak_or_non_ascii_token_is_refused(meeting: Meeting, token: str) -> None:
    with pytest.raises(ValueError, match="at least 16 printable ASCII characters"):
        create_app(meeting, token=token)


def test_serve_refuses_a_one_space_token(tmp_path: Path) -> None:
    write_snapshot(service(), tmp_path / "s.json")
    result = CliRunner().invoke(
        main,
        ["serve", str(tmp_path / "s.json"), "--db", str(tmp_path / "l.db")],
        env={"ALLOCATOR_TOKEN": " "},
    )
    assert result.exit_code == 2 and "at least 16 printable ASCII" in result.output
    assert not (tmp_path / "l.db").exists()


def test_a_token_typed_on_the_command_line_is_refused(tmp_path: Path) -> None:
    # A second trial's: `ps` showed the meeting's whole token.
    write_snapshot(service(), tmp_path / "s.json")
    args = ["serve", str(tmp_path / "s.json"), "--db", str(tmp_path / "l.db"), "--token", TOKEN]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: the token in --token is visible to every user of this machine (ps): give "
        "it in ALLOCATOR_TOKEN instead; nothing was started"
    )
    assert TOKEN not in result.output and not (tmp_path / "l.db").exists()


def test_any_presented_token_is_401_never_500(meeting: Meeting) -> None:
    client = TestClient(create_app(meeting, token=TOKEN, allowed_hosts=["testserver"]))
    assert client.get("/", params={"token": "é" * 30}).status_code == 401
    assert client.get("/", headers={"authorization": b"Bearer \xc3\xa9"}).status_code == 401
    cookie = f"{TOKEN_COOKIE}=".encode() + "é".encode()
    assert client.get("/", headers={"cookie": cookie}).status_code == 401


@pytest.mark.parametrize("path", ["/%2F%2Fevil.com/", "/%2F%5Cevil.com/", "/%5C%5Cevil.com"])
def test_the_sign_in_redirect_stays_on_this_server(meeting: Meeting, path: str) -> None:
    # A third trial's attack: a mailed link /{slash}/evil.com/?token=... answered
    # "location: //evil.com/", which a browser reads as another site.
    client = TestClient(create_app(meeting, token=TOKEN, allowed_hosts=["testserver"]))
    login = client.get(f"{path}?token={TOKEN}", follow_redirects=False)
    assert login.status_code == 303
    where = login.headers["location"]
    assert where.startswith("/") and not where.startswith(("//", "/\\")), where


def test_the_token_leaves_the_address_and_the_cookie_is_not_the_token(meeting: Meeting) -> None:
    client = TestClient(create_app(meeting, token=TOKEN, allowed_hosts=["testserver"]))
    login = client.get(f"/history/R1?token={TOKEN}&x=1", follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"] == "/history/R1?x=1"
    cookie = login.headers["set-cookie"]
    assert TOKEN not in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=" in cookie
    assert "Secure" not in cookie  # plain HTTP here; over HTTPS it is Secure (below)
    assert client.get("/").status_code == 200  # the session cookie carries it
    # The cookie's value is no bearer token, and the token is no cookie.
    value = client.cookies[TOKEN_COOKIE]
    fresh = TestClient(create_app(meeting, token=TOKEN, allowed_hosts=["testserver"]))
    assert fresh.get("/", headers={"authorization": f"Bearer {value}"}).status_code == 401
    assert fresh.get("/", headers={"cookie": f"{TOKEN_COOKIE}={TOKEN}"}).status_code == 401
    other = {"cookie": f"{TOKEN_COOKIE}={value}"}
    assert fresh.get("/", headers=other).status_code == 401  # a cookie of another server


# ---------------------------------------------------------------- hosts and origins


def test_ipv6_loopback_host_is_served(meeting: Meeting) -> None:
    client = TestClient(create_app(meeting, allowed_hosts=["127.0.0.1", "localhost", "::1"]))
    assert client.get("/", headers={"host": "[::1]:8000"}).status_code == 200
    assert client.get("/", headers={"host": "[::2]:8000"}).status_code == 400


def test_a_proxy_that_keeps_or_rewrites_host_works_with_the_public_origin(
    meeting: Meeting,
) -> None:
    public = "https://allocator.council.example"
    app = create_app(meeting, allowed_hosts=["127.0.0.1", "localhost"], public_origin=public)
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    kept = client.get("/", headers={**HTML, "host": "allocator.council.example"})
    assert kept.status_code == 200  # the proxy kept the public Host
    form = {"case": "R1", "action": "unallocate", "worker": "", "reason": "r", "manager": "Mo"}
    csrf = re.search(r'name="csrf" value="([^"]+)"', kept.text)
    assert csrf is not None
    posted = client.post(  # the proxy rewrote Host to the backend's address
        "/overrides",
        data={**form, "csrf": csrf.group(1)},
        headers={**HTML, "origin": public},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    forged = client.post(
        "/overrides",
        data={**form, "csrf": csrf.group(1)},
        headers={**HTML, "origin": "https://evil.example"},
    )
    assert forged.status_code == 403


# ---------------------------------------------------------------- serve, for real


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    """Start ``allocator serve`` with extra arguments; wait until it listens."""
    started: list[subprocess.Popen[str]] = []
    write_snapshot(service(), tmp_path / "s.json")

    def run(*args: str) -> tuple[int, subprocess.Popen[str]]:
        port = free_port()
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parent.parent)}
        if "--token" in args:  # a token is given in the environment, never typed
            k = args.index("--token")
            env["ALLOCATOR_TOKEN"] = args[k + 1]
            args = args[:k] + args[k + 2 :]
        proc = subprocess.Popen(
            [sys.executable, "-m", "allocator.launch", "serve", str(tmp_path / "s.json"),
             "--db", str(tmp_path / f"log{port}.db"), "--port", str(port),
             "--work-units", "0.5", *args],
            stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        started.append(proc)
        assert proc.stderr is not None
        lines: list[str] = []

        def read() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                lines.append(line)

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("open " in x for x in lines):
            assert proc.poll() is None, "".join(lines)
            time.sleep(0.1)
        time.sleep(0.3)
        return port, proc

    yield run
    for proc in started:
        proc.terminate()
        proc.wait(10)


@pytest.mark.slow
def test_binding_every_address_keeps_the_host_check(serve) -> None:  # type: ignore[no-untyped-def]
    port, _ = serve("--host", "0.0.0.0", "--token", TOKEN, "--allowed-host", "alloc.example")
    url = f"http://127.0.0.1:{port}/"
    bearer = {"authorization": f"Bearer {TOKEN}"}
    assert httpx.get(url, headers={**bearer, "host": "evil.example"}).status_code == 400
    assert httpx.get(url, headers={**bearer, "host": f"alloc.example:{port}"}).status_code == 200
    assert httpx.get(url, headers=bearer).status_code == 200


@pytest.mark.slow
def test_ipv6_loopback_is_served(serve) -> None:  # type: ignore[no-untyped-def]
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    port, _ = serve("--host", "::1")
    assert httpx.get(f"http://[::1]:{port}/").status_code == 200


@pytest.mark.slow
def test_https_through_uvicorn_with_a_secure_cookie(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    need(shutil.which("openssl") is not None, "openssl (.ci/services installs it)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    port, _ = serve("--token", TOKEN, "--certfile", str(cert), "--keyfile", str(key))
    with httpx.Client(verify=False, follow_redirects=False) as client:
        login = client.get(f"https://127.0.0.1:{port}/?token={TOKEN}")
        assert login.status_code == 303
        assert "Secure" in login.headers["set-cookie"]
        assert client.get(f"https://127.0.0.1:{port}/plan.json").status_code == 200
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=5)


@pytest.mark.slow
def test_a_200_mb_or_chunked_body_is_refused_before_it_is_read(serve) -> None:  # type: ignore[no-untyped-def]
    port, proc = serve()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(
            b"POST /signoff HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 200000000\r\n\r\n" + b" " * 65536
        )
        answer = s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(
            b"POST /signoff HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"1000\r\n" + b" " * 4096 + b"\r\n"
        try:
            for _ in range(400):  # 1.6 MB, past the 1 MB limit
                s.sendall(chunk)
        except OSError:
            pass  # the server answered and closed
        answer = s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert proc.poll() is None


def test_a_bad_certificate_is_one_line(tmp_path: Path) -> None:
    write_snapshot(service(), tmp_path / "s.json")
    (tmp_path / "c.pem").write_text("not a certificate")
    result = CliRunner().invoke(
        main,
        ["serve", str(tmp_path / "s.json"), "--db", str(tmp_path / "l.db"),
         "--certfile", str(tmp_path / "c.pem"), "--keyfile", str(tmp_path / "c.pem")],
    )  # fmt: skip
    assert result.exit_code == 2 and "cannot use the certificate" in result.output
    assert not (tmp_path / "l.db").exists()


# ---------------------------------------------------------------- identity


ANN, BO = "ann-token-0123456789abcdef", "bo-token-0123456789abcdef"


def users_file(tmp_path: Path) -> Path:
    from allocator.web.security import token_digest

    path = tmp_path / "users.toml"
    path.write_text(
        f'[users]\n"Ann Smith" = "{token_digest(ANN)}"\n"Bo Lee" = "{token_digest(BO)}"\n'
    )
    return path


def test_with_a_users_file_the_manager_is_the_signed_in_person(
    meeting: Meeting, tmp_path: Path
) -> None:
    from allocator.web.security import load_users

    users = load_users(str(users_file(tmp_path)))
    client = TestClient(create_app(meeting, users=users, allowed_hosts=["testserver"]))
    assert client.get("/").status_code == 401
    assert client.get("/", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 401
    ann = {"authorization": f"Bearer {ANN}"}
    page = client.get("/", headers={**ann, **HTML}).text
    assert "Signed in as Ann Smith" in page and 'placeholder="your name"' not in page
    # A client that types another name is still Ann: the log says who signed in.
    forged = {"case": "R1", "action": "unallocate", "reason": "r", "manager": "Eve"}
    assert client.post("/overrides", json=forged, headers=ann).status_code == 200
    bo = {"authorization": f"Bearer {BO}"}
    seen = meeting.decision_id
    signed = client.post("/signoff", json={"manager": "Eve", "decision_id": seen}, headers=bo)
    assert signed.status_code == 200 and signed.json()["manager"] == "Bo Lee"
    rows = meeting.log.decisions()
    assert [(d.kind, d.manager) for d in rows[:2]] == [
        ("signoff", "Bo Lee"),
        ("override", "Ann Smith"),
    ]
    assert rows[1].overrides[-1].manager == "Ann Smith"
    # Through the page: ?token= signs in, the cookie says who, and the form's name is hers.
    browser = TestClient(create_app(meeting, users=users, allowed_hosts=["testserver"]))
    login = browser.get(f"/?token={ANN}", follow_redirects=False)
    assert login.status_code == 303 and ANN not in login.headers["set-cookie"]
    assert "Signed in as Ann Smith" in browser.get("/", headers=HTML).text


def test_a_session_cookie_cannot_be_forged_for_another_name(
    meeting: Meeting, tmp_path: Path
) -> None:
    from allocator.web.security import load_users

    users = load_users(str(users_file(tmp_path)))
    client = TestClient(create_app(meeting, users=users, allowed_hosts=["testserver"]))
    client.get(f"/?token={BO}")
    value = client.cookies[TOKEN_COOKIE]
    _, issued, mac = value.split(".")
    ann = base64.urlsafe_b64encode(b"Ann Smith").decode()
    # Bo's own cookie with Ann's name, on the very server that issued it.
    client.cookies.clear()
    forged = {"cookie": f"{TOKEN_COOKIE}={ann}.{issued}.{mac}"}
    assert client.get("/", headers=forged).status_code == 401
    assert client.get("/", headers={"cookie": f"{TOKEN_COOKIE}={value}"}).status_code == 200


class _Clock:
    """``time`` as the server's cookie check reads it, ``ahead`` seconds later."""

    def __init__(self, ahead: float) -> None:
        self.ahead = ahead

    def time(self) -> float:
        return time.time() + self.ahead


@pytest.mark.parametrize("users", [False, True], ids=["shared-token", "own-token"])
def test_a_copied_session_cookie_stops_working_when_it_expires(
    meeting: Meeting, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, users: bool
) -> None:
    # The attack: a cookie copied from a browser (a shared PC, a backup, a proxy's
    # log) is presented after the browser would have dropped it. Before, its value
    # never changed, so it worked for as long as the server ran.
    from allocator.web import security
    from allocator.web.security import SESSION_SECONDS, load_users

    if users:
        app = create_app(
            meeting, users=load_users(str(users_file(tmp_path))), allowed_hosts=["testserver"]
        )
        token = ANN
    else:
        app = create_app(meeting, token=TOKEN, allowed_hosts=["testserver"])
        token = TOKEN
    client = TestClient(app)
    client.get(f"/?token={token}")
    copied = {"cookie": f"{TOKEN_COOKIE}={client.cookies[TOKEN_COOKIE]}"}
    client.cookies.clear()
    monkeypatch.setattr(security, "time", _Clock(SESSION_SECONDS - 60))
    assert client.get("/", headers=copied).status_code == 200
    monkeypatch.setattr(security, "time", _Clock(SESSION_SECONDS))
    assert client.get("/", headers=copied).status_code == 401
    # Nor can its time be moved on: the HMAC covers it.
    name, issued, mac = copied["cookie"].partition("=")[2].split(".")
    later = {"cookie": f"{TOKEN_COOKIE}={name}.{int(issued) + SESSION_SECONDS}.{mac}"}
    assert client.get("/", headers=later).status_code == 401
    # A new sign-in gives a new cookie that works.
    client.get(f"/?token={token}")
    assert client.get("/").status_code == 200


def test_without_a_users_file_the_page_says_names_are_typed(client: TestClient) -> None:
    page = client.get("/", headers=HTML).text
    assert "No sign-in: each decision is logged under the name typed in its form." in page


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('[users]\n"Ann" = "hunter2"\n', 'expected "sha256:" and 64 hex digits'),
        ("users = 3\n", "expected one [users] table"),
        ("[users\n", "not a TOML file"),
        (f'[users]\n"Al" = "sha256:{"a" * 64}"\n"Bo" = "sha256:{"a" * 64}"\n', "the same token"),
    ],
)
def test_a_bad_users_file_is_one_line(tmp_path: Path, content: str, says: str) -> None:
    write_snapshot(service(), tmp_path / "s.json")
    (tmp_path / "users.toml").write_text(content)
    result = CliRunner().invoke(
        main,
        ["serve", str(tmp_path / "s.json"), "--db", str(tmp_path / "l.db"),
         "--users", str(tmp_path / "users.toml")],
    )  # fmt: skip
    assert result.exit_code == 2 and says in result.output, result.output
    assert "hunter2" not in result.output and not (tmp_path / "l.db").exists()


# ---------------------------------------------------------------- one log, two services


def test_a_meeting_sees_only_its_own_services_children(tmp_path: Path) -> None:
    # North and South share one log. South's children, decisions and reasons never
    # show in North's meeting, on /log nor /history.
    policy = Policy()
    log = DecisionLog(str(tmp_path / "shared.db"))
    south_snap = snapshot([worker("S1"), worker("S2")], [case("SC1"), case("SC2")])
    south = Meeting.open(south_snap, policy, log, allocate(south_snap, policy, work_units=1.0))
    south.override(Override(case="SC1", action="unallocate", reason="south secret", manager="Sue"))
    north_snap = snapshot([worker("A"), worker("B")], [case("R1"), case("R2")])
    north = Meeting.open(north_snap, policy, log, allocate(north_snap, policy, work_units=1.0))
    client = TestClient(create_app(north, allowed_hosts=["testserver"]))
    rows = client.get("/log").json()
    assert [r["id"] for r in rows] == [north.decision_id]
    page = client.get("/log", headers=HTML).text
    assert "south secret" not in page and "SC1" not in page
    assert client.get("/history/SC1").status_code == 404
    assert client.get("/history/R1").status_code == 200
    # Yesterday's meeting of the same service (a snapshot sharing its children) shows.
    again = Meeting.open(north_snap, policy, log, north.plan)
    seen = TestClient(create_app(again, allowed_hosts=["testserver"])).get("/log").json()
    assert {r["id"] for r in seen} == {north.decision_id, again.decision_id}
    log.close()


def test_a_child_who_moved_between_services_opens_neither_to_the_other(tmp_path: Path) -> None:
    # The attack a fresh trial made: North and South share one log and one child (C0,
    # who moved from South to North). North's meeting must still not see South's
    # decisions nor the history of a child only South has.
    policy = Policy()
    log = DecisionLog(str(tmp_path / "shared.db"))
    south_snap = snapshot(
        [worker("S1"), worker("S2")], [case("C0"), case("SC1"), case("SC2"), case("SC3")]
    )
    south = Meeting.open(south_snap, policy, log, allocate(south_snap, policy, work_units=1.0))
    south.override(Override(case="SC1", action="unallocate", reason="south secret", manager="Sue"))
    north_snap = snapshot([worker("A"), worker("B")], [case("C0"), case("R1"), case("R2")])
    north = Meeting.open(north_snap, policy, log, allocate(north_snap, policy, work_units=1.0))
    client = TestClient(create_app(north, allowed_hosts=["testserver"]))
    assert [r["id"] for r in client.get("/log").json()] == [north.decision_id]
    assert "south secret" not in client.get("/log", headers=HTML).text
    assert client.get("/history/SC1").status_code == 404
    # The child both share: North sees North's story of them, not South's.
    events = client.get("/history/C0").json()
    assert events and {e["decision_id"] for e in events} == {north.decision_id}
    log.close()


def test_a_small_service_sharing_a_child_is_not_a_large_ones(tmp_path: Path) -> None:
    # A second trial's attack: S holds two children, one of them also North's. Half of
    # S's children are North's, but not half of North's are S's: S is another service.
    policy = Policy()
    log = DecisionLog(str(tmp_path / "shared.db"))
    small = snapshot([worker("S1")], [case("C0"), case("Z1")])
    s_meeting = Meeting.open(small, policy, log, allocate(small, policy, work_units=1.0))
    s_meeting.override(Override(case="Z1", action="unallocate", reason="SSECRET", manager="Sue"))
    north_snap = snapshot(
        [worker("A"), worker("B")], [case("C0"), case("R1"), case("R2"), case("R3")]
    )
    north = Meeting.open(north_snap, policy, log, allocate(north_snap, policy, work_units=1.0))
    client = TestClient(create_app(north, allowed_hosts=["testserver"]))
    assert [r["id"] for r in client.get("/log").json()] == [north.decision_id]
    assert client.get("/history/Z1").status_code == 404
    assert "SSECRET" not in client.get("/log", headers=HTML).text
    # Nor does the small service's meeting see North's.
    s_client = TestClient(create_app(s_meeting, allowed_hosts=["testserver"]))
    assert north.decision_id not in [r["id"] for r in s_client.get("/log").json()]
    log.close()


# ---------------------------------------------------------------- single sign-on


def test_behind_single_sign_on_the_proxys_header_names_the_manager(meeting: Meeting) -> None:
    from allocator.web.security import Proxies, TrustedHeader

    app = create_app(meeting, allowed_hosts=["testserver"], user_header="X-Remote-User")
    guarded = TrustedHeader(app, header="X-Remote-User", proxies=Proxies("10.0.0.0/8"))
    proxy = TestClient(guarded, client=("10.0.0.5", 40000))
    assert proxy.get("/").status_code == 401  # no header: not signed in
    ann = {"x-remote-user": "Ann Smith"}
    assert "Signed in as Ann Smith" in proxy.get("/", headers={**ann, **HTML}).text
    body = {"case": "R1", "action": "unallocate", "reason": "r", "manager": "Eve"}
    assert proxy.post("/overrides", json=body, headers=ann).status_code == 200
    assert meeting.log.decisions()[0].manager == "Ann Smith"
    # A Welsh name as the proxy sends it, UTF-8 (HTTP hands it over as Latin-1).
    sian = {"x-remote-user": "Siân Jones".encode()}
    # (Her own words: Ann's decision sent again is hers already, whoever sends it.)
    again = body | {"reason": "review on Friday"}
    assert proxy.post("/overrides", json=again, headers=sian).status_code == 200
    assert meeting.log.decisions()[0].manager == "Siân Jones"
    # A proxy that adds its header beside the browser's: two values name nobody.
    twice = [("x-remote-user", "Eve"), ("x-remote-user", "Ann Smith")]
    assert proxy.get("/", headers=twice).status_code == 400
    # Anybody reaching the server directly cannot name themselves: the header is dropped.
    direct = TestClient(guarded, client=("192.168.1.20", 40000))
    assert direct.get("/", headers=ann).status_code == 401
    assert direct.get("/", headers={"x-remote-user": "Eve"}).status_code == 401


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--user-header", "X-Remote-User"], "--user-header needs --forwarded-allow-ips"),
        (["--user-header", "X-Remote-User", "--forwarded-allow-ips", "*"], "expected the proxy"),
        (["--users", "u.toml"], "not two"),  # with ALLOCATOR_TOKEN set too
    ],
)
def test_sign_on_options_are_checked(tmp_path: Path, args: list[str], says: str) -> None:
    write_snapshot(service(), tmp_path / "s.json")
    env = {"ALLOCATOR_TOKEN": TOKEN} if args[0] == "--users" else {}
    result = CliRunner().invoke(
        main, ["serve", str(tmp_path / "s.json"), "--db", str(tmp_path / "l.db"), *args], env=env
    )
    assert result.exit_code == 2 and says in result.output, result.output
    assert not (tmp_path / "l.db").exists()


@pytest.mark.slow
def test_serve_behind_single_sign_on(serve) -> None:  # type: ignore[no-untyped-def]
    port, _ = serve(
        "--user-header", "X-Remote-User", "--forwarded-allow-ips", "127.0.0.1",
        "--public-origin", "https://alloc.example",
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    assert httpx.get(url).status_code == 401
    signed = httpx.get(url, headers={"x-remote-user": "Ann Smith", "accept": "text/html"})
    assert signed.status_code == 200 and "Signed in as Ann Smith" in signed.text


@pytest.mark.parametrize(
    ("public", "host"),
    [
        ("https://alloc.example:8443", "alloc.example:8443"),
        ("https://ALLOC.example", "alloc.example"),
        ("https://[2001:db8::7]", "[2001:db8::7]"),
    ],
)
def test_the_public_origins_name_is_served_with_any_port(
    meeting: Meeting, public: str, host: str
) -> None:
    app = create_app(meeting, allowed_hosts=["127.0.0.1", "alloc.example:80"], public_origin=public)
    client = TestClient(app)
    assert client.get("/", headers={"host": host}).status_code == 200
    assert client.get("/", headers={"host": "alloc.example"}).status_code == 200  # --allowed-host
    assert client.get("/", headers={"host": "other.example"}).status_code == 400


def test_history_is_bounded_to_the_newest_events(client: TestClient, meeting: Meeting) -> None:
    for k in range(4):
        meeting.override(Override(case="R1", action="unallocate", reason=f"r{k}", manager="Mo"))
    every = client.get("/history/R1").json()
    assert len(every) >= 5
    newest = client.get("/history/R1?limit=2").json()
    assert newest == every[-2:]  # oldest first, the newest two
    assert client.get("/history/R1?limit=0").status_code == 422
    assert client.get("/history/R1?limit=1001").status_code == 422


def test_head_answers_as_get_without_a_body(client: TestClient) -> None:
    # A fresh trial's `curl -I` got 405 on every route.
    got, head = client.get("/log"), client.head("/log")
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-security-policy"] == got.headers["content-security-policy"]
    assert head.headers["cache-control"] == "no-store"
    assert client.head("/history/NOPE").status_code == 404


@pytest.mark.parametrize("query", ["preview=abc", "preview=", "wait=maybe", "preview=1&preview=0"])
def test_a_yes_or_no_query_parameter_that_is_neither_is_refused(
    client: TestClient, meeting: Meeting, query: str
) -> None:
    # A fresh trial's ?preview=abc made a real decision.
    body = {"case": "R1", "action": "unallocate", "reason": "r", "manager": "Mo"}
    answer = client.post(f"/overrides?{query}", json=body)
    assert answer.status_code == 422 and "expected" in answer.text
    assert [d.kind for d in meeting.log.decisions()] == ["proposed"]


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("/jobs/abc", "job_id: a whole number"),
        ("/log?limit=abc", "limit: a whole number"),
        ("/log?limit=-5", "limit: a number at least 1"),
        ("/history/R1?limit=0", "limit: a number at least 1"),
    ],
)
def test_a_parameter_of_the_wrong_kind_is_one_sentence(
    client: TestClient, path: str, said: str
) -> None:
    # A fresh trial got FastAPI's list of error objects ([{"type": "int_parsing", ...}]).
    answer = client.get(path)
    assert answer.status_code == 422 and answer.json() == {"detail": said}


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"reason": "x" * 501}, "reason: at most 500 characters"),
        ({"manager": "m" * 101}, "manager: at most 100 characters"),
        ({"manager": "None"}, f"manager: {WHAT_A_NAME_IS}: 'None' names nobody"),
        ({"manager": " null "}, f"manager: {WHAT_A_NAME_IS}: 'null' names nobody"),
        ({"case": "R1\x1b"}, "case: an escape character (U+001B) is not accepted"),
    ],
)
def test_an_override_refused_at_the_door_says_what_was_expected(
    client: TestClient, meeting: Meeting, fields: dict[str, str], said: str
) -> None:
    body = {"case": "R1", "action": "unallocate", "reason": "r", "manager": "Ann"} | fields
    answer = client.post("/overrides", json=body)
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail.startswith(said) and "Value error" not in detail and "validation" not in detail
    assert len(meeting.log.decisions()) == 1


@pytest.mark.parametrize("name", ["None", "null", "undefined"])
def test_a_sign_off_by_no_name_is_refused(client: TestClient, meeting: Meeting, name: str) -> None:
    # A form's "None" signed as "None" in a fresh trial.
    form = {"csrf": csrf_of(client), "decision_id": str(meeting.decision_id), "manager": name}
    answer = client.post("/signoff", data=form, headers=HTML)
    assert answer.status_code == 422 and "a person&#39;s name" in answer.text
    assert meeting.signed is None


def test_a_form_sign_off_naming_no_plan_says_so(client: TestClient, meeting: Meeting) -> None:
    form = {"csrf": csrf_of(client), "decision_id": "", "plan_sha256": "", "manager": "Ann"}
    answer = client.post("/signoff", data=form, headers=HTML)
    assert answer.status_code == 422 and "say which plan you reviewed" in answer.text
    assert "pattern" not in answer.text


def test_previewed_must_be_a_decision_number(client: TestClient, meeting: Meeting) -> None:
    body = {"case": "R1", "action": "unallocate", "reason": "r", "manager": "Ann"}
    answer = client.post("/overrides?previewed=abc", json=body)
    assert answer.status_code == 422
    assert answer.json()["detail"] == "previewed: the number of the decision previewed, not 'abc'"


def test_an_unknown_job_says_when_the_server_started(client: TestClient) -> None:
    # After a restart a fresh trial's lost re-solve read "finished long ago, or never".
    answer = client.get("/jobs/6")
    assert answer.status_code == 404
    detail = answer.json()["detail"]
    assert detail.startswith("no re-solve 6 since this server started at 20")
    assert "a re-solve asked before a restart was lost" in detail and "GET /log" in detail


def test_a_sign_off_by_an_invisible_name_is_refused(client: TestClient, meeting: Meeting) -> None:
    answer = client.post(
        "/signoff", json={"manager": "\u200b\u200b", "decision_id": meeting.decision_id}
    )
    assert answer.status_code == 422 and "invisible character" in answer.json()["detail"]
    assert meeting.signed is None


@pytest.mark.parametrize(
    "name",
    ["\u3164", "\u2800", "Ann\u200bSmith", "Ann\nSmith", "Ann\tSmith", "Ann\u2028Smith",
     "Ann\u00adSmith", "\ufeffAnn", "Ann\u200fSmith", "123"],
)  # fmt: skip
def test_a_name_that_hides_or_shows_no_letter_is_refused(
    client: TestClient, meeting: Meeting, name: str
) -> None:
    """A fresh trial signed off as U+3164 ("Signed off by ㅤ") and made a second "Ann
    Smith" with a zero-width space: each member of the kind is refused, for a sign-off
    and an override alike."""
    answer = client.post("/signoff", json={"manager": name, "decision_id": meeting.decision_id})
    assert answer.status_code == 422, answer.text
    assert "a person's name" in answer.json()["detail"]
    body = {"case": "R1", "action": "unallocate", "reason": "review", "manager": name}
    assert client.post("/overrides", json=body).status_code == 422
    assert meeting.signed is None and meeting.log.decisions()[0].kind != "override"


@pytest.mark.parametrize(
    "reason", ["\u200b", "\u3164", "\u00ad", "\ufeff", ".", "None", "a\u200bb"]
)
def test_a_reason_that_hides_or_says_nothing_is_refused(
    client: TestClient, meeting: Meeting, reason: str
) -> None:
    """An over-cap exception's documented reason was a zero-width space: refused, as
    every reason that hides or holds no letter or digit."""
    body = {"case": "R1", "action": "unallocate", "reason": reason, "manager": "Ann"}
    answer = client.post("/overrides", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith("reason: a reason")


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"action": "take"}, "action: one of 'choose', 'exclude' or 'unallocate'"),
        ({"extra": 1}, "extra: not a field of this request"),
        ({"over_cap": "yes"}, "over_cap: true or false"),
    ],
)
def test_an_override_of_the_wrong_shape_is_said_plainly(
    client: TestClient, fields: dict[str, object], said: str
) -> None:
    body = {"case": "R1", "action": "choose", "worker": "A", "reason": "r", "manager": "Ann"}
    answer = client.post("/overrides", json=body | fields)
    assert answer.status_code == 422 and said in answer.json()["detail"]
    assert "Input should" not in answer.json()["detail"]


def test_a_key_given_twice_is_refused(client: TestClient, meeting: Meeting) -> None:
    raw = '{"case": "R1", "action": "unallocate", "reason": "r", "manager": "A", "manager": "B"}'
    answer = client.post("/overrides", content=raw, headers={"content-type": "application/json"})
    assert (
        answer.status_code == 422
        and answer.json()["detail"] == "manager: given twice in one object"
    )
    assert len(meeting.log.decisions()) == 1


def test_an_unknown_long_id_is_not_said_back_whole(client: TestClient) -> None:
    body = {"case": "C" * 100_000, "action": "unallocate", "reason": "r", "manager": "Ann"}
    answer = client.post("/overrides", json=body)
    assert answer.status_code == 422 and len(answer.content) < 500
    assert "...' is not in the snapshot" in answer.json()["detail"]


def test_a_stale_form_from_a_browser_gets_the_page_with_the_sentence(client: TestClient) -> None:
    # After a restart the page's token changes: a form sent from the old page read
    # raw JSON ("cross-site form refused") in a fresh trial.
    form = {"csrf": "from-before-the-restart", "case": "R1", "action": "unallocate",
            "reason": "r", "manager": "Ann"}  # fmt: skip
    answer = client.post("/overrides", data=form, headers=HTML)
    assert answer.status_code == 403 and answer.headers["content-type"].startswith("text/html")
    assert "reload the page and send it again" in answer.text
    plain = client.post("/overrides", data=form)
    assert plain.status_code == 403 and "reload the page" in plain.json()["detail"]


def test_a_form_field_given_twice_is_refused(client: TestClient, meeting: Meeting) -> None:
    raw = f"csrf={csrf_of(client)}&case=R1&action=choose&worker=A&worker=B&reason=r&manager=Ann"
    answer = client.post(
        "/overrides",
        content=raw,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 422 and "worker: given twice in one form" in answer.text
    assert len(meeting.log.decisions()) == 1


@pytest.mark.parametrize("sent", ["1", 1.0])
def test_a_json_sign_off_names_its_decision_by_number(
    client: TestClient, meeting: Meeting, sent: object
) -> None:
    # "9" and 9.0 signed in a fresh trial, where over_cap: 1 is refused.
    answer = client.post("/signoff", json={"manager": "Sam", "decision_id": sent})
    assert answer.status_code == 422 and meeting.signed is None


def test_a_sign_off_of_a_decision_not_yet_made_says_so(
    client: TestClient, meeting: Meeting
) -> None:
    answer = client.post("/signoff", json={"manager": "Sam", "decision_id": 99})
    assert answer.status_code == 409
    detail = answer.json()["detail"]
    assert (
        detail.startswith("there is no decision 99 in this meeting yet") and "since" not in detail
    )


@pytest.mark.parametrize("path", ["/history/C", "/workers/P"])
def test_an_unknown_long_id_in_the_address_is_not_said_back_whole(
    client: TestClient, path: str
) -> None:
    answer = client.get(path + "9" * 60_000)
    assert answer.status_code == 404 and len(answer.content) < 500


def test_a_form_field_given_twice_from_a_browser_gets_the_page(client: TestClient) -> None:
    raw = f"csrf={csrf_of(client)}&case=R1&case=R2&action=unallocate&reason=r&manager=Ann"
    answer = client.post(
        "/overrides",
        content=raw,
        headers={"content-type": "application/x-www-form-urlencoded", **HTML},
    )
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("text/html")
    assert "case: given twice in one form" in answer.text


def test_a_sign_off_naming_a_bad_hash_says_what_a_hash_is(client: TestClient) -> None:
    answer = client.post("/signoff", json={"manager": "Sam", "plan_sha256": "abc"})
    assert answer.status_code == 422
    assert "plan_sha256: 64 hexadecimal digits" in answer.json()["detail"]


def test_a_stale_sign_off_of_a_signed_plan_says_it_is_signed(
    client: TestClient, meeting: Meeting
) -> None:
    assert client.post(
        "/signoff", json={"manager": "Sam", "decision_id": meeting.decision_id}
    ).is_success
    answer = client.post("/signoff", json={"manager": "Sam", "decision_id": 99})
    assert answer.status_code == 409 and "It was signed off by Sam" in answer.json()["detail"]
    assert "sign it off" not in answer.json()["detail"]


def test_an_over_cap_choice_the_worker_had_room_for_is_not_called_an_exception(
    tmp_path: Path,
) -> None:
    # A fresh trial's Overrides table read "over cap by exception" where the worker
    # had room and the plan made no exception.
    snap, policy = snapshot([worker("A"), worker("B")], [case("U", priority="urgent")]), Policy()
    log = DecisionLog(str(tmp_path / "log.db"))
    meeting = Meeting.open(snap, policy, log, allocate(snap, policy, work_units=1.0))
    client = TestClient(create_app(meeting, allowed_hosts=["testserver"]))
    other = "B" if meeting.plan.assignments[0].worker == "A" else "A"
    body = {"case": "U", "action": "choose", "worker": other, "reason": "r", "manager": "Ann",
            "over_cap": True}  # fmt: skip
    assert client.post("/overrides", json=body).status_code == 200
    assert meeting.plan.exceptions == ()
    table = client.get("/", headers=HTML).text.split('id="overrides"')[1].split("</table>")[0]
    assert "choose</td>" in table and "over cap by exception" not in table
    log.close()


def test_another_managers_decision_sent_again_is_not_credited_to_the_sender(
    client: TestClient, meeting: Meeting
) -> None:
    """Ann's decision resent by Bo word for word is already in force, by Ann: nothing is
    logged, and her words are not read as his exception."""
    body = {"case": "R1", "action": "unallocate", "reason": "review on Friday", "manager": "Ann"}
    assert client.post("/overrides", json=body).status_code == 200
    made = meeting.decision_id
    answer = client.post("/overrides", json=body | {"manager": "Bo"})
    assert answer.status_code in (409, 422), answer.text
    assert f"already in force (decision {made}, by Ann)" in answer.json()["detail"]
    assert meeting.decision_id == made
    assert [o.manager for o in meeting.overrides] == ["Ann"]


@pytest.mark.parametrize("name", ["\u3164", "Ann\u200bSmith", "None", "123"])
def test_a_sign_on_header_or_users_file_name_that_hides_names_nobody(
    tmp_path: Path, name: str
) -> None:
    """The names a proxy's header or the users file give pass the check a typed name
    does: one that hides or has no letter names nobody (a fresh tester read the page
    under a blank header name)."""
    from allocator.web.security import header_user, load_users, token_digest

    assert header_user(name) is None
    users = tmp_path / "users.toml"
    users.write_text(f'[users]\n"{name}" = "{token_digest("t" * 32)}"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="a person's name"):
        load_users(str(users))


@pytest.mark.parametrize(
    ("args", "warned"),
    [
        (["--host", "0.0.0.0", "--allowed-host", "alloc.example"], True),
        (["--host", "0.0.0.0", "--public-origin", "https://alloc.example"], True),
        (["--host", "127.0.0.1"], False),
        (["--host", "localhost"], False),
    ],
    ids=["every-address", "behind-a-proxy-on-every-address", "loopback", "localhost"],
)
def test_serving_beyond_this_machine_over_plain_http_is_warned_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], warned: bool
) -> None:
    # A fresh trial served 0.0.0.0 with a token over plain HTTP and was told nothing:
    # the token, the session cookie and every child's page crossed the network as text.
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    write_snapshot(service(), tmp_path / "s.json")
    result = CliRunner(env={"ALLOCATOR_TOKEN": TOKEN}).invoke(
        main,
        ["serve", str(tmp_path / "s.json"), "--db", str(tmp_path / "log.db"), "--port", "0",
         "--work-units", "0.5", "--forecast-runs", "0", *args],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    said = "over plain HTTP: the token, the session cookie and the children's data"
    assert (said in result.stderr) == warned, result.stderr
    if warned:
        assert "give --certfile and --keyfile" in result.stderr

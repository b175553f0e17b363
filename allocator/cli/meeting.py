"""``allocator serve``: the allocation meeting, a review page with overrides and
sign-off, every decision kept in the decision log.

Web libraries load only here (the ``serve`` extra). Safety: the server binds 127.0.0.1
unless given a token, a users file or a sign-on header (docs/MEETING.md).
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import click

from allocator.cli.decision_log import (
    db_option,
    db_shown,
    guards_named,
    open_log,
    reading_log,
    refuse_typed_secret,
    verified,
)
from allocator.cli.echo import BAD_INPUT, echo
from allocator.cli.extras import needs_serve_extra
from allocator.cli.files import made_from, read_handovers, read_inputs, warn_unread_handovers
from allocator.cli.options import FiniteRange, policy_option, seed_option
from allocator.command_line import A_SNAPSHOT, GivenPath
from allocator.contract.limits import MAX_RUNS as FORECAST_MAX_RUNS
from allocator.contract.limits import MAX_TIME_LIMIT
from allocator.contract.limits import MAX_WEEKS as FORECAST_MAX_WEEKS
from allocator.contract.settings import Settings
from allocator.problems.daily import allocate
from allocator.web.outlook import RUNS as OUTLOOK_RUNS
from allocator.web.outlook import WEEKS as OUTLOOK_WEEKS

SERVE_WORK_UNITS = 3.0
"""``serve``'s default search budget: fixed, so every logged plan can be replayed exactly."""
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _listening(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening, for uvicorn to serve on.

    Bound before anything is solved or logged, so a port in use stops ``serve`` with
    one line (exit 2) and leaves the decision log untouched.
    """
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        echo(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        sys.exit(BAD_INPUT)


def _public_origin(value: str | None) -> str | None:
    """``--public-origin`` as ``scheme://host[:port]``, or a usage error."""
    if value is None:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise click.BadParameter(
            f"{value!r}: expected the page's public address, https://name[:port]",
            param_hint="--public-origin",
        )
    return f"{parts.scheme}://{parts.netloc}".lower()


def _tls(cert: str | None, key: str | None) -> None:
    """Both of ``--certfile`` and ``--keyfile`` or neither, and a pair that loads."""
    if (cert is None) != (key is None):
        raise click.UsageError("--certfile and --keyfile go together")
    if cert is None or key is None:
        return
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        echo(f"error: cannot use the certificate {cert} and key {key}: {exc}", err=True)
        sys.exit(BAD_INPUT)


@click.command("serve")
@click.argument("snapshot", type=GivenPath(expected=A_SNAPSHOT))
@click.option("--referrals", type=GivenPath(), help="The day's referrals (JSON or CSV).")
@policy_option
@click.option(
    "--handovers",
    "handovers_path",
    type=GivenPath(),
    help="Handovers still pending (from apply): each receiver's room for the child is "
    "kept through the meeting's every re-solve and forecast, and the page lists them.",
)
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--token",
    envvar="ALLOCATOR_TOKEN",
    help="Required to bind anything but 127.0.0.1: every request must present it. "
    "Set ALLOCATOR_TOKEN: typed here it is in the process list, and refused. At least "
    "16 printable ASCII characters.",
)
@click.option(
    "--users",
    "users_path",
    type=GivenPath(dir_okay=False),
    help='A users file (TOML: name = "sha256:..." of each person\'s own token): each '
    "person signs in with their token, and their overrides and sign-off are logged "
    "under their name, not a typed one. Instead of --token.",
)
@click.option(
    "--names",
    "names_path",
    type=GivenPath(dir_okay=False),
    help='Display names for the page (TOML: [names] with P0001 = "Ann Smith"): shown '
    "beside ids on the page only; files and the log keep ids.",
)
@click.option(
    "--user-header",
    metavar="NAME",
    help="Behind the council's single sign-on: the header its proxy sets to the signed-in "
    "person (X-Remote-User). Believed only from --forwarded-allow-ips; instead of "
    "--token or --users.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="A Host name the page is served under, besides 127.0.0.1 and localhost "
    "(repeatable): the server's name on the council's network.",
)
@click.option(
    "--public-origin",
    metavar="URL",
    help="https://name[:port] the page is served under behind a reverse proxy: its "
    "name is served and forms posted from it are accepted.",
)
@click.option(
    "--forwarded-allow-ips",
    metavar="IPS",
    help="The reverse proxy's addresses (comma-separated): X-Forwarded-Proto and -For "
    "are read only from these (default: from nobody).",
)
@click.option("--certfile", type=GivenPath(dir_okay=False), help="Serve HTTPS: certificate (PEM).")
@click.option("--keyfile", type=GivenPath(dir_okay=False), help="Serve HTTPS: private key (PEM).")
@click.option(
    "--max-body",
    type=click.IntRange(min=1024, max=100_000_000),
    default=1_000_000,
    show_default=True,
    help="The largest request body accepted (bytes); larger ones are refused (413).",
)
@click.option(
    "--time-limit",
    type=FiniteRange(min=0.1, max=MAX_TIME_LIMIT),
    default=60.0,
    show_default=True,
    help="Seconds each solve may take (ample: the work budget decides).",
)
@click.option(
    "--work-units",
    type=FiniteRange(min=0, min_open=True, max=MAX_TIME_LIMIT),
    default=SERVE_WORK_UNITS,
    show_default=True,
    help="Each solve's deterministic work budget: the same plan on replay.",
)
@seed_option
@click.option(
    "--forecast-weeks",
    type=click.IntRange(min=1, max=FORECAST_MAX_WEEKS),
    default=OUTLOOK_WEEKS,
    show_default=True,
    help="Weeks the page's forecast looks ahead.",
)
@click.option(
    "--forecast-runs",
    type=click.IntRange(min=0, max=FORECAST_MAX_RUNS),
    default=OUTLOOK_RUNS,
    show_default=True,
    help="Simulated futures in the page's forecast (run in a worker process; 0: no forecast).",
)
@click.option(
    "--new-meeting",
    is_flag=True,
    help="Start a new meeting even if the log holds an open one on this snapshot and "
    "policy (by default serve resumes it, overrides and all).",
)
def serve_command(
    snapshot: str,
    referrals: str | None,
    policy_path: str | None,
    handovers_path: str | None,
    db: str,
    host: str,
    port: int,
    token: str | None,
    users_path: str | None,
    names_path: str | None,
    user_header: str | None,
    allowed_hosts: tuple[str, ...],
    public_origin: str | None,
    forwarded_allow_ips: str | None,
    certfile: str | None,
    keyfile: str | None,
    max_body: int,
    time_limit: float,
    work_units: float,
    seed: int,
    forecast_weeks: int,
    forecast_runs: int,
    new_meeting: bool,
) -> None:
    """Open the allocation meeting for SNAPSHOT in a browser: review, override, sign off.

    On a log holding an open meeting on the same snapshot, policy and pending
    handovers, resume it."""
    if token is not None:
        refuse_typed_secret("token", "the token in --token", "it in ALLOCATOR_TOKEN", "started")
    if sum(bool(x) for x in (token, users_path, user_header)) > 1:
        raise click.UsageError(
            "one of a token (ALLOCATOR_TOKEN), --users and --user-header, not two"
        )
    if user_header and not forwarded_allow_ips:
        raise click.UsageError(
            "--user-header needs --forwarded-allow-ips: the header is believed only from "
            "the proxy that sets it"
        )
    if host not in LOCAL_HOSTS and not (token or users_path or user_header):
        raise click.UsageError(
            f"binding {host} (not 127.0.0.1) needs a token (ALLOCATOR_TOKEN), --users or "
            "--user-header"
        )
    try:
        import uvicorn
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        from allocator.web.app import Meeting, create_app
        from allocator.web.outlook import Outlook
        from allocator.web.security import (
            Proxies,
            TrustedHeader,
            check_token,
            host_name,
            load_users,
        )
    except ImportError as exc:
        needs_serve_extra(exc)
    if token is not None:
        try:
            check_token(token)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="ALLOCATOR_TOKEN") from None
    users = None
    if users_path is not None:
        try:
            users = load_users(users_path)
        except ValueError as exc:
            echo(f"error: {exc}", err=True)
            sys.exit(BAD_INPUT)
    names = None
    if names_path is not None:
        from allocator.web.names import load_display_names

        try:
            names = load_display_names(names_path)
        except ValueError as exc:
            echo(f"error: {exc}", err=True)
            sys.exit(BAD_INPUT)
    origin = _public_origin(public_origin)
    _tls(certfile, keyfile)
    try:
        proxies = Proxies(forwarded_allow_ips) if forwarded_allow_ips else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--forwarded-allow-ips") from None
    snap, policy = read_inputs(snapshot, referrals, policy_path)
    warn_unread_handovers(snapshot, handovers_path, "keep their receivers' room")
    pending = read_handovers(handovers_path, snap, policy)
    listening = _listening(host, port)
    port = listening.getsockname()[1]
    log = open_log(db)
    if log.guards_restored:
        echo(
            "warning: the decision log's guards against rewriting were not in place "
            f"({guards_named(log.guards_restored)}): put back; its decisions are verified next",
            err=True,
        )
    with reading_log(db):
        checked = verified(log)
    if checked.broken is not None:
        echo(
            "error: the meeting is not opened on an altered log: keep it as evidence, and "
            "hold the meeting on a new --db",
            err=True,
        )
        sys.exit(BAD_INPUT)
    settings = Settings(time_limit=time_limit, work_units=work_units, seed=seed)
    resumed = None
    with reading_log(db):
        if new_meeting:
            why = "starting a new meeting, as asked (--new-meeting)"
        else:
            resumed, why = Meeting.resume(snap, policy, log, settings, pending)
    echo(why, err=True)
    if resumed is not None:
        meeting = resumed
    else:
        echo("solving the morning's plan ...", err=True)
        plan = allocate(snap, policy, settings, handovers=pending)
        plan = plan.model_copy(
            update={"made_from": made_from(snapshot, referrals, policy_path, "serve", service=snap)}
        )
        with reading_log(db):
            meeting = Meeting.open(snap, policy, log, plan, pending)
    meeting.picture()  # the page's figures made before it is served, not by its first open
    wildcard = host in ("0.0.0.0", "::")
    # The Host check stays on whatever the address bound: 0.0.0.0 serves the local
    # names and the names given, not any name a rebinding attacker's DNS points at it.
    hosts = sorted({*LOCAL_HOSTS, *allowed_hosts, *(() if wildcard else (host,))})
    app = create_app(
        meeting,
        token=token,
        allowed_hosts=hosts,
        public_origin=origin,
        max_body=max_body,
        users=users,
        user_header=user_header,
        names=names,
        outlook=Outlook(forecast_weeks, forecast_runs, seed) if forecast_runs else None,
    )
    asgi: Any = app
    if forwarded_allow_ips is not None:
        # X-Forwarded-Proto and -For believed from the proxy alone; the sign-on's header
        # kept only on the proxy's requests, checked before the peer is replaced.
        asgi = ProxyHeadersMiddleware(asgi, trusted_hosts=forwarded_allow_ips)
        if user_header is not None:
            assert proxies is not None
            asgi = TrustedHeader(asgi, header=user_header, proxies=proxies)
    scheme = "https" if certfile else "http"
    shown = origin or f"{scheme}://{host_name('127.0.0.1' if wildcard else host)}:{port}"
    echo(
        f"decision {meeting.decision_id} in force in {db_shown(db)} (chain head "
        f"{log.head()}); open {shown}/" + ("?token=..." if token else ""),
        err=True,
    )
    if wildcard and not allowed_hosts and origin is None:
        echo(
            f"note: binding {host}, only requests naming {', '.join(LOCAL_HOSTS)} are served: "
            "give the server's name with --allowed-host (or --public-origin)",
            err=True,
        )
    if host not in LOCAL_HOSTS and not certfile:
        # The token (or sign-on), the session cookie and every page of children's data
        # would cross the network as plain text: HTTPS here, or a TLS proxy in front
        # of a loopback address, keeps them off the wire.
        echo(
            f"warning: serving {host} over plain HTTP: the token, the session cookie and "
            "the children's data cross the network unencrypted; give --certfile and "
            "--keyfile, or bind 127.0.0.1 behind the council's TLS proxy (--public-origin "
            "https://...)",
            err=True,
        )
    config = uvicorn.Config(
        asgi,
        host=host,
        port=port,
        log_level="warning",
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        proxy_headers=False,  # applied above, inside the sign-on header's check
    )
    uvicorn.Server(config).run(sockets=[listening])

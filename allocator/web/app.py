"""The allocation meeting's web application: review page and JSON API on the same routes.

FastAPI (Starlette underneath) with Jinja2 templates; no front-end build, no script
the page needs. Each route answers HTML to a browser (``Accept: text/html``) and JSON
to anyone else; the OpenAPI schema is at ``/openapi.json`` (behind the token, when
there is one); no interactive docs page, which would load script from elsewhere.

Safety: the server binds 127.0.0.1 unless given a token (:mod:`allocator.cli.meeting`); only
the expected ``Host`` names are served (no DNS rebinding); a form post must carry
the page's CSRF token and come from the page's own origin (or the declared public
origin, behind a proxy); a JSON post must be ``application/json`` (which a cross-site
form cannot send); with a token every request must present it (``Authorization:
Bearer``, or ``?token=`` once, which is swapped for a session cookie and removed from
the address). Every answer carries the headers of :mod:`allocator.web.security`; a
body above the limit is refused (413) before it is read whole. Jinja2 autoescapes
every id and sentence.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from allocator.contract.faults import describe_value
from allocator.contract.models import ExactNumber, Handover, Plan, Snapshot
from allocator.contract.policy import Policy
from allocator.contract.settings import ProgressCallback, Settings
from allocator.domain.objectives import REFERENCE_CHANGES
from allocator.domain.rules import ServiceState, counted, joined, points
from allocator.io import dump_json
from allocator.meeting.log import EVENT_WORDS, Decision, DecisionLog
from allocator.meeting.overrides import (
    MAX_NAME,
    FamiliesChanged,
    ManagerName,
    Moved,
    Override,
    OverrideError,
    OverrideRefused,
    Resolution,
    RoomIndex,
    allow_moves,
    apply_overrides,
    canonical_plan,
    check_holdable,
    check_override,
    check_unallocatable,
    digest,
    expand_family,
    families_changed,
    final_workers,
    kept_snapshot,
    kept_words,
    merge_override,
    placed_snapshot,
    promises_standing,
    refusal,
    resolve,
    room_by_moving,
    room_for,
    solver_settings,
)
from allocator.present.analysis import morning_risks
from allocator.present.html_report import (
    STATUS_WORDS,
    LoadRow,
    legend,
    load_bars_svg,
    load_rows,
    render_report,
    team_heading,
    tiers_table,
)
from allocator.web.names import shown_by
from allocator.web.outlook import Outlook
from allocator.web.security import (
    MAX_BODY,
    SESSION_SECONDS,
    AllowedHosts,
    BodyLimit,
    HeadAsGet,
    SecurityHeaders,
    check_token,
    content_security_policy,
    header_user,
    json_depth_ok,
    log_unavailable,
    same_secret,
    session_user,
    session_value,
    user_of,
)
from allocator.web.solves import SolveQueue

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: How many alternative workers the page shows per case.
ALTERNATIVES = 3
TOKEN_COOKIE = "allocator_token"


class SignOff(BaseModel):
    """A sign-off: the manager's name as they type it, and the plan they reviewed.

    ``decision_id`` (the decision the page showed) or ``plan_sha256`` (the SHA-256
    of the plan reviewed, as ``GET /`` and the log give it), or both: a sign-off
    binds what the manager saw, and is refused when the plan in force has changed
    since.
    """

    model_config = ConfigDict(extra="forbid")

    manager: Annotated[ManagerName, Field(strict=True)]
    # Strict: JSON's "9" or 9.0 is no decision number (a form's text is read apart).
    decision_id: Annotated[int, ExactNumber, Field(ge=1, strict=True)] | None = None
    plan_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None

    @model_validator(mode="after")
    def _names_what_was_reviewed(self) -> SignOff:
        if self.decision_id is None and self.plan_sha256 is None:
            raise ValueError(
                "say which plan you reviewed: decision_id (shown on the page) or plan_sha256"
            )
        return self


@dataclass(frozen=True)
class Preview:
    """What an override would do (:meth:`Meeting.preview`), nothing changed.

    Attributes
    ----------
    decision_id
        The plan in force it was tried on.
    moved
        The other children it would move (before -> after); none when it would be
        refused (nothing would happen).
    changes_of_worker
        Children who would change worker, beyond those the plan in force changes (0
        when it would be refused).
    families_split, families_joined
        Families that would be held by more workers than under the plan in force, and
        those that would be held by fewer (brought together), each counted apart
        (:func:`~allocator.meeting.overrides.families_changed`).
    said
        What it needs of the worker and what they have.
    refused
        Why it would be refused, or ``None``.
    ends
        Where each case the override is for would end (its worker, or ``None``).
    """

    decision_id: int
    moved: tuple[Moved, ...]
    changes_of_worker: int | float
    said: str | None
    refused: str | None
    families_split: int = 0
    families_joined: int = 0
    ends: Mapping[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "preview": True,
            "decision_id": self.decision_id,
            "moved": [m.__dict__ for m in self.moved],
            "changes_of_worker": self.changes_of_worker,
            "families_split": self.families_split,
            "families_joined": self.families_joined,
            "ends": dict(self.ends),
            "said": self.said,
            "refused": self.refused,
        }


class AlreadySigned(RuntimeError):
    """A sign-off of a plan that is signed off already."""


class StaleSignOff(RuntimeError):
    """A sign-off of a plan that is no longer the plan in force."""


class StaleOverride(OverrideRefused):
    """An override sent from a page shown before another manager's word on its case:
    made, it would replace that word unheard."""


class LogAltered(OverrideRefused):
    """The decision log no longer verifies (:meth:`DecisionLog.verify`): rewritten
    behind the meeting's back. Nothing more is shown from it or logged to it."""


@dataclass(frozen=True)
class Picture:
    """What the page shows of a plan beyond the plan itself, made once per decision.

    Attributes
    ----------
    risks
        Today's risks (:func:`~allocator.present.analysis.morning_risks`).
    loads
        The workers' loads (:func:`~allocator.present.html_report.load_rows`).
    alternatives
        Per case to decide: up to :data:`ALTERNATIVES` (worker, first reason), best
        first, ranked on the loads of the plan (every placement of it applied:
        :func:`~allocator.meeting.overrides.placed_snapshot`), the room kept for promised
        children and the new families it already gives each worker (the intake
        limit) counted; a case the plan places is ranked as an open case, its
        alternatives to the proposed worker.
    nearest
        For each case nobody has room for: the workers the rules let hold it, the
        fewest points short first, with the move that would make room
        (:meth:`Meeting.nearest`).
    """

    risks: list[str]
    loads: list[LoadRow]
    alternatives: dict[str, list[tuple[str, str]]]
    nearest: dict[str, list[tuple[str, str]]]

    @classmethod
    def of(
        cls,
        snapshot: Snapshot,
        policy: Policy,
        plan: Plan,
        promised: Sequence[Handover],
        overrides: Sequence[Override] = (),
    ) -> Picture:
        """The picture of ``plan``, the room of the ``promised`` handovers kept and the
        workers ``overrides`` keep a child off never offered for that child (a fresh
        trial's page offered a worker the manager had just excluded)."""
        from allocator.problems.recommend import ONCE_APPLIED, Recommender, plan_new_families

        kept_off = apply_overrides(snapshot, [o for o in overrides if o.action == "exclude"])
        placed = placed_snapshot(kept_off, plan)
        # The room reason (a hover text, read apart from its column's heading) says
        # it is judged on the plan's loads, as recommend --plan says it.
        rec = Recommender(
            kept_snapshot(placed, policy, promised),
            policy,
            new_today=plan_new_families(snapshot, plan),
            judged_on=ONCE_APPLIED,
        )
        cases = [a.case for a in plan.assignments] + [u.case for u in plan.unallocated]
        found: dict[str, list[tuple[str, str]]] = {}
        for cid in cases:
            r = rec.recommend(cid, top=ALTERNATIVES + 1, ineligible=0)
            found[cid] = [(c.worker, c.reasons[0] if c.reasons else "") for c in r.ranked]
        index = RoomIndex.of(rec.state)
        return cls(
            risks=morning_risks(snapshot, policy, plan, promised),
            loads=load_rows(snapshot, policy, plan),
            alternatives=found,
            nearest={cid: _nearest(rec.state, cid, index) for cid in cases if not found[cid]},
        )


@dataclass
class Meeting:
    """One meeting's state: the service, the log, the current plan and its overrides.

    Parameters
    ----------
    snapshot, policy
        The service as loaded, and the policy.
    log
        The decision log.
    plan
        The proposed plan (already logged as ``decision_id``).
    decision_id
        The log's id of ``plan``.
    handovers
        Handovers an earlier plan promised and still to come (``serve --handovers``):
        each receiver's room is kept through every re-solve, preview, ranking of
        alternatives and forecast of the meeting (those a manager's override breaks
        keep none, :func:`~allocator.meeting.overrides.promises_standing`).
    """

    snapshot: Snapshot
    policy: Policy
    log: DecisionLog
    plan: Plan
    decision_id: int
    overrides: list[Override] = field(default_factory=list)
    handovers: tuple[Handover, ...] = ()
    moved: tuple[Moved, ...] = ()
    #: Where each case of the last override ends (``None``: without a worker).
    ends: dict[str, str | None] = field(default_factory=dict)
    #: The families the last override split and those it brought together
    #: (:func:`~allocator.meeting.overrides.families_changed`).
    families: FamiliesChanged = FamiliesChanged(0, 0)
    #: (sign-off decision id, manager, how the manager was known: ``manager_via``)
    signed: tuple[int, str, str] | None = None
    said: str | None = None  # what the last override needed and the worker had
    lock: threading.Lock = field(default_factory=threading.Lock)
    _state: ServiceState | None = None
    _plan_sha: tuple[int, str] | None = None
    #: The plan in force's page figures (:class:`Picture`), made once per decision.
    _picture: tuple[int, Picture] | None = None
    #: Why the log no longer verifies, once a walk of its chain found it rewritten
    #: (:meth:`genuine`); it stays said, on the page too, for the rest of the meeting.
    altered: str | None = None

    @classmethod
    def open(
        cls,
        snapshot: Snapshot,
        policy: Policy,
        log: DecisionLog,
        plan: Plan,
        handovers: Sequence[Handover] = (),
    ) -> Meeting:
        """Log the proposed ``plan`` (solved keeping the room of ``handovers``:
        ``allocate(..., handovers=...)``) and start a meeting on it."""
        _, decision_id = log.propose(snapshot, policy, plan, handovers)
        return cls(snapshot, policy, log, plan, decision_id, handovers=tuple(handovers))

    @classmethod
    def resume(
        cls,
        snapshot: Snapshot,
        policy: Policy,
        log: DecisionLog,
        settings: Settings,
        handovers: Sequence[Handover] = (),
    ) -> tuple[Meeting | None, str]:
        """The open meeting on ``snapshot`` and ``policy`` in ``log``, or why there is none.

        A meeting is open when its newest decision on them is not a sign-off and its
        plan was solved with ``settings`` (:func:`~allocator.meeting.overrides.solver_settings`),
        without moves (``allow_moves``) and keeping the room of the same promised
        ``handovers``: it resumes at that decision with the overrides then in effect,
        as if the server had never stopped.

        Returns
        -------
        (meeting or None, sentence)
            The meeting resumed and what was resumed; or ``None`` and why a new
            meeting starts.
        """
        last = log.latest(snapshot, policy)
        if last is None:
            return None, "no meeting on this snapshot and policy in the log: starting a new one"
        if last.kind == "signoff":
            return None, (
                f"the last meeting on this snapshot ({last.meeting}) was signed off by "
                f"{last.manager} (decision {last.id}): starting a new one"
            )
        plan = log.plan(last.id)
        made_with: dict[str, float | int] = solver_settings(plan).record()
        if allow_moves(plan):
            made_with["allow_moves"] = allow_moves(plan)
        if solver_settings(plan) != settings or allow_moves(plan):
            now = settings.record()
            differ = "; ".join(
                f"{key.replace('_', ' ')} {made_with.get(key, 'not set')} then, "
                f"{now.get(key, 'not set')} now"
                for key in sorted(set(made_with) | set(now))
                if made_with.get(key) != now.get(key)
            )
            return None, (
                f"the open meeting on this snapshot ({last.meeting}, decision {last.id}) "
                f"was solved with other settings ({differ}): starting a new one"
            )
        held = log.handovers(last)
        if held != tuple(handovers):
            return None, (
                f"the open meeting on this snapshot ({last.meeting}, decision {last.id}) "
                f"kept room for {_promises(held)}, and this one is asked to keep it for "
                f"{_promises(handovers)} (--handovers): starting a new one"
            )
        meeting = cls(
            snapshot,
            policy,
            log,
            plan,
            last.id,
            overrides=list(last.overrides),
            handovers=tuple(handovers),
        )
        return meeting, (
            f"resuming meeting {last.meeting} at decision {last.id} ({last.kind}) with "
            f"{counted(len(last.overrides), 'override')} in force"
        )

    def _seen(self) -> Picture:
        """The plan in force's :class:`Picture`, made on first use per decision
        (an override makes its plan's before putting it in force)."""
        if self._picture is None or self._picture[0] != self.decision_id:
            self._picture = (
                self.decision_id,
                Picture.of(self.snapshot, self.policy, self.plan, self.promised, self.overrides),
            )
        return self._picture[1]

    def picture(self) -> tuple[list[str], list[LoadRow]]:
        """Today's risks (:func:`~allocator.present.analysis.morning_risks`) and the loads
        (:func:`~allocator.present.html_report.load_rows`) under the plan in force."""
        seen = self._seen()
        return seen.risks, seen.loads

    def alternatives(self) -> dict[str, list[tuple[str, str]]]:
        """Per case to decide: up to :data:`ALTERNATIVES` (worker, first reason), best
        first, under the plan in force (:attr:`Picture.alternatives`)."""
        return self._seen().alternatives

    def nearest(self, case_id: str) -> list[tuple[str, str]]:
        """For a case nobody has room for under the plan in force: up to
        :data:`ALTERNATIVES` workers the rules let hold it, the fewest points short
        first, with how short and which move of one or two families would make the
        room ("1.5 points short; room if C7 (3.0 points) moves to P4: 1 change of
        worker"): who could take the child if room were made (or over cap, by
        exception). Empty when someone has room."""
        return self._seen().nearest.get(case_id, [])

    def genuine(self, nothing: str) -> None:
        """Walk the log's chain (:meth:`~allocator.meeting.log.DecisionLog.verify`),
        as ``allocator log`` and ``history`` do before showing anything, and ``serve``
        before it opens a meeting: a log rewritten while the meeting runs (a fresh
        trial's page listed a manager's name changed by hand as genuine) is neither
        read nor extended. ``nothing``: what was not done ("shown", "logged").

        Raises
        ------
        LogAltered
            The chain is broken (now, or at an earlier walk of this meeting).
        """
        broken = self.log.verify().broken
        if broken is not None and self.altered is None:
            self.altered = f"the decision log was altered: {broken}"
        if self.altered is not None:
            raise LogAltered(
                f"{self.altered}: nothing was {nothing}; keep the log as evidence, and hold "
                "the meeting on a new --db"
            )

    def decided_since(self, seen: int, made: Sequence[Override]) -> None:
        """Refuse overrides ``made`` from a page that showed decision ``seen`` when a
        manager has decided about one of their cases since: made, they would replace
        that word unheard (a fresh trial: two managers on the page of one decision gave
        one child to two workers, and the second silently undid the first). Decisions
        about other children since, and the re-solves' moves, do not matter: the page's
        choice for this child was made knowing every other word on it.

        Raises
        ------
        StaleOverride
            ``seen`` is not a plan of this meeting, or a case of ``made`` was decided
            (chosen, kept off, left unallocated) by a decision after it.
        """
        cases = {o.case for o in made}
        since: list[tuple[Decision, Override]] = []
        # Back along the meeting's plans, each decision read once (its parent is the
        # next one looked at).
        decision: Decision | None = self.log.decision(self.decision_id)
        while decision is not None and decision.id != seen:
            parent = None if decision.parent_id is None else self.log.decision(decision.parent_id)
            if decision.kind == "override" and parent is not None:
                since += [
                    (decision, o)
                    for o in decision.overrides
                    if o.case in cases and o not in parent.overrides
                ]
            decision = parent
        if decision is None:
            raise StaleOverride(
                f"the page you sent this from showed decision {seen}, which is not a plan of "
                f"this meeting (the plan in force is decision {self.decision_id}): nothing "
                "was changed. Reload the page and decide again"
            )
        if since:
            newest, o = since[0]
            raise StaleOverride(
                f"{o.case} was decided since the page you sent this from was shown (decision "
                f"{seen}): decision {newest.id}, {o.manager}: {_described_word(o)}. Nothing "
                "was changed: reload the page, read the plan in force, and decide again"
            )

    def precheck(self, override: Override) -> list[Override]:
        """The checks an override passes whatever the plan in force: known ids, and a
        worker the hard rules let hold each case it stands for. Returns those cases'
        one-case overrides (:func:`~allocator.meeting.overrides.expand_family`).

        Raises
        ------
        OverrideError
            An unknown case or worker, a worker the hard rules do not let hold
            the case (:func:`~allocator.meeting.overrides.check_holdable`), or a child who
            needs no worker left unallocated
            (:func:`~allocator.meeting.overrides.check_unallocatable`).
        """
        check_override(self.snapshot, override)
        if self._state is None:
            self._state = ServiceState.of(self.snapshot, self.policy)
        made = expand_family(self.snapshot, override, self.overrides)
        for one in made:
            check_holdable(self._state, one)
            check_unallocatable(self._state, one)
        return made

    def _attempt(
        self, override: Override, progress: ProgressCallback | None
    ) -> tuple[list[Override], list[Override], str | None, Resolution, str | None]:
        """Re-solve with ``override`` added, changing nothing: (the one-case overrides
        it makes, the overrides then in effect, what it needs of the worker, the
        re-solve, why it is refused or ``None``)."""
        made = self.precheck(override)
        overrides = self.overrides
        for one in made:
            overrides = merge_override(overrides, one)
        kept = promises_standing(self.handovers, overrides)
        said = _what_it_takes(self.snapshot, self.policy, self.plan, override, made, kept)
        result = resolve(
            self.snapshot,
            self.policy,
            self.plan,
            overrides,
            progress=progress,
            handovers=self.handovers,
            earlier=self.overrides,
        )
        why = refusal(
            self.snapshot,
            self.policy,
            self.plan,
            overrides,
            made,
            result,
            self.handovers,
            room_said_of=override.worker if said else None,
        )
        if why is not None and said:
            why = f"{said}: {why}"
        return made, overrides, said, result, why

    def preview(self, override: Override, progress: ProgressCallback | None = None) -> Preview:
        """What ``override`` would do, found by the same re-solve, nothing changed or
        logged: the children who would move (their cost: each a change of worker),
        what it needs of the worker, or why it would be refused.

        Raises
        ------
        OverrideError
            As :meth:`precheck`.
        """
        made, _, said, result, why = self._attempt(override, progress)
        before = self.plan.objective.get("changes_of_worker", 0)
        # A refused override changes nothing: the re-solve's moves, listed beside the
        # refusal, read as moves it would make (a fresh user saw 4 children "moved"
        # beside "found no moves ... that make room").
        refused = why is not None
        families = FamiliesChanged(0, 0)
        if not refused:
            families = families_changed(self.snapshot, self.plan, result.plan)
        return Preview(
            decision_id=self.decision_id,
            moved=() if refused else result.moved,
            changes_of_worker=0
            if refused
            else result.plan.objective.get("changes_of_worker", 0) - before,
            said=said,
            refused=why,
            families_split=families.split,
            families_joined=families.joined,
            ends={} if refused else _ends(result, made),
        )

    def override(
        self,
        override: Override,
        progress: ProgressCallback | None = None,
        *,
        manager_via: str = "typed",
        previewed: bool = False,
        seen: int | None = None,
    ) -> int:
        """Apply one more override: re-solve, log, and make the result current.

        It replaces the earlier overrides of its case it contradicts
        (:func:`~allocator.meeting.overrides.merge_override`). The solve runs without
        :attr:`lock`, taken only to put the result in force, so the page answers
        meanwhile; overrides must come one at a time (the web app's
        :class:`~allocator.web.solves.SolveQueue`). ``manager_via``: how the
        manager's name was known (:data:`~allocator.meeting.log.MANAGER_VIA`), logged
        beside it. An override whose re-solve would cost another child the worker
        they have or were given, or move a child off the worker they hold, is refused
        unless ``previewed`` (its preview shown on this plan in force): what it costs
        is seen before it happens. ``seen``: the decision the page it was sent from
        showed, where another manager's word on its case since refuses it
        (:meth:`decided_since`).

        Raises
        ------
        OverrideError
            As :meth:`precheck`; :class:`~allocator.meeting.overrides.OverrideRefused` when the
            re-solve cannot honour it (nothing changed, nothing logged);
            :class:`StaleOverride` as :meth:`decided_since`.
        """
        parent = self.decision_id
        if seen is not None and not previewed:
            self.decided_since(seen, self.precheck(override))
        # Sent again as it stands (a double click, a resent request), by anyone: nothing
        # to decide, and a sign-off of the plan in force stays signed. By someone else
        # it would credit them with another manager's decision and words (a fresh
        # trial's resent exception read "over cap by Bo Lee's exception" in Ann's words).
        deciders = [
            next((o.manager for o in self.overrides if _alike(o, one)), None)
            for one in self.precheck(override)
        ]
        if all(d is not None for d in deciders):
            by = ", ".join(sorted({d for d in deciders if d is not None}))
            raise OverrideRefused(
                f"this override is already in force (decision {self.decision_id}, by {by}): "
                "nothing changed, nothing logged"
            )
        made, overrides, said, result, why = self._attempt(override, progress)
        if why is not None:
            raise OverrideRefused(why)
        if not previewed:
            unseen = unseen_costs(self.snapshot, result.moved)
            if unseen:
                raise OverrideRefused(
                    f"this would {unseen}: preview it first (the page's Preview, or "
                    "?preview=1), then accept. Nothing was changed."
                )
        self.genuine("logged")
        decision_id = self.log.override(
            parent, overrides, result, made=made, manager_via=manager_via
        )
        families = families_changed(self.snapshot, self.plan, result.plan)
        # Made here, on the re-solve's thread, not by the first page to ask under the
        # lock (2.9 s at 1,000 practitioners, every other request waiting).
        promised = promises_standing(self.handovers, overrides)
        picture = Picture.of(self.snapshot, self.policy, result.plan, promised, overrides)
        with self.lock:
            self.overrides, self.plan, self.decision_id = overrides, result.plan, decision_id
            self.moved, self.signed, self.said = result.moved, None, said
            self.ends, self.families = _ends(result, made), families
            self._picture = (decision_id, picture)
        return decision_id

    @property
    def promised(self) -> tuple[Handover, ...]:
        """The promised handovers still in force under the overrides in force: their
        receivers' room is kept (:func:`~allocator.meeting.overrides.promises_standing`)."""
        return promises_standing(self.handovers, self.overrides)

    def promises(self) -> list[dict[str, Any]]:
        """Each handover promised before the meeting, for the page and ``GET /``: the
        child, from whom to whom and on which day, the room kept at the receiver
        (points), and whether it stands (``False``: a manager's override of the child
        broke it, and its room is no longer kept)."""
        cases = {c.id: c for c in self.snapshot.cases}
        standing = set(self.promised)
        return [
            {
                "case": h.case,
                "from": h.from_,
                "worker": h.worker,
                "on": h.on.isoformat(),
                "room_kept": self.policy.case_weight(cases[h.case]) if h in standing else 0.0,
                "standing": h in standing,
            }
            for h in self.handovers
            if h.case in cases
        ]

    @property
    def plan_sha256(self) -> str:
        """The SHA-256 of the plan in force as the log stores it (its canonical bytes)."""
        if self._plan_sha is None or self._plan_sha[0] != self.decision_id:
            self._plan_sha = (self.decision_id, digest(canonical_plan(self.plan)))
        return self._plan_sha[1]

    def sign_off(
        self,
        manager: str,
        *,
        decision_id: int | None = None,
        plan_sha256: str | None = None,
        manager_via: str = "typed",
    ) -> int:
        """A named manager signs off the plan they reviewed, which must be the one in force.

        Parameters
        ----------
        manager
            Who signs.
        decision_id, plan_sha256
            The decision, or the plan's SHA-256, the manager reviewed (one or both).
        manager_via
            How the manager's name was known (:data:`~allocator.meeting.log.MANAGER_VIA`),
            logged beside it.

        Raises
        ------
        ValueError
            Neither ``decision_id`` nor ``plan_sha256`` given.
        StaleSignOff
            The plan reviewed is no longer the plan in force: nothing is signed.
        AlreadySigned
            When the plan in force is signed off already (a new decision comes first).
        LogAltered
            The log was rewritten behind the meeting's back (:meth:`genuine`).
        """
        with self.lock:
            return self._sign_off(manager, decision_id, plan_sha256, manager_via)

    def _sign_off(
        self, manager: str, decision_id: int | None, plan_sha256: str | None, manager_via: str
    ) -> int:
        if decision_id is None and plan_sha256 is None:
            raise ValueError("a sign-off names the decision or the plan reviewed")
        stale = (decision_id is not None and decision_id != self.decision_id) or (
            plan_sha256 is not None and plan_sha256 != self.plan_sha256
        )
        if stale:
            current = self.log.decision(self.decision_id)
            # "Made since" only of a plan made after the one reviewed (a fresh trial
            # read it of a decision that does not exist yet).
            after = decision_id is None or decision_id < self.decision_id
            since = (
                (f"made since by {current.manager}" if current.manager else "proposed since")
                if after
                else f"by {current.manager}"
                if current.manager
                else "the proposal"
            )
            if decision_id is not None and decision_id != self.decision_id:
                seen = self._named(decision_id, current.meeting)
            else:  # the decision named is in force; the plan's hash given is not its
                seen = (
                    f"the plan you reviewed (SHA-256 {str(plan_sha256)[:12]}...) is not the "
                    "plan in force,"
                )
            then = (
                f"It was signed off by {self.signed[1]} (decision {self.signed[0]}): "
                "override a case before signing again"
                if self.signed is not None
                else "Reload the page, review the plan in force and sign it off"
            )
            raise StaleSignOff(
                f"{seen} decision {self.decision_id} ({current.kind}, {since}): nothing was "
                f"signed. {then}"
            )
        if self.signed is not None:
            raise AlreadySigned(
                f"the plan in force was signed off by {self.signed[1]} "
                f"(decision {self.signed[0]}): override a case before signing again"
            )
        self.genuine("logged")
        decision_id = self.log.sign_off(self.decision_id, manager, manager_via=manager_via)
        self.signed = (decision_id, manager, manager_via)
        return decision_id

    def _named(self, decision_id: int, meeting: str) -> str:
        """What a sign-off naming ``decision_id``, not the one in force, named: the
        start of its refusal, ending where the plan in force is named ("... the plan
        in force is"). A decision not (yet) in this meeting, a sign-off (which is no
        plan: a fresh manager named the sign-off just made and read "there is no
        decision 8 ... It was signed off by Carol Head (decision 8)"), or a plan that
        has been replaced since."""
        try:
            named = self.log.decision(decision_id)
        except LookupError:
            named = None
        if named is None or named.meeting != meeting:
            yet = " yet" if decision_id > self.decision_id and named is None else ""
            return f"there is no decision {decision_id} in this meeting{yet}: the plan in force is"
        if named.kind == "signoff":
            return (
                f"decision {decision_id} is {named.manager}'s sign-off of decision "
                f"{named.parent_id}, not a plan; the plan in force is"
            )
        return f"you reviewed decision {decision_id}, but the plan in force is"

    def state(self) -> dict[str, Any]:
        """The meeting as plain data (the JSON of ``GET /``)."""
        return {
            "meeting": self.log.decision(self.decision_id).meeting,
            "decision_id": self.decision_id,
            "plan_sha256": self.plan_sha256,
            "signed": None
            if self.signed is None
            else {
                "decision_id": self.signed[0],
                "manager": self.signed[1],
                "manager_via": self.signed[2],
            },
            "overrides": [o.model_dump() for o in self.overrides],
            "handovers": self.promises(),
            "moved": [m.__dict__ for m in self.moved],
            "ends": dict(self.ends),
            "plan": json.loads(dump_json(self.plan)),
            "log_altered": self.altered,
        }


def _promises(handovers: Sequence[Handover]) -> str:
    """Promised handovers in a few words: "no promised handover", "2 promised
    handovers (C1 to P2, C3 to P4)"."""
    if not handovers:
        return "no promised handover"
    named = ", ".join(f"{h.case} to {h.worker}" for h in handovers[:5])
    more = f" and {len(handovers) - 5} more" if len(handovers) > 5 else ""
    return f"{counted(len(handovers), 'promised handover')} ({named}{more})"


def _nearest(state: ServiceState, case_id: str, index: RoomIndex) -> list[tuple[str, str]]:
    """:meth:`Meeting.nearest` on ``state`` (the plan in force's placements applied),
    each with the move of one or two families that would make the room, if any
    (:func:`~allocator.meeting.overrides.room_by_moving`)."""
    holder = state.cases[case_id].worker
    weight = state.weight[case_id]
    short = sorted(
        (weight - state.spare_before(w), w) for w in state.allowed(case_id) if w != holder
    )
    return [
        (
            w,
            "; ".join(
                filter(
                    None, [f"{points(gap)} points short", room_by_moving(state, case_id, w, index)]
                )
            ),
        )
        for gap, w in short[:ALTERNATIVES]
        if gap > 0
    ]


def _ends(result: Resolution, made: Sequence[Override]) -> dict[str, str | None]:
    """Where each case of ``made`` ends under the re-solve's plan (held children not
    in it: where they are)."""
    after = result.workers(result.plan)
    return {o.case: after[o.case] for o in made}


class _FormRefused(Exception):
    """A form refused before its fields are read: without this meeting's CSRF token
    or from another origin (403), or with a field given twice (422)."""

    def __init__(self, detail: str, status: int = 403) -> None:
        super().__init__(detail)
        self.status = status


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _once_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict, each key once (``json.loads`` keeps the last)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _RepeatedKey(key[:100])
        out[key] = value
    return out


def in_words(errors: Sequence[Mapping[str, Any]]) -> str:
    """Pydantic's or FastAPI's validation errors as one sentence a manager reads:
    the field, then what was expected ("limit: a whole number, at least 1; reason: at
    most 500 characters"), never the validator's jargon ("Value error, ...", "after
    validation") nor its JSON."""
    said: list[str] = []
    for e in errors:
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path"))
        ctx = e.get("ctx") or {}
        kind = str(e.get("type", ""))
        if kind == "value_error":
            what = str(ctx.get("error", "")) or str(e.get("msg", ""))
        elif kind in ("int_parsing", "int_type", "int_from_float"):
            what = "a whole number"
        elif kind in ("greater_than_equal", "greater_than"):
            what = f"a number {'at least' if kind == 'greater_than_equal' else 'above'} " + str(
                ctx.get("ge", ctx.get("gt"))
            )
        elif kind in ("less_than_equal", "less_than"):
            what = f"a number {'at most' if kind == 'less_than_equal' else 'below'} " + str(
                ctx.get("le", ctx.get("lt"))
            )
        elif kind in ("string_too_long", "too_long"):
            unit = "characters" if isinstance(e.get("input"), str) else "items"
            what = f"at most {ctx.get('max_length')} {unit}"
        elif kind in ("string_too_short", "missing"):
            what = "required, and not empty"
        elif kind == "string_type":
            what = "a string"
        elif kind == "string_pattern_mismatch":
            what = (
                "64 hexadecimal digits (the plan's SHA-256, as GET / gives it)"
                if where.endswith("sha256")
                else f"text of the form {ctx.get('pattern', '')}"
            )
        elif kind == "literal_error":
            what = f"one of {ctx.get('expected', '')}"
        elif kind == "extra_forbidden":
            what = "not a field of this request"
        elif kind in ("bool_type", "bool_parsing"):
            what = "true or false"
        else:
            what = str(e.get("msg", "not accepted")).removeprefix("Value error, ")
        said.append(f"{where}: {what}" if where else what)
    return "; ".join(dict.fromkeys(said))


def unseen_costs(snapshot: Snapshot, moved: Sequence[Moved]) -> str:
    """What a re-solve's other moves cost children, in words ("leave C1 without the
    worker the plan gave them; move C2 off P3, who holds them today"), or ``""`` when
    they only place children elsewhere among today's new placements."""
    held = {c.id: c.worker for c in snapshot.cases}
    lost = [m.case for m in moved if m.before is not None and m.after is None]
    off = [
        f"{m.case} off {m.before}"
        for m in moved
        if held.get(m.case) is not None
        and m.before == held[m.case]
        and m.after != m.before
        and m.after is not None
    ]
    parts = []
    if lost:
        parts.append(f"leave {joined(lost)} without the worker the plan gave them")
    if off:
        parts.append(f"move {joined(off)}, who holds them today")
    return "; ".join(parts)


def _flag(request: Request, name: str, *, default: bool) -> bool:
    """A yes-or-no query parameter (``1/true/yes``, ``0/false/no``), ``default`` when
    absent; anything else is 422, never read as no (``?preview=abc`` made a real
    decision)."""
    values = request.query_params.getlist(name)
    if len(values) > 1:  # ?preview=1&preview=0 must not be read as either
        raise HTTPException(422, f"?{name}= is given {len(values)} times; expected it once")
    if not values:
        return default
    value = values[0]
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise HTTPException(422, f"?{name}= is {value!r}; expected 1, true or yes, or 0, false or no")


def _described_word(override: Override) -> str:
    """A manager's override as the log keeps it, in a line: "choose P3 ('knows them')"."""
    worker = f" {override.worker}" if override.worker else ""
    return f"{override.action}{worker} ({override.reason!r})"


def _described(override: Override) -> str:
    """An override in words, for the queue: "Ann: choose P3 for C12"."""
    what = override.action + (f" {override.worker}" if override.worker else "")
    if override.over_cap:
        what += " over cap"
    if override.family:
        what += " with the family"
    if override.make_room:
        what += ", making room"
    return f"{override.manager}: {what} for {override.case}"


def _what_it_takes(
    snapshot: Snapshot,
    policy: Policy,
    plan: Plan,
    override: Override,
    made: list[Override],
    handovers: Sequence[Handover] = (),
) -> str | None:
    """What a ``choose`` needs of its worker and what they have under ``plan``:
    "family F1 (C1 + C2) needs 22.5 points; P2 has 22.0 spare"; ``None`` otherwise.
    The room kept for children promised to the worker (``handovers`` standing) is not
    spare, and is said."""
    if override.action != "choose" or override.worker is None:
        return None
    cases = [o.case for o in made]
    needed, spare, cap = room_for(snapshot, policy, plan, override.worker, cases, handovers)
    if override.family:
        family = next(c.family for c in snapshot.cases if c.id == override.case)
        what = f"family {family} ({' + '.join(cases)}) needs"
    else:
        what = f"{override.case} needs"
    now = {c.id: c.worker for c in snapshot.cases} | final_workers(plan)
    held = [o.case for o in made if now[o.case] == override.worker]
    worker = override.worker
    if spare < 0:  # "0.0 spare" hid how far over cap a fresh trial's worker already was
        has = f"{worker} is {points(-spare)} points over their cap under the plan in force"
    else:
        has = f"{worker} has {points(spare)} spare under the plan in force"
    kept = kept_words(snapshot, policy, handovers, worker)
    if kept:
        has += f" ({kept})"
    if held and len(held) == len(made):  # nothing changes hands: no room is needed
        whom = f"{held[0]} is" if len(held) == 1 else f"{' + '.join(held)} are"
        return f"{whom} already with {worker}: no more room is needed; {has}"
    if override.over_cap and needed > spare:
        has += f"; over cap by exception, {worker} would hold {points(cap - spare + needed)} "
        has += f"of {points(cap)} points"
    beyond = f" beyond {' + '.join(held)}, already with {worker}" if held else ""
    return f"{what} {points(needed)} points{beyond}; {has}"


def _is_form(request: Request) -> bool:
    """Whether ``request`` posts a form (its fields are text), not JSON."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    return kind in ("application/x-www-form-urlencoded", "multipart/form-data")


def _form_booleans(model: type[BaseModel], fields: dict[str, str]) -> dict[str, Any]:
    """A page's form as the JSON it stands for: each boolean field of ``model`` sent
    as ``"true"`` or ``"on"`` (a ticked box) is true, ``"false"`` or empty false.

    The request models' booleans are strict (JSON ``true`` / ``false`` only: ``"yes"``
    or ``1`` is refused, not taken as true); a form can send only text, so its
    booleans are read here, for the form alone. Any other text is left for the
    model to refuse.
    """
    out: dict[str, Any] = dict(fields)
    for name, info in model.model_fields.items():
        if info.annotation is bool and name in out:
            if out[name] in ("true", "on"):
                out[name] = True
            elif out[name] in ("false", ""):
                out[name] = False
    return out


def _json_or_form(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI for a route whose body is ``schema`` as JSON or as a page's form."""
    content = {kind: {"schema": schema} for kind in JSON_OR_FORM}
    return {"requestBody": {"required": True, "content": content}}


#: The bodies a POST route takes: a council system's JSON, or the page's form.
JSON_OR_FORM = ("application/json", "application/x-www-form-urlencoded")


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower case."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


def _alike(a: Override, b: Override) -> bool:
    """The same decision, whoever made it: every field but the manager's name."""
    return a.model_copy(update={"manager": b.manager}) == b


def _same_origin(request: Request, public_origin: str | None = None) -> bool:
    """A browser's ``Origin`` (or ``Referer``), when sent, must be this server: the
    ``Host`` it was asked for, or the public origin a reverse proxy serves it under."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    if public_origin is not None and _origin(origin) == _origin(public_origin):
        return True
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


def _page_styles() -> list[str]:
    """The style blocks the server's pages hold (base.html's, the report's): the CSP
    allows these, by their hashes, and no other style."""
    from allocator.present.html_report import CSS

    base = (TEMPLATES / "base.html").read_text(encoding="utf-8")
    return [*re.findall(r"<style>(.*?)</style>", base, flags=re.S), CSS]


class ForecastAsk(BaseModel):
    """``POST /forecast`` takes no fields: the forecast is of the plan in force."""

    model_config = ConfigDict(extra="forbid")


def create_app(
    meeting: Meeting,
    *,
    token: str | None = None,
    allowed_hosts: list[str] | None = None,
    public_origin: str | None = None,
    max_body: int = MAX_BODY,
    users: dict[str, str] | None = None,
    user_header: str | None = None,
    names: Mapping[str, str] | None = None,
    outlook: Outlook | None = None,
) -> FastAPI:
    """The web application for ``meeting``.

    Parameters
    ----------
    meeting
        The meeting the page shows and changes.
    token
        When given, every request must present it (see the module docstring); at least
        :data:`~allocator.web.security.MIN_TOKEN` printable ASCII characters.
    allowed_hosts
        ``Host`` names served (default: ``127.0.0.1``, ``localhost``); an IPv6 address
        as ``::1`` or ``[::1]``. The public origin's host is added.
    public_origin
        ``https://name[:port]`` the page is served under behind a reverse proxy: a
        form posted from it is accepted whatever ``Host`` the proxy sends.
    max_body
        The largest request body accepted (bytes); a larger one is 413.
    users
        Who may sign in (:func:`~allocator.web.security.load_users`): each request must
        present one person's own token, and an override's or sign-off's manager is that
        person, whatever name a form or a client sends. Without it, decisions are
        attributed to the names typed (the page says so).
    user_header
        The header the council's single sign-on proxy sets to the signed-in person
        (``X-Remote-User``): every request must carry it, and that person is the
        manager. The header must be believed only from the proxy: serve wraps the
        app in :class:`~allocator.web.security.TrustedHeader`, which strips it from
        anybody else's requests.
    names
        Display names by id (:func:`allocator.web.names.load_display_names`): the
        page shows "Name (id)" where it names an id; ids stay in every file and log.
    outlook
        The next weeks' forecast (:class:`~allocator.web.outlook.Outlook`): started
        now from the plan in force, shown on the page when ready, asked for again
        with ``POST /forecast``; ``None``: no forecast panel.

    Raises
    ------
    ValueError
        A token too short or not printable ASCII.
    """
    if token is not None:
        check_token(token)
    app = FastAPI(
        title="allocator: the allocation meeting",
        description="Review the proposed plan, override with reasons, sign off.",
        version="1",
        docs_url=None,  # Swagger UI and ReDoc load script from a CDN: not here
        redoc_url=None,
    )
    # A log that times out mid-request (locked, stalled) is one sentence, not a 500.
    from sqlalchemy.exc import DBAPIError

    app.add_exception_handler(DBAPIError, log_unavailable)
    from fastapi.exceptions import RequestValidationError

    async def invalid_request(request: Request, exc: Exception) -> Response:
        # A query or path parameter of the wrong kind (?limit=abc, /jobs/abc): one
        # sentence, not FastAPI's list of error objects.
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        return JSONResponse({"detail": in_words(errors)}, status_code=422)

    app.add_exception_handler(RequestValidationError, invalid_request)

    async def form_refused(request: Request, exc: Exception) -> Response:
        # A browser's stale form (after a restart the token changes) gets the page
        # with the sentence, not raw JSON.
        status = exc.status if isinstance(exc, _FormRefused) else 403
        if _wants_html(request):
            with meeting.lock:
                return render_meeting(request, error=str(exc), status_code=status)
        return JSONResponse({"detail": str(exc)}, status_code=status)

    app.add_exception_handler(_FormRefused, form_refused)
    hosts = list(allowed_hosts or ["127.0.0.1", "localhost"])
    if public_origin is not None:
        hosts.append(urlsplit(public_origin).hostname or "")
    csrf = secrets.token_urlsafe(32)
    solves = SolveQueue()
    app.state.solves = solves
    if outlook is not None and outlook.on:
        outlook.start(
            meeting.snapshot,
            meeting.policy,
            meeting.plan,
            f"decision {meeting.decision_id}",
            handovers=meeting.promised,
        )
        app.router.add_event_handler("shutdown", outlook.shutdown)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters["shown"] = shown_by(names or {})
    env.filters["event_words"] = lambda event: EVENT_WORDS.get(event, event)
    env.filters["team"] = team_heading
    env.globals["names"] = bool(names)

    if user_header is not None:

        @app.middleware("http")
        async def require_sign_on(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            sent = request.headers.getlist(user_header)
            if len(sent) > 1:
                # A proxy that adds its header beside the browser's would let the user
                # name themselves first: two values name nobody.
                return JSONResponse(
                    {
                        "detail": f"{user_header} was sent {len(sent)} times; expected it once, "
                        "set by the council's sign-on proxy"
                    },
                    status_code=400,
                )
            who = header_user(sent[0] if sent else None)
            if who is None:
                return JSONResponse(
                    {"detail": "sign in through the council's sign-on"}, status_code=401
                )
            request.state.user = who
            return await call_next(request)

    elif token is not None or users is not None:
        key = secrets.token_bytes(32)

        def identify(presented: str) -> str | None:
            """The person a token is ("" for the shared token's holder), or ``None``."""
            if users is not None:
                return user_of(presented, users)
            assert token is not None
            return "" if same_secret(presented, token) else None

        @app.middleware("http")
        async def require_token(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            given = request.query_params.get("token")
            if given is not None:
                who = identify(given)
                if who is None:
                    return JSONResponse({"detail": "a valid token is required"}, status_code=401)
                # Swap the token for a session cookie and take it out of the address
                # (and so out of the browser's history and any log of addresses).
                kept = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                # Only this server's own path: "//evil.com/" (or "/\evil.com") would be
                # read by a browser as another site, an open redirect for a mailed link.
                path = "/" + request.url.path.lstrip("/\\")
                target = path + (f"?{urlencode(kept)}" if kept else "")
                response: Response = RedirectResponse(target, status_code=303)
                response.set_cookie(
                    TOKEN_COOKIE,
                    session_value(who, key),
                    max_age=SESSION_SECONDS,
                    path="/",
                    httponly=True,
                    samesite="strict",
                    secure=request.url.scheme == "https",
                )
                return response
            bearer = request.headers.get("authorization", "")
            cookie = request.cookies.get(TOKEN_COOKIE)
            who = None
            if bearer.lower().startswith("bearer "):
                who = identify(bearer[7:])
            elif cookie is not None:
                who = session_user(cookie, key)
            if who is None:
                return JSONResponse({"detail": "a valid token is required"}, status_code=401)
            request.state.user = who or None
            return await call_next(request)

    # Outermost last: every answer gets the headers; the host and the body's size are
    # checked before anything else reads the request.
    app.add_middleware(HeadAsGet)
    app.add_middleware(AllowedHosts, hosts=hosts)
    app.add_middleware(BodyLimit, limit=max_body)
    app.add_middleware(SecurityHeaders, csp=content_security_policy(_page_styles()))

    def page(name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(
            env.get_template(name).render(csrf=csrf, **values), status_code=status_code
        )

    async def body_of(request: Request, model: type[BaseModel]) -> dict[str, Any]:
        """The posted fields of a ``model``: JSON, or a form carrying the CSRF token
        from this origin (its booleans read by :func:`_form_booleans`)."""
        kind = request.headers.get("content-type", "").split(";")[0].strip()
        if kind == "application/json":
            raw = await request.body()
            if not json_depth_ok(raw):
                raise HTTPException(400, "the JSON is nested too deep")
            try:
                data = json.loads(raw, object_pairs_hook=_once_each)
            except _RepeatedKey as exc:
                # {"manager": "A", "manager": "B"} read as B, silently, in a fresh trial.
                raise HTTPException(422, f"{exc.key}: given twice in one object") from None
            except (ValueError, RecursionError):
                raise HTTPException(400, "the body is not JSON") from None
            if not isinstance(data, dict):
                raise HTTPException(422, "expected a JSON object")
            return data
        if _is_form(request):
            form = await request.form()
            sent = form.get("csrf")
            if (
                not isinstance(sent, str)
                or not secrets.compare_digest(sent, csrf)
                or not _same_origin(request, public_origin)
            ):
                raise _FormRefused(
                    "this form is out of date or was not sent from this meeting's page (the "
                    "server may have restarted since it was loaded): reload the page and "
                    "send it again"
                )
            keys = [k for k, _ in form.multi_items()]
            twice = sorted({k for k in keys if keys.count(k) > 1})
            if twice:  # ...&worker=P1&worker=P2 was read as P2, silently
                raise _FormRefused(f"{', '.join(twice)}: given twice in one form", 422)
            fields = {k: v for k, v in form.items() if k != "csrf" and isinstance(v, str)}
            return _form_booleans(model, fields)
        raise HTTPException(415, "send application/json or a form")

    def done(request: Request, data: dict[str, Any]) -> Response:
        if _wants_html(request):
            return RedirectResponse("/", status_code=303)
        return JSONResponse(data)

    def user_of_request(request: Request) -> str | None:
        """The signed-in person (with a users file), or ``None`` (names are typed)."""
        signed_in = users is not None or user_header is not None
        return getattr(request.state, "user", None) if signed_in else None

    # How the manager of a decision is known: the log records it beside the name.
    manager_via = "token" if users is not None else "sign-on" if user_header else "typed"

    def render_meeting(
        request: Request,
        error: str | None = None,
        status_code: int = 200,
        preview: tuple[Override, Preview] | None = None,
    ) -> HTMLResponse:
        plan, snap = meeting.plan, meeting.snapshot
        cases = {c.id: c for c in snap.cases}
        groups: dict[str, list[dict[str, Any]]] = {
            c.name: [] for c in meeting.policy.priority_classes
        }
        groups.setdefault("other", [])
        alternatives = meeting.alternatives()

        def group_of(cid: str) -> str:
            case = cases[cid]
            for pc in meeting.policy.priority_classes:
                if pc.holds(case):
                    return pc.name
            return "other"

        for a in plan.assignments:
            c = cases[a.case]
            groups[group_of(a.case)].append(
                {
                    "case": c,
                    "worker": a.worker,
                    "from": a.from_,
                    "reasons": a.reasons,
                    "code": None,
                    "waited": a.days_waiting,
                    "alternatives": alternatives.get(a.case, []),
                    "nearest": meeting.nearest(a.case),
                }
            )
        for u in plan.unallocated:
            c = cases[u.case]
            groups[group_of(u.case)].append(
                {
                    "case": c,
                    "worker": None,
                    "from": c.worker,
                    "reasons": (u.reason,),
                    "code": str(u.code),
                    "waited": u.days_waiting,
                    "alternatives": alternatives.get(u.case, []),
                    "nearest": meeting.nearest(u.case),
                }
            )
        # Within each class the children left without a worker first, longest wait first.
        for rows_of_class in groups.values():
            rows_of_class.sort(key=lambda r: (r["worker"] is not None, -(r["waited"] or 0)))
        risks, rows = meeting.picture()
        teams: dict[str, Markup] = {}
        by_team: dict[str, list[Any]] = {}
        for r in rows:
            by_team.setdefault(team_heading(r.team), []).append(r)
        for team, members in by_team.items():
            teams[team] = Markup(load_bars_svg(members, link="/workers/"))  # escaped inside
        return page(
            "meeting.html",
            status_code,
            m=meeting,
            plan=plan,
            groups={k: v for k, v in groups.items() if v},
            teams=teams,
            legend=Markup(legend()),
            tiers=Markup(tiers_table(plan, meeting.policy)),
            staff=sorted(p.id for p in snap.practitioners),
            error=error,
            altered=meeting.altered,
            user=user_of_request(request),
            solves=[(j, solves.ahead(j)) for j in solves.pending()],
            risks=risks,
            promises=meeting.promises(),
            preview=preview,
            status=STATUS_WORDS.get(plan.status, plan.status),
            outlook=outlook.state if outlook is not None and outlook.on else None,
            in_force=f"decision {meeting.decision_id}",
            # An over-cap choice the worker had room for is no exception: said only
            # where the plan made one.
            exception_cases={e.case for e in plan.exceptions if e.waives == "capacity"},
        )

    @app.get("/", summary="The meeting: proposed plan, overrides, sign-off")
    def home(request: Request) -> Response:
        with meeting.lock:
            if _wants_html(request):
                return render_meeting(request)
            return JSONResponse(
                {**meeting.state(), "solves": [j.to_dict() for j in solves.pending()]}
            )

    override_schema = Override.model_json_schema()

    @app.post(
        "/overrides",
        summary="Override one case (choose / exclude / unallocate) and re-solve",
        openapi_extra=_json_or_form(override_schema),
    )
    async def add_override(request: Request) -> Response:
        data = await body_of(request, Override)
        if data.get("worker") == "":
            data["worker"] = None  # a form's empty field
        previewing = _flag(request, "preview", default=False)
        waiting = _flag(request, "wait", default=True)  # read before anything is queued
        # The decision a preview was made on (the page's Accept; ?previewed= in the API):
        # accepted only on that plan, so what was shown is what happens.
        previewed = data.pop("previewed", None) or request.query_params.get("previewed")
        if previewed is not None and not str(previewed).isdecimal():
            return refused(
                request, f"previewed: the number of the decision previewed, not {previewed!r}"
            )
        previewed_here = previewed is not None and str(previewed) == str(meeting.decision_id)
        if previewed is not None and not previewed_here:
            return refused(
                request,
                f"the preview was of decision {previewed}, and the plan in force is now "
                f"decision {meeting.decision_id}: nothing was changed. Preview again",
                409,
            )
        # The decision the page showed (every override form carries it): another
        # manager's word on the case since then refuses it (Meeting.decided_since).
        seen = data.pop("seen", None)
        if seen is not None and not str(seen).isdecimal():
            return refused(
                request, f"seen: the number of the decision the page showed, not {seen!r}"
            )
        if _wants_html(request) and data.pop("preview", None) is not None:
            previewing = True  # the page's Preview button
        user = user_of_request(request)
        if user is not None:
            data["manager"] = user  # the signed-in person, whatever name was sent
        try:
            override = Override.model_validate(data)
        except ValidationError as exc:
            return refused(request, in_words(exc.errors()))  # the page's form says it there
        try:
            meeting.precheck(override)  # refused at once, not after the queue
        except OverrideError as exc:
            return refused(request, str(exc))
        if previewing:
            ask = solves.submit(
                f"preview of {_described(override)}",
                lambda progress: meeting.preview(override, progress=progress),
                OverrideError,
            )
            try:
                would = await asyncio.wrap_future(ask.future)
            except OverrideError as exc:
                return refused(request, str(exc))
            if _wants_html(request):
                with meeting.lock:
                    return render_meeting(request, preview=(override, would))
            return JSONResponse(would.to_dict())
        job = solves.submit(
            _described(override),
            lambda progress: meeting.override(
                override,
                progress=progress,
                manager_via=manager_via,
                previewed=previewed_here,
                seen=None if seen is None else int(seen),
            ),
            OverrideError,
        )
        if not waiting:
            return JSONResponse(
                {**job.to_dict(), "ahead": solves.ahead(job), "poll": f"/jobs/{job.id}"},
                status_code=202,
                headers={"Location": f"/jobs/{job.id}"},
            )
        try:  # the solve runs on the queue's thread: this request waits, others answer
            decision_id = await asyncio.wrap_future(job.future)
        except (LogAltered, StaleOverride) as exc:
            return refused(request, str(exc), 409)
        except OverrideError as exc:
            return refused(request, str(exc))
        except DBAPIError:
            raise  # the log timed out or failed: one sentence (log_unavailable), 503/500
        except Exception:
            raise HTTPException(500, job.error or "the re-solve failed") from None
        with meeting.lock:
            return done(
                request,
                {
                    "decision_id": decision_id,
                    "reference_changes": meeting.plan.objective.get(REFERENCE_CHANGES),
                    "moved": [m.__dict__ for m in meeting.moved],
                    "ends": dict(meeting.ends),
                    "families_split": meeting.families.split,
                    "families_joined": meeting.families.joined,
                    "said": meeting.said,
                },
            )

    def refused(request: Request, why: str, status: int = 422) -> Response:
        """The page with ``why`` for a browser's form, else the JSON error."""
        if _wants_html(request):
            with meeting.lock:
                return render_meeting(request, error=why, status_code=status)
        raise HTTPException(status, why)

    @app.get("/jobs/{job_id}", summary="A queued re-solve: its place, progress and outcome")
    def job_state(job_id: int) -> Response:
        job = solves.job(job_id)
        if job is None:
            raise HTTPException(
                404,
                f"no re-solve {job_id} since this server started at "
                f"{solves.since.isoformat()} (a re-solve asked before a restart was lost, and "
                "one finished long ago is forgotten: GET /log lists what was decided)",
            )
        return JSONResponse({**job.to_dict(), "ahead": solves.ahead(job)})

    signoff_schema = SignOff.model_json_schema()

    @app.post(
        "/signoff",
        summary="Sign the current plan off, as a named manager",
        openapi_extra=_json_or_form(signoff_schema),
    )
    async def sign_off(request: Request) -> Response:
        data = await body_of(request, SignOff)
        unknown = sorted(set(data) - set(SignOff.model_fields))
        if unknown:
            raise HTTPException(422, f"{', '.join(unknown)}: extra inputs are not permitted")
        user = user_of_request(request)
        typed = user if user is not None else data.get("manager")
        payload = {k: v for k, v in data.items() if k in ("decision_id", "plan_sha256")}
        payload["manager"] = typed.strip() if isinstance(typed, str) else typed
        for key in ("decision_id", "plan_sha256"):
            if payload.get(key) == "":
                payload.pop(key)  # a form's empty field: not given
        sent = payload.get("decision_id")
        if _is_form(request) and isinstance(sent, str) and sent.isdecimal():
            payload["decision_id"] = int(sent)  # a form sends only text
        try:
            signed = SignOff.model_validate(payload)
        except ValidationError as exc:
            problems = []
            for e in exc.errors():
                if ".".join(str(x) for x in e["loc"]).startswith("manager"):
                    # The name rule's own sentence says what a name must be; a value
                    # that is no text at all is told the length.
                    why = str(e.get("ctx", {}).get("error", ""))
                    problems.append(f"manager: {why or f'a name of 1 to {MAX_NAME} characters'}")
                else:
                    problems.append(in_words([e]))
            return refused(request, "; ".join(dict.fromkeys(problems)))
        try:
            decision_id = meeting.sign_off(
                signed.manager,
                decision_id=signed.decision_id,
                plan_sha256=signed.plan_sha256,
                manager_via=manager_via,
            )
        except (AlreadySigned, StaleSignOff, LogAltered) as exc:
            return refused(request, str(exc), 409)
        return done(request, {"decision_id": decision_id, "manager": signed.manager})

    @app.get("/plan.json", summary="Download the current plan (JSON)")
    def plan_json() -> Response:
        return Response(
            dump_json(meeting.plan),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="plan.json"'},
        )

    @app.get("/report.html", summary="Download the current plan as a self-contained HTML report")
    def report_html() -> Response:
        signed = f" — signed off by {meeting.signed[1]}" if meeting.signed else ""
        text = render_report(
            meeting.snapshot,
            meeting.policy,
            meeting.plan,
            title=f"Allocation plan for {meeting.plan.as_of.isoformat()}{signed}",
            promised=meeting.promised,
        )
        return HTMLResponse(
            text, headers={"Content-Disposition": 'attachment; filename="report.html"'}
        )

    @app.get("/workers/{worker_id}", summary="One worker's statement under the current plan")
    def worker(request: Request, worker_id: str) -> Response:
        from allocator.present.analysis import worker_statement
        from allocator.problems.recommend import UnknownIdError

        try:
            statement = worker_statement(meeting.snapshot, meeting.policy, meeting.plan, worker_id)
        except UnknownIdError as exc:
            raise HTTPException(404, str(exc)) from None
        if _wants_html(request):
            return page("worker.html", s=statement)
        return JSONResponse(statement.to_dict())

    def service() -> set[str]:
        """This meeting's service in the log: the stored snapshots sharing a case with
        today's. A log may hold several services; a meeting sees only its own."""
        return meeting.log.service_snapshots({c.id for c in meeting.snapshot.cases})

    @app.get("/log", summary="The decision log of this meeting's service, newest first")
    def log(request: Request, limit: int = Query(100, ge=1, le=1000)) -> Response:
        try:
            meeting.genuine("shown")
        except LogAltered as exc:
            return refused(request, str(exc), 409)
        rows = meeting.log.decisions(limit=limit, snapshots=service())
        if _wants_html(request):
            return page("log.html", rows=rows)
        return JSONResponse([d.to_dict() for d in rows])

    def forecasting() -> Outlook:
        """The meeting's forecast; 404 where it makes none."""
        if outlook is None or not outlook.on:
            raise HTTPException(404, "this meeting makes no forecast (serve --forecast-runs 0)")
        return outlook

    def forecast_figure(key: str) -> Any:
        """The ready forecast's ``key`` (the chart, the CSV); 404 where none is ready."""
        value = forecasting().state.figures.get(key)
        if value is None:
            raise HTTPException(404, "no forecast is ready")
        return value

    @app.get("/forecast", summary="The next weeks' forecast from the plan: state and figures")
    def forecast_state() -> Response:
        return JSONResponse(forecasting().state.to_dict())

    @app.get("/forecast.png", summary="The forecast's fan chart: children waiting by class")
    def forecast_chart() -> Response:
        return Response(forecast_figure("chart"), media_type="image/png")

    @app.get(
        "/forecast/children.csv", summary="Every child the forecast says may lose their worker"
    )
    def forecast_children() -> Response:
        return Response(
            forecast_figure("children_csv"),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="forecast-children.csv"'},
        )

    @app.post("/forecast", summary="Forecast the next weeks again, from the plan in force")
    async def forecast_again(request: Request) -> Response:
        sent = await body_of(request, ForecastAsk)  # a form must carry the page's CSRF token
        if sent:
            raise HTTPException(422, f"POST /forecast takes no fields, got {', '.join(sent)}")
        the_outlook = forecasting()
        with meeting.lock:
            started = the_outlook.start(
                meeting.snapshot,
                meeting.policy,
                meeting.plan,
                f"decision {meeting.decision_id}",
                handovers=meeting.promised,
            )
        if _wants_html(request):
            return RedirectResponse("/", status_code=303)  # the page says it is running
        if not started:
            raise HTTPException(409, "a forecast is running: ask again once it is ready")
        return JSONResponse({**the_outlook.state.to_dict(), "started": True}, status_code=202)

    @app.get("/history/{case_id}", summary="One child's allocation story")
    def history(request: Request, case_id: str, limit: int = Query(200, ge=1, le=1000)) -> Response:
        try:
            meeting.genuine("shown")
        except LogAltered as exc:
            return refused(request, str(exc), 409)
        ours = service()
        events = meeting.log.history(case_id, snapshots=ours, limit=limit)
        if not events and case_id not in {c.id for c in meeting.snapshot.cases}:
            raise HTTPException(
                404,
                f"case {describe_value(case_id)} is not in the snapshot nor in this service's log",
            )
        if _wants_html(request):
            return page("history.html", case_id=case_id, events=events, limit=limit)
        return JSONResponse([e.to_dict() for e in events])

    return app

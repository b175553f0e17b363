"""The allocation meeting: a manager's overrides, and the re-solve that honours them.

A manager looks at the proposed plan and changes a few choices, each with a reason:

* ``choose``: the case goes to another worker (a pin, as ``pinned_worker``);
* ``exclude``: the case must not go to a worker (added to ``excluded_workers``);
* ``unallocate``: the case stays without a worker for now.

:func:`resolve` re-solves in one solve through the public
:func:`allocator.problems.daily.allocate` with the overrides written into the snapshot and the
previous plan as the ``reference``: after the priority classes, the fewest other
cases placed differently from it (the ``reference_changes`` tier).

Everything here is a pure function of its arguments and the solver settings, so a
decision log can replay it (:mod:`allocator.meeting.log`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Final, Literal, NamedTuple

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
)

from allocator.contract.faults import describe_value
from allocator.contract.models import (
    BLANK_LOOKING,
    CONTROL_CHARACTERS,
    Assignment,
    Handover,
    ManagedException,
    Plan,
    Snapshot,
    hides,
)
from allocator.contract.policy import Policy
from allocator.contract.settings import ProgressCallback, Settings
from allocator.contract.units import weight_units
from allocator.domain.objectives import evaluate, outcome_of, worker_table
from allocator.domain.rules import (
    AVAILABILITY_RULES,
    CAPACITY,
    GONE_WORKER,
    Room,
    ServiceState,
    TakingRule,
    counted,
    holding_rules,
    joined,
    points,
)
from allocator.explain.check import check_plan
from allocator.explain.reasons import PlanView, assignment_reasons
from allocator.io import dump_json

#: The unallocated code of a case a manager chose to leave without a worker.
MANAGER_UNALLOCATED = "manager_unallocated"
#: Most children who hold a worker today a re-solve may move to make room for a
#: manager's choice that asks it to (``make_room``).
MAKE_ROOM_MOVES = 3
#: Longest reason or manager name accepted (characters).
MAX_REASON = 500
MAX_NAME = 100

Action = Literal["choose", "exclude", "unallocate"]
# Control characters (models.CONTROL_CHARACTERS) but tab and line breaks: refused at
# the door, so none reaches the log, a terminal or PostgreSQL (which refuses NUL).
_CONTROL = re.compile(f"(?![\t\n\r])[{CONTROL_CHARACTERS}]")


#: Characters that change the direction text reads in without showing: the
#: embeddings, overrides and their pop (U+202A to U+202E), the isolates (U+2066 to
#: U+2069) and the direction marks. The overrides reverse what follows ("Ann" with
#: U+202E before it reads "nnA"); the others reorder it.
_REVERSING = frozenset("\u202d\u202e")
_DIRECTION = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u2066\u2067\u2068\u2069")
#: Control characters a refusal names by what they are.
_CONTROL_NAMES = {
    "\x00": "a NUL character",
    "\x1b": "an escape character",
    "\x9b": "an 8-bit escape sequence",
    "\t": "a tab",
}


def character_kind(ch: str) -> str:
    """What ``ch`` is, for a refusal that names the character found: "a character that
    reverses text (U+202E RIGHT-TO-LEFT OVERRIDE)", "a NUL character (U+0000)", "an
    invisible character (U+200B ZERO WIDTH SPACE)"...

    >>> character_kind("\u202e")
    'a character that reverses text (U+202E RIGHT-TO-LEFT OVERRIDE)'
    """
    code = f"U+{ord(ch):04X}"
    named = f"{code} {unicodedata.name(ch)}" if unicodedata.name(ch, "") else code
    if ch in _REVERSING:
        return f"a character that reverses text ({named})"
    if ch in _DIRECTION:
        return f"a character that changes the direction text reads in ({named})"
    if ch in _CONTROL_NAMES:
        return f"{_CONTROL_NAMES[ch]} ({named})"
    if ch in "\n\r\u2028\u2029\x85\x0b\x0c":
        return f"a line break ({named})"
    if unicodedata.category(ch) == "Cc":
        return f"a control character ({named})"
    if ch in BLANK_LOOKING:
        return f"a character that shows as blank ({named})"
    return f"an invisible character ({named})"


def no_control(value: str) -> str:
    """``value`` unless it holds a control character (tab and line breaks allowed);
    the refusal names the first one found (:func:`character_kind`)."""
    found = _CONTROL.search(value)
    if found:
        raise ValueError(f"{character_kind(found.group())} is not accepted")
    return value


Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(no_control)
]


#: What a form or a client sends when no name was given ("None", "null"): never a
#: person's name, so never the one a decision is attributed to, nor a reason.
NO_NAME = frozenset({"none", "null", "nil", "undefined", "nan"})

#: Words typed where a name should be that name nobody (:func:`placeholder_key` of
#: each): "no name" (:data:`NO_NAME`), "not known", "to be confirmed", a role, a test
#: account, a keyboard run. Compared as their letters alone, so "N/A", "n.a." and
#: "NA" are one placeholder, and "no one", "no-one" and "NoOne" another.
PLACEHOLDER_NAMES = NO_NAME | frozenset(
    {
        # no name, not known, not applicable
        "na", "nk", "notknown", "notapplicable", "unknown", "unnamed", "noname", "anonymous",
        "anon", "nobody", "noone", "blank", "empty", "nothing", "missing", "void",
        # to be confirmed
        "tbc", "tbd", "tba", "pending", "later",
        # somebody, anybody
        "someone", "somebody", "anyone", "anybody", "whoever", "me", "myself", "self",
        # a role or an account, not a person
        "manager", "teammanager", "themanager", "dutymanager", "admin", "administrator",
        "root", "user", "username", "guest", "staff", "system", "allocator",
        # a name field's own words
        "name", "yourname", "myname", "fullname", "firstname", "lastname",
        "firstnamelastname", "firstlast",
        # the stand-in names of forms and examples (a person so named signs in full)
        "joebloggs", "johndoe", "janedoe",
        # a test, a dummy, a keyboard run
        "test", "tester", "testing", "testuser", "demo", "dummy", "sample", "example",
        "placeholder", "abc", "asdf", "qwerty", "foo", "bar", "foobar",
    }
)  # fmt: skip


def placeholder_key(value: str) -> str:
    """``value``'s letters alone, compatibility-folded and case-folded: what
    :data:`PLACEHOLDER_NAMES` is compared with ("N/A" and "n.a." read "na"; "Ｔ.Ｂ.Ｃ." reads
    "tbc"; digits go too, so "test1" and "user 2" read "test" and "user").

    >>> placeholder_key(" No-One! "), placeholder_key("T.B.C."), placeholder_key("Siân Llŷr")
    ('noone', 'tbc', 'siânllŷr')
    """
    folded = unicodedata.normalize("NFKC", value).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] == "L")


def names_nobody(value: str) -> bool:
    """Whether ``value``, typed as who decided, names nobody: a placeholder
    (:data:`PLACEHOLDER_NAMES`), or, in a script with capitals, one letter typed over
    and over ("xxx", "zz") or initials alone ("a.b", "A. B."). A script without
    capitals writes a name in characters, where a repeated one ("婷婷") or one a word
    ("李 明") is a name."""
    key = placeholder_key(value)
    if key in PLACEHOLDER_NAMES:
        return True
    if not all(ch.lower() != ch.upper() for ch in key):
        return False
    words = _letter_runs(unicodedata.normalize("NFKC", value))
    return len(set(key)) == 1 or (len(words) > 1 and all(len(w) == 1 for w in words))


def _letter_runs(value: str) -> list[list[str]]:
    """The runs of letters in ``value``, each a word (anything else separates them)."""
    runs: list[list[str]] = [[]]
    for ch in value:
        if unicodedata.category(ch)[0] == "L":
            runs[-1].append(ch)
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _shows(ch: str) -> bool:
    """Whether ``ch`` is a letter or digit a reader sees."""
    return unicodedata.category(ch)[0] in "LN" and ch not in BLANK_LOOKING


#: Fewest letters in a person's name: who decided is said in the log for good, and a
#: single letter ("x") names nobody; two keep "Bo", "Jo", "AB" (initials apart, "A. B.",
#: are refused by :func:`names_nobody`), and a name in a script that writes it in two
#: characters ("李明").
MIN_NAME_LETTERS = 2

#: Characters of markup. A person's name is plain text, and no name holds an angle
#: bracket: "<b>Anonymous</b>" is refused for its brackets, not judged by the text
#: left once the markup is taken out, because the log keeps what was typed and every
#: reader of it (the page, a terminal, a CSV, a script over the JSON) would show
#: that differently from the name that was judged.
_MARKUP = frozenset("<>")

#: What a person's name must be, said by every refusal of one that names nobody.
WHAT_A_NAME_IS = (
    f"a person's name that says who decided, of {MIN_NAME_LETTERS} letters at least, "
    "such as 'Ann Smith' or 'A. Smith', not a placeholder such as 'N/A' or 'unknown'"
)


#: Scripts whose letters look alike ("А" CYRILLIC and "A" LATIN; "Ο" GREEK and "O"):
#: a name's letters come from one of them at most, so "Аnn Smith" with a Cyrillic
#: first letter is not logged as a second Ann Smith. Other scripts mix freely (a
#: Japanese name writes Han and kana together).
LOOK_ALIKE_SCRIPTS: Final = ("LATIN", "GREEK", "CYRILLIC")


def _look_alike_scripts(value: str) -> list[str]:
    """The :data:`LOOK_ALIKE_SCRIPTS` ``value``'s letters are written in, in order."""
    found = {
        script
        for ch in value
        if unicodedata.category(ch)[0] == "L"
        for script in LOOK_ALIKE_SCRIPTS
        if unicodedata.name(ch, "").startswith(script + " ")
    }
    return [s for s in LOOK_ALIKE_SCRIPTS if s in found]


def _one_way_written(value: str) -> str:
    """``value`` in its composed form (NFC: "é" typed as "e" and an accent is "é"),
    unless a second person with the same name on the page could be typed: a
    compatibility character (NFKC: a full-width "Ａ", a no-break or ideographic space),
    two spaces in a row, or letters of two :data:`LOOK_ALIKE_SCRIPTS`.

    Raises
    ------
    ValueError
        Naming the character, the spaces or the scripts.
    """
    composed = unicodedata.normalize("NFC", value)
    odd = next((ch for ch in composed if unicodedata.normalize("NFKC", ch) != ch), None)
    if odd is not None:
        named = f"U+{ord(odd):04X} {unicodedata.name(odd, '')}".rstrip()
        plain = unicodedata.normalize("NFKC", odd)
        typed = "a plain space" if plain.isspace() else repr(plain)
        raise ValueError(
            f"a person's name as it reads: {named} is another form of {typed}; type {typed} instead"
        )
    if "  " in composed:
        raise ValueError("a person's name as it reads: two spaces in a row are not accepted")
    scripts = _look_alike_scripts(composed)
    if len(scripts) > 1:
        raise ValueError(
            "a person's name as it reads, in one alphabet: its letters mix "
            f"{' and '.join(s.title() for s in scripts)}, which look alike"
        )
    return composed


def a_person(value: str, *, stored: bool = False) -> str:
    """``value`` unless it names nobody, the one rule for who decided (an override's
    or a sign-off's manager, a name in the users file or the sign-on header).

    Refused: a line break, tab or a character that hides (:func:`hides`:
    "Ann\u200bSmith" would be a second Ann Smith), the refusal naming the character
    (:func:`character_kind`); an angle bracket (:data:`_MARKUP`); fewer than
    :data:`MIN_NAME_LETTERS` letters, or none at all ("-", "?", "123"; a fresh trial
    signed off as two zero-width spaces, another as U+3164, a third as "x"); and a
    placeholder, initials alone or one letter repeated (:func:`names_nobody`: a fresh
    trial signed off as "N/A", "Anonymous", "TBC" and "manager"); and a second way of
    writing a name that reads the same (:func:`_one_way_written`: a full-width letter,
    a no-break space, two spaces in a row, Latin and Cyrillic letters together). The
    name is kept composed (NFC), so one typed with a separate accent is the same name.

    ``stored``: a name read back from the log, which keeps reading as it was written:
    it is held to the rule it was logged under before :data:`MIN_NAME_LETTERS`,
    :data:`PLACEHOLDER_NAMES` and :data:`_MARKUP` (no :data:`NO_NAME`, nothing that
    hides, one letter), so a log holding "x" or "N/A" from then still resumes,
    replays and shows its history.
    """
    if value.casefold() in NO_NAME:
        raise ValueError(f"{WHAT_A_NAME_IS}: {value!r} names nobody")
    hidden = next((ch for ch in value if hides(ch) or unicodedata.category(ch) == "Cc"), None)
    if hidden is not None:
        raise ValueError(f"a person's name as it reads: {character_kind(hidden)} is not accepted")
    letters = sum(1 for ch in value if _shows(ch) and unicodedata.category(ch)[0] == "L")
    if stored:
        if letters < 1:
            raise ValueError(f"{WHAT_A_NAME_IS}: {value!r} names nobody")
        return value
    markup = next((ch for ch in value if ch in _MARKUP), None)
    if markup is not None:
        raise ValueError(
            f"a person's name as it reads, in plain text without markup: {markup!r} is not accepted"
        )
    if letters < MIN_NAME_LETTERS or names_nobody(value):
        raise ValueError(f"{WHAT_A_NAME_IS}: {value!r} names nobody")
    return _one_way_written(value)


def _a_person_field(value: str, info: ValidationInfo) -> str:
    """:func:`a_person` of a model's field; a name read back from the log (validation
    context ``{"stored": True}``) as it was logged (``stored``)."""
    return a_person(value, stored=bool((info.context or {}).get("stored")))


#: Fewest letters or digits a reason holds: a waived rule's documented exception is
#: words, not "." (a fresh trial's over-cap exception was a zero-width space). One,
#: so that a terse note a manager wrote on purpose ("r/v", "s47") is theirs to write.
MIN_REASON_CHARACTERS = 1


#: Variation selectors: they choose how the character before them is drawn ("✔️" is
#: U+2714 and U+FE0F, as phones type it). A reason is free text, not an identity, so
#: it may hold them; a name or an id may not (:func:`hides`).
VARIATION_SELECTORS: Final = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))


def a_reason(value: str) -> str:
    """``value`` unless it hides characters (:func:`hides`, but for
    :data:`VARIATION_SELECTORS`; tabs and line breaks are allowed), is a placeholder
    (:data:`NO_NAME`) or holds fewer than :data:`MIN_REASON_CHARACTERS` letters or
    digits."""
    if any(
        hides(ch) and not any(lo <= ord(ch) <= hi for lo, hi in VARIATION_SELECTORS) for ch in value
    ):
        raise ValueError(
            "a reason as it reads: no invisible character (such as a zero-width space or "
            "a soft hyphen)"
        )
    if value.casefold() in NO_NAME or sum(map(_shows, value)) < MIN_REASON_CHARACTERS:
        raise ValueError("a reason in words (a letter or digit at least, not a placeholder)")
    return value


#: A manager's name as typed: 1 to :data:`MAX_NAME` characters once trimmed, no
#: control character, and a name that says who decided (:func:`a_person`).
ManagerName = Annotated[Text, Field(max_length=MAX_NAME), AfterValidator(_a_person_field)]
#: A manager's reason as typed: 1 to :data:`MAX_REASON` characters, words (:func:`a_reason`).
Reason = Annotated[Text, Field(max_length=MAX_REASON), AfterValidator(a_reason)]


class Override(BaseModel):
    """One manager's change to the proposed plan, with who and why.

    Attributes
    ----------
    case
        The case's id.
    action
        ``choose`` (``worker`` takes the case), ``exclude`` (keep it off ``worker``)
        or ``unallocate`` (leave it without a worker).
    worker
        The worker chosen or excluded; ``None`` for ``unallocate``.
    reason
        Why, in the manager's words (stored as typed).
    manager
        Who decided, as they typed their name.
    over_cap
        ``choose`` only: when the worker has no room for the case, give it to them
        over their cap by the manager's documented exception (``reason``), for the
        classes the policy allows (``over_cap_classes``). Without it, a worker
        without room takes the case only if the re-solve makes room, and the
        override is otherwise refused, saying how many points short.
    family
        ``choose`` only: give the worker every child of the case's family, as one
        action (:func:`expand_family`).
    make_room
        ``choose`` only: let the re-solve move up to :data:`MAKE_ROOM_MOVES`
        children who hold a worker today, to make room (each a change of worker for
        that child; preview it first: ``POST /overrides?preview=1``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    case: Text
    action: Action
    worker: Annotated[str, AfterValidator(no_control)] | None = None
    reason: Reason
    manager: ManagerName
    # JSON booleans only: "yes", 1 or "false" is refused, not read as true (a page's
    # form sends its ticked boxes as "true", turned into booleans by the web app).
    over_cap: StrictBool = False
    family: StrictBool = False
    make_room: StrictBool = False


class OverrideError(ValueError):
    """An override that cannot apply to the snapshot (unknown id, missing worker)."""


def check_override(snapshot: Snapshot, override: Override) -> None:
    """Refuse an override naming an unknown case or worker.

    Raises
    ------
    OverrideError
        One sentence naming the id and what was expected.
    """
    if override.case not in {c.id for c in snapshot.cases}:
        raise OverrideError(f"case {describe_value(override.case)} is not in the snapshot")
    if override.action != "choose" and (override.over_cap or override.family or override.make_room):
        raise OverrideError("'over_cap', 'family' and 'make_room' go with 'choose' only")
    if override.action == "unallocate":
        if override.worker is not None:
            raise OverrideError("leaving a case unallocated names no worker")
        return
    if override.worker is None:
        raise OverrideError(f"'{override.action}' needs a worker")
    if override.worker not in {p.id for p in snapshot.practitioners}:
        raise OverrideError(
            f"worker {describe_value(override.worker)} is not among the practitioners"
        )


def holding_blockers_of(state: ServiceState, override: Override) -> list[tuple[str, str]]:
    """Every hard rule that stops a ``choose`` override's worker holding its case.

    Judged by the rule registry (:mod:`allocator.domain.rules`) on the case as the override
    leaves it (pinned to the worker, not excluded from them), whatever the worker's
    room: the holding rules (grade, skills, exclusions, pin); for a worker who would
    take the case new, availability and the cap they cannot meet whatever moves
    (over it already, or the case heavier than it); for the case's own worker, only
    having left. Room a re-solve can make (load, intake) is the solver's to find.

    Returns
    -------
    list of (rule id, sentence)
        Empty when the override may stand (or is not a ``choose``).
    """
    if override.action != "choose" or override.worker is None:
        return []
    worker = override.worker
    before = state.cases[override.case]
    case = before.model_copy(
        update={
            "pinned_worker": worker,
            "excluded_workers": tuple(w for w in before.excluded_workers if w != worker),
        }
    )
    out = holding_rules(case, state.practitioners[worker], state.policy)
    if worker == before.worker:
        taking: tuple[TakingRule, ...] = (GONE_WORKER,)
    elif override.over_cap and state.policy.may_exceed_cap(before):
        taking = AVAILABILITY_RULES  # the cap is waived by the manager's exception
    else:
        taking = (*AVAILABILITY_RULES, CAPACITY)
    for rule in taking:
        sentence = rule.blocks(state, case, worker, Room(load=0))
        if sentence is not None:
            out.append((rule.id, sentence))
    return out


def check_holdable(state: ServiceState, override: Override) -> None:
    """Refuse a ``choose`` whose worker may not hold the case (:func:`holding_blockers_of`).

    Raises
    ------
    OverrideError
        Naming the worker, the case, and each rule broken by its id.
    """
    if override.over_cap and not state.policy.may_exceed_cap(state.cases[override.case]):
        allowed = state.policy.over_cap_classes
        raise OverrideError(
            f"{override.case} is a child of class "
            f"'{state.policy.class_name(state.cases[override.case])}': over cap by a "
            "manager's exception is only for "
            + (f"{joined(allowed)} children" if allowed else "no class under this policy")
            + " (policy over_cap_classes)"
        )
    broken = holding_blockers_of(state, override)
    if broken:
        why = "; ".join(f"{sentence} (rule {rule})" for rule, sentence in broken)
        if any(rule == CAPACITY.id for rule, _ in broken):
            # A fresh trial read this beside the plan's "11.75 spare" for the worker,
            # once the plan had moved work off them: the rule is the snapshot's.
            why += (
                ". A worker over their cap in the snapshot takes no new case, even where "
                "the plan in force moves work off them"
                + (
                    f"; a manager may give {joined(state.policy.over_cap_classes)} children "
                    "over cap by exception"
                    if state.policy.over_cap_classes
                    else ""
                )
            )
        raise OverrideError(f"{override.worker} may not hold {override.case}: {why}")


def check_unallocatable(state: ServiceState, override: Override) -> None:
    """Refuse an ``unallocate`` of a child who needs no worker today.

    A plan lists as unallocated only the children who need a worker (FORMAT.md
    "conservation"): one whose worker may keep them cannot be taken off that worker
    with nobody, only given to another.

    Raises
    ------
    OverrideError
        Naming the child, who holds them, and what a manager can do instead.
    """
    if override.action != "unallocate" or override.case in state.needs:
        return
    worker = state.cases[override.case].worker
    raise OverrideError(
        f"{override.case} is held by {worker}, who may keep them: only a child who needs "
        f"a worker can be left unallocated. To move them, choose another worker"
    )


class OverrideRefused(OverrideError):
    """An override the re-solve could not honour: nothing was changed or logged."""


def expand_family(
    snapshot: Snapshot, override: Override, in_force: Sequence[Override] = ()
) -> list[Override]:
    """The one-case overrides a (family) override stands for, in snapshot order.

    A ``choose`` with ``family`` gives the worker every child of the case's family
    (each as its own ``choose``, marked ``family``, with the same reason and
    manager), but a sibling already chosen for that worker by an override
    ``in_force`` keeps that override and its reason (a fresh trial's family choice
    wrote its reason over a head of service's documented exception); any other
    override stands for itself.
    """
    if not override.family:
        return [override]
    family = next(c.family for c in snapshot.cases if c.id == override.case)
    chosen = {o.case for o in in_force if o.action == "choose" and o.worker == override.worker}
    chosen.discard(override.case)
    return [
        override.model_copy(update={"case": c.id})
        for c in snapshot.cases
        if c.family == family and c.id not in chosen
    ]


class RoomFor(NamedTuple):
    """What some cases need of a worker under a plan, and what the worker has
    (centi-points)."""

    #: The weight of those cases the worker does not hold under the plan.
    needed: int
    #: The worker's cap less their load under the plan and the room kept for the
    #: children promised to them; below 0 for a worker over their cap.
    spare: int
    #: The worker's cap.
    cap: int


def room_for(
    snapshot: Snapshot,
    policy: Policy,
    plan: Plan,
    worker: str,
    cases: Collection[str],
    handovers: Sequence[Handover] = (),
) -> RoomFor:
    """What ``cases`` need of ``worker`` under ``plan``, and the room the worker has:
    the weight of those of ``cases`` the worker does not hold under ``plan`` (its
    placements applied), and the worker's cap less their load then and less the room
    kept for the children promised to them (``handovers`` still to come,
    :func:`allocator.problems.apply.reserve_handovers`)."""
    state = ServiceState.of(
        kept_snapshot(placed_snapshot(snapshot, plan), policy, handovers), policy
    )
    needed = sum(state.weight[c] for c in cases if state.cases[c].worker != worker)
    cap = state.capacity[worker]
    return RoomFor(needed, cap - state.load_before[worker], cap)


def kept_snapshot(snapshot: Snapshot, policy: Policy, handovers: Sequence[Handover]) -> Snapshot:
    """``snapshot`` with each promised receiver's cap less the children promised to
    them (:func:`allocator.problems.apply.reserve_handovers`); itself without handovers."""
    if not handovers:
        return snapshot
    from allocator.problems.apply import reserve_handovers

    return reserve_handovers(snapshot, policy, handovers)


def promises_standing(
    handovers: Sequence[Handover], overrides: Sequence[Override]
) -> tuple[Handover, ...]:
    """The promised handovers still in force once ``overrides`` are made.

    A manager's new word on a promised child supersedes the promise, as a plan that
    decides for the child anew does (:func:`allocator.problems.apply.applied`): choosing a
    worker for them or leaving them unallocated, or keeping them off their receiver.
    Its receiver's room is then no longer kept. Any other promise stands.
    """
    last: dict[str, list[Override]] = {}
    for o in overrides:
        last.setdefault(o.case, []).append(o)

    def broken(h: Handover) -> bool:
        return any(
            o.action in ("choose", "unallocate") or o.worker == h.worker
            for o in last.get(h.case, ())
        )

    return tuple(h for h in handovers if not broken(h))


def kept_words(
    snapshot: Snapshot, policy: Policy, handovers: Sequence[Handover], worker: str
) -> str:
    """How much of ``worker``'s room is kept for children promised to them, in words
    ("5.0 points kept for the handover of C6 on 2026-12-10"), or ``""``."""
    cases = {c.id: c for c in snapshot.cases}
    mine = [h for h in handovers if h.worker == worker and h.case in cases]
    mine = [h for h in mine if cases[h.case].worker != worker]
    if not mine:
        return ""
    kept = sum(weight_units(policy.case_weight(cases[h.case])) for h in mine)
    what = ", ".join(f"{h.case} on {h.on.isoformat()}" for h in mine)
    return f"{points(kept)} points kept for the handover of {what}"


def _over_cap(
    snapshot: Snapshot,
    policy: Policy,
    previous: Plan,
    overrides: Sequence[Override],
    handovers: Sequence[Handover] = (),
) -> dict[str, Override]:
    """Case -> its ``over_cap`` choice, for each worker who has no room for all of them.

    A worker who has room under ``previous`` for every case chosen for them over cap
    (the room kept for children promised to them not counted as room) takes them as
    ordinary choices (pins); otherwise each goes to them over cap, by the manager's
    exception. Only for the classes the policy allows.
    """
    cases = {c.id: c for c in snapshot.cases}
    by_worker: dict[str, list[Override]] = {}
    for o in overrides:
        allowed = o.over_cap and policy.may_exceed_cap(cases[o.case])
        if o.action == "choose" and allowed and o.worker is not None:
            by_worker.setdefault(o.worker, []).append(o)
    # A later word on a case replaces an over-cap choice (merge_override): keep the last.
    last = {o.case: o for o in overrides}
    out: dict[str, Override] = {}
    for worker, chosen in sorted(by_worker.items()):
        chosen = [o for o in chosen if last.get(o.case) is o]
        cids = [o.case for o in chosen]
        needed, spare, _ = room_for(snapshot, policy, previous, worker, cids, handovers)
        if needed > spare:
            out.update({o.case: o for o in chosen})
    return out


@dataclass(frozen=True)
class RoomIndex:
    """What :func:`room_by_moving` reads of a service, indexed once for every child
    asked about: each worker's movable families (children they hold, none pinned to
    them nor needing a worker; family -> case ids) and the workers open to new work
    who have room, the most room first (then id)."""

    families: Mapping[str, Mapping[str, tuple[str, ...]]]
    with_room: tuple[str, ...]

    @classmethod
    def of(cls, state: ServiceState) -> RoomIndex:
        held: dict[str, dict[str, list[str]]] = {}
        pinned: set[tuple[str, str]] = set()
        for cid, c in sorted(state.cases.items()):
            if c.worker is None or cid in state.needs:
                continue
            held.setdefault(c.worker, {}).setdefault(c.family, []).append(cid)
            if c.pinned_worker == c.worker:
                pinned.add((c.worker, c.family))
        families = {
            w: {f: tuple(kids) for f, kids in fams.items() if (w, f) not in pinned}
            for w, fams in held.items()
        }
        room = [w for w in state.open_for_new if state.spare_before(w) > 0]
        return cls(families, tuple(sorted(room, key=lambda w: (-state.spare_before(w), w))))


def room_by_moving(
    state: ServiceState, case_id: str, worker_id: str, index: RoomIndex | None = None
) -> str | None:
    """Who could move so that ``worker_id`` has room for ``case_id``, in words, or
    ``None`` when no move of one or two families does it (the page's alternatives on
    a full day).

    ``state`` has the plan in force applied (:func:`placed_snapshot`); ``index`` is
    :meth:`RoomIndex.of` it (built here when ``None``; pass it when asking about many
    children). A family moves whole (the children ``worker_id`` holds of it, none
    pinned to them): a move never splits siblings. Each goes to a worker the rules
    let hold every child of it who has the room now (the most room first, then id),
    two families to one worker only if it has room for both. Of the moves that make
    the room, the fewest children moved wins, then the fewest points moved, then
    ids. The cost said is the changes of worker it makes (one per child moved),
    what the continuity tiers count.

    Examples of the words: "room if C7 (3.0 points) moves to P4: 1 change of
    worker"; "room if C7 (3.0 points) moves to P4 and family F2 (C8 + C9, 6.0
    points) to P5: 3 changes of worker".
    """
    short = state.weight[case_id] - state.spare_before(worker_id)
    index = index or RoomIndex.of(state)
    room = [w for w in index.with_room if w != worker_id]
    if short <= 0 or sum(state.spare_before(w) for w in room[:2]) < short:
        return None  # nothing to make, or not even the two largest rooms hold it

    def receivers(kids: tuple[str, ...], weight: int) -> list[str]:
        allowed = set.intersection(*(set(state.allowed(c)) for c in kids))
        return [w for w in room if state.spare_before(w) >= weight and w in allowed]

    single: list[tuple[int, int, tuple[str, ...], str]] = []
    movable: list[tuple[int, tuple[str, ...], list[str]]] = []
    for kids in index.families.get(worker_id, {}).values():
        if case_id in kids:
            continue
        weight = sum(state.weight[c] for c in kids)
        if weight > state.spare_before(room[0]):
            continue  # too heavy for any room there is
        to = receivers(kids, weight)
        if not to:
            continue
        movable.append((weight, kids, to))
        if weight >= short:
            single.append((len(kids), weight, kids, to[0]))
    if single:
        n, _, kids, receiver = min(single, key=lambda m: (m[0], m[1], m[2]))
        return f"room if {_moved(state, kids)} moves to {receiver}: {_changes(n)}"
    best: tuple[int, int, tuple[str, ...], tuple[str, ...], str, str] | None = None
    for i, (w1, k1, to1) in enumerate(movable):
        for w2, k2, to2 in movable[i + 1 :]:
            if w1 + w2 < short:
                continue
            pair = _two_receivers(state, w1, to1, w2, to2)
            if pair is not None:
                key = (len(k1) + len(k2), w1 + w2, k1, k2, *pair)
                best = key if best is None or key < best else best
    if best is None:
        return None
    n, _, first_kids, second_kids, first, second = best
    return (
        f"room if {_moved(state, first_kids)} moves to {first} and "
        f"{_moved(state, second_kids)} to {second}: {_changes(n)}"
    )


def _two_receivers(
    state: ServiceState, w1: int, to1: list[str], w2: int, to2: list[str]
) -> tuple[str, str] | None:
    """Receivers for two families (weights ``w1``, ``w2``, candidates most room
    first): different workers, or one with room for both."""
    for a in to1:
        for b in to2:
            if a != b or state.spare_before(a) >= w1 + w2:
                return a, b
    return None


def _moved(state: ServiceState, kids: tuple[str, ...]) -> str:
    weight = points(sum(state.weight[c] for c in kids))
    if len(kids) == 1:
        return f"{kids[0]} ({weight} points)"
    family = state.cases[kids[0]].family
    return f"family {family} ({' + '.join(kids)}, {weight} points)"


def _changes(n: int) -> str:
    return f"{n} change{'s' if n != 1 else ''} of worker"


def merge_override(overrides: Sequence[Override], override: Override) -> list[Override]:
    """The overrides in effect once ``override`` is added: the newest word on a case wins.

    ``choose`` and ``unallocate`` replace every earlier override of the case; ``exclude``
    replaces an earlier ``unallocate`` of the case and an earlier override naming the
    same worker (a ``choose`` of them, or the same exclusion), and keeps the others (a
    choice of another worker, other exclusions), which still hold beside it.
    """

    def replaced(old: Override) -> bool:
        if old.case != override.case:
            return False
        if override.action != "exclude":
            return True
        return old.action == "unallocate" or old.worker == override.worker

    return [*(o for o in overrides if not replaced(o)), override]


def apply_overrides(snapshot: Snapshot, overrides: Sequence[Override]) -> Snapshot:
    """The snapshot with the overrides written in as pins and exclusions, in order.

    A later override of a case refines the earlier ones: ``choose`` replaces a pin and
    lifts an exclusion of that worker; ``exclude`` lifts a pin to that worker;
    ``unallocate`` excludes every practitioner.
    """
    if not overrides:
        return snapshot
    for override in overrides:
        check_override(snapshot, override)
    staff = tuple(p.id for p in snapshot.practitioners)
    by_case: dict[str, list[Override]] = {}
    for override in overrides:
        by_case.setdefault(override.case, []).append(override)
    cases = []
    for case in snapshot.cases:
        for o in by_case.get(case.id, ()):
            excluded = tuple(case.excluded_workers)
            pin = case.pinned_worker
            if o.action == "choose":
                pin, excluded = o.worker, tuple(w for w in excluded if w != o.worker)
            elif o.action == "exclude":
                excluded = excluded if o.worker in excluded else (*excluded, str(o.worker))
                pin = None if pin == o.worker else pin
            else:
                pin, excluded = None, staff
            case = case.model_copy(update={"pinned_worker": pin, "excluded_workers": excluded})
        cases.append(case)
    return snapshot.model_copy(update={"cases": tuple(cases)})


def placed_snapshot(snapshot: Snapshot, plan: Plan) -> Snapshot:
    """``snapshot`` with ``plan``'s placements applied: each case it assigns holds its
    worker (loads as after the plan); the cases it leaves unallocated are as they were.
    """
    given = {a.case: a.worker for a in plan.assignments}
    if not given:
        return snapshot
    cases = tuple(
        c.model_copy(update={"worker": given[c.id]}) if c.id in given else c for c in snapshot.cases
    )
    return snapshot.model_copy(update={"cases": cases})


def final_workers(plan: Plan) -> dict[str, str | None]:
    """Each case the plan decides -> its worker after the plan (``None``: unallocated)."""
    placed: dict[str, str | None] = {a.case: a.worker for a in plan.assignments}
    placed.update({u.case: None for u in plan.unallocated})
    return placed


class FamiliesChanged(NamedTuple):
    """What a change does to families: those it splits between more workers, and
    those it brings closer together (held by fewer)."""

    split: int
    joined: int


def families_changed(snapshot: Snapshot, before: Plan, after: Plan) -> FamiliesChanged:
    """The families held by more workers under ``after`` than under ``before``, and
    those held by fewer, over every family (a child with no worker holds nobody).
    Apart, not netted: a fresh trial's preview said 0 where a choice joined one
    family and split another."""
    held = {c.id: c.worker for c in snapshot.cases}
    was, now = final_workers(before), final_workers(after)
    families: dict[str, list[str]] = {}
    for c in snapshot.cases:
        families.setdefault(c.family, []).append(c.id)
    split = joined = 0
    for kids in families.values():
        # Workers beyond the first (a family with one worker, or none, is not split).
        apart_before = len({was.get(k, held[k]) for k in kids} - {None}) - 1
        apart_after = len({now.get(k, held[k]) for k in kids} - {None}) - 1
        apart_before, apart_after = max(0, apart_before), max(0, apart_after)
        split += apart_after > apart_before
        joined += apart_after < apart_before
    return FamiliesChanged(split, joined)


@dataclass(frozen=True)
class Moved:
    """A case the re-solve placed differently from the previous plan (not overridden)."""

    case: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Resolution:
    """A re-solved plan and what else moved.

    Attributes
    ----------
    plan
        The new plan (``made_from`` and ``settings`` as the previous plan's); its
        objective reports ``reference_changes``, the previous plan's placements it
        changed (docs/FORMAT.md).
    moved
        Cases not overridden whose worker differs from the previous plan's.
    held
        The snapshot's worker (``None``: none) of each case the overrides name: where
        such a case is when a plan does not list it (a child back with the worker
        who holds them is in no plan).
    """

    plan: Plan
    moved: tuple[Moved, ...]
    held: Mapping[str, str | None] = field(default_factory=dict)

    def workers(self, plan: Plan) -> dict[str, str | None]:
        """Each overridden case's worker after ``plan`` (the previous plan, or this
        one's), a case ``plan`` leaves out being where the snapshot has them."""
        listed = final_workers(plan)
        return {c: listed.get(c, w) for c, w in self.held.items()}


def solver_settings(plan: Plan) -> Settings:
    """The settings that made ``plan`` (its ``settings`` record; defaults where absent).

    A plan's ``allow_moves``, the problem's own option, is read apart
    (:func:`allow_moves`).
    """
    return Settings.from_record(plan.settings)


def allow_moves(plan: Plan) -> int:
    """The ``allow_moves`` ``plan`` was made with (0: none)."""
    return int(plan.settings.get("allow_moves", 0))


def resolve(
    snapshot: Snapshot,
    policy: Policy,
    previous: Plan,
    overrides: Sequence[Override],
    progress: ProgressCallback | None = None,
    handovers: Sequence[Handover] = (),
    *,
    earlier: Sequence[Override] = (),
) -> Resolution:
    """Re-solve ``previous`` with ``overrides``, changing as little else as possible.

    One solve (:func:`allocator.problems.daily.allocate`) of the snapshot with the overrides
    written in as pins and exclusions, with the previous plan's other placements as
    its ``reference``: right after the priority classes, it minimises the cases that
    end somewhere other than the previous plan put them (or without a worker when it
    gave them one), and starts from the previous plan. So a child waiting for a
    worker gets one when an override frees room, and otherwise as few other cases
    move as the rules allow. A case kept off a worker (``exclude``) keeps the
    previous plan's placement as its reference too: only a choice or an unallocation
    decides where a case ends.

    Children who have a worker move only as the manager asked: a re-solve for a new
    choice with ``make_room`` may move up to :data:`MAKE_ROOM_MOVES` of them (what
    its preview showed); the moves an earlier such choice made then stand, pinned
    in every later re-solve (a later make-room moves other children, never those
    back), and a re-solve that asks for no moves moves nobody else's child (beyond
    the morning plan's own ``allow_moves``).

    Parameters
    ----------
    snapshot
        The service as loaded (without any override).
    policy
        The policy.
    previous
        The plan the manager is changing; its settings are reused.
    overrides
        Every override so far, oldest first (each re-solve takes them all).
    progress
        Told of each stage of the solve (a progress display; no effect on the plan).
    handovers
        Handovers an earlier plan promised and not yet made (``serve --handovers``):
        each receiver's room for the child is kept from the re-solve, as the
        morning's ``allocate(..., handovers=...)`` keeps it, so that no override's
        re-solve gives it to another child; a promise the overrides break
        (:func:`promises_standing`) keeps no room.
    earlier
        The overrides in force for ``previous``: those of ``overrides`` not among
        them are the new ones, whose cases' own events the log records (they are not
        among :attr:`Resolution.moved`) and whose ``make_room`` lets this re-solve
        move children.

    Returns
    -------
    Resolution

    Raises
    ------
    OverrideError
        If an override names an unknown case or worker.
    """
    from allocator.problems.daily import allocate

    base = apply_overrides(snapshot, overrides)
    kept = promises_standing(handovers, overrides)
    last = {o.case: o for o in overrides}
    new = {o.case for o in overrides if o not in earlier}
    decided = {cid for cid, o in last.items() if o.action != "exclude"}
    asked = any(last[c].action == "choose" and last[c].make_room for c in new)
    over = _over_cap(snapshot, policy, previous, overrides, kept)
    # A child given over cap by exception comes on top of what the worker was given:
    # their other placements stand (held as of today too, as the worker has no room
    # for them once over cap), so the exception costs no other child the worker the
    # plan gave them.
    beside = {str(o.worker) for o in over.values()}
    standing = {
        a.case: a.worker
        for a in previous.assignments
        if a.worker in beside and a.case not in last  # a case with a word of its own moves
    }
    # The moves an earlier choice made to make room stand as pins, not as holdings:
    # the solve then counts them in their receivers' room and intake of new families
    # (held as of today, a receiver's new family read as an old one, and a fresh
    # trial's re-solve gave that receiver one new family too many).
    moved_earlier = _moves_standing(base, policy, previous, last)
    moved_earlier = {c: w for c, w in moved_earlier.items() if c not in standing}
    # A child moved to make room, now kept off their new worker, goes on to another:
    # back with the worker they left would take the room a standing choice has (a
    # fresh trial's exclusion was refused so, where others had room for the child).
    served = _served(last)
    moving_on = {
        a.case: a.from_
        for a in previous.assignments
        if a.case in new
        and last[a.case].action == "exclude"
        and a.from_ is not None
        and a.from_ != a.worker
        and a.from_ in served
    }
    held_now = {**{cid: str(o.worker) for cid, o in over.items()}, **standing}
    if held_now or moved_earlier or moving_on:
        base = base.model_copy(
            update={
                "cases": tuple(
                    c.model_copy(update={"worker": held_now[c.id]})
                    if c.id in held_now
                    else c.model_copy(update={"pinned_worker": moved_earlier[c.id]})
                    if c.id in moved_earlier
                    else c.model_copy(
                        update={"excluded_workers": (*c.excluded_workers, moving_on[c.id])}
                    )
                    if c.id in moving_on
                    else c
                    for c in base.cases
                )
            }
        )
    cases = {c.id: c for c in snapshot.cases}
    reference = {
        a.case: a.worker
        for a in previous.assignments
        if a.case not in decided and a.case not in held_now
    }
    settings = solver_settings(previous).model_copy(update={"progress": progress})
    moves = allow_moves(previous)
    plan = allocate(
        base,
        policy,
        settings,
        allow_moves=max(moves, MAKE_ROOM_MOVES) if asked else moves,
        reference=reference,
        handovers=kept,
    )
    if asked:
        # The moves a choice asked for are its own, not a setting of the meeting: the
        # plan records the morning's allowance, and the moves as this choice's.
        plan = plan.model_copy(
            update={
                "settings": {
                    **{k: v for k, v in plan.settings.items() if k != "allow_moves"},
                    **({"allow_moves": moves} if moves else {}),
                    "make_room_moves": MAKE_ROOM_MOVES,
                }
            }
        )
    if held_now:
        plan = _with_held(plan, snapshot, policy, over, standing, previous, kept)
    if moved_earlier:
        plan = _as_moved_before(plan, previous, moved_earlier)
    plan = _restated(_tidy(plan, overrides, previous), snapshot, policy)
    before, after = final_workers(previous), final_workers(plan)
    moved = tuple(
        Moved(c, before.get(c, cases[c].worker), after.get(c, cases[c].worker))
        for c in sorted(set(before) | set(after))
        if c not in decided
        and c not in new
        and before.get(c, cases[c].worker) != after.get(c, cases[c].worker)
    )
    return Resolution(plan=plan, moved=moved, held={c: cases[c].worker for c in last})


def _served(last: Mapping[str, Override]) -> set[str]:
    """The workers a make-room choice in force (``last``) made room with."""
    return {str(o.worker) for o in last.values() if o.action == "choose" and o.make_room}


def _moves_standing(
    base: Snapshot, policy: Policy, previous: Plan, last: Mapping[str, Override]
) -> dict[str, str]:
    """Case -> worker for each child ``previous`` moved off a worker who may keep them
    (a move made to make room), none with an override of its own (``last``: each
    case's override in force): pinned there in every later re-solve, one that asks
    for moves too. A move made for a choice the manager has since changed (no
    make-room choice of the worker it freed stands) is released, and the child goes
    back where they were (a fresh trial's child stayed moved, their reason naming a
    choice no longer in force); the morning's own moves (``allow_moves``) stand."""
    state = ServiceState.of(base, policy)
    must_move = set(state.to_allocate)
    served = _served(last)
    return {
        a.case: a.worker
        for a in previous.assignments
        if a.from_ is not None
        and a.from_ != a.worker
        and a.case not in must_move
        and a.case not in last
        and state.cases[a.case].worker == a.from_
        and (a.from_ in served or allow_moves(previous) > 0)
    }


def _as_moved_before(plan: Plan, previous: Plan, moved: Mapping[str, str]) -> Plan:
    """``plan`` with each standing move (``moved``: case -> the worker an earlier
    choice moved them to, pinned there for the solve) said as ``previous`` said it,
    not as a pin of the manager's."""
    given = {a.case: a for a in previous.assignments}
    return plan.model_copy(
        update={
            "assignments": tuple(
                a.model_copy(update={"reasons": given[a.case].reasons})
                if moved.get(a.case) == a.worker
                else a
                for a in plan.assignments
            )
        }
    )


def _with_held(
    plan: Plan,
    snapshot: Snapshot,
    policy: Policy,
    over: Mapping[str, Override],
    standing: Mapping[str, str],
    previous: Plan,
    handovers: Sequence[Handover] = (),
) -> Plan:
    """``plan`` (solved with the ``over`` cases held by their chosen workers, and
    ``standing``, the other placements ``previous`` gave those workers, held there
    too) as a plan of ``snapshot``: each of them an assignment (an ``over`` case a
    managed exception to the cap too; a standing one as ``previous`` gave it, its
    reasons said again under this plan); :func:`_restated` then recomputes the
    workers' loads and the tier values from ``snapshot``."""
    state = ServiceState.of(snapshot, policy)
    placed = {a.case: a.worker for a in plan.assignments}
    # Never a case twice: one the solve placed is where the solve put it.
    standing = {cid: w for cid, w in standing.items() if cid not in placed}
    placed.update({cid: str(o.worker) for cid, o in over.items()})
    placed.update(standing)
    outcome = outcome_of(state, placed)  # read by the tiers and the workers' table too
    load = outcome.load
    given = {a.case: a for a in previous.assignments}
    view = PlanView.of(state, placed)
    # Said again under this plan: the worker's load now counts the exception.
    extra = [
        given[cid].model_copy(
            update={
                "reasons": (
                    f"kept with {w} beside the manager's over-cap exception",
                    *assignment_reasons(state, placed, cid, view=view),
                )
            }
        )
        for cid, w in sorted(standing.items())
    ]
    exceptions = list(plan.exceptions)
    for cid, o in sorted(over.items()):
        worker = str(o.worker)
        ends = f"{worker} ends at {points(load[worker])} of {points(state.capacity[worker])} points"
        kept = kept_words(snapshot, policy, handovers, worker)
        if kept:
            ends += f", {kept}"
        extra.append(
            Assignment(
                case=cid,
                worker=worker,
                from_=state.cases[cid].worker,
                reasons=(f"over cap by a manager's exception: {ends}",),
                days_waiting=state.days_waiting.get(cid),
            )
        )
        exceptions.append(
            ManagedException(
                case=cid,
                worker=worker,
                reason=f"given to {worker} over cap by {o.manager}'s exception ({ends}): "
                f"{o.reason}",
                waives="capacity",
            )
        )
    return plan.model_copy(
        update={
            "assignments": tuple(sorted((*plan.assignments, *extra), key=lambda a: a.case)),
            "exceptions": tuple(exceptions),
        }
    )


def _restated(plan: Plan, snapshot: Snapshot, policy: Policy) -> Plan:
    """``plan``'s workers' table and tier values recomputed from ``snapshot`` (as
    ``check`` recomputes them), whatever the re-solve saw: it solved a snapshot with
    the manager's exceptions held and earlier moves pinned, in which a child moved to
    make room counts as placed (a fresh trial's plan said 1,022 allocated where its
    placements give 1,019)."""
    state = ServiceState.of(snapshot, policy)
    placed = {a.case: a.worker for a in plan.assignments}
    outcome = outcome_of(state, placed)
    values = evaluate(state, placed)
    objective = {k: values.get(k, v) for k, v in plan.objective.items()}
    objective.update({k: v for k, v in values.items() if k not in objective})
    # A tier counted anew is no longer the value the solve bounded and proved: its
    # bound and proof go (a fresh trial read "proved yes" beside a value above its
    # bound), and with them the plan's "optimal".
    counted_anew = {k for k, v in objective.items() if plan.objective.get(k) != v}
    bound = {k: v for k, v in (plan.bound or {}).items() if k not in counted_anew}
    proved = {k: v and k not in counted_anew for k, v in (plan.proved or {}).items()}
    status = plan.status
    if status == "optimal" and not all(proved.values()):
        status = "feasible"
    return plan.model_copy(
        update={
            "workers": tuple(worker_table(state, outcome.load, outcome.count)),
            "objective": objective,
            "bound": bound if plan.bound is not None else None,
            "proved": proved if plan.proved is not None else None,
            "status": status,
        }
    )


def refusal(
    snapshot: Snapshot,
    policy: Policy,
    previous: Plan,
    overrides: Sequence[Override],
    made: Sequence[Override],
    result: Resolution,
    handovers: Sequence[Handover] = (),
    *,
    room_said_of: str | None = None,
) -> str | None:
    """Why the re-solve ``result`` does not honour the overrides, or ``None`` if it does.

    ``room_said_of``: a worker whose room the caller has already said (what the
    override needs of them and what they have); a refusal for want of their room then
    starts at how many points short, not saying the room again.

    It does not when a case the manager chose a worker for (in ``made``, or honoured
    by ``previous``) ends elsewhere, or when a child who holds a worker in the
    snapshot and kept one under ``previous`` ends with none (unless a manager left
    them unallocated or kept them off a worker: their own word on that child). The
    sentence says how many points short the worker is under ``previous``, or the
    plan's reason for the case; the room kept for children promised to the worker
    (``handovers`` still to come, those the overrides leave standing) is not room.
    """
    kept = promises_standing(handovers, overrides)
    before, after = final_workers(previous), final_workers(result.plan)
    held = {c.id: c.worker for c in snapshot.cases}
    last = {o.case: o for o in overrides}
    new = {o.case for o in made}
    missed: dict[str, list[str]] = {}
    for cid, o in last.items():
        if o.action != "choose" or o.worker is None:
            continue
        honoured_before = before.get(cid, held[cid]) == o.worker
        if after.get(cid, held[cid]) != o.worker and (cid in new or honoured_before):
            missed.setdefault(o.worker, []).append(cid)
    if missed:
        worker, cids = sorted(missed.items())[0]
        needed, spare, _ = room_for(snapshot, policy, previous, worker, cids, kept)
        what = " + ".join(cids)
        if needed > spare:
            asked = all(last[c].make_room for c in cids)
            kept_here = kept_words(snapshot, policy, kept, worker)
            room = (
                ""
                if worker == room_said_of
                else (
                    f"{worker} has {points(spare)} points spare under the plan in force "
                    if spare >= 0
                    else f"{worker} is {points(-spare)} points over their cap under the plan "
                    "in force "
                )
                + (f"({kept_here}) " if kept_here else "")
                + f"and {what} need{'s' if len(cids) == 1 else ''} {points(needed)}: "
            )
            # Room the re-solve made there but gave to others: they come first in the
            # policy's order (a fresh trial was told no moves make room, where the
            # page named one and the re-solve gave the room to heavier children).
            took = sorted(
                c
                for c, w in after.items()
                if w == worker and before.get(c, held[c]) != worker and c not in last
            )
            said = (
                room
                # A worker over their cap is short by what they are over, too.
                + f"{points(needed - spare)} points short, and "
                + (
                    f"the room the re-solve made with {worker} went to {joined(took)}, who "
                    "come first in the policy's order (class, then wait)"
                    if took
                    else f"the re-solve found no moves of at most {MAKE_ROOM_MOVES} children "
                    "that make room"
                    if asked
                    else "the re-solve found no room among today's new placements (ask it to "
                    "make room, moving children who have a worker: preview first)"
                )
            )
        else:
            why = {u.case: u.reason for u in result.plan.unallocated}
            said = f"the re-solve could not give {what} to {worker}: " + (
                why.get(cids[0]) or "the hard rules leave no way"
            )
        cases = {c.id: c for c in snapshot.cases}
        if all(c not in new for c in cids):
            # An earlier choice the new override would undo (a fresh trial's exclusion
            # of another child was refused in words about this one alone).
            exclusions = [o for o in made if o.action == "exclude"]
            instead = (
                f". To keep {exclusions[0].case} off {exclusions[0].worker}, choose the "
                f"worker {exclusions[0].case} should go to instead"
                if exclusions
                else ""
            )
            short = f"{worker} could no longer take {'them' if len(cids) > 1 else 'the child'}"
            return (
                f"this would undo the earlier choice of {worker} for {what}, which the plan "
                f"in force honours ({short}){instead}. Nothing was changed."
            )
        if all(policy.may_exceed_cap(cases[c]) for c in cids) and not all(
            last[c].over_cap for c in cids
        ):
            said += (
                f". A manager may give {joined(policy.over_cap_classes)} children over cap "
                "by exception: choose again with 'over cap' and the reason"
            )
        return said + ". Nothing was changed."
    lost = [
        cid
        for cid, w in held.items()
        if w is not None
        and before.get(cid, w) is not None
        and after.get(cid, w) is None
        # A child the manager left unallocated is their word on that child.
        and not (cid in last and last[cid].action == "unallocate")
    ]
    if lost:
        kept_off = [c for c in lost if c in new and last[c].action == "exclude"]
        said = (
            f"this would leave {joined(lost)} without a worker (nobody else may take "
            f"{'them' if len(lost) > 1 else 'the child'})"
        )
        if kept_off:
            # Not "leave them unallocated": a plan lists as unallocated only a child who
            # needs a worker (check_unallocatable).
            said += (
                f". To take {joined(kept_off)} from {last[kept_off[0]].worker} anyway, "
                "choose a worker (over cap by exception, or making room)"
            )
        return said + ". Nothing was changed."
    # The last guard: a plan in force never breaks a hard rule, whatever the re-solve.
    broken = check_plan(snapshot, policy, result.plan)
    if broken:
        return (
            "the re-solve's plan would break the hard rules ("
            + "; ".join(f"{v.rule}: {v.message}" for v in broken)
            + "). Nothing was changed."
        )
    return None


def _tidy(plan: Plan, overrides: Sequence[Override], previous: Plan) -> Plan:
    """The re-solved plan in the manager's terms.

    A case a manager chose a worker for, or kept off one, says so with their reason
    first; a case left unallocated by a manager says so with their reason, not the
    exclusions that implement it.
    """
    last: dict[str, Override] = {}
    for o in overrides:
        last[o.case] = o
    assignments = []
    for a in plan.assignments:
        reasons = a.reasons
        mine = last.get(a.case)
        if mine is not None and mine.action == "choose" and mine.worker == a.worker:
            # The choice is the pin the solve saw: said once, as the manager's.
            pin = f"pinned to {a.worker} by a manager"
            reasons = (
                f"chosen by {mine.manager}: {mine.reason}",
                *(r for r in reasons if r != pin),
            )
        elif mine is not None and mine.action == "exclude":
            reasons = (f"kept off {mine.worker} by {mine.manager}: {mine.reason}", *reasons)
        assignments.append(a.model_copy(update={"reasons": reasons}))  # days waiting kept
    unallocated = []
    for u in plan.unallocated:
        mine = last.get(u.case)
        if mine is not None and mine.action == "unallocate":
            u = u.model_copy(
                update={
                    "code": MANAGER_UNALLOCATED,
                    "reason": f"left unallocated by {mine.manager}: {mine.reason}",
                }
            )
        unallocated.append(u)
    # The placements no override names (reference_changes counts a child kept off a
    # worker too, the manager's own word: a fresh trial read "2 of 38 changed" beside
    # one child moved).
    before, after = final_workers(previous), final_workers(plan)
    others = [a.case for a in previous.assignments if a.case not in last]
    changes = sum(1 for c in others if after.get(c) != before[c])
    notes = (
        *plan.notes,
        f"re-solved with {counted(len(overrides), 'manager override')} in one solve, keeping "
        f"the previous plan's other placements where it could: {changes} of its "
        f"{counted(len(others), 'other placement')} changed",
    )
    return plan.model_copy(
        update={
            "assignments": tuple(assignments),
            "unallocated": tuple(unallocated),
            "notes": notes,
            "made_from": previous.made_from,
        }
    )


def canonical_plan(plan: Plan) -> bytes:
    """The plan's JSON bytes with ``solve_seconds`` zeroed: what a replay must match.

    ``solve_seconds`` is the wall-clock time of the solve, which no re-run repeats;
    everything else a deterministic solve (fixed ``work_units``) reproduces.
    """
    return dump_json(plan.model_copy(update={"solve_seconds": 0.0})).encode("utf-8")


def digest(data: bytes) -> str:
    """SHA-256 of ``data``, lower-case hex."""
    return hashlib.sha256(data).hexdigest()


def changed_cases(overrides: Iterable[Override]) -> list[str]:
    """The ids of the cases the overrides touch, in first-touched order."""
    return list(dict.fromkeys(o.case for o in overrides))

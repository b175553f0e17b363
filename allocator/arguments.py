"""The library's door for its typed arguments: a wrong kind of value is one sentence.

A council developer who passes a dict, a file name or arguments in the wrong order to
:func:`allocator.allocate` or :func:`allocator.check_plan` should not meet an
``AttributeError`` from deep inside ("'dict' object has no attribute
'practitioners'"): each public call checks its service, policy, plan and settings
here first, and says which argument, what was given and how to make the right one.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar, overload

from pydantic import BaseModel, ValidationError

from allocator.contract.faults import InputError, kind_of, non_finite
from allocator.contract.limits import MAX_MOVES
from allocator.contract.models import Plan, Snapshot
from allocator.contract.policy import Policy
from allocator.contract.settings import Settings

#: Each checked argument: the type it must be, what it is called, how a caller makes one.
KINDS: dict[str, tuple[type, str, str]] = {
    "snapshot": (
        Snapshot,
        "an allocator.Snapshot",
        "allocator.load_snapshot reads one from a file",
    ),
    "policy": (
        Policy,
        "an allocator.Policy",
        "allocator.load_policy reads one from a file; None gives the defaults",
    ),
    "plan": (Plan, "an allocator.Plan", "allocator.load_plan reads one from a file"),
    "settings": (
        Settings,
        "an allocator.Settings",
        "e.g. allocator.Settings(time_limit=10); None gives the defaults",
    ),
    "case_id": (str, "a case's id", "as the snapshot writes it, e.g. 'C000491'"),
    "worker_id": (str, "a practitioner's id", "as the snapshot writes it, e.g. 'P0009'"),
}

#: Arguments of the same kind as a key of :data:`KINDS` under another name.
ALIASES = {"plan_a": "plan", "plan_b": "plan", "baseline": "policy"}


def check_arguments(call: str, *, optional: Collection[str] = (), **given: Any) -> None:
    """Raise ``TypeError`` naming the first of ``given`` that is not of its kind.

    Parameters
    ----------
    call
        The public function's name, as the caller wrote it (``allocate``).
    optional
        The arguments of ``given`` that may be ``None`` (a policy or settings that
        default); any other ``None`` is refused as a wrong kind of value.
    given
        Argument name (a key of :data:`KINDS`, or ``plan_a``/``plan_b``: plans) ->
        the value passed.

    Raises
    ------
    TypeError
        "allocate: snapshot is a dict ({'a': 1}), expected an allocator.Snapshot
        (allocator.load_snapshot reads one from a file)".

    Notes
    -----
    Only the kinds: a :class:`Snapshot`, :class:`Plan` or :class:`Policy` that is of
    its kind may still hold values its constructor never saw (``model_copy(update=
    ...)``), so each call then takes :func:`admitted`'s copy of it.
    """
    for name, value in given.items():
        if value is None and name in optional:
            continue
        kind, noun, how = KINDS[ALIASES.get(name, name)]
        if value is None:  # not optional here: "None gives the defaults" would mislead
            how = how.split("; None gives")[0]
        if not isinstance(value, kind):
            shown = repr(value)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise TypeError(
                f"{call}: {name} is {kind_of(value)} ({shown}), expected {noun} ({how})"
            )


_Model = TypeVar("_Model", Snapshot, Plan, Policy)
_Item = TypeVar("_Item")


@overload
def admitted(call: str, name: str, value: _Model) -> _Model: ...
@overload
def admitted(call: str, name: str, value: None) -> None: ...
def admitted(call: str, name: str, value: _Model | None) -> _Model | None:
    """``value`` validated again, whole: the copy every public call works on.

    pydantic's ``model_copy(update=...)`` does not validate: a copy holding a duplicate
    case id went through allocate as "optimal", one with ``needs=("",)`` took a child
    off their worker, one whose ``as_of`` was the text ``"2026-11-23"`` met a
    ``TypeError`` deep in the rules, a case given as a dict an ``AttributeError``, and
    a ``weight`` of NaN was read as null (computed by the policy). So the value is
    validated again from its fields (about 0.5 s for 40,000 cases), and the call works
    on the validated copy, never on values no constructor checked.

    Raises
    ------
    InputError
        For a snapshot or plan: one sentence per problem, in the readers' words
        (``allocate: snapshot, cases[3] (id C4): ...``), never the value of a label.
    PolicyError
        For a policy: one sentence per problem, naming the key.
    """
    if value is None:
        return None
    if isinstance(value, Policy):
        data = _fields(value)  # its serialisers leave out keys at their empty value
    else:  # faster, and a snapshot's and a plan's serialisers leave out nothing
        data = value.model_dump(by_alias=True, warnings=False)
    try:
        return type(value).model_validate(data)
    except ValidationError:
        pass
    source = f"{call}: {name}"
    if isinstance(value, Snapshot):
        from allocator.io import snapshot_from_dict

        snapshot_from_dict(data, source=source)
    elif isinstance(value, Plan):
        from allocator.io.plans import plan_from_dict

        plan_from_dict(data, source=source)
    else:
        from allocator.contract.policy import policy_over

        # The fields as they are, not a JSON dump: that writes NaN and infinities as
        # null, and a NaN weight was said to be "null".
        policy_over(Policy(), data, source)
    raise InputError(f"{source} does not hold to the contract")


def _fields(value: Any) -> Any:
    """``value``'s fields as the constructor takes them, records as dicts, read from
    the attributes themselves: not ``model_dump``, whose serialisers on a policy leave
    out some keys at their empty value (``[waiting.type_weeks]`` empty would be read
    back as the default, court = 12)."""
    if isinstance(value, BaseModel):
        return {
            info.alias or name: _fields(getattr(value, name))
            for name, info in type(value).model_fields.items()
        }
    if isinstance(value, dict):
        return {key: _fields(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_fields(item) for item in value]
    return value


@overload
def check_count(
    call: str, name: str, value: object, *, low: int = 0, high: int = MAX_MOVES
) -> int: ...
@overload
def check_count(
    call: str, name: str, value: object, *, low: int = 0, high: int = MAX_MOVES, none: bool
) -> int | None: ...
def check_count(
    call: str, name: str, value: object, *, low: int = 0, high: int = MAX_MOVES, none: bool = False
) -> int | None:
    """A count argument (``allow_moves``, ``max_moves``, ``top``) as the plain ``int``
    it is: a whole number from ``low`` to ``high`` (``None`` too where ``none``).

    An integer of another kind (``numpy.int64``) is exactly an int and is taken as one;
    anything else is refused, as at the contract's number fields
    (:func:`allocator.contract.models.exact_number`), but a float even when whole: a
    count is a whole number.

    Raises
    ------
    TypeError
        For a value of another kind: text, a float, ``True``/``False``, ``None``.
    ValueError
        For a whole number outside ``low`` to ``high``.
    """
    if value is None and none:
        return None
    expected = f"a whole number from {low:,} to {high:,}" + (" or None" if none else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise TypeError(f"{call}: {name} is {kind_of(value)} ({shown}), expected {expected}")
    count = int(value)
    if not low <= count <= high:
        raise ValueError(f"{call}: {name} is {count}, expected {expected}")
    return count


def check_day(call: str, name: str, value: object) -> None:
    """Refuse a day argument (``apply_plan``'s ``as_of``) that is not a
    :class:`datetime.date` (a datetime, text) or ``None``.

    Raises
    ------
    TypeError
        Naming the argument, what was given and what is expected.
    """
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return
    raise TypeError(
        f"{call}: {name} is {kind_of(value)} ({value!r:.40}), expected a "
        "datetime.date (not a datetime, not text) or None"
    )


def check_instant(call: str, name: str, value: object) -> None:
    """Refuse a ``clock_started`` that is not a finite ``time.perf_counter()`` reading
    at or before now, or ``None``.

    Raises
    ------
    TypeError
        For a value of another kind (text, ``True``).
    ValueError
        For NaN, an infinity or a reading in the future.
    """
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"{call}: {name} is {kind_of(value)} ({value!r:.40}), expected a "
            "time.perf_counter() reading or None"
        )
    if not math.isfinite(value) or value > time.perf_counter():
        raise ValueError(
            f"{call}: {name} is {non_finite(value) or repr(value)}, expected a "
            "time.perf_counter() reading taken "
            "before the call, or None"
        )


def check_items(
    call: str, name: str, value: object, kind: type[_Item], noun: str
) -> tuple[_Item, ...]:
    """``handovers``/``earlier`` as a tuple, read once (a generator is taken whole);
    refused where it is not an iterable of ``kind`` (text is not), or is a set: its
    order changes from process to process (``PYTHONHASHSEED``), and the same handovers
    in another order may give another plan.

    Raises
    ------
    TypeError
        Naming the argument, the first wrong item's position and kind, or that a set
        has no order.
    """
    if isinstance(value, (set, frozenset)):
        raise TypeError(
            f"{call}: {name} is {kind_of(value)}, expected a sequence of {noun} in order "
            "(a list or tuple): a set's order changes from run to run"
        )
    return _items(call, name, value, kind, noun, f"a sequence of {noun}")


def check_id_set(call: str, name: str, value: object) -> frozenset[str]:
    """An argument that is a set of ids in meaning (the Recommender's ``siblings``), as
    a frozenset: any iterable of text, a set included (its order means nothing here),
    but text itself, which iterates by character (``"P1"`` was read as ``{"P", "1"}``).

    Raises
    ------
    TypeError
        Naming the argument, or its first item that is not text.
    """
    expected = "a collection of ids (text), e.g. a list"
    return frozenset(_items(call, name, value, str, "an id (text)", expected))


def _items(
    call: str, name: str, value: object, kind: type[_Item], noun: str, expected: str
) -> tuple[_Item, ...]:
    """``value``'s items, read once: refused where it is text, a mapping or not
    iterable (``expected`` says what it should be), or an item is not ``kind``
    (``noun``)."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise TypeError(f"{call}: {name} is {kind_of(value)} ({value!r:.40}), expected {expected}")
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, kind):
            raise TypeError(
                f"{call}: {name}[{i}] is {kind_of(item)} ({item!r:.40}), expected {noun}"
            )
    return items


def check_id_sets(call: str, name: str, value: object) -> dict[str, frozenset[str]]:
    """An argument mapping an id to a set of ids (the Recommender's ``new_today``: worker
    -> families), each set read by :func:`check_id_set`.

    Raises
    ------
    TypeError
        Naming the argument, a key that is not text, or the first value of another kind.
    """
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{call}: {name} is {kind_of(value)}, expected a mapping of an id (text) to a "
            "collection of ids, or None"
        )
    out: dict[str, frozenset[str]] = {}
    for key, ids in value.items():
        if not isinstance(key, str):
            raise TypeError(
                f"{call}: {name} holds a key {key!r:.40} ({kind_of(key)}), expected an id (text)"
            )
        out[key] = check_id_set(call, f"{name}[{key!r}]", ids)
    return out


def check_id_map(call: str, name: str, value: object) -> None:
    """Refuse ``reference``/``planned`` that is not a mapping of case id to worker id
    (text to text), or ``None``.

    Raises
    ------
    TypeError
        Naming the argument and the first entry of another kind.
    """
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{call}: {name} is {kind_of(value)}, expected a mapping of case id to "
            "worker id (text to text) or None"
        )
    for case, worker in value.items():
        if not isinstance(case, str) or not isinstance(worker, str):
            raise TypeError(
                f"{call}: {name} holds {case!r:.40}: {worker!r:.40}, expected a case id "
                "(text) to a worker id (text)"
            )


def check_ids_known(
    call: str,
    name: str,
    value: Mapping[str, str] | None,
    snapshot: Snapshot,
    *,
    workers: bool = True,
) -> None:
    """Refuse ``reference``/``planned`` entries whose case is not in ``snapshot`` or
    whose worker is not among its practitioners: such an entry was ignored in silence
    (a typo'd id, or a plan of another service). Entries for cases that exist but need
    no worker are still ignored, as documented. ``workers=False`` (``planned``: a
    promised receiver since taken off the staff list is planned afresh, as
    documented) checks the cases only.

    Raises
    ------
    InputError
        Naming the argument and every unknown id (at most ten shown).
    """
    if not value:
        return
    cases = {c.id for c in snapshot.cases}
    staff = {p.id for p in snapshot.practitioners}
    problems = []
    for noun, unknown in (
        ("case", sorted({c for c in value if c not in cases})),
        ("worker", sorted({w for w in value.values() if w not in staff} if workers else ())),
    ):
        if unknown:
            shown = ", ".join(map(repr, unknown[:10])) + (" ..." if len(unknown) > 10 else "")
            where = "the snapshot's cases" if noun == "case" else "the snapshot's practitioners"
            problems.append(
                f"{call}: {name} names {len(unknown)} {noun} "
                f"{'id' if len(unknown) == 1 else 'ids'} not among {where} ({shown}): "
                f"expected a mapping of the snapshot's case ids to its practitioners' ids"
            )
    if problems:
        raise InputError(problems)

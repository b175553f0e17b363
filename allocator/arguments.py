"""The library's door for its typed arguments: a wrong kind of value is one sentence.

A council developer who passes a dict, a file name or arguments in the wrong order to
:func:`allocator.allocate` or :func:`allocator.check_plan` should not meet an
``AttributeError`` from deep inside ("'dict' object has no attribute
'practitioners'"): each public call checks its service, policy, plan and settings
here first, and says which argument, what was given and how to make the right one.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from allocator.contract.faults import InputError
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


def check_arguments(call: str, **given: Any) -> None:
    """Raise ``TypeError`` naming the first of ``given`` that is not of its kind.

    Parameters
    ----------
    call
        The public function's name, as the caller wrote it (``allocate``).
    given
        Argument name (a key of :data:`KINDS`, or ``plan_a``/``plan_b``: plans) ->
        the value passed; ``None`` passes (the caller decides whether it may be).

    Raises
    ------
    TypeError
        "allocate: snapshot is a dict ({'a': 1}), expected an allocator.Snapshot
        (allocator.load_snapshot reads one from a file)".
    """
    for name, value in given.items():
        if value is None:
            continue
        kind, noun, how = KINDS["plan" if name in ("plan_a", "plan_b") else name]
        if not isinstance(value, kind):
            shown = repr(value)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise TypeError(
                f"{call}: {name} is a {type(value).__name__} ({shown}), expected {noun} ({how})"
            )
        if isinstance(value, Snapshot):
            _still_valid(call, name, value)


def _still_valid(call: str, name: str, snapshot: Snapshot) -> None:
    """Refuse a snapshot that no longer holds to the contract, with the readers' words.

    pydantic's ``model_copy(update=...)`` does not validate: a copy holding a duplicate
    case id went through allocate as "optimal", and one with ``needs=("",)`` took a
    child off their worker. So the snapshot is validated again, whole (about 0.5 s for
    40,000 cases), and where it fails it is read as :func:`allocator.io.snapshot_from_dict`
    reads one, so each problem is one sentence naming the record and the field, never
    the value of a label.

    Raises
    ------
    InputError
        One sentence per problem (``allocate: snapshot, cases[3] (id C4): ...``).
    """
    try:
        Snapshot.model_validate_json(snapshot.model_dump_json())
    except ValidationError:
        from allocator.io import snapshot_from_dict

        snapshot_from_dict(snapshot.model_dump(mode="json"), source=f"{call}: {name}")
        raise InputError(f"{call}: {name} does not hold to the contract") from None

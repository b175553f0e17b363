"""The library's door, past the kinds: what a council integration passes that is of
the right kind but holds values no constructor checked, or arguments out of range.

Each was, before, an internal traceback or a silent acceptance: a ``waiting_since``
given as a datetime (``TypeError: can't compare datetime.datetime to
datetime.date``); a ``model_copy`` whose ``as_of`` is text (``TypeError`` in the rules),
whose case is a dict (``AttributeError``), whose ``weight`` is NaN (read as null and
computed by the policy), a plan whose ``as_of`` is text (``the plan is for 2026-11-23
but the snapshot is of 2026-11-23``), a policy copy with ``points_per_fte`` of -1
(solved as "optimal"); ``None`` for a policy ``check_plan`` needs (``AttributeError``);
``allow_moves=-1``, ``max_moves=2.5`` (accepted), ``allow_moves="3"`` (``TypeError``
from a comparison); ``apply_plan(..., as_of="2026-11-25")``, junk handovers,
a ``clock_started`` of NaN.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

import allocator
from allocator import InputError, Policy, PolicyError, Settings
from allocator.problems.recommend import recommend
from tests.builders import case, snapshot, worker

SNAP = snapshot([worker("P1"), worker("P2")], [case("C1", worker="P1"), case("R1")])
POLICY = Policy()
FAST = Settings(work_units=0.3, time_limit=20)
PLAN = allocator.allocate(SNAP, POLICY, FAST)


def _raw() -> dict[str, Any]:
    return SNAP.model_dump(mode="json")


@pytest.mark.parametrize(
    "when",
    [datetime(2026, 11, 10, 9), datetime(2026, 11, 10, 9, tzinfo=UTC)],
    ids=["naive", "aware"],
)
def test_a_waiting_since_datetime_is_refused_naming_the_case(when: datetime) -> None:
    data = _raw()
    data["cases"][1]["waiting_since"] = when
    with pytest.raises(InputError) as raised:
        allocator.snapshot_from_dict(data)
    said = str(raised.value)
    assert "cases[1] (id R1): field 'waiting_since'" in said
    assert "expected a date written YYYY-MM-DD" in said


def _with_case(**update: Any) -> allocator.Snapshot:
    first = SNAP.cases[0].model_copy(update=update)
    return SNAP.model_copy(update={"cases": (first, *SNAP.cases[1:])})


def _quiet(call: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the door's own serialiser warnings stay inside
        return call()


# A copy (model_copy(update=...) never validates) holding values the contract refuses:
# each one sentence naming the record and the field, from every public call.
BAD_COPIES: list[tuple[str, Callable[[], allocator.Snapshot], str]] = [
    ("weight NaN", lambda: _with_case(weight=math.nan), "cases[0] (id C1): field 'weight'"),
    ("weight inf", lambda: _with_case(weight=math.inf), "cases[0] (id C1): field 'weight'"),
    (
        "as_of datetime",
        lambda: SNAP.model_copy(update={"as_of": datetime(2026, 11, 23, 9)}),
        "field 'as_of'",
    ),
    (
        "opened datetime",
        lambda: _with_case(opened=datetime(2026, 1, 1, 9)),
        "cases[0] (id C1): field 'opened'",
    ),
]


@pytest.mark.parametrize(("what", "copy", "said"), BAD_COPIES, ids=[b[0] for b in BAD_COPIES])
@pytest.mark.parametrize("call", ["allocate", "check_plan", "recommend"])
def test_a_copy_holding_a_refused_value_is_one_sentence(
    what: str, copy: Callable[[], allocator.Snapshot], said: str, call: str
) -> None:
    bad = copy()
    calls: dict[str, Callable[[], Any]] = {
        "allocate": lambda: allocator.allocate(bad, POLICY, FAST),
        "check_plan": lambda: allocator.check_plan(bad, POLICY, PLAN),
        "recommend": lambda: recommend(bad, "R1", POLICY),
    }
    with pytest.raises(InputError) as raised:
        _quiet(calls[call])
    assert said in str(raised.value)
    assert str(raised.value).startswith(f"{call}: snapshot")


# A copy holding values of another Python type that the contract reads (text for a
# date, a dict for a case): the call works on the validated copy, as snapshot_from_dict
# would have built it, never on the raw values.
LAX_COPIES: list[tuple[str, Callable[[], allocator.Snapshot]]] = [
    ("as_of text", lambda: SNAP.model_copy(update={"as_of": "2026-11-23"})),
    ("case as dict", lambda: SNAP.model_copy(update={"cases": [SNAP.cases[0].model_dump()]})),
    ("cases as list", lambda: SNAP.model_copy(update={"cases": list(SNAP.cases)})),
]


@pytest.mark.parametrize(("what", "copy"), LAX_COPIES, ids=[c[0] for c in LAX_COPIES])
def test_a_copy_of_another_python_type_is_read_as_the_contract_reads_it(
    what: str, copy: Callable[[], allocator.Snapshot]
) -> None:
    lax = copy()
    plan = _quiet(lambda: allocator.allocate(lax, POLICY, FAST))
    assert plan.as_of == date(2026, 11, 23)
    assert _quiet(lambda: allocator.check_plan(lax, POLICY, plan)) == []
    assert _quiet(lambda: allocator.analyse_plan(lax, POLICY, plan)).rules


def test_a_plan_copy_is_validated_too() -> None:
    # as_of as text was judged against the snapshot's date: "the plan is for
    # 2026-11-23 but the snapshot is of 2026-11-23".
    texty = PLAN.model_copy(update={"as_of": "2026-11-23"})
    assert _quiet(lambda: allocator.check_plan(SNAP, POLICY, texty)) == []
    first = PLAN.assignments[0].model_copy(update={"worker": None})
    broken = PLAN.model_copy(update={"assignments": (first,)})
    with pytest.raises(InputError, match=r"check_plan: plan, assignments\[0\] .*'worker'"):
        _quiet(lambda: allocator.check_plan(SNAP, POLICY, broken))
    as_dict = PLAN.model_copy(update={"assignments": [PLAN.assignments[0].model_dump()]})
    assert _quiet(lambda: allocator.explain_case(SNAP, POLICY, as_dict, "R1")).case == "R1"


@pytest.mark.parametrize(
    ("value", "said"),
    [(-1, "-1"), ("90", "'90'"), (math.nan, "not a number (NaN)")]
    + [(math.inf, "infinite (inf)"), (-math.inf, "infinite (-inf)")],
)
def test_a_policy_copy_out_of_its_domain_is_refused(value: Any, said: str) -> None:
    bad = POLICY.model_copy(update={"points_per_fte": value})
    with pytest.raises(PolicyError) as raised:
        _quiet(lambda: allocator.allocate(SNAP, bad, FAST))
    assert str(raised.value).startswith(f"allocate: policy: key 'points_per_fte' is {said}")


NONE_REFUSED: list[tuple[str, Callable[[], Any], str]] = [
    ("allocate", lambda: allocator.allocate(None, POLICY), "snapshot"),  # type: ignore[arg-type]
    ("check_plan", lambda: allocator.check_plan(SNAP, None, PLAN), "policy"),  # type: ignore[arg-type]
    ("analyse_plan", lambda: allocator.analyse_plan(SNAP, None, PLAN), "policy"),  # type: ignore[arg-type]
    ("explain_case", lambda: allocator.explain_case(SNAP, None, PLAN, "R1"), "policy"),  # type: ignore[arg-type]
    ("worker_statement", lambda: allocator.worker_statement(SNAP, POLICY, PLAN, None), "worker_id"),  # type: ignore[arg-type]
    ("diff_plans", lambda: allocator.diff_plans(PLAN, None), "plan_b"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("call", "slip", "name"), NONE_REFUSED, ids=[n[0] for n in NONE_REFUSED])
def test_none_where_a_value_is_required_is_named(
    call: str, slip: Callable[[], Any], name: str
) -> None:
    with pytest.raises(TypeError) as raised:
        slip()
    said = str(raised.value)
    assert said.startswith(f"{call}: {name} is a NoneType (None), expected "), said
    assert "None gives the defaults" not in said


COUNTS: list[tuple[str, Callable[[Any], Any], str]] = [
    ("allocate", lambda v: allocator.allocate(SNAP, POLICY, FAST, allow_moves=v), "allow_moves"),
    ("rebalance", lambda v: allocator.rebalance(SNAP, POLICY, FAST, max_moves=v), "max_moves"),
    ("cap_cost", lambda v: allocator.cap_cost(SNAP, POLICY, FAST, max_moves=v), "max_moves"),
    ("explain_case", lambda v: allocator.explain_case(SNAP, POLICY, PLAN, "R1", top=v), "top"),
    ("recommend", lambda v: recommend(SNAP, "R1", POLICY, top=v), "top"),
    ("recommend", lambda v: recommend(SNAP, "R1", POLICY, ineligible=v), "ineligible"),
    ("recommend", lambda v: allocator.Recommender(SNAP).recommend("R1", top=v), "top"),
]


@pytest.mark.parametrize(("call", "give", "name"), COUNTS, ids=[f"{c}-{n}" for c, _, n in COUNTS])
@pytest.mark.parametrize(
    ("value", "error"),
    [(-1, ValueError), (10**30, ValueError), (True, TypeError), ("3", TypeError)]
    + [(2.5, TypeError), (math.nan, TypeError)],
)
def test_a_count_out_of_its_domain_is_named(
    call: str, give: Callable[[Any], Any], name: str, value: Any, error: type[Exception]
) -> None:
    with pytest.raises(error) as raised:
        give(value)
    said = str(raised.value)
    assert said.startswith(f"{call}: {name} is "), said
    assert "expected a whole number from" in said


def test_none_for_allow_moves_is_named() -> None:
    with pytest.raises(TypeError, match="allocate: allow_moves is a NoneType"):
        allocator.allocate(SNAP, POLICY, FAST, allow_moves=None)  # type: ignore[arg-type]


OTHER_ARGUMENTS: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    (
        "apply as_of text",
        lambda: allocator.apply_plan(SNAP, PLAN, POLICY, as_of="2026-11-25"),  # type: ignore[arg-type]
        TypeError,
        "apply_plan: as_of is a str",
    ),
    (
        "apply as_of datetime",
        lambda: allocator.apply_plan(SNAP, PLAN, POLICY, as_of=datetime(2026, 11, 25, 3)),
        TypeError,
        "apply_plan: as_of is a datetime",
    ),
    (
        "apply earlier junk",
        lambda: allocator.apply_plan(SNAP, PLAN, POLICY, earlier=[1]),  # type: ignore[list-item]
        TypeError,
        "apply_plan: earlier[0] is an int",
    ),
    (
        "allocate handovers text",
        lambda: allocator.allocate(SNAP, POLICY, FAST, handovers="H1"),  # type: ignore[arg-type]
        TypeError,
        "allocate: handovers is a str",
    ),
    (
        "allocate reference None",
        lambda: allocator.allocate(SNAP, POLICY, FAST, reference={"R1": None}),  # type: ignore[dict-item]
        TypeError,
        "allocate: reference holds 'R1': None",
    ),
    (
        "rebalance planned list",
        lambda: allocator.rebalance(SNAP, POLICY, FAST, planned=[("C1", "P2")]),  # type: ignore[arg-type]
        TypeError,
        "rebalance: planned is a list",
    ),
    (
        "allocate clock_started NaN",
        lambda: allocator.allocate(SNAP, POLICY, FAST, clock_started=math.nan),
        ValueError,
        "allocate: clock_started is not a number (NaN)",
    ),
    (
        "allocate clock_started text",
        lambda: allocator.allocate(SNAP, POLICY, FAST, clock_started="now"),  # type: ignore[arg-type]
        TypeError,
        "allocate: clock_started is a str",
    ),
    (
        "rebalance clock_started future",
        lambda: allocator.rebalance(SNAP, POLICY, FAST, clock_started=1e15),
        ValueError,
        "rebalance: clock_started is 1000000000000000.0",
    ),
]


@pytest.mark.parametrize(
    ("what", "slip", "error", "said"), OTHER_ARGUMENTS, ids=[o[0] for o in OTHER_ARGUMENTS]
)
def test_other_arguments_of_another_kind_are_named(
    what: str, slip: Callable[[], Any], error: type[Exception], said: str
) -> None:
    with pytest.raises(error) as raised:
        slip()
    assert str(raised.value).startswith(said), str(raised.value)


def test_a_generator_of_handovers_is_read_once_whole() -> None:
    plan = allocator.apply_plan(SNAP, PLAN, POLICY, earlier=(h for h in ()))
    assert plan.as_of == SNAP.as_of


NOT_NUMBERS = [(math.nan, "not a number (NaN)"), (math.inf, "infinite (inf)")]
NOT_NUMBERS += [(-math.inf, "infinite (-inf)")]


@pytest.mark.parametrize(("value", "said"), NOT_NUMBERS)
def test_a_number_that_is_no_number_is_said_so_everywhere(value: float, said: str) -> None:
    # A policy override, a snapshot copy, a dict read, a setting: never "is null".
    with pytest.raises(PolicyError, match=re.escape(f"key 'points_per_fte' is {said}, expected")):
        POLICY.with_overrides(points_per_fte=value)
    weighted = SNAP.cases[0].model_copy(update={"weight": value})
    copied = SNAP.model_copy(update={"cases": (weighted,)})
    with pytest.raises(InputError, match=re.escape(f"field 'weight' is {said}, expected a number")):
        _quiet(lambda: allocator.allocate(copied, POLICY, FAST))
    data = SNAP.model_dump(mode="python", by_alias=True)
    data["practitioners"][0]["fte"] = value
    with pytest.raises(InputError, match=re.escape(f"field 'fte' is {said}, expected a number")):
        allocator.snapshot_from_dict(data)
    with pytest.raises(ValueError, match=re.escape(f"time_limit is {said}, expected a number")):
        allocator.Settings(time_limit=value)

"""Numbers of another kind at the library's door: taken where they convert exactly,
refused in one sentence where they do not.

Before, ``Decimal('0.1')`` and ``Fraction(1, 3)`` went into a float field of the
snapshot, the policy and the settings rounded in silence, ``numpy.float32(0.1)``
became 0.10000000149011612, ``numpy.True_`` was read as 1, and a ``numpy.int64``
(exactly an int) was refused for ``seed`` and ``allow_moves``.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

import allocator
from allocator import InputError, Policy, PolicyError, Settings, SettingsError
from allocator.arguments import check_count
from allocator.contract.policy import policy_over
from tests.builders import case, snapshot, worker

SNAP = snapshot([worker("P1"), worker("P2")], [case("C1", worker="P1"), case("R1")])

#: (value, the plain number it is exactly), one per member of each kind.
EXACT = [
    pytest.param(Decimal("0.5"), 0.5, id="decimal-exact"),
    pytest.param(Fraction(1, 2), 0.5, id="fraction-exact"),
    pytest.param(np.float64(0.1), 0.1, id="numpy-float64"),
    pytest.param(np.float32(0.5), 0.5, id="numpy-float32-exact"),
    pytest.param(np.int64(1), 1, id="numpy-int64"),
]
#: (value, words the refusal gives as its reason).
INEXACT = [
    pytest.param(Decimal("0.1"), "no float holds Decimal('0.1') exactly", id="decimal-inexact"),
    pytest.param(Fraction(1, 3), "no float holds Fraction(1, 3) exactly", id="fraction-inexact"),
    pytest.param(
        np.float32(0.1),
        "np.float32(0.1) holds 0.10000000149011612, not the 0.1 it prints as",
        id="numpy-float32-inexact",
    ),
]


def _snapshot_with_fte(value: object) -> dict[str, Any]:
    data = SNAP.model_dump(mode="json")
    data["practitioners"][1]["fte"] = value
    return data


# ------------------------------------------------------------------ snapshot door


@pytest.mark.parametrize(("value", "plain"), EXACT)
def test_a_number_that_converts_exactly_is_read_as_a_plain_number(
    value: object, plain: float
) -> None:
    snap = allocator.snapshot_from_dict(_snapshot_with_fte(value))
    fte = snap.practitioners[1].fte
    assert fte == plain
    assert type(fte) is float  # never a numpy scalar or a Decimal past the door


@pytest.mark.parametrize(("value", "why"), INEXACT)
def test_a_number_no_float_holds_is_refused_naming_the_record_and_field(
    value: object, why: str
) -> None:
    with pytest.raises(InputError) as raised:
        allocator.snapshot_from_dict(_snapshot_with_fte(value))
    said = str(raised.value)
    assert f"practitioners[1] (id P2): field 'fte' is {value!r}" in said
    assert "expected a number greater than 0 and at most 1" in said
    assert why in said


def test_a_numpy_int_is_a_whole_number_field_and_a_numpy_bool_is_no_number() -> None:
    data = SNAP.model_dump(mode="json")
    data["cases"][0]["complexity"] = np.int64(3)
    assert allocator.snapshot_from_dict(data).cases[0].complexity == 3
    assert type(allocator.snapshot_from_dict(data).cases[0].complexity) is int
    data["cases"][0]["complexity"] = np.True_
    with pytest.raises(InputError, match=r"cases\[0\] \(id C1\): field 'complexity' is true"):
        allocator.snapshot_from_dict(data)


def test_a_copy_holding_an_inexact_number_is_refused_at_a_public_call() -> None:
    # model_copy does not validate: the door (arguments.admitted) does, once.
    first = SNAP.cases[0].model_copy(update={"weight": Decimal("0.1")})
    copy = SNAP.model_copy(update={"cases": (first, *SNAP.cases[1:])})
    with pytest.raises(InputError, match=r"field 'weight' is Decimal\('0.1'\)"):
        allocator.allocate(copy, settings=_FAST)


# -------------------------------------------------------------------- policy door


@pytest.mark.parametrize(("value", "plain"), EXACT)
def test_the_policy_reads_an_exact_number_as_a_plain_number(value: object, plain: float) -> None:
    for policy in (
        Policy(points_per_fte=value),
        policy_over(Policy(), {"points_per_fte": value}, "p"),
    ):
        assert policy.points_per_fte == plain
        assert type(policy.points_per_fte) is float


@pytest.mark.parametrize(("value", "why"), INEXACT)
def test_the_policy_refuses_an_inexact_number_naming_the_key(value: object, why: str) -> None:
    with pytest.raises(PolicyError) as raised:
        policy_over(Policy(), {"grade_factor": {"nqsw": value}}, "policy override")
    said = str(raised.value)
    assert f"policy override: key 'grade_factor.nqsw' is {value!r}" in said
    assert "expected a number from 0 to 1" in said
    assert why in said
    with pytest.raises(ValueError, match="exactly|prints as"):
        Policy(grade_factor={"nqsw": value})


def test_a_policy_whole_number_takes_a_numpy_int() -> None:
    policy = Policy(leaving_window_days=np.int64(14), complexity_multiplier=(1, 1, 1, np.int64(2)))
    assert policy.leaving_window_days == 14
    assert type(policy.leaving_window_days) is int


# ------------------------------------------------------------------ settings door

_FAST = Settings(work_units=0.3, time_limit=20)


@pytest.mark.parametrize(("value", "plain"), EXACT)
@pytest.mark.parametrize("field", ["time_limit", "work_units"])
def test_the_settings_read_an_exact_number_as_a_plain_number(
    field: str, value: object, plain: float
) -> None:
    got = getattr(Settings(**{field: value}), field)
    assert got == plain
    assert type(got) in (int, float)


@pytest.mark.parametrize(("value", "why"), INEXACT)
@pytest.mark.parametrize("field", ["time_limit", "work_units"])
def test_the_settings_refuse_an_inexact_number_naming_the_setting(
    field: str, value: object, why: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings(**{field: value})
    said = str(raised.value)
    assert said.startswith(f"Settings: {field} is {value!r}, expected a number")
    assert why in said


def test_the_seed_and_workers_take_a_numpy_int() -> None:
    settings = Settings(seed=np.int64(7), workers=np.int32(2))
    assert (settings.seed, settings.workers) == (7, 2)
    assert type(settings.seed) is int
    with pytest.raises(SettingsError, match="workers is a bool"):
        Settings(workers=np.True_)


# ------------------------------------------------------------------ count arguments


def test_a_count_argument_takes_a_numpy_int_as_the_int_it_is() -> None:
    plan = allocator.allocate(SNAP, settings=_FAST, allow_moves=np.int64(1))
    assert plan.status == "optimal"
    assert check_count("allocate", "allow_moves", np.int64(3)) == 3
    assert type(check_count("allocate", "allow_moves", np.int64(3))) is int
    with pytest.raises(ValueError, match="allow_moves is -1, expected a whole number"):
        allocator.allocate(SNAP, settings=_FAST, allow_moves=np.int64(-1))
    with pytest.raises(TypeError, match="allow_moves is a float64"):
        allocator.allocate(SNAP, settings=_FAST, allow_moves=np.float64(1.0))

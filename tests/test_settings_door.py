"""Bad settings are the house's sentences: the setting, the value given, what it expects.

A fresh council developer met pydantic's dump ("1 validation error for Settings ...
For further information visit https://errors.pydantic.dev/...") for ``Settings(
time_limit=-1)``, unlike every other message of the library. Each setting and each
way in (the constructor, ``model_validate``, a plan's record, the shorthands of
``allocate`` / ``rebalance``, a copy made past validation) is one sentence; the error
is still a ``ValueError`` and pydantic's ``ValidationError``, as Settings promised.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

import allocator
from allocator import Policy, Settings, SettingsError
from tests.builders import case, snapshot, worker

SNAP = snapshot([worker("P1")], [case("R1")])

BAD: list[tuple[str, object, str]] = [
    ("time_limit", -1, "time_limit is -1, expected a number of seconds above 0 and at most 86,400"),
    ("time_limit", 0, "time_limit is 0, expected a number of seconds above 0"),
    ("time_limit", 86_401, "time_limit is 86401, expected a number of seconds above 0"),
    ("time_limit", True, "time_limit is a bool (True), expected a number of seconds"),
    ("time_limit", "10", "time_limit is text ('10'), expected a number of seconds"),
    ("time_limit", math.inf, "time_limit is infinite (inf), expected a number of seconds"),
    ("seed", math.nan, "seed is not a number (NaN), expected a whole number from 0"),
    ("work_units", -3, "work_units is -3, expected a number above 0 and at most 86,400, 'auto'"),
    ("work_units", "fast", "work_units is 'fast', expected a number above 0 and at most 86,400"),
    ("work_units", False, "work_units is a bool (False), expected a number above 0"),
    ("seed", -1, "seed is -1, expected a whole number from 0 to 2,147,483,647"),
    ("seed", 2**31, "seed is 2147483648, expected a whole number from 0 to 2,147,483,647"),
    ("seed", "1", "seed is text ('1'), expected a whole number from 0 to 2,147,483,647"),
    ("seed", 1.5, "seed is 1.5, expected a whole number from 0 to 2,147,483,647"),
    ("workers", 0, "workers is 0, expected a whole number from 1 to 256"),
    ("workers", 257, "workers is 257, expected a whole number from 1 to 256"),
    ("workers", [2], "workers is a list ([2]), expected a whole number from 1 to 256"),
    ("progress", 3, "progress is 3, expected a callable taking a Progress, or None"),
]


@pytest.mark.parametrize(("field", "value", "said"), BAD, ids=[f"{f}={v!r}" for f, v, _ in BAD])
def test_a_bad_setting_is_one_sentence_naming_it(field: str, value: object, said: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings(**{field: value})
    message = str(raised.value)
    assert message.startswith(f"Settings: {said}"), message
    assert "pydantic" not in message and "\n" not in message
    # The types the docstring promised before: a ValueError, pydantic's ValidationError.
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, ValidationError)
    assert raised.value.errors()[0]["loc"] == (field,)


def test_an_unknown_setting_is_named_with_the_one_meant() -> None:
    with pytest.raises(SettingsError, match=r"^Settings: unknown setting 'time_limt'; did you"):
        Settings(time_limt=10)  # type: ignore[call-arg]


def test_every_bad_setting_is_said_one_a_line() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings(seed=-1, workers=0)
    assert raised.value.problems == [
        "Settings: seed is -1, expected a whole number from 0 to 2,147,483,647",
        "Settings: workers is 0, expected a whole number from 1 to 256",
    ]


@pytest.mark.parametrize(
    "make",
    [
        lambda: Settings.model_validate({"seed": -1}),
        lambda: Settings.from_record({"seed": -1, "time_limit": 30}),
    ],
    ids=["model_validate", "from_record"],
)
def test_other_ways_of_making_settings_say_the_same(make: Callable[[], Any]) -> None:
    with pytest.raises(SettingsError, match=r"^Settings: seed is -1, expected a whole number"):
        make()


SHORTHANDS: list[tuple[str, Callable[[], Any], str]] = [
    (
        "allocate",
        lambda: allocator.allocate(SNAP, time_limit=-1),
        "time_limit is -1, expected a number of seconds",
    ),
    (
        "allocate",
        lambda: allocator.allocate(SNAP, time_limit=True),
        "time_limit is a bool (True), expected a number of seconds",
    ),
    (
        "allocate",
        lambda: allocator.allocate(SNAP, work_units="lots"),  # type: ignore[arg-type]
        "work_units is 'lots', expected a number above 0",
    ),
    (
        "rebalance",
        lambda: allocator.rebalance(SNAP, time_limit="10"),  # type: ignore[arg-type]
        "time_limit is text ('10'), expected a number of seconds",
    ),
    (
        "rebalance",
        lambda: allocator.rebalance(SNAP, work_units=0),
        "work_units is 0, expected a number above 0",
    ),
    (
        "allocate",
        lambda: allocator.allocate(SNAP, None, Settings().model_copy(update={"seed": -5})),
        "seed is -5, expected a whole number from 0",
    ),
    (
        "rebalance",
        lambda: allocator.rebalance(SNAP, None, Settings().model_copy(update={"workers": 0})),
        "workers is 0, expected a whole number from 1 to 256",
    ),
    (
        "cap_cost",
        lambda: allocator.cap_cost(
            SNAP, Policy(), Settings().model_copy(update={"time_limit": math.nan})
        ),
        "time_limit is not a number (NaN), expected a number of seconds",
    ),
]


@pytest.mark.parametrize(
    ("call", "slip", "said"), SHORTHANDS, ids=[f"{c}-{s[:24]}" for c, _, s in SHORTHANDS]
)
def test_a_public_call_names_itself_and_the_setting(
    call: str, slip: Callable[[], Any], said: str
) -> None:
    with pytest.raises(ValueError) as raised:
        slip()
    assert isinstance(raised.value, SettingsError)
    assert str(raised.value).startswith(f"{call}: {said}"), str(raised.value)


def test_settings_and_a_shorthand_both_given_is_a_type_error_naming_the_call() -> None:
    with pytest.raises(TypeError, match=r"^allocate: give time_limit in settings"):
        allocator.allocate(SNAP, None, Settings(), time_limit=5)

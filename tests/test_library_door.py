"""The library's door: a wrong kind of argument is one TypeError naming it.

A fresh user's slips, each met by an AttributeError from deep inside: a dict for the
snapshot, a file name for the plan, arguments in the wrong order, True for a time
limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

import allocator
from allocator import Policy, Settings
from allocator.problems.recommend import recommend
from tests.builders import case, snapshot, worker

SNAP = snapshot([worker("P1")], [case("R1")])
POLICY = Policy()
PLAN = allocator.allocate(SNAP, POLICY, work_units=0.5)

SLIPS: list[tuple[str, Callable[[], Any], str]] = [
    ("allocate", lambda: allocator.allocate({"a": 1}, POLICY), "snapshot is a dict"),
    ("allocate", lambda: allocator.allocate(SNAP, "policy.toml"), "policy is a str"),
    ("allocate", lambda: allocator.allocate(SNAP, POLICY, {"time_limit": 5}), "settings is a dict"),
    ("rebalance", lambda: allocator.rebalance(SNAP, POLICY, 10), "settings is an int"),
    ("cap_cost", lambda: allocator.cap_cost("s.json", POLICY), "snapshot is a str"),
    ("check_plan", lambda: allocator.check_plan(SNAP, POLICY, "plan.json"), "plan is a str"),
    ("check_plan", lambda: allocator.check_plan(SNAP, PLAN, POLICY), "policy is a Plan"),
    ("apply_plan", lambda: allocator.apply_plan(PLAN, SNAP), "snapshot is a Plan"),
    ("recommend", lambda: recommend(SNAP, POLICY, "R1"), "case_id is a Policy"),
    ("Recommender", lambda: allocator.Recommender({"cases": []}), "snapshot is a dict"),
    ("explain_case", lambda: allocator.explain_case(SNAP, POLICY, PLAN, 7), "case_id is an int"),
    ("analyse_plan", lambda: allocator.analyse_plan(SNAP, POLICY, {}), "plan is a dict"),
    (
        "worker_statement",
        lambda: allocator.worker_statement(SNAP, POLICY, PLAN, 5),
        "worker_id is an int",
    ),
    ("diff_plans", lambda: allocator.diff_plans(PLAN, "b.json"), "plan_b is a str"),
]


@pytest.mark.parametrize(("call", "slip", "said"), SLIPS, ids=[f"{c}-{s}" for c, _, s in SLIPS])
def test_a_wrong_kind_of_argument_is_named(call: str, slip: Callable[[], Any], said: str) -> None:
    with pytest.raises(TypeError) as raised:
        slip()
    message = str(raised.value)
    assert message.startswith(f"{call}: {said} ("), message
    assert "expected " in message


@pytest.mark.parametrize(
    ("field", "value"),
    [("time_limit", True), ("time_limit", "10"), ("work_units", False), ("seed", True)]
    + [("seed", "1"), ("workers", 2.0)],
)
def test_settings_refuse_a_value_of_the_wrong_kind(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(**{field: value})
    assert field in str(raised.value)


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (
            {"max_new_families_per_day": float("nan")},
            "Policy: key 'max_new_families_per_day' is not a number (NaN), expected a whole "
            "number from 0 to 1000.",
        ),
        (
            {"waiting": {"room_kept_share": 2}},
            "Policy: key 'waiting.room_kept_share' is 2, expected a number from 0 to 1.",
        ),
        (
            {"over_cap_classes": ["x"]},
            "Policy: key 'over_cap_classes': 'x' is not a priority class; expected any of "
            "urgent, statutory, other.",
        ),
        ({"max_weeks": 3}, "Policy: unknown key 'max_weeks'"),
    ],
)
def test_a_policy_built_in_code_is_refused_in_the_words_a_file_gets(
    given: dict[str, Any], said: str
) -> None:
    # Before, Policy(...) raised pydantic's dump, with links and, for any refused key,
    # a knock-on "default factory" error on over_cap_classes.
    from allocator import PolicyError

    for build in (lambda: Policy(**given), lambda: Policy.model_validate(given)):
        with pytest.raises(PolicyError) as raised:
            build()
        assert str(raised.value).startswith(said)
        assert isinstance(raised.value, ValidationError)  # as it always was
        assert "default factory" not in str(raised.value) and "pydantic" not in str(raised.value)


def test_settings_take_whole_numbers_for_seconds_and_work() -> None:
    assert Settings(time_limit=10, work_units=3).work == 3.0


#: Copies made with pydantic's model_copy(update=...), which does not validate.
BYPASSES: list[tuple[str, Any, str]] = [
    (
        "a case twice",
        {"cases": (*SNAP.cases, SNAP.cases[0])},
        "cases[1] (id R1): duplicate id 'R1', already used at cases[0]",
    ),
    (
        "a worker off the books",
        {"cases": (SNAP.cases[0].model_copy(update={"worker": "P9"}),)},
        "cases[0] (id R1): field 'worker' is 'P9', expected the id of one of the practitioners",
    ),
    (
        "a worker twice",
        {"practitioners": (*SNAP.practitioners, SNAP.practitioners[0])},
        "practitioners[1] (id P1): duplicate id 'P1'",
    ),
    (
        "a blank need",
        {"cases": (SNAP.cases[0].model_copy(update={"needs": ("",)}),)},
        "cases[0] (id R1): field 'needs[0]' is empty, expected a label",
    ),
    (
        "an invisible character in an area",
        {"cases": (SNAP.cases[0].model_copy(update={"area": "Patch\u200b"}),)},
        "cases[0] (id R1): field 'area' is text, expected a label",
    ),
]


@pytest.mark.parametrize(
    ("call", "run"),
    [
        ("allocate", lambda s: allocator.allocate(s, POLICY, work_units=0.5)),
        ("rebalance", lambda s: allocator.rebalance(s, POLICY, work_units=0.5)),
        ("check_plan", lambda s: allocator.check_plan(s, POLICY, PLAN)),
    ],
    ids=["allocate", "rebalance", "check_plan"],
)
@pytest.mark.parametrize(("what", "update", "said"), BYPASSES, ids=[b[0] for b in BYPASSES])
def test_a_snapshot_copied_past_its_validation_is_refused_at_the_door(
    call: str, run: Callable[[Any], Any], what: str, update: Any, said: str
) -> None:
    # A council developer's model_copy held a duplicate case id, and allocate gave a
    # plan marked optimal; another's held needs=("",) and took a child off their worker.
    with pytest.raises(allocator.InputError) as caught:
        run(SNAP.model_copy(update=update))
    message = str(caught.value)
    assert message.startswith(f"{call}: snapshot, "), message
    assert said in message, message
    assert "Patch" not in message  # a label is described, never quoted


@pytest.mark.parametrize(
    ("word", "said"),
    [("int", "an int"), ("str", "a str"), ("int64", "an int64"), ("ndarray", "an ndarray")]
    + [("Policy", "a Policy"), ("uint8", "a uint8"), ("nqsw", "an nqsw"), ("senior", "a senior")]
    + [("object", "an object"), ("Decimal", "a Decimal"), ("OrderedDict", "an OrderedDict")],
)
def test_every_sentence_takes_its_article_from_one_helper(word: str, said: str) -> None:
    from allocator.contract.faults import with_article

    assert with_article(word) == said


@pytest.mark.parametrize(
    ("slip", "said"),
    [
        (lambda: allocator.explain_case(SNAP, POLICY, PLAN, 7), "case_id is an int (7)"),
        (lambda: allocator.allocate(SNAP, POLICY, allow_moves=1.5), "allow_moves is a float"),
        (lambda: allocator.apply_plan(SNAP, PLAN, POLICY, as_of=object()), "as_of is an object"),
        (lambda: allocator.allocate(SNAP, POLICY, handovers=[1]), "handovers[0] is an int"),
        (lambda: allocator.allocate(SNAP, POLICY, reference=[]), "reference is a list"),
        (lambda: allocator.allocate(SNAP, POLICY, clock_started="x"), "clock_started is a str"),
    ],
)
def test_a_wrong_kind_is_named_with_its_article(slip: Callable[[], Any], said: str) -> None:
    with pytest.raises(TypeError, match=re.escape(said)):
        slip()


def test_a_grade_is_named_with_its_article_in_the_rules_sentences() -> None:
    from allocator.contract.models import Grade
    from allocator.domain.rules import grade_blockers

    blockers = grade_blockers(case("C1", type="court"), Grade.NQSW, POLICY)
    assert "an nqsw may not hold court work" in blockers, blockers


# ------------------------------------------------------------------ the Recommender's door

#: A family of two: R2's sibling S2 is with P1. P2 is the other worker.
FAMILY = snapshot(
    [worker("P1"), worker("P2")],
    [case("R1"), case("S2", family="F2", worker="P1"), case("R2", family="F2")],
)


@pytest.mark.parametrize(
    ("slip", "said"),
    [
        # Before: frozenset("P1") ranked R2 as "siblings are with 1 and P".
        (lambda r: r.recommend("R2", siblings="P1"), "recommend: siblings is a str"),
        (lambda r: r.recommend("R2", siblings=[1]), "recommend: siblings[0] is an int"),
        (lambda r: r.score("R2", "P2", siblings="P1"), "score: siblings is a str"),
        (lambda r: r.score("R2", 2), "score: worker_id is an int"),
        (lambda r: r.blockers(1, "P2"), "blockers: case_id is an int"),
        (lambda r: r.room_reason("R2", None), "room_reason: worker_id is a NoneType"),
    ],
)
def test_the_recommenders_arguments_of_another_kind_are_named(
    slip: Callable[[allocator.Recommender], Any], said: str
) -> None:
    with pytest.raises(TypeError) as raised:
        slip(allocator.Recommender(FAMILY))
    assert str(raised.value).startswith(said), str(raised.value)


@pytest.mark.parametrize(
    ("slip", "said"),
    [
        # Before: a KeyError naming only the id, from deep inside.
        (lambda r: r.score("R9", "P2"), "case 'R9' is not in the snapshot"),
        (lambda r: r.score("R2", "P9"), "worker 'P9' is not among the practitioners"),
        (lambda r: r.blockers("R9", "P2"), "case 'R9' is not in the snapshot"),
        (lambda r: r.blockers("R2", "P9"), "worker 'P9' is not among the practitioners"),
        (lambda r: r.room_reason("R9", "P2"), "case 'R9' is not in the snapshot"),
        (lambda r: r.room_reason("R2", "P9"), "worker 'P9' is not among the practitioners"),
        # Before: a sibling's worker off the books was taken as a worker of its own.
        (
            lambda r: r.recommend("R2", siblings=["P9"]),
            "recommend: siblings names 'P9', who is not among the practitioners",
        ),
        (
            lambda r: r.score("R2", "P2", siblings=["P1", "P9"]),
            "score: siblings names 'P9', who is not among the practitioners",
        ),
    ],
)
def test_the_recommenders_unknown_ids_are_named(
    slip: Callable[[allocator.Recommender], Any], said: str
) -> None:
    with pytest.raises(allocator.UnknownIdError) as raised:
        slip(allocator.Recommender(FAMILY))
    assert str(raised.value) == said


def test_the_siblings_given_as_a_list_rank_as_the_snapshots_own() -> None:
    rec = allocator.Recommender(FAMILY)
    own = rec.recommend("R2")
    assert rec.recommend("R2", siblings=["P1"]) == own
    assert rec.recommend("R2", siblings=("P1",)) == own
    assert own.ranked[0].worker == "P1"


@pytest.mark.parametrize(
    ("given", "error", "said"),
    [
        # Before: an IndexError and an AttributeError from deep inside.
        ({"new_today": [("P1", ["F1"])]}, TypeError, "Recommender: new_today is a list"),
        ({"new_today": {"P1": "F1"}}, TypeError, "Recommender: new_today['P1'] is a str"),
        ({"new_today": {1: ["F1"]}}, TypeError, "Recommender: new_today holds a key 1"),
        (
            {"new_today": {"P9": ["F1"]}},
            allocator.UnknownIdError,
            "Recommender: new_today names 'P9', who is not among the practitioners",
        ),
        ({"judged_on": 3}, TypeError, "Recommender: judged_on is an int"),
        ({"state": FAMILY}, TypeError, "Recommender: state is a Snapshot"),
    ],
)
def test_the_recommenders_own_arguments_are_checked_when_built(
    given: dict[str, Any], error: type[Exception], said: str
) -> None:
    with pytest.raises(error) as raised:
        allocator.Recommender(FAMILY, **given)
    assert str(raised.value).startswith(said), str(raised.value)


def test_explain_case_refuses_a_recommender_of_another_service() -> None:
    # Before: a Recommender kept from yesterday's snapshot (or another policy) answered
    # for today's in silence, with yesterday's loads and siblings.
    plan = allocator.allocate(FAMILY, POLICY, work_units=0.5)
    today = allocator.apply_plan(FAMILY, plan, POLICY)
    shared = allocator.Recommender(FAMILY, POLICY)
    assert allocator.explain_case(FAMILY, POLICY, plan, "R2", recommender=shared).worker_after
    for snap, policy in ((today, POLICY), (FAMILY, POLICY.with_overrides(points_per_fte=50))):
        with pytest.raises(ValueError, match="explain_case: recommender is of another"):
            allocator.explain_case(snap, policy, plan, "R2", recommender=shared)
    with pytest.raises(TypeError, match="explain_case: recommender is a dict"):
        allocator.explain_case(FAMILY, POLICY, plan, "R2", recommender={})  # type: ignore[arg-type]


def test_a_recommender_refuses_a_state_of_another_service() -> None:
    from allocator.domain.rules import ServiceState

    state = ServiceState.of(FAMILY, POLICY)
    assert allocator.Recommender(FAMILY, POLICY, state=state).recommend("R2").ranked
    with pytest.raises(ValueError, match="Recommender: state is of another"):
        allocator.Recommender(SNAP, POLICY, state=state)


# ------------------------------------------------------------------ one base to catch


@pytest.mark.parametrize(
    "refusal",
    [
        lambda: allocator.snapshot_from_dict({"format": "caseload-snapshot/1"}),
        lambda: allocator.load_snapshot("/nonexistent/service.json"),
        lambda: allocator.load_policy("/nonexistent/policy.toml"),
        lambda: Policy(points_per_fte=-1),
        lambda: POLICY.with_overrides(points_per_fte=-1),
        lambda: Settings(seed=-1),
        lambda: allocator.allocate(SNAP, POLICY, time_limit=-1),
        lambda: allocator.allocate(SNAP.model_copy(update={"cases": SNAP.cases * 2}), POLICY),
        lambda: allocator.Recommender(SNAP).recommend("R9"),
        lambda: allocator.apply_plan(SNAP, PLAN, POLICY, as_of=date(2000, 1, 1)),
        lambda: allocator.load_plan("/nonexistent/plan.json"),
    ],
)
def test_every_refusal_of_input_is_caught_by_one_base(refusal: Callable[[], Any]) -> None:
    # A council's integration caught InputError and still met PolicyError and
    # SettingsError (ValueErrors, not InputErrors): three classes and no common base.
    with pytest.raises(allocator.AllocatorError) as raised:
        refusal()
    assert str(raised.value)
    assert isinstance(raised.value, Exception)


def test_the_errors_keep_the_kinds_they_always_had() -> None:
    from allocator import InputError, PlanNotApplicable, PolicyError, SettingsError
    from allocator.contract.policy import PolicyInvalid

    assert issubclass(PolicyError, ValueError) and issubclass(SettingsError, ValidationError)
    assert issubclass(PolicyInvalid, ValidationError) and issubclass(PolicyInvalid, PolicyError)
    assert issubclass(allocator.UnknownIdError, LookupError)
    for kind in (InputError, PlanNotApplicable, PolicyError, SettingsError, PolicyInvalid):
        assert issubclass(kind, allocator.AllocatorError), kind


@pytest.mark.parametrize(
    "kind",
    [allocator.InputError, allocator.UnknownIdError, allocator.PlanNotApplicable]
    + [allocator.PolicyError],
)
def test_an_error_keeps_its_kind_across_a_process(kind: type[Exception]) -> None:
    # Before: an UnknownIdError or PlanNotApplicable from a worker process (a pool, Dask)
    # came back as a plain InputError, and `except UnknownIdError` missed it.
    import pickle

    back = pickle.loads(pickle.dumps(kind("case 'R9' is not in the snapshot")))
    assert type(back) is kind
    assert str(back) == "case 'R9' is not in the snapshot"


# ------------------------------------------------------------------ records built in code

_TYPES = "early_help, child_in_need, child_protection, looked_after, care_leaver, court, adoption"


def _snapshot_of(cases: list[dict[str, Any]]) -> Any:
    return allocator.Snapshot.model_validate(
        {
            "format": "caseload-snapshot/1",
            "as_of": "2026-11-23",
            "practitioners": [{"id": "P1", "team": "A", "grade": "senior", "fte": 1}],
            "cases": cases,
        }
    )


RECORDS: list[tuple[str, Callable[[], Any], str]] = [
    (
        "a type mistyped",
        lambda: case("C1", type="courtt"),
        f"Case (id C1): field 'type' is 'courtt', expected one of {_TYPES}.",
    ),
    (
        "a complexity out of range",
        lambda: case("C1", complexity=7),
        "Case (id C1): field 'complexity' is 7, expected a whole number from 1 to 4.",
    ),
    (
        "an fte out of range",
        lambda: worker("P1", fte=2),
        "Practitioner (id P1): field 'fte' is 2, expected a number greater than 0 and at most 1.",
    ),
    (
        "a label blank",
        lambda: worker("P1", team=" "),
        "Practitioner (id P1): field 'team' is empty, expected a label (not blank",
    ),
    (
        "a field mistyped",
        lambda: case("C1", workr="P1"),
        "Case (id C1): unknown field 'workr'; did you mean 'worker'?",
    ),
    (
        "no id",
        lambda: allocator.Case(family="F1", type="court", complexity=2),  # type: ignore[call-arg]
        "Case: required field 'id' is missing, expected an id",
    ),
    (
        "a case of a snapshot",
        lambda: _snapshot_of([{"id": "C1", "family": "F1", "type": "court", "complexity": 9}]),
        "Snapshot, cases[0] (id C1): field 'complexity' is 9, expected a whole number from 1 to 4.",
    ),
    (
        "a worker twice",
        lambda: snapshot([worker("P1"), worker("P1")], []),
        "Snapshot: practitioner P1: duplicate id",
    ),
    (
        "a plan's row",
        lambda: allocator.Plan.model_validate(
            {"as_of": "2026-11-23", "status": "optimal", "unallocated": [{"case": "C1"}]}
        ),
        "Plan, unallocated[0] (case C1): required field 'code' is missing",
    ),
    (
        "a plan's assignment",
        lambda: allocator.Assignment.model_validate({"case": "C1", "worker": ""}),
        "Assignment (case C1): field 'worker' is empty, expected an id",
    ),
]


@pytest.mark.parametrize(("what", "build", "said"), RECORDS, ids=[r[0] for r in RECORDS])
def test_a_record_built_in_code_is_refused_in_the_words_a_file_gets(
    what: str, build: Callable[[], Any], said: str
) -> None:
    # Before: pydantic's dump ("2 validation errors for Case\ntype\n  Input should be
    # ... For further information visit https://errors.pydantic.dev/..."), naming no
    # record, and no AllocatorError, where Policy(...) and Settings(...) said sentences.
    with pytest.raises(allocator.InputError) as raised:
        build()
    message = str(raised.value)
    assert message.startswith(said), message
    assert "pydantic" not in message and "Input should" not in message
    assert raised.value.problems == message.split("\n")
    assert isinstance(raised.value, ValidationError)  # as it always was
    assert raised.value.errors()  # pydantic's details kept


def test_a_record_refused_in_code_keeps_its_sentences_across_a_process() -> None:
    import pickle

    with pytest.raises(allocator.InputError) as raised:
        case("C1", complexity=7)
    back = pickle.loads(pickle.dumps(raised.value))
    assert isinstance(back, allocator.InputError) and str(back) == str(raised.value)

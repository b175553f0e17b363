"""The synthetic service generator: reproducible, the right size, the hard rules kept.

Sizes and shares are checked with ranges wide enough for any seed's noise but narrow
enough to catch a broken distribution (e.g. load drifting off the requested share).
"""

from __future__ import annotations

import ast
import hashlib
import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

import allocator.generate as generate_module
from allocator.contract.models import Case, CaseType, Grade, Priority, Snapshot
from allocator.contract.policy import Policy
from allocator.domain.rules import ServiceState, holding_blockers, is_gone
from allocator.generate import generate
from allocator.io import load_policy

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def small() -> Snapshot:
    return generate(25, seed=7)


@pytest.fixture(scope="module")
def medium() -> Snapshot:
    return generate(150, seed=1)


def _referrals(s: Snapshot) -> list[Case]:
    return [c for c in s.cases if c.worker is None and c.opened == s.as_of]


def _held(s: Snapshot) -> list[Case]:
    return [c for c in s.cases if c.worker is not None]


def _load_share(s: Snapshot, policy: Policy) -> float:
    capacity = sum(policy.capacity(p) for p in s.practitioners)
    return sum(policy.case_weight(c) for c in _held(s)) / capacity


# ----------------------------------------------------------------- reproducibility


def test_same_arguments_give_the_same_snapshot() -> None:
    assert generate(25, seed=3) == generate(25, seed=3)
    assert generate(25, seed=3).model_dump_json() == generate(25, seed=3).model_dump_json()


def test_a_different_seed_gives_a_different_service() -> None:
    assert generate(25, seed=3) != generate(25, seed=4)


def test_reproducible_across_processes_without_the_solver() -> None:
    # Python salts str hashes per process; iterating a set of strings would show here.
    # The bare package skips allocator/__init__ (which loads the engine), so this also
    # shows that generating needs neither ortools nor numpy.
    package = Path(generate_module.__file__).parent
    code = (
        "import hashlib, sys, types\n"
        f"bare = types.ModuleType('allocator'); bare.__path__ = [{str(package)!r}]\n"
        "sys.modules['allocator'] = bare\n"
        "from allocator.generate import generate\n"
        "digest = hashlib.sha256(generate(40, seed=5).model_dump_json().encode()).hexdigest()\n"
        "assert not {m.split('.')[0] for m in sys.modules} & {'ortools', 'numpy'}\n"
        "print(digest)\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": salt, "PATH": ""},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for salt in ("1", "2")
    }
    here = hashlib.sha256(generate(40, seed=5).model_dump_json().encode()).hexdigest()
    assert digests == {here + "\n"}


def test_the_generator_imports_no_solver_and_no_numpy() -> None:
    source = Path(generate_module.__file__).read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    allowed = {"allocator.contract.models", "allocator.contract.policy", "allocator.domain.rules"}
    assert {m for m in imported if m.split(".")[0] == "allocator"} <= allowed
    assert not {m for m in imported if m.split(".")[0] in {"ortools", "numpy"}}


# --------------------------------------------------------------------------- scale


def test_a_small_service_has_three_teams_about_450_cases_and_20_referrals(
    small: Snapshot,
) -> None:
    assert len(small.practitioners) == 25
    assert len({p.team for p in small.practitioners}) == 3
    assert 400 <= len(small.cases) <= 540
    assert 12 <= len(_referrals(small)) <= 30
    assert [p.id for p in small.practitioners][:2] == ["P0001", "P0002"]
    assert all(len(c.id) == 7 and len(c.family) == 6 for c in small.cases)  # C000001, F00001


def test_a_service_of_150_has_thousands_of_cases_and_over_a_hundred_to_allocate(
    medium: Snapshot,
) -> None:
    referred = {c.id for c in _referrals(medium)}
    open_cases = [c for c in medium.cases if c.id not in referred]
    assert 2_300 <= len(open_cases) <= 3_300
    assert 80 <= len(_referrals(medium)) <= 140
    assert 120 <= len(ServiceState.of(medium, Policy()).to_allocate) <= 220
    fte = sum(p.fte for p in medium.practitioners)
    assert 16 <= len(_held(medium)) / fte <= 22  # DfE: 16-18 children per FTE, busier here


@pytest.mark.parametrize("load", [0.6, 0.9, 1.0])
def test_total_load_is_the_requested_share_of_capacity(load: float) -> None:
    policy = Policy()
    assert _load_share(generate(120, seed=2, load=load), policy) == pytest.approx(load, abs=0.03)


def test_workers_vary_around_the_load_some_a_little_over_cap(medium: Snapshot) -> None:
    state = ServiceState.of(medium, Policy())
    shares = [state.load_before[p] / state.capacity[p] for p in state.capacity]
    assert min(shares) >= 0.6
    assert max(shares) <= 1.15
    over = sum(s > 1 for s in shares)
    assert 1 <= over <= 0.15 * len(shares)


def test_the_referral_rate_scales_the_day_s_referrals() -> None:
    none = generate(60, seed=2, referral_rate=0.0)
    busy = generate(60, seed=2, referral_rate=0.08)
    assert not [c for c in none.cases if c.worker is None]
    assert len(_referrals(busy)) == pytest.approx(0.08 * len(_held(busy)), rel=0.2)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="practitioners"):
        generate(0)
    with pytest.raises(ValueError, match="load"):
        generate(10, load=-0.1)


# ---------------------------------------------------------------------- hard rules


@pytest.mark.parametrize(
    "policy",
    [
        Policy(),
        # A stricter council: nobody newly qualified holds child protection, 90 points.
        Policy().with_overrides(
            points_per_fte=90,
            grades={"nqsw": {"max_complexity": 1, "excluded_types": ["court", "child_protection"]}},
        ),
    ],
    ids=["default", "stricter"],
)
def test_every_existing_allocation_obeys_the_holding_rules(policy: Policy) -> None:
    s = generate(150, seed=1, policy=policy)
    staff = {p.id: p for p in s.practitioners}
    held = [(c, staff[c.worker]) for c in s.cases if c.worker is not None]
    assert len(held) > 2_000
    broken = [(c.id, p.id, holding_blockers(c, p, policy)) for c, p in held]
    assert [b for b in broken if b[2]] == []
    assert _load_share(s, policy) == pytest.approx(0.9, abs=0.03)


def test_pins_and_exclusions_are_rare_and_consistent(medium: Snapshot) -> None:
    held = _held(medium)
    pinned = [c for c in held if c.pinned_worker is not None]
    excluded = [c for c in medium.cases if c.excluded_workers]
    assert all(c.pinned_worker == c.worker for c in pinned)
    assert all(c.worker not in c.excluded_workers for c in excluded)
    assert 0 < len(pinned) <= 0.02 * len(held)
    assert 0 < len(excluded) <= 0.04 * len(medium.cases)
    staff = {p.id: p for p in medium.practitioners}
    assert all(staff[c.pinned_worker].leaving_on is None for c in pinned if c.pinned_worker)


# ------------------------------------------------------------------ the workforce


def test_the_workforce_has_the_grade_mix_skills_and_movements(medium: Snapshot) -> None:
    staff = medium.practitioners
    as_of = medium.as_of
    grades = Counter(p.grade for p in staff)
    # Exact shares, to the nearest worker: 5% student, 15% nqsw, 55%, 20%, 5%.
    for grade, share in [(Grade.STUDENT, 0.05), (Grade.NQSW, 0.15), (Grade.SOCIAL_WORKER, 0.55)]:
        assert abs(grades[grade] - share * 150) <= 1
    assert 0.15 <= sum("welsh" in p.skills for p in staff) / 150 <= 0.30
    assert all("court" in p.skills for p in staff if p.grade in {Grade.SENIOR, Grade.CONSULTANT})
    for team in {p.team for p in staff}:
        members = [p for p in staff if p.team == team]
        assert 6 <= len(members) <= 10
        assert len({p.areas for p in members}) == 1  # workers cover their team's patches
        assert 1 <= len(members[0].areas) <= 3
        assert any(p.grade in {Grade.SENIOR, Grade.CONSULTANT} for p in members)
    assert any(p.fte < 1 for p in staff)
    assert 1 <= sum(p.capacity_points is not None for p in staff) <= 6
    absent = [p for p in staff if p.available_from is not None and p.available_from > as_of]
    assert 3 <= len(absent) <= 9
    assert any(p.available_from - as_of >= timedelta(days=28) for p in absent)  # type: ignore[operator]


def test_a_leaver_is_gone_but_still_holds_cases(small: Snapshot) -> None:
    state = ServiceState.of(small, Policy())
    assert state.gone
    assert all(state.cases_before[p] > 0 for p in state.gone)
    soon = [
        p
        for p in small.practitioners
        if p.leaving_on is not None
        and small.as_of < p.leaving_on <= small.as_of + timedelta(days=28)
    ]
    assert soon


# ----------------------------------------------------------------------- the cases


def test_case_mix_complexity_and_family_sizes_follow_the_tables(medium: Snapshot) -> None:
    held = _held(medium)
    types = Counter(c.type for c in held)
    assert types[CaseType.CHILD_IN_NEED] / len(held) == pytest.approx(0.40, abs=0.05)
    assert types[CaseType.LOOKED_AFTER] / len(held) == pytest.approx(0.22, abs=0.04)
    assert types[CaseType.COURT] / len(held) == pytest.approx(0.05, abs=0.02)
    complexity = Counter(c.complexity for c in held)
    assert complexity.most_common(1)[0][0] == 2
    sizes = Counter(Counter(c.family for c in held).values())
    families = sum(sizes.values())
    assert sizes[1] / families == pytest.approx(0.55, abs=0.06)


def test_siblings_share_a_family_and_normally_a_worker(medium: Snapshot) -> None:
    workers: dict[str, set[str]] = defaultdict(set)
    for c in _held(medium):
        workers[c.family].add(str(c.worker))
    multi = [f for f, n in Counter(c.family for c in _held(medium)).items() if n > 1]
    assert multi
    together = sum(len(workers[f]) == 1 for f in multi)
    assert together / len(multi) >= 0.9


def test_looked_after_children_change_worker_as_often_as_in_england() -> None:
    s = generate(300, seed=4)
    looked_after = [c for c in _held(s) if c.type is CaseType.LOOKED_AFTER]
    at_least_one = sum(c.changes_last_12_months >= 1 for c in looked_after) / len(looked_after)
    two_or_more = sum(c.changes_last_12_months >= 2 for c in looked_after) / len(looked_after)
    assert at_least_one == pytest.approx(0.60, abs=0.06)
    assert two_or_more == pytest.approx(0.26, abs=0.06)


def test_histories_name_former_and_current_staff_never_the_current_worker(
    medium: Snapshot,
) -> None:
    staff = {p.id for p in medium.practitioners}
    previous = [w for c in medium.cases for w in c.previous_workers]
    assert any(w.startswith("X") and w not in staff for w in previous)
    assert any(w in staff for w in previous)
    assert all(c.worker not in c.previous_workers for c in _held(medium))
    assert all(len(set(c.previous_workers)) == len(c.previous_workers) for c in medium.cases)
    assert all(len(c.previous_workers) >= c.changes_last_12_months for c in _held(medium))


def test_referrals_wait_for_a_worker_siblings_re_referrals_and_welsh(
    medium: Snapshot,
) -> None:
    referrals = _referrals(medium)
    staff = {p.id: p for p in medium.practitioners}
    assert all(c.worker is None and c.pinned_worker is None for c in referrals)
    assert all(c.changes_last_12_months == 0 for c in referrals)
    open_families = {c.family for c in _held(medium)}
    assert any(c.family in open_families for c in referrals)  # a sibling of an open case
    known = [c for c in referrals if any(w in staff for w in c.previous_workers)]
    assert known  # re-referrals known to someone still here
    assert all(not is_gone(staff[c.previous_workers[0]], medium.as_of) for c in known)
    assert any("welsh" in c.needs for c in referrals)
    urgent = sum(c.priority is Priority.URGENT for c in referrals) / len(referrals)
    assert 0.05 <= urgent <= 0.3
    backlog = [c for c in medium.cases if c.worker is None and c.opened != medium.as_of]
    week_ago = medium.as_of - timedelta(days=7)
    assert backlog and all(c.opened is not None and c.opened < week_ago for c in backlog)


# ------------------------------------------------------------------------ examples


def test_the_example_policy_file_names_every_key_at_its_default() -> None:
    path = EXAMPLES / "policy.toml"
    assert load_policy(path) == Policy()
    assert set(tomllib.loads(path.read_text(encoding="utf-8"))) == set(Policy.model_fields)


def test_the_example_files_are_generate_25_seed_7_split_in_two(small: Snapshot) -> None:
    io = pytest.importorskip("allocator.io")
    service = io.load_snapshot(EXAMPLES / "service.json")
    assert not _referrals(service)
    assert service.as_of == date(2026, 11, 23)
    assert io.load_snapshot(EXAMPLES / "service.json", EXAMPLES / "referrals.json") == small
    csv_dir = EXAMPLES / "service-csv"
    if csv_dir.is_dir():
        assert io.load_snapshot(csv_dir) == service

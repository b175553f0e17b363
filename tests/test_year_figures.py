"""Issue 19's figures of what children live through, worked by hand on small tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

pytest.importorskip("pandas")

import pandas as pd

from allocator.contract.models import (
    SNAPSHOT_FORMAT,
    Case,
    CaseType,
    Grade,
    Practitioner,
    Priority,
    Snapshot,
)
from allocator.contract.policy import Policy, PriorityClass
from allocator.generate import generate
from allocator.simulation import GreedyMethod, Settings, simulate
from allocator.simulation.records import (
    CHANGE_COLUMNS,
    WAIT_CAUSES,
    WAIT_COLUMNS,
    Recorder,
    _frame,
    class_name,
    statutory_types,
)
from allocator.simulation.report import (
    CHILD_FIGURES,
    band_shares,
    changes_figure,
    render_markdown,
    wait_figures,
    where_each_loses,
    write_outputs,
)

MONDAY = date(2026, 11, 23)


def _wait(case: str, type_: str, days: int, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "method": "m",
        "case": case,
        "type": type_,
        "class": "statutory",
        "statutory": type_ in ("child_protection", "looked_after", "court", "adoption"),
        "urgent": False,
        "cause": "referral",
        "start_day": 0,
        "end_day": days,
        "ended": "placed",
        "days": days,
        "known_days": None,
    }
    row.update(extra)
    return row


def _change(case: str, *, notice: int, known: int | None, without: int) -> dict[str, object]:
    return {
        "method": "m",
        "day": 20,
        "case": case,
        "type": "child_in_need",
        "from_worker": "P1",
        "to_worker": "P2",
        "cause": "leaver",
        "avoidable": False,
        "days_without_worker": without,
        "notice_days": notice,
        "known_days": known,
    }


def test_waits_of_court_statutory_and_urgent_children() -> None:
    # Court waits of 0, 10 and 100 days (the last still open at the run's end):
    # median 10; one of three lasted 90 days or more. Statutory waits add a child
    # protection wait of 20: sorted 0, 10, 20, 100, median (10 + 20) / 2 = 15, 90th
    # percentile at position 0.9 x 3 = 2.7: 20 + 0.7 x 80 = 76. The urgent child (a
    # child in need, not statutory) waited 5 days: 5 urgent child-days.
    waits = _frame(
        [
            _wait("C1", "court", 0),
            _wait("C2", "court", 10),
            _wait("C3", "court", 100, ended="open", end_day=None),
            _wait("C4", "child_protection", 20),
            _wait("C5", "child_in_need", 5, urgent=True, **{"class": "urgent"}),
        ],
        WAIT_COLUMNS,
    )
    figures = wait_figures(
        waits, _frame([], CHANGE_COLUMNS), ["urgent", "statutory", "other"], days=365
    )
    assert figures["court_waits"] == 3
    assert figures["court_wait_median_days"] == 10
    assert figures["court_waits_90_days_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert figures["statutory_waits"] == 4
    assert figures["statutory_wait_median_days"] == 15
    assert figures["statutory_wait_p90_days"] == 76
    assert figures["urgent_child_days_waiting"] == 5
    # By class and type: the longest court wait is the open one, 100 days.
    assert figures["wait_longest_days_type_court"] == 100
    assert figures["waits_class_urgent"] == 1
    assert figures["wait_median_days_class_statutory"] == 15  # 0, 10, 100, 20 as above
    assert figures["waits_type_adoption"] == 0
    assert figures["wait_median_days_type_adoption"] is None


def test_a_leavers_children_told_ahead_and_days_without_a_worker() -> None:
    # Four children lost their worker to a leaver:
    # - C1 handed over on the day with 8 days' notice, the leaving known 10 days before;
    # - C2 waited 4 days, no notice; known 12 days before the change, so 8 before the
    #   loss (>= 7: the method could have told them);
    # - C3 handed over on the day without notice, known only 3 days before (< 7: not
    #   counted in the share);
    # - C4 still waits at the run's end, 6 days so far, known 9 days before the loss.
    # Known 7+ days ahead: C1, C2, C4; told ahead: C1 alone -> 1/3. Days with no
    # worker: 0, 4, 0, 6 -> mean 2.5.
    changes = _frame(
        [
            _change("C1", notice=8, known=10, without=0),
            _change("C2", notice=0, known=12, without=4),
            _change("C3", notice=0, known=3, without=0),
        ],
        CHANGE_COLUMNS,
    )
    waits = _frame(
        [
            _wait("C2", "child_in_need", 4, cause="leaver", known_days=8),
            _wait("C4", "child_in_need", 6, cause="leaver", known_days=9, ended="open"),
        ],
        WAIT_COLUMNS,
    )
    figures = wait_figures(waits, changes, days=365)
    assert figures["leaver_children"] == 4
    assert figures["leaver_children_known_ahead"] == 3
    assert figures["leaver_children_told_ahead_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert figures["leaver_child_mean_days_without_worker"] == 2.5


def test_no_waits_give_no_medians() -> None:
    figures = wait_figures(_frame([], WAIT_COLUMNS), _frame([], CHANGE_COLUMNS), days=365)
    assert figures["court_wait_median_days"] is None
    assert figures["statutory_wait_p90_days"] is None
    assert figures["urgent_child_days_waiting"] == 0
    assert figures["leaver_child_mean_days_without_worker"] is None


# ------------------------------------------------------------------ the recorder


def _snapshot(cases: list[Case]) -> Snapshot:
    staff = (Practitioner(id="P1", team="T", grade=Grade.SENIOR, fte=1.0),)
    return Snapshot(format=SNAPSHOT_FORMAT, as_of=MONDAY, practitioners=staff, cases=tuple(cases))


def test_the_recorder_measures_each_wait() -> None:
    # C0 waits on day 0 (referred that day) and is placed on day 3: a referral's wait
    # of 3 days. C1 is referred urgent on day 2 and placed the same morning: 0 days.
    # C2 (court, with P1) loses P1 to a leaver on day 5 and closes on day 8: 3 days,
    # ended "closed". C3 is referred on day 6 and still waits at the end (last day 9):
    # 9 + 1 - 6 = 4 days, "open".
    snapshot = _snapshot(
        [
            Case(id="C0", family="F0", type=CaseType.COURT, complexity=2, opened=MONDAY),
            Case(id="C2", family="F2", type=CaseType.COURT, complexity=2, worker="P1"),
        ]
    )
    rec = Recorder(snapshot, Policy(), "m")
    rec.placed("C0", None, "P1", None, 3, notice_days=0)
    urgent = Case(
        id="C1", family="F1", type=CaseType.CHILD_IN_NEED, complexity=2, priority=Priority.URGENT
    )
    rec.opened(urgent, 2)
    rec.placed("C1", None, "P1", None, 2, notice_days=0)
    rec.lost("C2", "P1", "leaver", 5)
    rec.closed("C2", 8)
    rec.opened(Case(id="C3", family="F3", type=CaseType.EARLY_HELP, complexity=1), 6)
    rec.last_day = 9
    waits = rec.tables()["waits"]
    got = {
        r["case"]: (r["cause"], r["ended"], r["days"], r["class"]) for r in waits.to_dict("records")
    }
    assert got == {
        "C0": ("referral", "placed", 3, "statutory"),
        "C1": ("referral", "placed", 0, "urgent"),
        "C2": ("leaver", "closed", 3, "statutory"),
        "C3": ("referral", "open", 4, "other"),
    }
    assert list(waits["urgent"]) == [False, True, False, False]
    children = rec.tables()["children"].set_index("case")
    assert children.loc["C1", "class"] == "urgent"
    assert children.loc["C3", "longest_wait_days"] == 4


def test_waits_add_up_to_each_childs_days_waited() -> None:
    # Whatever happens in a busy month, a child's waits sum to the days they were
    # counted waiting at each day's end.
    snapshot = generate(25, seed=3, contracts=True, referral_rate=0.05)
    tables = simulate(
        snapshot, GreedyMethod(), settings=Settings(days=45, seed=4)
    ).recorder.tables()
    spells = tables["waits"].groupby("case")["days"].sum()
    children = tables["children"].set_index("case")
    assert len(tables["waits"]) > 20
    assert (children["waiting_days"] == spells.reindex(children.index, fill_value=0)).all()
    assert (children["waits"] > 0).sum() == tables["waits"]["case"].nunique()
    # Urgency lasts until a worker is given: the urgent waits' days are the urgent
    # class's child-days counted each day's end (the default policy's first class).
    waiting = tables["waiting"]
    urgent_days = int(waiting[waiting["class"] == "urgent"]["children"].sum())
    assert urgent_days > 0
    assert int(tables["waits"][tables["waits"]["urgent"]]["days"].sum()) == urgent_days


def test_statutory_is_what_the_policy_names() -> None:
    # A council whose classes name court alone: only court work is statutory, and an
    # urgent child in need falls in no class.
    policy = Policy(priority_classes=(PriorityClass(name="court_first", cases=(CaseType.COURT,)),))
    assert statutory_types(policy) == {"court"}
    assert class_name(policy, "child_in_need", urgent=True) == "other"
    assert statutory_types(Policy()) == {"child_protection", "looked_after", "court", "adoption"}
    assert class_name(Policy(), "court", urgent=True) == "urgent"


# ------------------------------------------------------------------ the report


def _figures(**values: float | None) -> dict[str, float | None]:
    # Every figure 1.0, each over 50 waits (children, changes): enough to be a finding.
    base: dict[str, float | None] = {f.key: 1.0 for f in CHILD_FIGURES}
    base.update({f.sample_key: 50 for f in CHILD_FIGURES if f.sample_key is not None})
    base.update({"leavers": 0, "joiners": 0})
    base.update(values)
    return base


def test_the_report_says_first_where_each_method_loses() -> None:
    # Lower is better for the court median, higher for the share told ahead.
    engine = _figures(court_wait_median_days=113, leaver_children_told_ahead_share=0.22)
    greedy = _figures(court_wait_median_days=79, leaver_children_told_ahead_share=0.73)
    greedy["mean_waiting_days_referred"] = 50
    engine["mean_waiting_days_referred"] = 41
    lines = where_each_loses({"engine": engine, "greedy": greedy})
    text = "\n".join(lines)
    assert "**engine** is worse on 2 of 12 figures" in text
    assert (
        "court children, median wait for a worker (days): 113 (50 waits) against greedy 79 "
        "(50 waits)" in text
    )
    assert "22.0% (50 children) against greedy 73.0% (50 children)" in text
    assert "**greedy** is worse on 1 of 12 figures" in text
    assert (
        "mean wait per referred child (days): 50 (50 children) against engine 41 (50 children)"
        in text
    )
    assert "few" not in text.split("is marked *few*")[1]
    report = render_markdown({"engine": engine, "greedy": greedy}, {}, days=365)
    assert report.index("## Where each method loses") < report.index("## Every figure")


def test_a_share_of_nobody_is_not_compared() -> None:
    engine = _figures(leaver_children_known_ahead=0, leaver_children_told_ahead_share=None)
    greedy = _figures(leaver_children_told_ahead_share=0.5)
    text = "\n".join(where_each_loses({"engine": engine, "greedy": greedy}))
    assert "worse on none" in text and "Not compared (no value for a method): a leaver's" in text
    one = "\n".join(where_each_loses({"greedy": greedy}))
    assert "nothing to compare" in one


# ------------------------------------------------------------------ the plots' faults


def test_an_empty_band_does_not_blank_the_utilisation_plot() -> None:
    # Day 0: both workers under 70%; day 1: one 85-100%, one over. Bands nobody is in
    # have share 0, not NaN, and every day's shares sum to 1.
    loads = pd.DataFrame(
        {
            "method": ["m"] * 4,
            "day": [0, 0, 1, 1],
            "worker": ["P1", "P2", "P1", "P2"],
            "utilisation": [0.5, 0.6, 0.9, 1.2],
            "absent": [False] * 4,
        }
    )
    shares = band_shares(loads)
    assert not shares.isna().any().any()
    assert list(shares.sum(axis=1)) == [1.0, 1.0]
    assert list(shares.loc[0]) == [1.0, 0.0, 0.0, 0.0]
    assert list(shares.loc[1]) == [0.0, 0.0, 0.5, 0.5]


def _children(method: str, changes: list[int]) -> list[dict[str, object]]:
    return [{"method": method, "open_all_run": True, "changes": n} for n in changes]


@pytest.mark.parametrize("methods", [["engine"], ["engine", "greedy"], ["a", "b", "c"]])
def test_change_bars_are_centred_on_whole_numbers(methods: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for m in methods for r in _children(m, [0, 1, 1, 2])]
    fig = changes_figure(pd.DataFrame(rows), methods, 90)
    ax = fig.axes[0]
    centres = sorted(p.get_x() + p.get_width() / 2 for p in ax.patches)
    n = len(methods)
    for x in range(3):  # the bars of x changes, one per method, centred on x together
        group = centres[x * n : (x + 1) * n]
        assert sum(group) / n == pytest.approx(x)
    assert [float(t) for t in ax.get_xticks()] == [0.0, 1.0, 2.0]
    assert ax.get_xlabel() == "changes of worker in 90 days"
    assert "all year" not in ax.get_ylabel() and "90 days" in ax.get_ylabel()
    plt.close(fig)
    year = changes_figure(pd.DataFrame(rows), methods, 365)
    assert year.axes[0].get_xlabel() == "changes of worker in the year"
    plt.close(year)


def test_the_written_run_has_the_waits_and_the_childrens_class(tmp_path: Path) -> None:
    snapshot = generate(12, seed=2, contracts=True, referral_rate=0.05)
    result = simulate(snapshot, GreedyMethod(), settings=Settings(days=20, seed=1))
    write_outputs([result], tmp_path, plots=False)
    header = (tmp_path / "children.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert {"class", "waiting_days", "waits", "longest_wait_days"} <= set(header)
    waits = pd.read_csv(tmp_path / "waits.csv")
    assert set(waits["ended"]) <= {"placed", "closed", "open"} and len(waits) > 0
    assert set(waits["cause"]) <= set(WAIT_CAUSES)
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert {f.key for f in CHILD_FIGURES} <= set(summary.columns)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert report.index("## Where each method loses") < report.index("## Every figure")
    assert "One method ran (greedy): nothing to compare." in report

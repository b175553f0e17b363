"""A blank label, or one holding a control or invisible character, is refused at the door.

The attack (a fresh council developer's trial): ``"needs": [""]`` in a snapshot, or
``needs = [""]`` in an SSD mapping, was accepted, and every child with that need was
left without a worker ("W01 lacks , so it leaves W01"), nothing looking wrong. Every
label field (``allocator.contract.models.Label``: a worker's team, skills and areas, a
case's needs and area) is one rule: not blank, no control or invisible character but
tabs and line breaks; spaces around it are allowed (matching ignores them).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from allocator import allocate
from allocator.cli import main
from allocator.contract.models import Case, Practitioner
from allocator.contract.policy import Policy
from allocator.io import InputError, load_snapshot
from tests.builders import case, snapshot, worker
from tests.test_door import case_data, practitioner_data, snapshot_text

EXAMPLE_SSD = Path(__file__).resolve().parent.parent / "examples" / "ssd"
RULE = "(not blank, no control or invisible character but tabs and line breaks)"

#: (model, field, whether the field is a list)
LABELS = [
    ("practitioner", "team", False),
    ("practitioner", "skills", True),
    ("practitioner", "areas", True),
    ("case", "needs", True),
    ("case", "area", False),
]
#: Blank, an escape code, a zero-width space, a byte-order mark, a NUL.
BAD = ["", "   ", "welsh\x1b[2J", "wel\u200bsh", "\ufeffwelsh", "we\x00lsh"]


def _data(kind: str, field: str, is_list: bool, value: str) -> tuple[list[Any], list[Any]]:
    written = [value] if is_list else value
    if kind == "practitioner":
        return [practitioner_data(**{field: written})], [case_data()]
    return [practitioner_data()], [case_data(**{field: written})]


@pytest.mark.parametrize("value", BAD, ids=["empty", "blank", "escape", "zwsp", "bom", "nul"])
@pytest.mark.parametrize(("kind", "field", "is_list"), LABELS, ids=[f for _, f, _ in LABELS])
def test_a_bad_label_in_a_snapshot_is_refused_where_it_is_written(
    tmp_path: Path, kind: str, field: str, is_list: bool, value: str
) -> None:
    staff, cases = _data(kind, field, is_list, value)
    path = tmp_path / "s.json"
    path.write_text(snapshot_text(practitioners=staff, cases=cases))
    with pytest.raises(InputError) as caught:
        load_snapshot(path)
    (problem,) = caught.value.problems
    row = "practitioners[0]" if kind == "practitioner" else "cases[0]"
    assert f"{row} (id " in problem and f"field '{field}" in problem, problem
    assert RULE in problem, problem
    # A label may identify a child: it is described, never quoted back.
    assert "welsh" not in problem.lower() and "\x1b" not in problem


@pytest.mark.parametrize(("kind", "field", "is_list"), LABELS, ids=[f for _, f, _ in LABELS])
def test_a_bad_label_is_refused_by_the_constructors_too(
    kind: str, field: str, is_list: bool
) -> None:
    value: Any = [""] if is_list else ""
    with pytest.raises(ValidationError):
        if kind == "practitioner":
            Practitioner(**{"id": "P1", "team": "T", "grade": "senior", "fte": 1, field: value})
        else:
            Case(id="C1", family="F1", type="court", complexity=1, **{field: value})


def test_labels_with_spaces_around_them_tabs_and_line_breaks_are_read_as_before() -> None:
    # Matching ignores case and the spaces around a label (FORMAT.md): still accepted.
    worker = Practitioner(id="P1", team=" North ", grade="senior", fte=1, skills=(" Welsh ",))
    child = Case(id="C1", family="F1", type="court", complexity=1, area="Flat 2\nRose Street")
    assert worker.skills == (" Welsh ",) and child.area == "Flat 2\nRose Street"


@pytest.mark.parametrize("key", ["skills", "areas", "needs"])
def test_a_blank_label_in_an_ssd_mapping_is_refused_at_the_mapping(
    tmp_path: Path, key: str
) -> None:
    # Before: `needs = [""]` gave every imported child a need no worker has, and the
    # import's error (once the snapshot refused it) named the extract's person file.
    folder = tmp_path / "ssd"
    shutil.copytree(EXAMPLE_SSD, folder)
    mapping = folder / "mapping.toml"
    text = mapping.read_text(encoding="utf-8")
    assert f"\n{key} = []\n" in text
    mapping.write_text(text.replace(f"\n{key} = []\n", f'\n{key} = ["welsh", " "]\n'))
    out = tmp_path / "s.json"
    result = CliRunner().invoke(
        main,
        ["import", "ssd", str(folder / "extract"), "--mapping", str(mapping)]
        + ["--as-of", "2026-11-23", "--out", str(out)],
    )
    assert result.exit_code == 2, result.output
    section = "cases" if key == "needs" else "practitioners"
    assert f"mapping.toml: key '{section}.{key}[1]' is ' ', expected a label {RULE}" in (
        result.output
    )
    assert not out.exists()


def test_ids_that_differ_only_in_letter_case_or_blanks_are_noted_in_the_plan() -> None:
    # A fresh manager's referral c000001 beside the snapshot's C000001 was allocated as
    # another child, with no word.
    from allocator import allocate
    from tests.builders import case, snapshot, worker

    snap = snapshot(
        [worker("P1"), worker("p1"), worker("P2")],
        [case("C000001", worker="P1"), case("c000001"), case("C 000002"), case("C000002")],
    )
    notes = [n for n in allocate(snap, time_limit=5).notes if "letter case" in n]
    assert notes == [
        "2 case ids differ from another only in letter case, blanks, full-width or "
        "look-alike letters (C 000002 and C000002; "
        "C000001 and c000001): each is taken as a different case; check that none is one "
        "case written twice",
        "1 practitioner id differs from another only in letter case, blanks, full-width or "
        "look-alike letters (P1 and p1): "
        "each is taken as a different practitioner; check that none is one practitioner "
        "written twice",
    ]
    clean = snapshot([worker("P1")], [case("C1"), case("C2")])
    assert not [n for n in allocate(clean, time_limit=5).notes if "letter case" in n]


@pytest.mark.parametrize(
    ("ids", "said"),
    [
        (("C1", "\u04211"), "C1 and \\u04211"),  # Cyrillic Es
        (("C1", "\uff231"), "C1 and \\uff231"),  # full-width C
        (("C1", "\u03a11"), ""),  # Greek Rho is P, not C: no likeness
        (("P1", "\u03a11"), "P1 and \\u03a11"),  # Greek Rho beside P
        (("Straße1", "STRASSE1"), "STRASSE1 and Stra\\xdfe1"),  # casefolding
    ],
)
def test_ids_alike_under_nfkc_casefold_or_lookalike_letters_are_noted(
    ids: tuple[str, str], said: str
) -> None:
    from allocator.contract.models import lookalike_id_notes

    notes = lookalike_id_notes(snapshot([worker("W1")], [case(i) for i in ids]))
    if said:
        assert len(notes) == 1 and f"({said})" in notes[0], notes
        assert "each is taken as a different case" in notes[0]
    else:
        assert not [n for n in notes if "differs" in n], notes


def test_an_id_mixing_latin_with_cyrillic_or_greek_is_noted_and_kept() -> None:
    from allocator.contract.models import lookalike_id_notes

    snap = snapshot([worker("W1")], [case("R\u04351"), case("\u03b1\u03b2"), case("R2")])
    notes = lookalike_id_notes(snap)
    assert notes == [
        "1 case id mixes Latin letters with Cyrillic or Greek ones (R\\u04351), which look the "
        "same on a page: check that each is written as the system that made it writes it"
    ]
    plan = allocate(snap, None, work_units=0.2)
    assert notes[0] in plan.notes  # a warning the manager sees; nothing refused
    assert {a.case for a in plan.assignments} | {u.case for u in plan.unallocated} >= {"R\u04351"}


# ------------------------------------------------------- labels in sentences


def _strings(value: Any) -> list[str]:
    """Every text in plain data (a result's ``to_dict``), nested or not."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def two_line_labels() -> Any:
    # Labels written over two lines, as a spreadsheet cell may hold them. P1 (a social
    # worker: complexity up to 3) has 'Court\nwork' and covers 'Patch\n01a'; P2 covers
    # 'Patch 02'; P3, a senior, has no skills and no patch.
    # A needs 'court\r\nwork' in 'patch 01a': P1 alone, matched across the breaks.
    # B needs 'sign\nlanguage': nobody has it. C needs that and 'braille\tx'.
    # E (complexity 4) needs 'court\nwork': a senior with it, and there is none.
    # D is in 'Patch\n02'.
    return snapshot(
        [
            worker("P1", skills=["Court\nwork"], areas=["Patch\n01a"], team="Team\nNorth"),
            worker("P2", areas=["Patch 02"]),
            worker("P3", grade="senior"),
        ],
        [
            case("A", needs=("court\r\nwork",), area="patch 01a"),
            case("B", needs=("sign\nlanguage",)),
            case("C", needs=("sign\nlanguage", "braille\tx")),
            case("D", area="Patch\n02"),
            case("E", complexity=4, needs=("court\nwork",)),
        ],
    )


def test_label_text_makes_each_run_of_spaces_one_and_the_matching_reads_it_so() -> None:
    from allocator.domain.rules import covers_area, label_text, normalised

    assert label_text(" court\r\n\tfake  ") == "court fake"
    assert label_text("welsh") == "welsh"
    # The matching reads a label as a sentence shows it: a line break is a space.
    assert normalised("Patch\n01A") == normalised("patch 01a") == "patch 01a"
    assert covers_area(worker("P", areas=["Patch\r\n01a"]), "patch  01a") is True
    assert covers_area(worker("P", areas=["Patch 01b"]), "patch\n01a") is False


def test_every_sentence_that_names_a_label_shows_it_on_one_line() -> None:
    from allocator.explain.check import check_plan
    from allocator.present.analysis import analyse_plan, explain_case
    from allocator.problems.recommend import recommend

    snap, policy = two_line_labels(), Policy()
    plan = allocate(snap, policy, time_limit=5)
    placed = {a.case: a.worker for a in plan.assignments}
    assert placed["A"] == "P1"  # matched across the line breaks
    said: list[str] = _strings(plan.model_dump(mode="json"))
    said += _strings(analyse_plan(snap, policy, plan).to_dict())
    said += [v.message for v in check_plan(snap, policy, plan)]
    for cid in ("A", "B", "C", "D", "E"):
        said += _strings(explain_case(snap, policy, plan, cid).to_dict())
        said += _strings(recommend(snap, cid, policy, ineligible=5).to_dict())
    broken = [s for s in said if "\n" in s or "\t" in s or "\r" in s]
    assert not broken, broken
    text = " | ".join(said)
    # One member of each kind of sentence that names a label, shown on one line:
    assert "only worker with court work" in text  # a placement's reason (needs)
    assert "covers the child's area (patch 01a)" in text  # an area reason
    assert "needs sign language: no worker has it" in text  # one need nobody has
    assert "needs sign language and braille x:" in text  # needs nobody has together
    assert "needs a senior or consultant with court work: 1 is" in text  # grade and needs
    assert "P2 lacks court work" in text  # the skills rule's blocker
    assert "(the child's area is Patch 02)" in text  # outside a worker's patches


def test_the_area_tier_and_the_staffing_search_show_labels_on_one_line() -> None:
    from allocator.domain.rules import ServiceState
    from allocator.problems.recommend import SCORED
    from allocator.simulation.capacity import why_not_added

    snap, policy = two_line_labels(), Policy()
    state = ServiceState.of(snap, policy)
    outside = next(t for t in SCORED if t.key == "outside_area")
    assert outside.worse(state, "D", "P1", "P2", 1, 0) == (
        "the child's area (Patch 02) is outside P1's patches but not P2's"
    )
    cases = {c.id: c for c in snap.cases}
    staff = {p.id: p for p in snap.practitioners}
    assert why_not_added(cases["B"], staff["P2"], policy) == ["needs sign language"]


def test_a_team_on_two_lines_is_one_line_in_headings_and_statements() -> None:
    from rich.console import Console

    from allocator.present.analysis import worker_statement
    from allocator.present.html_report import case_words, team_heading
    from allocator.present.terminal import render_worker

    snap, policy = two_line_labels(), Policy()
    assert team_heading("Team\nNorth") == "Team North"
    assert team_heading("North\r\nEast") == "Team North East"
    assert case_words(snap.cases[2], policy)[2] == "sign language, braille x"
    plan = allocate(snap, policy, time_limit=5)
    console = Console(record=True, width=200, emoji=False)
    render_worker(worker_statement(snap, policy, plan, "P1"), console)
    assert "(social_worker, Team North, fte 1)" in console.export_text()

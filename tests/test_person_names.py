"""Who decided: a name's refusal names the character found, and a name has two letters.

A fresh team manager's name holding a right-to-left override was refused as "control
characters (such as NUL or escape)", which it is not; and "x" was accepted as who
decided. Each refusal now says what kind of character it found
(:func:`allocator.meeting.overrides.character_kind`), and a name needs
:data:`~allocator.meeting.overrides.MIN_NAME_LETTERS` letters (2: "x" names nobody,
"Bo", initials and a name written in two characters do), typed in an override or a
sign-off, or given by the users file. A log written before that rule reads as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import case, snapshot, worker
from fastapi.testclient import TestClient

from allocator.contract.policy import Policy
from allocator.meeting.log import DecisionLog
from allocator.meeting.overrides import (
    MIN_NAME_LETTERS,
    WHAT_A_NAME_IS,
    Override,
    character_kind,
    solver_settings,
)
from allocator.problems.daily import allocate
from allocator.web.app import Meeting, create_app
from allocator.web.security import header_user, load_users, token_digest

SNAP = snapshot([worker("A"), worker("B")], [case("R1"), case("R2")])


@pytest.fixture
def meeting(tmp_path: Path) -> Iterator[Meeting]:
    log = DecisionLog(str(tmp_path / "log.db"))
    yield Meeting.open(SNAP, Policy(), log, allocate(SNAP, Policy(), work_units=1.0))
    log.close()


@pytest.fixture
def client(meeting: Meeting) -> TestClient:
    return TestClient(create_app(meeting, allowed_hosts=["testserver"]))


@pytest.mark.parametrize(
    ("ch", "kind"),
    [
        ("\u202e", "a character that reverses text (U+202E RIGHT-TO-LEFT OVERRIDE)"),
        ("\u202d", "a character that reverses text (U+202D LEFT-TO-RIGHT OVERRIDE)"),
        ("\u202b", "a character that changes the direction text reads in (U+202B "
                   "RIGHT-TO-LEFT EMBEDDING)"),
        ("\u2066", "a character that changes the direction text reads in (U+2066 "
                   "LEFT-TO-RIGHT ISOLATE)"),
        ("\u200f", "a character that changes the direction text reads in (U+200F "
                   "RIGHT-TO-LEFT MARK)"),
        ("\x00", "a NUL character (U+0000)"),
        ("\x1b", "an escape character (U+001B)"),
        ("\x9b", "an 8-bit escape sequence (U+009B)"),
        ("\x07", "a control character (U+0007)"),
        ("\t", "a tab (U+0009)"),
        ("\n", "a line break (U+000A)"),
        ("\u2028", "a line break (U+2028 LINE SEPARATOR)"),
        ("\u200b", "an invisible character (U+200B ZERO WIDTH SPACE)"),
        ("\u00ad", "an invisible character (U+00AD SOFT HYPHEN)"),
        ("\u3164", "a character that shows as blank (U+3164 HANGUL FILLER)"),
        # Unicode's default-ignorable marks, which a fresh trial signed with: "Ann\u034fSmith"
        # was logged as a second Ann Smith, as "Ann\u200bSmith" would have been.
        ("\u034f", "an invisible character (U+034F COMBINING GRAPHEME JOINER)"),
        ("\ufe0f", "an invisible character (U+FE0F VARIATION SELECTOR-16)"),
        ("\u17b4", "an invisible character (U+17B4 KHMER VOWEL INHERENT AQ)"),
        ("\u180b", "an invisible character (U+180B MONGOLIAN FREE VARIATION SELECTOR ONE)"),
        ("\U000e0100", "an invisible character (U+E0100 VARIATION SELECTOR-17)"),
        ("\u2065", "an invisible character (U+2065)"),
    ],
)  # fmt: skip
def test_each_kind_of_character_a_name_refuses_is_named(
    client: TestClient, meeting: Meeting, ch: str, kind: str
) -> None:
    assert character_kind(ch) == kind
    # Typed in an override and in a sign-off: refused, the kind said, nothing logged.
    body = {"case": "R1", "action": "unallocate", "reason": "r", "manager": f"Ann{ch}Smith"}
    answer = client.post("/overrides", json=body)
    assert answer.status_code == 422 and kind in answer.json()["detail"], answer.text
    signed = client.post("/signoff", json={"manager": f"Ann{ch}Smith", "decision_id": 1})
    assert signed.status_code == 422 and kind in signed.json()["detail"], signed.text
    assert "such as NUL or escape" not in answer.text + signed.text
    assert [d.kind for d in meeting.log.decisions()] == ["proposed"]


def test_a_users_file_name_with_a_reversing_character_is_refused_naming_it(
    tmp_path: Path,
) -> None:
    users = tmp_path / "users.toml"
    users.write_text(f'[users]\n"Ann\\u202eSmith" = "{token_digest("t" * 32)}"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"a character that reverses text \(U\+202E"):
        load_users(str(users))


@pytest.mark.parametrize("name", ["x", "X.", " é ", "x 1"])
def test_a_one_letter_name_is_refused_saying_what_is_expected(
    client: TestClient, meeting: Meeting, tmp_path: Path, name: str
) -> None:
    expected = f"a person's name that says who decided, of {MIN_NAME_LETTERS} letters at least"
    refused_everywhere(client, meeting, tmp_path, name, expected)


def refused_at_the_page(
    client: TestClient, meeting: Meeting, name: str, said: str, *, whole: bool = False
) -> None:
    """``name`` refused as an override's and a sign-off's manager, nothing logged; the
    refusal holds ``said`` (is it, ``whole``)."""
    body = {"case": "R1", "action": "unallocate", "reason": "r", "manager": name}
    for answer in (
        client.post("/overrides", json=body),
        client.post("/signoff", json={"manager": name, "decision_id": 1}),
    ):
        detail = answer.json()["detail"]
        assert answer.status_code == 422 and (detail == said if whole else said in detail), (
            answer.text
        )
    assert [d.kind for d in meeting.log.decisions()] == ["proposed"]


def refused_everywhere(
    client: TestClient, meeting: Meeting, tmp_path: Path, name: str, said: str
) -> None:
    """``name`` refused, ``said`` in the refusal, as an override's and a sign-off's
    manager (nothing logged, :func:`refused_at_the_page`) and in the users file."""
    refused_at_the_page(client, meeting, name, said)
    users = tmp_path / "users.toml"
    users.write_text(f'[users]\n"{name}" = "{token_digest("t" * 32)}"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(said)):
        load_users(str(users))


@pytest.mark.parametrize("name", ["Bo", "AB", "A. Smith", "李明"])
def test_a_name_of_two_letters_is_who_decided(client: TestClient, name: str) -> None:
    body = {"case": "R1", "action": "unallocate", "reason": "r", "manager": name}
    assert client.post("/overrides", json=body).status_code == 200
    assert client.get("/").json()["overrides"][0]["manager"] == name


def test_a_log_with_a_one_letter_name_from_before_the_rule_still_reads(
    meeting: Meeting, tmp_path: Path
) -> None:
    # An override logged as "x" (as the meeting accepted before): history, the log's
    # decisions and a restart still read it; a new "x" is refused.
    again = _logged_before_the_rule(meeting, tmp_path, {"R1": "x"})
    assert again.decisions()[0].overrides[0].manager == "x"
    assert again.history("R1")[-1].manager == "x"
    again.close()


def _logged_before_the_rule(meeting: Meeting, tmp_path: Path, names: dict[str, str]) -> DecisionLog:
    """The meeting's log, opened again, after overrides (case -> manager) logged under
    an earlier rule (read back as stored): the meeting resumes from it with the first
    name, and the first name typed anew is refused."""
    for case_id, name in names.items():
        meeting.override(
            Override.model_validate(
                {"case": case_id, "action": "unallocate", "reason": "r", "manager": name},
                context={"stored": True},
            )
        )
    again = DecisionLog(str(tmp_path / "log.db"), create=False)
    first = next(iter(names.values()))
    resumed, _ = Meeting.resume(SNAP, Policy(), again, solver_settings(meeting.plan))
    assert resumed is not None and resumed.overrides[0].manager == first
    with pytest.raises(ValueError, match=re.escape(f"{first!r} names nobody")):
        Override(case="R2", action="unallocate", reason="r", manager=first)
    return again


# ---------------------------------------------------------------- names that name nobody

#: Every kind of value a fresh trial (and the forms it stands for) typed as who
#: decided that names nobody: each is refused by the one rule (a_person), typed in an
#: override or a sign-off, or given by the users file or the sign-on header.
NOBODY = [
    # what a form sends for no name
    "None", "none", "NULL", "null", "undefined",
    # not applicable, not known
    "N/A", "n/a", "NA", "n.a.", "Ｎ／Ａ", "not known", "Unknown", "unknown", "UNKNOWN",
    "Anonymous", "anon", "nobody", "No one", "no-one", "  (nobody)  ",
    # to be confirmed
    "TBC", "tbc", "T.B.C.", "TBD", "tba",
    # a role, an account, somebody
    "manager", "Manager", "Team Manager", "the manager", "admin", "Administrator",
    "user", "user 2", "someone", "Somebody", "me",
    # a test, a stand-in, a keyboard run
    "test", "Test 1", "testing", "demo", "asdf", "Joe Bloggs", "your name", "name",
    # one letter, or one letter over and over, or initials alone
    "x", "X.", "xx", "XXX", "zzzz", "a.b", "A. B.", "J K",
    # no letters at all
    "-", "--", "?", "???", "...", "123", "#1", "_", "*",
]  # fmt: skip


@pytest.mark.parametrize("name", NOBODY)
def test_a_name_that_names_nobody_is_refused_saying_what_a_name_is(
    client: TestClient, meeting: Meeting, tmp_path: Path, name: str
) -> None:
    expected = f"manager: {WHAT_A_NAME_IS}: {name.strip()!r} names nobody"
    refused_at_the_page(client, meeting, name, expected, whole=True)
    assert header_user(name) is None  # a proxy's header naming nobody names no user
    users = tmp_path / "users.toml"
    users.write_text(f'[users]\n"{name}" = "{token_digest("t" * 32)}"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="names nobody"):
        load_users(str(users))


@pytest.mark.parametrize("name", ["<b>Anonymous</b>", "<b>Ann Smith</b>", "Ann <Smith>", "Ann>"])
def test_a_name_holding_markup_is_refused_for_its_angle_brackets(
    client: TestClient, meeting: Meeting, name: str
) -> None:
    # Refused for the bracket whatever the text inside: "<b>Ann Smith</b>" would be
    # logged with its tags and read as them by every reader of the log.
    bracket = next(ch for ch in name if ch in "<>")
    expected = (
        "manager: a person's name as it reads, in plain text without markup: "
        f"{bracket!r} is not accepted"
    )
    refused_at_the_page(client, meeting, name, expected, whole=True)


@pytest.mark.parametrize(
    "name",
    ["A. Jones", "O'Neil", "Mary-Jane Smith", "Siân Llŷr", "Zoë D'Arcy-Ng", "Bo", "AB",
     "Ann Test", "Nat Manager", "婷婷", "李 明", "Nobody Jones"],
)  # fmt: skip
def test_a_real_name_with_dots_hyphens_or_apostrophes_is_who_decided(
    client: TestClient, name: str
) -> None:
    body = {"case": "R1", "action": "unallocate", "reason": "r", "manager": name}
    assert client.post("/overrides", json=body).status_code == 200
    assert client.get("/").json()["overrides"][0]["manager"] == name
    signed = client.post("/signoff", json={"manager": name, "decision_id": 2})
    assert signed.status_code == 200, signed.text
    assert header_user(name) == name


def test_a_log_with_a_placeholder_name_from_before_the_rule_still_reads(
    meeting: Meeting, tmp_path: Path
) -> None:
    # "N/A" and "<b>Anonymous</b>" were accepted before the rule: a log holding them
    # still resumes and shows its history; new ones are refused.
    again = _logged_before_the_rule(meeting, tmp_path, {"R1": "N/A", "R2": "<b>Anonymous</b>"})
    assert [o.manager for o in again.decisions()[0].overrides] == ["N/A", "<b>Anonymous</b>"]
    again.close()


#: Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): the characters a
#: renderer shows nothing for where it does not support them.
DEFAULT_IGNORABLE = [
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
]  # fmt: skip


def test_every_default_ignorable_character_hides() -> None:
    # Before, hides() went by category (format characters, separators) and missed the
    # default-ignorable marks and reserved code points: U+034F, the variation
    # selectors, the Khmer inherent vowels, the Mongolian free variation selectors.
    from allocator.contract.models import hides

    shown = [
        f"U+{code:04X}"
        for lo, hi in DEFAULT_IGNORABLE
        for code in range(lo, hi + 1)
        if not hides(chr(code))
    ]
    assert shown == []


@pytest.mark.parametrize("ch", ["\u034f", "\U000e0001", "\U000e0041"])
def test_a_reason_holding_a_default_ignorable_mark_is_refused(
    client: TestClient, meeting: Meeting, ch: str
) -> None:
    body = {"case": "R1", "action": "unallocate", "reason": f"see{ch} notes", "manager": "Ann"}
    answer = client.post("/overrides", json=body)
    assert answer.status_code == 422 and "a reason as it reads" in answer.json()["detail"]
    assert [d.kind for d in meeting.log.decisions()] == ["proposed"]


@pytest.mark.parametrize(
    "reason", ["agreed \u2714\ufe0f", "see notes \u263a\ufe0e", "\u845b\U000e0100 ok"]
)
def test_a_reason_may_hold_a_variation_selector(
    client: TestClient, meeting: Meeting, reason: str
) -> None:
    # A variation selector chooses how the character before it is drawn ("✔️" as a
    # phone types it): a reason is free text, not an identity, so it is logged as typed.
    body = {"case": "R1", "action": "unallocate", "reason": reason, "manager": "Ann Smith"}
    assert client.post("/overrides", json=body).status_code == 200
    logged = [o.reason for d in meeting.log.decisions() for o in d.overrides]
    assert logged == [reason]


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("\uff21nn Smith", "U+FF21 FULLWIDTH LATIN CAPITAL LETTER A is another form of 'A'"),
        ("Ann\u00a0Smith", "U+00A0 NO-BREAK SPACE is another form of a plain space"),
        ("Ann\u3000Smith", "U+3000 IDEOGRAPHIC SPACE is another form of a plain space"),
        ("Ann\u2003Smith", "U+2003 EM SPACE is another form of a plain space"),
        ("Ann  Smith", "two spaces in a row are not accepted"),
        ("\u0410nn Smith", "its letters mix Latin and Cyrillic, which look alike"),
        ("Ann Sm\u0456th", "its letters mix Latin and Cyrillic, which look alike"),
        ("\u0391nn Smith", "its letters mix Latin and Greek, which look alike"),
    ],
)
def test_a_second_way_of_writing_a_name_that_reads_the_same_is_refused(
    client: TestClient, meeting: Meeting, tmp_path: Path, name: str, said: str
) -> None:
    # A fresh trial logged "Ann  Smith", "Ann\u00a0Smith", a full-width "Ａ" and a
    # Cyrillic "А" each as another person who reads as Ann Smith on every page.
    refused_everywhere(client, meeting, tmp_path, name, said)


@pytest.mark.parametrize(
    ("typed", "logged"),
    [
        ("Sia\u0302n Ll\u0177r", "Si\u00e2n Ll\u0177r"),  # the accent typed apart: one name
        ("Si\u00e2n Ll\u0177r", "Si\u00e2n Ll\u0177r"),
        ("\u0410\u043d\u043d\u0430 \u0421\u043c\u0438\u0440\u043d\u043e\u0432\u0430", None),
        ("\u0395\u03bb\u03ad\u03bd\u03b7 \u03a0\u03b1\u03c0\u03ac", None),
        ("\u5c71\u7530 \u592a\u90ce", None),  # Han alone, a space between
        ("\u3084\u307e\u3060 \u592a\u90ce", None),  # kana and Han together
        ("O'Brien-Jones", None),
    ],
)
def test_a_name_in_one_alphabet_is_logged_composed(
    client: TestClient, typed: str, logged: str | None
) -> None:
    body = {"case": "R1", "action": "unallocate", "reason": "r", "manager": typed}
    assert client.post("/overrides", json=body).status_code == 200
    assert client.get("/").json()["overrides"][0]["manager"] == (logged or typed)

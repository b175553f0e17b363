"""The policy file: TOML read over the built-in defaults (docs/FORMAT.md "Policy")."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from allocator.contract.faults import InputError, unreadable_number, with_article
from allocator.contract.policy import Policy, PolicyError, policy_over
from allocator.io.layout import check_path
from allocator.io.reading import decode_utf8, read_input
from allocator.io.validating import FILE_KINDS


def load_policy(path: str | Path | None = None, *, warnings: list[str] | None = None) -> Policy:
    """Read a TOML policy file over the built-in defaults; ``None`` gives the defaults.

    The file is read by :func:`allocator.io.read_input` (a regular file or ``-``, at
    most :data:`allocator.io.MAX_INPUT_BYTES`) and must be UTF-8 TOML. A file that
    sets nothing (empty, or comments only) is the defaults too, and, where
    ``warnings`` is given, one sentence there says so: a council that meant to give
    its policy may have given the wrong file; so does one per grade the file lets hold
    no case or gives no room, or lets no worker take a new family (:func:`_idle_rules`).

    Raises
    ------
    PolicyError
        One sentence per problem, naming the file, the key (as written in the file,
        e.g. ``grades.nqsw.max_complexity``), what was found and what was expected.
    TypeError
        If ``path`` is neither a file path nor ``None`` (a dict: use
        :meth:`Policy.with_overrides` or ``Policy.model_validate``).
    """
    check_path(
        "load_policy",
        "path",
        path,
        "for values held as a dict, use allocator.Policy().with_overrides(...) or "
        "allocator.Policy.model_validate(data)",
        none=True,
    )
    if path is None:
        return Policy()
    try:
        raw = read_input(path)
    except InputError as exc:
        raise PolicyError(f"policy file {exc}") from None
    try:
        text = decode_utf8(raw, path)
    except InputError as exc:
        raise PolicyError(f"{exc}, expected a TOML file saved as UTF-8.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if (kind := _json_kind(text)) is not None:
            raise PolicyError(
                f"{path}: this file is {kind}, where a TOML policy file was expected "
                "(is it the right file for --policy?)"
            ) from None
        raise PolicyError(
            f"{path}: not valid TOML: {exc}{_repeated_key(str(exc), text)}."
        ) from None
    except ValueError as exc:
        raise PolicyError(f"{path}: not valid TOML: {unreadable_number(exc)}.") from None
    policy = policy_over(Policy(), data, str(path))
    if warnings is not None:
        warnings.extend(_idle_rules(policy, str(path)))
        if not data:
            warnings.append(
                f"{path} sets nothing (it is empty or holds only comments): the built-in "
                'defaults apply (docs/FORMAT.md "The default policy")'
            )
    return policy


def _repeated_key(message: str, text: str) -> str:
    """``": key 'points_per_fte' is given twice"`` where TOML's "Cannot overwrite a
    value" points at a line of ``text`` (its words name no key); else nothing."""
    found = re.search(r"Cannot overwrite a value \(at line (\d+),", message)
    lines = text.splitlines()
    if found is None or not 0 < int(found[1]) <= len(lines):
        return ""
    key = lines[int(found[1]) - 1].split("=", 1)[0].strip()
    return f": key '{key}' is given twice" if key else ""


def _json_kind(text: str) -> str | None:
    """What a JSON document is, where ``text`` is one: one of the allocator's own files
    by its ``format`` (:data:`~allocator.io.validating.FILE_KINDS`), else "a JSON
    document"; ``None`` for text that is not JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    fmt = data.get("format") if isinstance(data, dict) else None
    kind = FILE_KINDS.get(fmt) if isinstance(fmt, str) else None
    return "a JSON document" if kind is None else f"{kind} (JSON)"


def _idle_rules(policy: Policy, path: str) -> list[str]:
    """One sentence per grade the policy lets hold no case (``max_complexity = 0``) or
    gives no room (``grade_factor`` 0): legal, and every child such a worker holds must
    move, so a typo would move a service's children (a fresh user's 0 took 225 children
    off their workers with no word); and one if no worker may take a new family
    (``max_new_families_per_day = 0``: every referral is left without a worker)."""
    out: list[str] = []
    if policy.max_new_families_per_day == 0:
        out.append(
            f"{path}: max_new_families_per_day is 0: no worker may take a new family, so "
            "every child of a family no worker holds (a referral, a leaver's child) is left "
            "without a worker"
        )
    for grade, rule in policy.grades.items():
        if rule.max_complexity == 0:
            out.append(
                f"{path}: grades.{grade.value}.max_complexity is 0: "
                f"{with_article(grade.value)} may hold "
                "no case, so every child one holds needs another worker"
            )
    for grade, share in policy.grade_factor.items():
        if share == 0:
            out.append(
                f"{path}: grade_factor.{grade.value} is 0: "
                f"{with_article(grade.value)}'s cap is 0 points, "
                "so every child one holds is over their cap"
            )
    return out

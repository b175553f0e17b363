"""Mapping files: what an import needs that the source does not say, in TOML.

Two kinds, both read here and validated at the door (unknown keys are errors, and
every problem is one sentence in the words of the TOML file):

- :class:`SsdMapping` for ``allocator import ssd``: which involvement roles are the
  allocated worker, job title to grade, the order of episode types from most to
  least intensive, and the defaults and rules for what the SSD does not hold;
- :class:`ColumnsMapping` for ``allocator import csv``: how a council's own CSV
  report's columns become snapshot fields.

The format is described in ``docs/IMPORT-MAPPINGS.md``.
"""

from __future__ import annotations

import re
import tomllib
import types
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from allocator.contract.faults import with_article
from allocator.contract.models import CaseType, Complexity, Fte, Grade, Label, Priority, Years
from allocator.io import (
    InputError,
    decode_utf8,
    did_you_mean,
    expected_at,
    read_input,
    unreadable_number,
)

EPISODE_TABLES: dict[str, CaseType] = {
    "ssd_pre_proceedings": CaseType.COURT,
    "ssd_cp_plans": CaseType.CHILD_PROTECTION,
    "ssd_permanence": CaseType.ADOPTION,
    "ssd_legal_status": CaseType.ADOPTION,
    "ssd_cla_episodes": CaseType.LOOKED_AFTER,
    "ssd_cin_episodes": CaseType.CHILD_IN_NEED,
    "ssd_early_help_episodes": CaseType.EARLY_HELP,
    "ssd_care_leavers": CaseType.CARE_LEAVER,
}
"""Each SSD episode table and the case type an open episode in it makes."""

EpisodeTable = Literal[
    "ssd_pre_proceedings",
    "ssd_cp_plans",
    "ssd_permanence",
    "ssd_legal_status",
    "ssd_cla_episodes",
    "ssd_cin_episodes",
    "ssd_early_help_episodes",
    "ssd_care_leavers",
]


M = TypeVar("M", bound=BaseModel)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def role_key(role: str) -> str:
    """A role as matched: blanks collapsed and trimmed, lower case (``"Allocated  SW "``
    and ``"allocated sw"`` are one role)."""
    return " ".join(role.split()).lower()


def title_key(title: str) -> str:
    """A job title as matched: blanks collapsed and trimmed, case folded."""
    return " ".join(title.split()).casefold()


class InvolvementRules(_Section):
    """``[involvements]``: which ``invo_professional_role_id`` values are the allocated worker."""

    allocated_roles: tuple[Annotated[str, Field(min_length=1)], ...] = Field(min_length=1)


class PractitionerRules(_Section):
    """``[practitioners]``: grade by job title, and values the SSD does not hold.

    ``grades`` maps ``prof_professional_job_title`` (case and surrounding spaces
    ignored) to a grade; a professional whose title is not there is not a
    practitioner, unless ``default_grade`` is set.
    """

    grades: dict[str, Grade] = Field(min_length=1)
    default_grade: Grade | None = None
    fte: Fte = 1.0
    experience_years: Years = 0.0
    skills: tuple[Label, ...] = ()
    areas: tuple[Label, ...] = ()
    side_table: str | None = None

    @field_validator("grades")
    @classmethod
    def _each_title_once(cls, grades: dict[str, Grade]) -> dict[str, Grade]:
        # Titles match ignoring case and spaces (title_key): two keys that match the same
        # job title would leave the grade to the order they are written in.
        seen: dict[str, str] = {}
        for title in grades:
            first = seen.setdefault(title_key(title), title)
            if first != title:
                raise ValueError(
                    f"names the job titles {first!r} and {title!r}, which are one title "
                    "(case and spaces are ignored); expected each title once"
                )
        return grades


class EpisodeRules(_Section):
    """``[episodes]``: the episode tables read, most intensive first.

    ``ssd_permanence`` (an adoption decision not reversed, no order yet) and
    ``ssd_legal_status`` (a status in ``adoption_legal_statuses``: E1 placement order,
    D1 freeing order) give the type ``adoption``.
    """

    # Most intensive first: the order EpisodeTable lists them in.
    order: tuple[EpisodeTable, ...] = get_args(EpisodeTable)
    care_leaver_closed_in_touch: tuple[str, ...] = ("DIED", "NREQ", "RHOM")
    adoption_legal_statuses: tuple[Annotated[str, Field(min_length=1)], ...] = ("E1", "D1")

    @field_validator("order")
    @classmethod
    def _some_tables_each_once(cls, order: tuple[str, ...]) -> tuple[str, ...]:
        # An empty order reads no episode: every child would be without a case, and the
        # import would write an empty snapshot as if the service had none. A table listed
        # twice has two ranks: the type would hang on which one is meant.
        if not order:
            raise ValueError(
                "is empty, expected the episode tables to read, most intensive first (leave "
                "the key out to read all eight: " + ", ".join(get_args(EpisodeTable)) + ")"
            )
        for table in dict.fromkeys(order):
            if (times := order.count(table)) > 1:
                said = "twice" if times == 2 else f"{times} times"
                raise ValueError(
                    f"lists {table!r} {said}, expected each table once (its place in the "
                    "order ranks the case type it gives)"
                )
        return order


class DatabaseRules(_Section):
    """``[database]``: where the SSD tables are when SOURCE is a database URL."""

    schema_name: str | None = Field(default=None, alias="schema")


class CaseRules(_Section):
    """``[cases]``: defaults and rules for what the SSD does not hold about a child."""

    complexity: Complexity = 2
    complexity_by_type: dict[CaseType, Complexity] = Field(default_factory=dict)
    priority: Priority = Priority.STANDARD
    needs: tuple[Label, ...] = ()
    side_table: str | None = None


class SsdMapping(_Section):
    """A mapping file for ``allocator import ssd``.

    Attributes
    ----------
    involvements, practitioners, episodes, cases, database
        The sections (see ``docs/IMPORT-MAPPINGS.md``).
    unknown_workers
        What a child whose open allocated-worker involvement names a professional
        missing from ``ssd_professionals`` gets: ``refuse`` (the default: an error) or
        ``departed`` (taken as a departed worker's child, with a warning).
    folder
        The mapping file's folder: side tables are found relative to it.
    """

    unknown_workers: Literal["refuse", "departed"] = "refuse"

    involvements: InvolvementRules
    practitioners: PractitionerRules
    episodes: EpisodeRules = EpisodeRules()
    cases: CaseRules = CaseRules()
    database: DatabaseRules = DatabaseRules()
    folder: Path = Path(".")

    def grade_of(self, job_title: str) -> Grade | None:
        """The grade for a job title (case and spaces ignored), else ``default_grade``."""
        return self.title_grade(job_title) or self.practitioners.default_grade

    def title_grade(self, job_title: str) -> Grade | None:
        """The grade ``[practitioners] grades`` gives a job title (case and spaces
        ignored), ``None`` if it names no such title (``default_grade`` not read)."""
        wanted = title_key(job_title)
        for title, grade in self.practitioners.grades.items():
            if title_key(title) == wanted:
                return grade
        return None


Converter = Literal["text", "date_dmy", "date_iso", "yes_no", "percent", "number", "list"]


class ColumnRule(_Section):
    """One source column of a council's report: the field it fills and how to convert it.

    ``values`` translates codes (``"CP Plan" = "child_protection"``: the type derived
    from a status column); a value not listed is an error. ``yes`` / ``no`` give the
    value a ``yes_no`` cell stands for (``yes = "welsh"`` adds a skill); a list field
    fed by several columns collects them all.
    """

    field: str
    convert: Converter = "text"
    values: dict[str, str] = Field(default_factory=dict)
    separator: Annotated[str, Field(min_length=1)] = ";"
    yes: str | None = None
    no: str | None = None


class TableRules(_Section):
    """``[practitioners]`` or ``[cases]`` of a columns mapping."""

    file: str
    columns: dict[str, ColumnRule] = Field(default_factory=dict)
    drop: tuple[str, ...] = ()
    defaults: dict[str, Any] = Field(default_factory=dict)


class ColumnsMapping(_Section):
    """A mapping file for ``allocator import csv``.

    Attributes
    ----------
    as_of
        The snapshot's date, ``YYYY-MM-DD``; the command's ``--as-of`` overrides it.
    unknown_workers
        What a case whose ``worker`` is not in the staff report gets: ``refuse`` (the
        default) or ``departed``.
    practitioners, cases
        How each report's columns become fields.
    """

    as_of: str | None = None
    #: A case whose worker is not in the staff report: ``refuse`` it (an error naming
    #: the case and the id), or take the child as a ``departed`` worker's (a warning
    #: naming both ids): councils' exports often lag their HR list.
    unknown_workers: Literal["refuse", "departed"] = "refuse"
    practitioners: TableRules
    cases: TableRules
    folder: Path = Path(".")
    #: The mapping file itself (set by :func:`load_columns_mapping`): errors name it.
    file: Path | None = None

    @field_validator("as_of", mode="before")
    @classmethod
    def _toml_date(cls, value: object) -> object:
        # An unquoted TOML date (as_of = 2026-11-23) is exactly the day meant.
        if isinstance(value, date) and not isinstance(value, datetime):
            return value.isoformat()
        return value

    @property
    def where(self) -> str:
        """The start of an error about this mapping: ``columns mapping FILE``."""
        return f"columns mapping {self.file}" if self.file else "columns mapping"


def _key(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _section_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel]:
    """The table of the mapping that ``loc`` leads to: through fields, a table of
    tables' keys (``[cases.columns."Child ID"]``) and lists, so that an unknown key is
    answered with the keys of its own table."""
    owner: type[BaseModel] = model
    annotation: Any = model
    for part in loc:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(str(part))
            annotation = info.annotation if info is not None else None
        else:  # a key of a dict, an index of a list: go to its values
            args = [a for a in get_args(annotation) if a is not type(None) and a is not Ellipsis]
            annotation = args[-1] if args else None
        if get_origin(annotation) in (Union, types.UnionType):  # X | None
            members = [a for a in get_args(annotation) if a is not type(None)]
            annotation = members[0] if len(members) == 1 else None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            owner = annotation
    return owner


def _read_toml(path: Path) -> dict[str, Any]:
    data = read_input(path)
    try:
        text = decode_utf8(data, path)
    except InputError as exc:
        raise InputError(f"{exc}, expected a TOML file saved as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    except ValueError as exc:
        raise InputError(f"{path}: not valid TOML ({unreadable_number(exc)})") from None


def _validate(model: type[M], data: dict[str, Any], path: Path) -> M:
    # Keys the loader sets, never the file: the mapping's folder (and its file).
    injected: dict[str, Path] = {"folder": path.parent}
    if "file" in model.model_fields:
        injected["file"] = path
    for name in injected:
        if name in data:
            raise InputError(f"{path}: unknown key {name!r}")
    data = {**data, **injected}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            key = _key(loc)
            if err["type"] == "extra_forbidden":
                owner = _section_at(model, loc[:-1])
                known = [
                    info.alias or name
                    for name, info in owner.model_fields.items()
                    if owner is not model or name not in injected
                ]
                problems.append(f"{path}: unknown key {key!r}{did_you_mean(str(loc[-1]), known)}")
            elif err["type"] == "missing":
                problems.append(f"{path}: key {key!r} is missing")
            elif "[key]" in err["loc"]:  # a key of a table that must be one of a set
                problems.append(f"{path}: key {key!r} {_unknown_name(model, loc, err)}")
            elif err["type"] == "value_error":  # a rule of the table's own, in its words
                said = str(err["msg"]).removeprefix("Value error, ")
                problems.append(f"{path}: key {key!r} {said}")
            else:
                value = err.get("input")
                expected = expected_at(model, loc) if loc else "a table"
                if err["type"] == "too_short":
                    problems.append(
                        f"{path}: key {key!r} is empty, expected at least one entry ({expected})"
                    )
                    continue
                shown = repr(value) if isinstance(value, str | int | float) else _kind(value)
                problems.append(f"{path}: key {key!r} is {shown}, expected {expected}")
        raise InputError(problems) from None


def _kind(value: object) -> str:
    """A TOML value that cannot be quoted back, by its kind."""
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "a value of another kind"


def _unknown_name(model: type[BaseModel], loc: tuple[int | str, ...], err: Any) -> str:
    """What is wrong with a table's key that must be one of a set (a case type in
    ``complexity_by_type``): the set's name, and the key meant or the keys allowed."""
    owner = _section_at(model, loc[:-2])
    info = owner.model_fields.get(str(loc[-2]))
    keys = get_args(info.annotation)[0] if info is not None and get_args(info.annotation) else None
    if not (isinstance(keys, type) and issubclass(keys, Enum)):
        return f"is not allowed, expected {expected_at(model, (*loc, '[key]'))}"
    noun = re.sub(r"(?<!^)(?=[A-Z])", " ", keys.__name__).lower()  # CaseType: case type
    allowed = [str(member.value) for member in keys]
    return f"is not {with_article(noun)}{did_you_mean(str(err.get('input')), allowed)}"


def load_ssd_mapping(path: str | Path) -> SsdMapping:
    """Read and validate an SSD mapping file.

    Parameters
    ----------
    path
        The TOML file.

    Returns
    -------
    SsdMapping
        The mapping; side tables are resolved relative to the file's folder.

    Raises
    ------
    InputError
        One sentence per problem, naming the key as written in the file.
    """
    path = Path(path)
    return _validate(SsdMapping, _read_toml(path), path)


def load_columns_mapping(path: str | Path) -> ColumnsMapping:
    """Read and validate a columns mapping for ``allocator import csv``.

    Raises
    ------
    InputError
        One sentence per problem, naming the key as written in the file.
    """
    path = Path(path)
    return _validate(ColumnsMapping, _read_toml(path), path)

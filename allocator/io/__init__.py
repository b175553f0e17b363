"""Reading and writing snapshots and plans: the only package that touches files.

Input is checked once, here, and every problem a person can fix is reported
together: :class:`InputError` carries one sentence per problem, naming the file,
the row (a CSV line as a spreadsheet shows it, or ``cases[12] (id C0013)`` in
JSON), the field, what was found and what was expected. Free-text values of a
child's record (``area``, ``needs`` ...) are never quoted back; ids, enum values,
numbers and dates may be, shortened.

Formats (see ``docs/FORMAT.md`` Part 2 for the CSV layout and referrals file):

- a snapshot is a JSON file (FORMAT.md) or a directory of CSV tables
  (``snapshot.csv``, ``practitioners.csv``, ``cases.csv``);
- a day's referrals are a JSON list of cases, a JSON object ``{"cases": [...]}``,
  or a CSV file with the columns of ``cases.csv``;
- a plan is a JSON file (FORMAT.md).

Every input file is read once by :func:`read_input`: a regular file or ``-``
(standard input), at most :data:`MAX_INPUT_BYTES`; a key repeated in a JSON object
is an error. Output is written atomically (temporary file in the same directory,
``fsync``, ``os.replace``), so a reader never sees half a file and a failed write
leaves the previous file in place; :func:`check_output` refuses a target that must
not be replaced (a link, a device, a read-only file, an input) before any work.

The rooms, each importing only those above it (and the contract's
:mod:`~allocator.contract.fields`, what each field of a model looks like in a file,
and :mod:`~allocator.contract.faults`, :class:`InputError`, the words of its
sentences and the report that collects them):

- :mod:`~allocator.io.layout`: the files' layout (CSV table names, list separator,
  standard input, formula cells);
- :mod:`~allocator.io.reading`: files read once, JSON parsed, CSV tables read;
- :mod:`~allocator.io.policy_file`: :func:`load_policy`, the TOML policy file;
- :mod:`~allocator.io.validating`: records against their models, checks across records;
- :mod:`~allocator.io.snapshot`: :func:`load_snapshot`, :func:`snapshot_from_dict`;
- :mod:`~allocator.io.plans`: :func:`load_plan`, :func:`load_pending_handovers`;
- :mod:`~allocator.io.provenance`: input files with their digests;
- :mod:`~allocator.io.writing`: output checked, then written atomically (several
  files of a folder all or none: :func:`write_files`);
- :mod:`~allocator.io.results`: a results folder, the command that made it in its
  :data:`MANIFEST`.

The names below are the package's public ones; callers import them from here.
"""

from allocator.contract.faults import (
    LISTED_ROWS,
    InputError,
    describe_value,
    did_you_mean,
    is_typo_of,
    unknown_column,
    unreadable_number,
)
from allocator.contract.fields import Location, expected_at, locate
from allocator.io.layout import (
    CASES_CSV,
    FORMULA_STARTS,
    LIST_SEPARATOR,
    PRACTITIONERS_CSV,
    SNAPSHOT_CSV,
    STDIN,
)
from allocator.io.plans import load_pending_handovers, load_plan
from allocator.io.policy_file import load_policy
from allocator.io.provenance import file_digest, inputs_of
from allocator.io.reading import (
    MAX_INPUT_BYTES,
    decode_utf8,
    padded_width,
    ragged_row,
    ragged_under_a_wrong_header,
    read_input,
    separator_problem,
)
from allocator.io.results import (
    BACKTEST,
    CAPACITY,
    FORECAST,
    MANIFEST,
    SIMULATE,
    SWEEP,
    check_results_folder,
    made_by,
    write_results_folder,
)
from allocator.io.snapshot import load_snapshot, snapshot_from_dict
from allocator.io.validating import DAY_EXPECTED, parse_day
from allocator.io.writing import (
    check_output,
    check_output_folder,
    check_snapshot_output,
    dump_json,
    pending_handovers_path,
    write_bytes,
    write_files,
    write_json,
    write_snapshot,
    write_text,
)

__all__ = [
    "BACKTEST",
    "CAPACITY",
    "FORECAST",
    "SIMULATE",
    "SWEEP",
    "CASES_CSV",
    "DAY_EXPECTED",
    "FORMULA_STARTS",
    "LISTED_ROWS",
    "LIST_SEPARATOR",
    "MANIFEST",
    "MAX_INPUT_BYTES",
    "PRACTITIONERS_CSV",
    "SNAPSHOT_CSV",
    "STDIN",
    "InputError",
    "Location",
    "check_output",
    "check_output_folder",
    "check_results_folder",
    "check_snapshot_output",
    "describe_value",
    "did_you_mean",
    "decode_utf8",
    "dump_json",
    "expected_at",
    "file_digest",
    "inputs_of",
    "is_typo_of",
    "load_pending_handovers",
    "load_plan",
    "load_snapshot",
    "locate",
    "made_by",
    "parse_day",
    "padded_width",
    "pending_handovers_path",
    "ragged_row",
    "ragged_under_a_wrong_header",
    "read_input",
    "load_policy",
    "separator_problem",
    "snapshot_from_dict",
    "unknown_column",
    "unreadable_number",
    "write_bytes",
    "write_files",
    "write_json",
    "write_results_folder",
    "write_snapshot",
    "write_text",
]

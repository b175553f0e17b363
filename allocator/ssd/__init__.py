"""Real data in and out: the Standard Safeguarding Dataset and council CSV reports.

No solver is imported here: an import builds a snapshot, an export writes a plan's
changes; the engine is never needed.

- :mod:`allocator.ssd.tables` reads extract tables (file, line and field in messages);
- :mod:`allocator.ssd.mapping` reads the mapping files (TOML);
- :mod:`allocator.ssd.ssd_import` builds a snapshot from SSD tables;
- :mod:`allocator.ssd.columns` builds one from a council's own CSV reports;
- :mod:`allocator.ssd.export` writes a plan as SSD involvement rows;
- :mod:`allocator.ssd.synthetic` writes a snapshot as SSD tables (tests, demos);
- :mod:`allocator.ssd.report` is the account an import gives of itself.
"""

from allocator.ssd.columns import import_csv
from allocator.ssd.export import involvement_rows, write_involvements
from allocator.ssd.mapping import (
    ColumnsMapping,
    SsdMapping,
    load_columns_mapping,
    load_ssd_mapping,
)
from allocator.ssd.report import ImportReport
from allocator.ssd.ssd_import import import_ssd
from allocator.ssd.synthetic import write_ssd_extract

__all__ = [
    "ColumnsMapping",
    "ImportReport",
    "SsdMapping",
    "import_csv",
    "import_ssd",
    "involvement_rows",
    "load_columns_mapping",
    "load_ssd_mapping",
    "write_involvements",
    "write_ssd_extract",
]

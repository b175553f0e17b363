"""The ``allocator`` command line: chains read -> solve -> write; no modelling here.

Exit codes: 0 when a plan is produced (even with unallocated cases), 2 for bad
input (the message names the file, the row or id, and the field), 128 + the signal
when interrupted: 130 for Ctrl-C (SIGINT), 143 for SIGTERM. An interrupted command
prints one line (``interrupted: no plan written``) and leaves any output file as it
was, or, if the signal came while the plan was being written, whole and new.

One module per group of commands (:mod:`allocator.cli.group` lists them), beside the
pieces they share: :mod:`~allocator.cli.options` (options and value domains),
:mod:`~allocator.cli.files` (inputs read, output written), :mod:`~allocator.cli.echo`
(messages and exit codes), :mod:`~allocator.cli.progress` (the solve's progress line),
:mod:`~allocator.command_line` (interruptions) and :mod:`~allocator.cli.extras` (a
missing optional extra). Nothing outside this package imports it but
:mod:`allocator.launch`, the entry point.
"""

from allocator.cli.group import main

__all__ = ["main"]

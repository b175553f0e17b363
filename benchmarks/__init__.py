"""The benchmark suite: named synthetic scenarios, the comparison harness, the MIP reference.

Run it with ``python -m benchmarks`` (see ``benchmarks/__main__.py``); results go to
``benchmarks/RESULTS.md``. Nothing here is imported by the ``allocator`` package.
"""

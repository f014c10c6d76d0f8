"""Jobboard benchmarks: `python -m bench.run [--quick]` (or `make bench`).

Not tests: each module measures one thing on a private stack (scripts.stack.Stack in a
temporary directory, private Redis on a free port) and returns result rows that
`bench.run` prints and writes to docs/BENCHMARKS.md.
"""

"""Benchmarks for Catalog Sync: throughput, unchanged re-syncs, the largest sheet, the
dashboard's cost and time to first feedback, each figure beside a baseline from the same run.

Run `.venv/bin/python -m bench` (or `python bench/run.py`); `--quick` for a few-minute version.
They report, they never assert: see bench/report.py for the table.
"""

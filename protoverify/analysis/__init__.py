"""Failure-mode analysis: audits and runs as pandas DataFrames (docs/analysis.md)."""

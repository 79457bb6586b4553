"""The LLM-X experiments: a matrix of exchange runs of LLM agents, measured and audited
(`protoverify experiment`, docs/experiments.md)."""
from .matrix import AGENTS, HORIZONS, POLICIES, Cell, cells, run_matrix

__all__ = ["AGENTS", "HORIZONS", "POLICIES", "Cell", "cells", "run_matrix"]

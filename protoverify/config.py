"""Project configuration: `[tool.protoverify]` in pyproject.toml, or `protoverify.toml`.

With it, `protoverify check` and `protoverify audit` with no arguments do the
repository's whole job: which specs to check and how, which logs to audit against
which specs. The file is looked up from the working folder upwards (stopping at a
folder holding `.git`); paths and globs in it are relative to the file's folder.

    [tool.protoverify]              # (in protoverify.toml: no prefix)
    specs = ["specs"]               # what `check` checks (files, folders, globs)
    exclude = ["specs/drafts/*"]

    [tool.protoverify.check]        # defaults of `check` options
    fail-on = "error"
    ignore = ["W101"]
    per-file-ignores = { "legacy/*.bspl" = ["W102"] }

    [[tool.protoverify.audit]]      # one audit per table: specs and the logs they govern
    spec = ["specs/purchase.bspl", "specs/logistics.bspl"]
    logs = ["traces/**/*.jsonl"]
    checker = "strict"
"""
from __future__ import annotations

import glob
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_NAMES = ("protoverify.toml", "pyproject.toml")


class ConfigError(Exception):
    """The configuration file is unreadable or says something invalid (exit code 2)."""


@dataclass
class AuditJob:
    """One `[[audit]]` table: specs, the logs they govern, and audit options."""

    specs: list[str]
    logs: list[str]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Config:
    path: str
    specs: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    check: dict[str, Any] = field(default_factory=dict)
    audits: list[AuditJob] = field(default_factory=list)


def find(start: str | os.PathLike[str] = ".") -> Path | None:
    """The nearest protoverify.toml, or pyproject.toml with a [tool.protoverify] table."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        for name in CONFIG_NAMES:
            p = folder / name
            if p.is_file() and (name == "protoverify.toml" or b"[tool.protoverify" in p.read_bytes()):
                return p
        if (folder / ".git").exists():
            return None
    return None


def _strings(v: Any, where: str) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return list(v)
    raise ConfigError(f"{where}: expected a string or a list of strings, got {v!r}")


def _paths(patterns: Sequence[str], base: Path) -> list[str]:
    """Globs and paths relative to `base`, as paths relative to the working folder when inside it."""
    out: list[str] = []
    for pat in patterns:
        full = pat if os.path.isabs(pat) else str(base / pat)
        hits = sorted(glob.glob(full, recursive=True)) if glob.has_magic(pat) else [full]
        for h in hits:
            rel = os.path.relpath(h)
            out.append(h if rel.startswith("..") else rel)
    return out


def _anchor(patterns: list[str], base: Path) -> list[str]:
    """An exclude glob with a `/` is relative to the configuration's folder; a bare one
    (`*.summary.json`) matches a file's name anywhere."""
    return [str(base / pat) if "/" in pat.rstrip("/") and not os.path.isabs(pat) else pat for pat in patterns]


def _options(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Option names as on the command line (`fail-on`) to the command's parameter names (`fail_on`)."""
    return {k.replace("-", "_"): v for k, v in table.items()}


def load(path: str | os.PathLike[str]) -> Config:
    import tomllib

    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeError) as e:
        raise ConfigError(f"cannot read {p}: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: {e}") from None
    table = data.get("tool", {}).get("protoverify") if p.name == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise ConfigError(f"{p}: no [tool.protoverify] table")
    base = p.parent
    known = {"specs", "exclude", "check", "audit"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{p}: unknown key(s) {', '.join(unknown)} (expected {', '.join(sorted(known))})")
    cfg = Config(str(p), _paths(_strings(table.get("specs", []), "specs"), base),
                 _anchor(_strings(table.get("exclude", []), "exclude"), base))
    check = table.get("check", {})
    if not isinstance(check, dict):
        raise ConfigError(f"{p}: [check] must be a table")
    cfg.check = _options(check, "check")
    if isinstance(cfg.check.get("per_file_ignores"), dict):
        pass
    elif "per_file_ignores" in cfg.check:
        raise ConfigError(f"{p}: check: per-file-ignores must be a table {{glob = [codes]}}")
    pfi = cfg.check.get("per_file_ignores")
    if isinstance(pfi, dict):
        cfg.check["per_file_ignores"] = [f"{g}:{','.join(_strings(c, 'per-file-ignores'))}" for g, c in pfi.items()]
    validate_options(cfg.check, CHECK_OPTIONS, f"{p}: check")
    audits = table.get("audit", [])
    if isinstance(audits, dict):
        audits = [audits]
    if not isinstance(audits, list):
        raise ConfigError(f"{p}: [[audit]] must be tables")
    for n, a in enumerate(audits, 1):
        where = f"{p}: audit #{n}"
        if not isinstance(a, dict) or "spec" not in a or "logs" not in a:
            raise ConfigError(f"{where}: needs `spec` and `logs`")
        opts = _options({k: v for k, v in a.items() if k not in ("spec", "logs")}, where)
        validate_options(opts, AUDIT_OPTIONS, where)
        if "retire_after" in opts and (type(opts["retire_after"]) is not int or opts["retire_after"] < 0):
            raise ConfigError(f"{where}: option retire-after must be a number of events, 0 or more "
                              f"({opts['retire_after']!r})")
        if "exclude" in opts:
            opts["exclude"] = _anchor(_strings(opts["exclude"], where), base)
        if "checker" in opts and (base / str(opts["checker"])).exists():
            opts["checker"] = os.path.relpath(base / str(opts["checker"]))
        cfg.audits.append(AuditJob(_paths(_strings(a["spec"], where), base),
                                   _paths(_strings(a["logs"], where), base), opts))
    return cfg


CHECK_OPTIONS = {"fail_on": str, "select": list, "ignore": list, "per_file_ignores": list,
                 "timeout": (int, float), "strict": bool, "verify": bool, "quiet": bool, "exclude": list,
                 "jobs": int, "cache": str}
AUDIT_OPTIONS = {"fail_on": str, "checker": str, "protocol": str, "format_in": str, "delivery": str,
                 "exclude": list, "retire_after": int}


def validate_options(opts: Mapping[str, Any], allowed: Mapping[str, Any], where: str) -> None:
    for k, v in opts.items():
        if k not in allowed:
            raise ConfigError(f"{where}: unknown option {k.replace('_', '-')} "
                              f"(expected one of {', '.join(a.replace('_', '-') for a in allowed)})")
        if not isinstance(v, allowed[k]) or (allowed[k] is list and not all(isinstance(x, str) for x in v)):
            raise ConfigError(f"{where}: option {k.replace('_', '-')} has the wrong type ({v!r})")


def discover() -> Config | None:
    """The configuration of the working folder's project, if it has one."""
    p = find()
    return load(p) if p is not None else None

"""Run the reference tool ``bspl`` (1.1.0) as an oracle and read its verdicts.

Plain functions, importable from any test (``from tests.oracle import ...``
or, with ``tests/`` on ``sys.path``, ``import oracle``).

Finding the tool: the environment variable ``PROTOVERIFY_BSPL`` (path to a
``bspl`` executable) wins; otherwise ``.oracle-venv/bin/bspl`` at the repo
root (create it with ``bash scripts/oracle-venv.sh .oracle-venv``).

What ``bspl verify all FILE`` prints (bspl 1.1.0), and what we parse::

    Purchase (specs/purchase.bspl):
    {'elapsed': 0.0066, 'paths': 2, 'safe': True}
    {'elapsed': 0.0061, 'paths': 2, 'live': True}
    Purchase Unsafe (specs/purchase-unsafe.bspl):
    {'elapsed': 0.0097, 'path': (Buyer!rfq, Seller?rfq, ...), 'paths': 4, 'safe': False, 'unsafe': 'price'}
    {'elapsed': 0.0220, 'paths': 9, 'live': True}
    Purchase Nonlive (...):
    {'elapsed': 0.0065, 'paths': 5, 'safe': True}
    {'elapsed': 0.0056, 'path': (Buyer!rfq, ...), 'paths': 4, 'live': False, 'incomplete': {'price'}}

* one header line ``<name> (<file as given>): `` (trailing space) per
  protocol, in file order, then a safety dict and a liveness dict, each a
  Python ``repr`` (not ``literal_eval``-able: paths hold ``Role!msg`` /
  ``Role?msg`` events);
* a file that does not parse or validate gives one line
  ``<file>: Parse error - <message>`` or ``<file>: Validation error - <message>``
  (TatSu messages continue over several lines) and nothing else for that file;
  the exit status is 0 either way;
* a crash inside verification gives ``Verification error: <message>`` after
  the header;
* noise to skip: ``Only send external messages if they would contribute``
  (a debug print in ``viable()``), ``Warning: ...`` lines from validation.

``verify all`` never reports enactability, so ``"enactable"`` is always
``None`` from it; the key is there so callers can treat all oracles alike.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

__all__ = [
    "REPO_ROOT",
    "need_oracle",
    "bspl_path",
    "available",
    "unavailable_reason",
    "bspl_version",
    "run_bspl",
    "verify",
    "verify_all",
    "parse_verify_output",
    "protocol_names",
    "verdict_words",
    "read_expectations",
    "read_bspl_expectations",
    "read_bspl_error",
    "read_expected_error",
]

REPO_ROOT: Path = Path(__file__).resolve().parents[2]
"""The repository root (the parent of ``tests/``)."""

ENV_VAR = "PROTOVERIFY_BSPL"
DEFAULT_TIMEOUT = 60.0

# -- locating the tool -------------------------------------------------------


def bspl_path() -> Path | None:
    """Return the ``bspl`` executable to use, or None if there is none.

    ``$PROTOVERIFY_BSPL`` is used when set (even if it is wrong: then
    :func:`available` is false and :func:`unavailable_reason` says why);
    otherwise ``<repo>/.oracle-venv/bin/bspl`` if it exists.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    candidate = REPO_ROOT / ".oracle-venv" / "bin" / "bspl"
    return candidate if candidate.exists() else None


def unavailable_reason() -> str | None:
    """Explain why the oracle cannot run, or return None when it can."""
    env = os.environ.get(ENV_VAR)
    exe = bspl_path()
    if exe is None:
        return (
            f"bspl oracle not found: no {REPO_ROOT / '.oracle-venv/bin/bspl'} "
            f"and ${ENV_VAR} unset (create it with "
            "`bash scripts/oracle-venv.sh .oracle-venv`; needs Python >= 3.12)"
        )
    if not exe.is_file():
        return f"bspl oracle not found: {exe} (from ${ENV_VAR}={env!r}) is not a file"
    if not os.access(exe, os.X_OK):
        return f"bspl oracle not executable: {exe}"
    return None


def available() -> bool:
    """True when a ``bspl`` executable was found and can be run."""
    return unavailable_reason() is None


def bspl_version(timeout: float = 30.0) -> str | None:
    """Version of the installed ``bspl`` package (e.g. ``"1.1.0"``), or None.

    ``bspl`` has no version command; this asks the interpreter next to the
    executable (a venv's ``bin/python``) for the package metadata.
    """
    exe = bspl_path()
    if exe is None or not available():
        return None
    python = exe.parent / "python"
    if not python.exists():
        return None
    try:
        out = subprocess.run(
            [str(python), "-c", "import importlib.metadata as m; print(m.version('bspl'))"],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


# -- running it --------------------------------------------------------------


def run_bspl(
    args: list[str],
    timeout: float = DEFAULT_TIMEOUT,
    hashseed: int | None = 0,
    cwd: str | Path | None = None,
) -> dict[str, Any]:
    """Run ``bspl *args`` with a timeout; never raises for tool failures.

    Returns ``{"stdout", "stderr", "returncode", "timed_out", "seconds"}``.
    On timeout the whole process group is killed and whatever was printed so
    far is returned (output is unbuffered, so finished protocols are kept).
    ``hashseed`` fixes ``PYTHONHASHSEED`` so bspl's set iteration, and thus
    which counterexample it prints, is reproducible; None leaves it random.
    Raises RuntimeError only if no ``bspl`` is available.
    """
    reason = unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    exe = bspl_path()
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    if hashseed is not None:
        env["PYTHONHASHSEED"] = str(hashseed)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(exe), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=env,
        cwd=str(cwd) if cwd else None,
        start_new_session=True,
    )
    timed_out = False
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
        stdout, stderr = proc.communicate()
    return {
        "stdout": stdout or "",
        "stderr": stderr or "",
        "returncode": proc.returncode,
        "timed_out": timed_out,
        "seconds": time.perf_counter() - start,
    }


def verify(
    path: str | Path,
    command: str = "all",
    timeout: float = DEFAULT_TIMEOUT,
    extra_args: list[str] | None = None,
    hashseed: int | None = 0,
) -> dict[str, dict[str, Any]] | str:
    """Run ``bspl verify <command> FILE`` and parse its verdicts.

    ``command`` is ``"all"``, ``"safety"`` or ``"liveness"``. Returns
    ``{protocol_name: {"safe", "live", "enactable", "raw", ...}}`` (see
    :func:`parse_verify_output`), or an error string when bspl could not
    parse/load the file or printed nothing usable. On timeout, protocols it
    did not finish get None verdicts and ``"timed_out": True``; protocols
    it never reached are filled in from :func:`protocol_names` of the file.
    """
    path = Path(path)
    arg = str(path)
    res = run_bspl(["verify", command, arg, *(extra_args or [])], timeout=timeout, hashseed=hashseed)
    parsed = parse_verify_output(res["stdout"], arg)
    if res["timed_out"]:
        if isinstance(parsed, str):
            parsed = {}
        note = f"timed out after {timeout:g} s"
        for name in protocol_names(path):
            parsed.setdefault(name, _empty(f"(not reached: {note})"))
        for v in parsed.values():
            if v["safe"] is None or v["live"] is None:
                v["timed_out"] = True
                v["raw"] = (v["raw"] + "\n" if v["raw"] else "") + f"[{note}]"
        return parsed
    if isinstance(parsed, str):
        return parsed
    if not parsed:
        detail = (res["stderr"].strip() or res["stdout"].strip() or "no output")
        return f"{arg}: bspl printed no verdicts (exit {res['returncode']}): {detail}"
    return parsed


def verify_all(
    path: str | Path,
    timeout: float = DEFAULT_TIMEOUT,
    extra_args: list[str] | None = None,
    hashseed: int | None = 0,
) -> dict[str, dict[str, Any]] | str:
    """``bspl verify all FILE``: safety and liveness of each protocol.

    Returns ``{name: {"safe": bool|None, "live": bool|None,
    "enactable": None, "raw": str, ...}}`` or an error string (file does
    not parse). See :func:`verify`.
    """
    return verify(path, "all", timeout=timeout, extra_args=extra_args, hashseed=hashseed)


# -- parsing its output ------------------------------------------------------

_HEADER = re.compile(r"^(?P<name>[^()\n]*?) \((?P<file>.*)\):\s*$")
_FILE_ERROR = re.compile(r"^(?P<file>.*?): (?P<kind>Parse|Validation) error - (?P<msg>.*)$")
_BOOL = {"True": True, "False": False}
_SAFE = re.compile(r"'safe': (True|False)")
_LIVE = re.compile(r"'live': (True|False)")
_ELAPSED = re.compile(r"'elapsed': ([0-9.eE+-]+)")
_PATHS = re.compile(r"'paths': (\d+)")
_UNSAFE = re.compile(r"'unsafe': '([^']*)'")
_INCOMPLETE = re.compile(r"'incomplete': (\{[^}]*\}|set\(\))")
_PATH = re.compile(r"'path': \((.*?)\), '")
_NOISE = ("Only send external messages if they would contribute",)


def _empty(raw: str = "") -> dict[str, Any]:
    return {
        "safe": None,
        "live": None,
        "enactable": None,
        "raw": raw,
        "unsafe": None,
        "incomplete": None,
        "safety_path": None,
        "liveness_path": None,
        "safety_seconds": None,
        "liveness_seconds": None,
        "error": None,
        "timed_out": False,
    }


def parse_verify_output(text: str, file: str | None = None) -> dict[str, dict[str, Any]] | str:
    """Parse what ``bspl verify all|safety|liveness`` printed for one file.

    Returns ``{name: verdict}`` in file order, each verdict a dict with

    * ``safe`` / ``live``: bool, or None when bspl did not say;
    * ``enactable``: always None (``verify`` does not report it);
    * ``raw``: the lines bspl printed for this protocol;
    * ``unsafe``: the parameter bspl blames, ``incomplete``: sorted list of
      unbound parameters, ``safety_path`` / ``liveness_path``: the
      counterexample as a list of ``Role!msg`` / ``Role?msg`` strings;
    * ``safety_seconds`` / ``liveness_seconds``: bspl's own ``elapsed``;
    * ``error``: a ``Verification error: ...`` message, if any.

    Returns a string (the error text) when the output is a file-level
    ``Parse error`` / ``Validation error``. ``file`` (the path as passed to
    bspl) makes header matching exact; without it any ``name (x):`` line is
    a header.
    """
    lines = text.splitlines()
    result: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    preamble: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        m_err = _FILE_ERROR.match(line)
        if m_err and (file is None or m_err.group("file") == file) and current is None:
            # the message continues until the next header (multi-file runs)
            rest = [line]
            i += 1
            while i < len(lines) and not _is_header(lines[i], file):
                rest.append(lines[i])
                i += 1
            if not result:
                return "\n".join(rest).rstrip()
            continue
        if _is_header(line, file):
            name = _HEADER.match(line).group("name").strip()
            current = _empty(line.rstrip())
            result[name] = current
            i += 1
            continue
        if current is None:
            if stripped:
                preamble.append(stripped)
            i += 1
            continue
        current["raw"] += "\n" + line.rstrip()
        if stripped.startswith(_NOISE) or not stripped:
            i += 1
            continue
        if stripped.startswith("Verification error:"):
            current["error"] = stripped[len("Verification error:"):].strip()
        elif stripped.startswith("{"):
            _absorb_dict(current, stripped)
        i += 1
    return result


def _is_header(line: str, file: str | None) -> bool:
    m = _HEADER.match(line)
    if not m or line.lstrip().startswith("{"):
        return False
    return file is None or m.group("file") == file


def _path_events(s: str) -> list[str]:
    return [e.strip() for e in s.split(",") if e.strip()]


def _absorb_dict(v: dict[str, Any], line: str) -> None:
    elapsed = _ELAPSED.search(line)
    seconds = float(elapsed.group(1)) if elapsed else None
    path = _PATH.search(line)
    events = _path_events(path.group(1)) if path else None
    m = _SAFE.search(line)
    if m:
        v["safe"] = _BOOL[m.group(1)]
        v["safety_seconds"] = seconds
        u = _UNSAFE.search(line)
        v["unsafe"] = u.group(1) if u else None
        v["safety_path"] = events
    m = _LIVE.search(line)
    if m:
        v["live"] = _BOOL[m.group(1)]
        v["liveness_seconds"] = seconds
        inc = _INCOMPLETE.search(line)
        v["incomplete"] = sorted(re.findall(r"'([^']*)'", inc.group(1))) if inc else None
        v["liveness_path"] = events


def verdict_words(v: dict[str, Any]) -> dict[str, str | None]:
    """Map a parsed verdict to the words of ``// expect:`` headers.

    ``{"safety": "safe"|"unsafe"|None, "liveness": "live"|"nonlive"|None}``.
    """
    safe, live = v.get("safe"), v.get("live")
    return {
        "safety": None if safe is None else ("safe" if safe else "unsafe"),
        "liveness": None if live is None else ("live" if live else "nonlive"),
    }


# -- reading files -----------------------------------------------------------

_COMMENT = re.compile(r"(//|#)[^\n]*")
_PROTO_START = re.compile(r"(?:^|[}\s])(?:protocol\s+)?([A-Za-z_@][\w@ -]*?)\s*\{")


def protocol_names(path: str | Path) -> list[str]:
    """Names of the top-level protocols in a .bspl file, in order.

    A light scan (comments stripped, names before a ``{`` at brace depth 0),
    good enough to name protocols bspl never reached before a timeout.
    """
    text = _COMMENT.sub("", Path(path).read_text(encoding="utf-8"))
    names: list[str] = []
    depth = 0
    start = 0
    for idx, ch in enumerate(text):
        if ch == "{":
            if depth == 0:
                m = _PROTO_START.search(text[start:idx + 1])
                if m:
                    names.append(m.group(1).strip())
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
            if depth == 0:
                start = idx + 1
    return names


_EXPECT_LINE = re.compile(r"^\s*//\s*expect:\s*(?P<body>.*?)\s*$")
_BSPL_LINE = re.compile(r"^\s*//\s*bspl-1\.1\.0:\s*(?P<body>.*?)\s*$")
_KV = re.compile(r"\s+(\w+)=(\S+)")
_ALLOWED = {
    "wellformed": {"true", "false"},
    "safety": {"safe", "unsafe"},
    "liveness": {"live", "nonlive"},
}


def _split_name_kv(body: str, where: str) -> tuple[str, dict[str, str]]:
    first = re.search(r"\s\w+=", " " + body)
    if not first or first.start() == 0:
        raise ValueError(f"{where}: no protocol name before key=value pairs: {body!r}")
    name = (" " + body)[: first.start()].strip()
    kv = dict(_KV.findall((" " + body)[first.start():]))
    return name, kv


def read_expectations(path: str | Path) -> dict[str, dict[str, str]]:
    """Parse the ``// expect:`` lines of a .bspl file.

    Each line is ``// expect: <Protocol Name> wellformed=true|false
    safety=safe|unsafe liveness=live|nonlive`` (names may contain spaces).
    Returns ``{name: {"wellformed": ..., "safety": ..., "liveness": ...}}``
    in file order. Raises ValueError on a malformed or duplicate line, or
    an unknown value, so a typo in a header fails loudly.
    """
    out: dict[str, dict[str, str]] = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        m = _EXPECT_LINE.match(line)
        if not m:
            continue
        where = f"{path}:{n}"
        name, kv = _split_name_kv(m.group("body"), where)
        missing = set(_ALLOWED) - set(kv)
        if missing:
            raise ValueError(f"{where}: missing {sorted(missing)} in {line.strip()!r}")
        for k, val in kv.items():
            if k in _ALLOWED and val not in _ALLOWED[k]:
                raise ValueError(f"{where}: {k}={val} not one of {sorted(_ALLOWED[k])}")
        if name in out:
            raise ValueError(f"{where}: duplicate expectation for {name!r}")
        out[name] = {k: kv[k] for k in ("wellformed", "safety", "liveness")}
    return out


def read_bspl_expectations(path: str | Path) -> dict[str, dict[str, str]]:
    """Parse ``// bspl-1.1.0: <Name> safety=... liveness=...`` lines.

    These record what bspl 1.1.0 ``verify all`` prints where it is known to
    be wrong (documented quirks); tests assert the oracle still says that.
    Returns ``{name: {"safety": ..., "liveness": ...}}``.
    """
    out: dict[str, dict[str, str]] = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        m = _BSPL_LINE.match(line)
        if not m:
            continue
        name, kv = _split_name_kv(m.group("body"), f"{path}:{n}")
        for k in ("safety", "liveness"):
            if k in kv and kv[k] not in _ALLOWED[k]:
                raise ValueError(f"{path}:{n}: {k}={kv[k]} not one of {sorted(_ALLOWED[k])}")
        out[name] = {k: v for k, v in kv.items() if k in ("safety", "liveness")}
    return out


def _read_tag(path: str | Path, tag: str) -> str | None:
    pat = re.compile(r"^\s*//\s*" + re.escape(tag) + r":\s*(.*?)\s*$")
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        m = pat.match(line)
        if m:
            return m.group(1)
    return None


def read_bspl_error(path: str | Path) -> str | None:
    """The ``// bspl-1.1.0-error: <text>`` line: a fragment of the error
    bspl 1.1.0 prints for a file it cannot load, or None."""
    return _read_tag(path, "bspl-1.1.0-error")


def read_expected_error(path: str | Path) -> str | None:
    """The ``// expect-error: <kind>`` line (e.g. ``syntax``) of a file that
    is not meant to load at all, or None."""
    return _read_tag(path, "expect-error")


def need_oracle() -> None:
    """Skip (locally) or fail (CI: PROTOVERIFY_REQUIRE_ALL) when the bspl oracle is missing."""
    from tests.helpers.paths import missing

    reason = unavailable_reason()
    if reason:
        missing(reason)

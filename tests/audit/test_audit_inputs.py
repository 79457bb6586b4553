"""Inputs that cannot be audited are findings (REC007), never an abort; compressed
logs read like plain ones; binary files are refused by their format's name."""
from __future__ import annotations

import bz2
import gzip
import io
import lzma

import orjson
import pytest

from protoverify.auditor.driver import audit
from protoverify.cli import main
from tests.helpers.audit import PURCHASE, happy, write


def _run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _mixed(tmp_path):
    """Two good logs, a corrupt line, an empty log, a summary that is not a log, a PNG."""
    d = tmp_path / "logs"
    d.mkdir()
    write(d / "a.jsonl", happy("o1"))
    write(d / "b.jsonl", happy("o2"))
    (d / "corrupt.jsonl").write_bytes(orjson.dumps(happy("o3")[0]) + b"\n{not json\n")
    (d / "empty.jsonl").write_bytes(b"")
    (d / "summary.jsonl").write_bytes(b'{"total": 3, "passed": 3}\n')
    (d / "plot.jsonl").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    return d


def test_mixed_inputs_every_problem_reported_nothing_lost(tmp_path):
    d = _mixed(tmp_path)
    files = sorted(str(p) for p in d.iterdir())
    r = audit(PURCHASE, files)
    assert r.sources == files
    rec7 = {f.source.rsplit("/", 1)[1]: f.text for f in r if f.code == "REC007"}
    assert set(rec7) == {"summary.jsonl", "plot.jsonl"}
    assert "PNG image" in rec7["plot.jsonl"] and "\\x89" not in rec7["plot.jsonl"]
    assert "keys passed, total" in rec7["summary.jsonl"]
    assert sorted(r.unread) == sorted(str(d / n) for n in ("summary.jsonl", "plot.jsonl"))
    # the corrupt line is a REC001 at its line; o3 stalls; o1 and o2 complete
    assert [(f.code, f.line) for f in r if f.code == "REC001"] == [("REC001", 2)]
    assert r.complete == 2 and r.formats[str(d / "empty.jsonl")] == "empty"
    assert r.events == len(happy()) * 2 + 1


def test_mixed_inputs_cli_report_complete_exit_2(tmp_path):
    d = _mixed(tmp_path)
    files = sorted(str(p) for p in d.iterdir())
    code, out, err = _run(["audit", "--spec", str(PURCHASE), "--format", "json", *files])
    assert code == 2
    doc = orjson.loads(out)
    assert len(doc["sources"]) == 6
    assert sorted(f["code"] for f in doc["findings"]) == ["CMP001", "REC001", "REC007", "REC007"]
    assert err.count("was not audited") == 2
    code, out, _ = _run(["audit", "--spec", str(PURCHASE), str(d / "a.jsonl"), str(d / "empty.jsonl")])
    assert code == 0 and "0 errors" in out  # an empty log is zero events


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress], ids=["gz", "bz2", "xz"])
def test_compressed_logs_read_like_plain(tmp_path, compress):
    recs = happy()
    recs.insert(1, "{broken")
    plain = tmp_path / "l.jsonl"
    plain.write_bytes(b"".join((r if isinstance(r, str) else orjson.dumps(r).decode()).encode() + b"\n"
                               for r in recs))
    packed = tmp_path / "l.jsonl.z"
    packed.write_bytes(compress(plain.read_bytes()))
    a, b = audit(PURCHASE, [plain]), audit(PURCHASE, [packed])
    assert [(f.code, f.line) for f in a] == [(f.code, f.line) for f in b] == [("REC001", 2)]
    assert a.events == b.events == len(happy())


def test_truncated_gzip_is_a_finding_after_what_was_read(tmp_path):
    # more than the reader's 1 MiB chunk, so some lines are read before the cut
    data = gzip.compress(b"".join(orjson.dumps(r) + b"\n" for i in range(6000) for r in happy(f"o{i}")))
    p = tmp_path / "cut.jsonl.gz"
    p.write_bytes(data[: len(data) // 2])
    r = audit(PURCHASE, [p])
    cut = [f for f in r if f.code == "REC007"]
    assert len(cut) == 1 and "audited only in part" in cut[0].text
    assert r.unread == [str(p)] and r.events > 0


@pytest.mark.parametrize("magic,name", [(b"PK\x03\x04", "zip archive"), (b"\x7fELF\x02\x01", "ELF executable"),
                                        (b"%PDF-1.7", "PDF document"), (b"ab\x00\x01cd", "binary data")])
def test_binary_refused_by_name(tmp_path, magic, name):
    p = tmp_path / "x.jsonl"
    p.write_bytes(magic + bytes(range(256)))
    code, out, err = _run(["audit", "--spec", str(PURCHASE), str(p)])
    assert code == 2 and f"a binary file ({name}), not a log" in err
    assert "\\x" not in out + err


def test_gzip_of_a_binary_is_named(tmp_path):
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(b"\x7fELF" + bytes(100)))
    r = audit(PURCHASE, [p])
    assert "ELF executable inside gzip compression" in r.findings[0].text


def test_directory_recursed_with_exclude(tmp_path):
    d = _mixed(tmp_path)
    sub = d / "nested" / "deeper"
    sub.mkdir(parents=True)
    write(sub / "c.jsonl", happy("o4"))
    (sub / "c.jsonl.gz").write_bytes(gzip.compress(b"".join(orjson.dumps(r) + b"\n" for r in happy("o5"))))
    (d / "README.md").write_text("# not a log, not taken from a folder\n")
    code, out, err = _run(["audit", "--spec", str(PURCHASE), "--format", "json", str(d)])
    doc = orjson.loads(out)
    assert code == 2 and len(doc["sources"]) == 8 and doc["summary"]["complete"] == 4
    code, out, err = _run(["audit", "--spec", str(PURCHASE), "--format", "json", str(d),
                           "--exclude", "summary.jsonl", "--exclude", "plot.*", "--exclude", "nested/deeper"])
    doc = orjson.loads(out)
    assert code == 1 and doc["summary"]["complete"] == 2  # the corrupt line is left: an error
    assert [s["path"].rsplit("/", 1)[1] for s in doc["sources"]] == ["a.jsonl", "b.jsonl", "corrupt.jsonl",
                                                                      "empty.jsonl"]
    assert _run(["audit", "--spec", str(PURCHASE), str(d), "--exclude", "*"])[0] == 2


def test_stdin(tmp_path, monkeypatch):
    data = "".join(orjson.dumps(r).decode() + "\n" for r in happy()[:1] + [happy()[2]])
    monkeypatch.setattr("sys.stdin", io.StringIO(data))
    code, out, _ = _run(["audit", "--spec", str(PURCHASE), "-"])
    assert code == 1 and "<stdin>:2" in out and "protoverify-stdin" not in out


def test_check_directory_exclude_and_stdin(tmp_path, monkeypatch):
    d = tmp_path / "specs"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "p.bspl").write_text(PURCHASE.read_text())
    (d / "broken.bspl").write_text("P { roles")
    (d / "notes.txt").write_text("not a spec")
    code, out, _ = _run(["check", "--no-verify", str(d)])
    assert code == 2 and "broken.bspl" in out and "p.bspl: Purchase: well-formed" in out
    assert "notes.txt" not in out
    code, out, _ = _run(["check", "--no-verify", str(d), "--exclude", "broken.bspl"])
    assert code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PURCHASE.read_text()))
    code, out, _ = _run(["check", "--no-verify", "-"])
    assert code == 0 and "<stdin>: Purchase: well-formed" in out


def test_special_inputs_are_findings(tmp_path):
    import os

    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.jsonl"
    folder.mkdir()
    good = write(tmp_path / "good.jsonl", happy())
    r = audit(PURCHASE, [fifo, folder, tmp_path / "gone.jsonl", good])
    why = {f.source.rsplit("/", 1)[1]: f.text for f in r if f.code == "REC007"}
    assert "not a regular file" in why["pipe.jsonl"] and "a directory" in why["folder.jsonl"]
    assert "no such log file" in why["gone.jsonl"] and r.complete == 1 and len(r.unread) == 3

"""Byte-level damage to logs, shared by the reader and fast-reader fault tests."""
from __future__ import annotations

from hypothesis import strategies as st

#: One damage step: (operation 0-4, position, byte value).
damage_ops = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 10_000), st.integers(0, 255)),
                      max_size=12)


def mutate(data: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    """Apply ops: 0 overwrite a byte, 1 insert one, 2 delete one, 3 truncate, 4 duplicate or drop a line."""
    buf = bytearray(data)
    for op, pos, val in ops:
        if not buf:
            buf.extend(b"{")
        i = pos % len(buf)
        if op == 0:
            buf[i] = val
        elif op == 1:
            buf.insert(i, val)
        elif op == 2:
            del buf[i]
        elif op == 3:
            del buf[i:]
        else:
            lines = bytes(buf).split(b"\n")
            j = pos % len(lines)
            lines.insert(j, lines[j]) if val % 2 else lines.pop(j)
            buf = bytearray(b"\n".join(lines))
    return bytes(buf)

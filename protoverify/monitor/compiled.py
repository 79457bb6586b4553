"""One message of the protocol compiled for checking: tuples and frozensets read on the
hot path, and its `Shape` for the enactment rule (`protoverify.enactment`)."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any

from ..bspl.compose import FlatMessage, FlatProtocol
from ..enactment import Shape


class MessageRule:
    """One message compiled for checking."""

    __slots__ = ("msg", "shape", "name", "qname", "sender", "recipients", "recip_set", "keys", "keyset",
                 "ins", "outs", "nils", "carried", "carried_set", "params", "ncarried", "ancestors",
                 "pub_outs", "in_keys", "ins_set", "outs_nils", "npub_outs", "key_values", "out_keys",
                 "links")

    def __init__(self, m: FlatMessage, shape: Shape, proto: FlatProtocol, ancestors: tuple[tuple[str, ...], ...],
                 pub_outs: frozenset[str]) -> None:
        order = {k: i for i, k in enumerate(proto.keys)}
        self.msg = m
        self.shape = shape
        self.name = m.name
        self.qname = f"{proto.name}/{m.name}"
        self.sender = m.sender
        self.recipients = m.recipients
        self.recip_set = frozenset(m.recipients)
        self.keys = tuple(sorted(m.keys, key=lambda k: order.get(k, len(order))))
        self.keyset = frozenset(self.keys)
        self.ins = tuple(p.name for p in m.params if p.adornment == "in")
        self.outs = tuple(p.name for p in m.params if p.adornment == "out")
        self.nils = tuple(p.name for p in m.params if p.adornment == "nil")
        self.carried = tuple(p.name for p in m.params if p.adornment != "nil")
        self.carried_set = frozenset(self.carried)
        self.params = frozenset(p.name for p in m.params)
        self.ncarried = len(self.carried)
        self.ancestors = ancestors
        self.pub_outs = tuple(p for p in self.outs if p in pub_outs)
        self.in_keys = frozenset(k for k in self.keys if k in self.ins)
        self.out_keys = shape.out_keys
        self.links = shape.links
        self.ins_set = frozenset(self.ins)
        self.outs_nils = frozenset(self.outs + self.nils)
        self.npub_outs = len(self.pub_outs)
        #: bindings -> the key values of the enactment (a tuple, as `Monitor._ctx_key` builds it)
        self.key_values: Callable[[Mapping[str, Any]], tuple[Any, ...]] = key_getter(self.keys)


def key_getter(keys: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A C-level getter of the key values of a bindings dict, always as a tuple."""
    if len(keys) == 1:
        k = keys[0]
        return lambda b: (b[k],)
    if not keys:
        return lambda b: ()
    return itemgetter(*keys)

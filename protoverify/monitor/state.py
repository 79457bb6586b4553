"""What the Monitor's mixins (`Judge`, `FastPath`, `DecisionChecks`) use of the Monitor.

The mixins' methods read the Monitor's state and call its methods; declaring that
surface once here lets them be checked on their own. `Monitor` (monitor.py) defines
all of it; nothing here exists at run time but the empty base class.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..bspl.compose import FlatProtocol
    from .compiled import MessageRule
    from .context import BindingIndex, Context
    from .monitor import Delivery, Enabled
    from .retire import Retirement


class MonitorState:
    """The Monitor's state and methods as its mixins see them (set by `Monitor.__init__`)."""

    protocol: FlatProtocol
    delivery: Delivery
    roles: frozenset[str]
    pub_outs: frozenset[str]
    pub_ins: frozenset[str]
    keyparams: frozenset[str]
    pub_in_keys: frozenset[str]
    input_roles: frozenset[str]
    multikey: bool
    index: BindingIndex | None
    retirement: Retirement | None
    open: dict[tuple[Any, ...], Context]
    closed: OrderedDict[tuple[Any, ...], Context]
    _by_name: dict[str, MessageRule]

    if TYPE_CHECKING:
        def context(self, run: str | None, enactment: Mapping[str, Any] | str | None) -> Context | None: ...

        def enabled(self, run: str | None, enactment: Mapping[str, Any] | str | Context | None,
                    role: str) -> list[Enabled]: ...

        def _get(self, run: str | None, rule: MessageRule, b: Mapping[str, Any], ev: Any,
                 create: bool) -> Context | None: ...

        def _enabled_in(self, ctx: Context | None, role: str, run: Any = None) -> list[Enabled]: ...

        def _expected(self, ctx: Context, role: str) -> str: ...

        def _expected_any(self, ctx: Context) -> str: ...

        def _maybe_close(self, ctx: Context) -> None: ...

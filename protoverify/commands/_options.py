"""Options that `audit` and `report` share, declared once so that both read logs alike."""
from __future__ import annotations

import click

LOG_FORMATS = ("auto", "native", "envelope", "ahoy", "ahoy-json", "adapter")

protocol_option = click.option(
    "--protocol", default=None,
    help="Protocol to audit against (default: the only one, or route each message by its protocol).")
format_in_option = click.option(
    "--format-in", "format_in", default="auto", show_default=True, type=click.Choice(LOG_FORMATS),
    help="Log format (auto: detect per file from its content).")
fail_on_option = click.option(
    "--fail-on", "fail_on", default="error", show_default=True,
    type=click.Choice(["error", "warning", "info", "never"]),
    help="Lowest severity that makes the exit code 1.")
delivery_option = click.option(
    "--delivery", default="auto", show_default=True, type=click.Choice(["auto", "send", "receive"]),
    help="When recipients learn: at send, at receive, or auto (receive if a log records receipts).")
checker_option = click.option(
    "--checker", default=None, help="Checker profile (JSON file or name in checkers/).")

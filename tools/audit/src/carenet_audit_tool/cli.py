"""`carenet-audit`: the auditor's commands."""

from __future__ import annotations

import typer

from carenet_audit_tool.replay import replay

app = typer.Typer(help="CareNet's audit tool: verify the stream, read a patient's history.")


@app.callback()
def _commands() -> None:
    """Always a group of subcommands (`carenet-audit replay ...`), even with only one."""


app.command()(replay)

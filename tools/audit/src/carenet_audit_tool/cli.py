"""`carenet-audit`: the auditor's commands."""

from __future__ import annotations

import typer

from carenet_audit_tool.history import history

app = typer.Typer(help="CareNet's audit tool: verify the stream, read a patient's history.")
app.command()(history)


@app.callback()
def main() -> None:
    """A group of subcommands, even while it has only one."""

"""`carenet-audit`: the auditor's commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="CareNet's audit tool: verify the stream, read a patient's history.")

"""`carenet-audit`: the auditor's commands."""

from __future__ import annotations

import typer

from carenet_audit_tool.history import history
from carenet_audit_tool.replay import replay
from carenet_audit_tool.signed_report import verify_report

app = typer.Typer(
    help="CareNet's audit tool: verify the stream, read a patient's history, check a signed "
    "replay report.",
    no_args_is_help=True,
)
app.command()(replay)
app.command()(history)
app.command("verify-report")(verify_report)

"""A page as a browser draws it: headless Chromium's screenshot of an HTML document, for the
tests that check what a page shows (the auditor's timeline, the indicators' charts)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


class NoBrowser(RuntimeError):
    """Chromium is not installed (`make setup` installs Debian's `chromium`)."""


def screenshot(html: str, directory: Path, window: tuple[int, int]) -> Path:
    """Draw `html` in a window of `window` pixels (width, height) at scale 1; the PNG's path."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise NoBrowser("chromium is not installed: `make setup` installs Debian's `chromium`")
    page, png = directory / "page.html", directory / "page.png"
    page.write_text(html, encoding="utf-8")
    subprocess.run(  # noqa: S603 - our own argv, no shell
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={directory / 'profile'}",
            f"--screenshot={png}",
            f"--window-size={window[0]},{window[1]}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return png

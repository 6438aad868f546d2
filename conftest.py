"""Fixtures for the whole suite: the real Kafka broker and the real PostgreSQL the tests use;
and how `make test` shares the suite between two workers (pytest-xdist, `--dist loadgroup`).

Each file's tests stay together on one worker (a module's fixtures, a three-node cluster, are
started once), and so do the end-to-end, fuzz and deployment directories, whose session fixtures
(the system the e2e files share, whose logs `test_zz_service_logs` reads last) are one per
worker; the fault scenarios run one after the other. Each worker has its own broker and
PostgreSQL, on free ports. The deployment tests go last: they wait for the control plane that
`make test` builds in the background while the others run (on the CPU they leave idle), and a
worker waiting for it would run nothing else meanwhile.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

pytest_plugins = ["carenet_devtools.pytest_kafka", "carenet_devtools.pytest_postgres"]

ROOT = Path(__file__).parent
SHARED_SESSIONS = ("tests/e2e", "tests/fuzz", "tests/deploy", "tests/faults")
"""Directories whose files share session fixtures, one worker each; and the fault scenarios,
one after the other (two three-node clusters at once would starve a 2-core machine)."""
WAITS_FOR_THE_BUILD = "tests/deploy"
BUILD_TIMEOUT_SECONDS = 3600
"""How long a deployment test may wait for the tools' first build (about 10 minutes of both
cores on an idle machine, longer beside the other tests)."""


def group_of(item: pytest.Item) -> str:
    path = item.path.relative_to(ROOT).as_posix()
    return next((d for d in SHARED_SESSIONS if path.startswith(f"{d}/")), path)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups from the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        group = group_of(item)
        item.add_marker(pytest.mark.xdist_group(group))
        if group == WAITS_FOR_THE_BUILD:
            item.add_marker(pytest.mark.timeout(BUILD_TIMEOUT_SECONDS))
    # The order xdist hands the groups out in (`make test` turns its own reordering off): the
    # largest first, as xdist would, so that the two workers end together; the deployment tests
    # last whatever their size.
    sizes = Counter(group_of(item) for item in items)
    items.sort(key=lambda item: (group_of(item) == WAITS_FOR_THE_BUILD, -sizes[group_of(item)]))

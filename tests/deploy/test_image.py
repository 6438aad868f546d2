"""The image's content, built on this machine the way deploy/Dockerfile builds it.

There is no container engine here, so the test runs the Dockerfile's own build step,
`deploy/build-app.sh`, for one service (intake: it consumes, publishes, and reads reference data
and the rule set from its working directory, so it exercises every part of the layout), then
starts the image's entrypoint from that directory alone, with a clean environment, against the
real broker, and waits for /readyz. The other services' layouts differ only by the case in
build-app.sh.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from carenet_devtools import kafka, kubernetes
from carenet_devtools.ports import free_port

REPO = kubernetes.REPO
DOCKERFILE = REPO / "deploy" / "Dockerfile"
BUILD_APP = REPO / "deploy" / "build-app.sh"
SERVICE = "intake"


def docker_pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker reads it: `**` any number of directories, `*` and `?`
    within one name, a leading or trailing `/` ignored."""
    translated = ""
    parts = re.split(r"(\*\*/?|\*|\?)", pattern.strip("/"))
    for part in parts:
        if part.startswith("**"):
            translated += "(.*/)?" if part.endswith("/") else ".*"
        elif part == "*":
            translated += "[^/]*"
        elif part == "?":
            translated += "[^/]"
        else:
            translated += re.escape(part)
    return re.compile(translated)


def in_build_context(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: the last pattern that matches the path or one of its parents decides."""
    parents = [path] + ["/".join(path.split("/")[:i]) for i in range(1, path.count("/") + 1)]
    included = True
    for exclude, pattern in rules:
        if any(pattern.fullmatch(p) for p in parents):
            included = not exclude
    return included


def build_context(destination: Path) -> Path:
    """A copy of the files `docker build .` would send, by .dockerignore."""
    rules = [
        (not line.startswith("!"), docker_pattern(line.removeprefix("!")))
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    for name in tracked:
        if in_build_context(name, rules) and (REPO / name).exists():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target, follow_symlinks=False)
    return destination


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_context(tmp_path_factory.mktemp("context"))


@pytest.fixture(scope="module")
def app_dir(context: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The image's /app for intake, laid out by the Dockerfile's build step from the build
    context the Dockerfile gets."""
    dest = tmp_path_factory.mktemp("image") / "app"
    subprocess.run(
        [str(context / "deploy" / "build-app.sh"), SERVICE, str(dest)],
        check=True,
        capture_output=True,
    )
    return dest


def test_the_build_context_holds_what_the_build_needs_and_no_more(context: Path) -> None:
    assert (context / "uv.lock").is_file()
    assert (context / "kit" / "src" / "carenet_kit" / "topics.yaml").read_text().startswith("#")
    assert (context / "services" / "intake" / "pyproject.toml").is_file()
    assert (context / "rules" / "nhc-2018.yaml").is_file()
    assert not (context / "tests").exists()
    assert not list(context.glob("**/tests"))
    assert not (context / ".git").exists()
    assert not (context / "deploy" / "kubernetes").exists()
    assert not (context / "reference" / "demo-users.yaml").exists()


def test_the_dockerfile_builds_with_the_shared_script_and_pinned_uv() -> None:
    dockerfile = DOCKERFILE.read_text()
    assert re.search(r'deploy/build-app\.sh "\$\{SERVICE\}" /app', dockerfile)
    assert 'ENTRYPOINT ["/app/bin/carenet-service"]' in dockerfile
    assert re.search(r"^USER 10001:10001$", dockerfile, re.MULTILINE)
    assert "HEALTHCHECK" in dockerfile
    assert "/healthz" in dockerfile
    makefile_uv = re.search(r"^UV_VERSION := (\S+)$", (REPO / "Makefile").read_text(), re.M)
    dockerfile_uv = re.search(r"^ARG UV_VERSION=(\S+)$", dockerfile, re.MULTILINE)
    assert makefile_uv is not None
    assert dockerfile_uv is not None
    assert dockerfile_uv.group(1) == makefile_uv.group(1)
    # the final stage copies the application directory and nothing from the build context
    final = dockerfile.rsplit("\nFROM ", 1)[1]
    assert "COPY --from=builder" in final
    assert not re.search(r"^COPY (?!--from=)", final, re.MULTILINE)


def test_the_application_holds_the_service_and_no_development_tools(app_dir: Path) -> None:
    site = next((app_dir / ".venv" / "lib").glob("python3.*/site-packages"))
    installed = {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}
    assert {"carenet_intake", "carenet_kit", "carenet_contracts", "carenet_access"} <= installed
    assert not installed & {"carenet_devtools", "carenet_routing", "pytest", "ruff", "mypy"}
    assert not list(site.glob("*.pth")), "workspace packages are installed, not linked"
    assert (app_dir / "reference" / "demo-directory.yaml").is_file()
    assert (app_dir / "rules" / "nhc-2018.yaml").is_file()
    assert not (app_dir / "reference" / "demo-users.yaml").exists()
    assert os.path.realpath(app_dir / "bin" / "carenet-service").endswith("/carenet-intake")


@pytest.fixture
def running(app_dir: Path, kafka_bootstrap: str, tmp_path: Path) -> Iterator[str]:
    namespace = f"image-{uuid.uuid4().hex[:8]}."
    kafka.run_sync(kafka.create_topics(kafka_bootstrap, namespace=namespace))
    port = free_port()
    env = {  # the image's environment (deploy/Dockerfile), on loopback, and nothing else
        "PATH": f"{app_dir / '.venv' / 'bin'}:/usr/bin:/bin",
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": str(tmp_path),
        "CARENET_HTTP_HOST": "127.0.0.1",
        "CARENET_HTTP_PORT": str(port),
        "CARENET_DATA_DIR": str(tmp_path / "data"),
        "CARENET_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "CARENET_TOPIC_NAMESPACE": namespace,
    }
    log = (tmp_path / "service.log").open("wb")
    process = subprocess.Popen(
        [str(app_dir / "bin" / "carenet-service")],
        cwd=app_dir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_the_entrypoint_starts_the_service_against_the_broker(running: str, tmp_path: Path) -> None:
    deadline = time.monotonic() + 120
    status = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{running}/readyz", timeout=2)
            status = response.status_code
            if status == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    log = (tmp_path / "service.log").read_text(errors="replace")[-3000:]
    assert status == 200, f"/readyz never 200 (last {status}):\n{log}"
    assert httpx.get(f"{running}/healthz", timeout=2).json() == {"status": "ok"}
    assert httpx.get(f"{running}/.well-known/jwks.json", timeout=2).json()["keys"]

"""P5 ingest: POST diagnosis at intake against a no-op route behind the same middleware.

CareNet: the intake service as a process (SQLite store); `requests` patients are registered
first (not timed), then each gets a diagnosis from `concurrency` concurrent clients: requests per
second over the whole burst, and each POST's duration. Baseline: a process serving, the way
`carenet_kit.runtime.serve` does (uvicorn, JSON request log, tracing), a FastAPI app with the
services' middleware stack (request log, error handlers and body limit, correlation id,
metrics, tracing) and one no-op route at the same path; same client, body and concurrency.

    uv run python -m bench.ingest PORT    # serves the no-op app (what the scenario starts)
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from bench.harness import REPOSITORY, Bench, Row, free_port, median, percentile, until
from bench.pathway import Diagnosed, clinician, diagnose, register
from carenet_kit import metrics, tracing
from carenet_kit.http import health_router, install_error_handlers
from carenet_kit.logs import RequestLog, configure_logging


def noop_app() -> FastAPI:
    """The middleware `runtime.Service.http_api` installs, around a route that does nothing."""
    api = FastAPI(title="no-op")
    api.add_middleware(RequestLog)
    install_error_handlers(api, 64 * 1024)
    metrics.instrument_http(api)
    tracing.instrument_http(api)
    api.include_router(health_router({}))

    @api.post("/v1/patients/{patient_id}/diagnoses", status_code=201)
    async def record(patient_id: str, body: dict[str, Any]) -> dict[str, str]:
        return {"patient_id": patient_id}  # what the client reads of intake's answer

    return api


def serve_noop(port: int) -> None:
    configure_logging("bench-noop", "info")
    tracing.configure_tracing("bench-noop")
    uvicorn.run(noop_app(), host="127.0.0.1", port=port, log_config=None, access_log=False)


async def burst(
    url: str, keys: Path, patients: list[str], concurrency: int
) -> tuple[float, list[float]]:
    """(requests/s, durations in s): one diagnosis per patient, `concurrency` at a time."""
    queue = iter(patients)
    done: list[Diagnosed] = []
    async with clinician(url, keys, concurrency) as client:

        async def caller() -> None:
            for patient_id in queue:
                done.append(await diagnose(client, patient_id))

        start = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(concurrency)))
        seconds = time.perf_counter() - start
    return len(done) / seconds, [d.seconds for d in done]


async def registered(url: str, keys: Path, count: int, concurrency: int) -> list[str]:
    serials = iter(range(count))
    found: list[str] = []
    async with clinician(url, keys, concurrency) as client:

        async def caller() -> None:
            for serial in serials:
                found.append(await register(client, serial))

        await asyncio.gather(*(caller() for _ in range(concurrency)))
    return found


def measure_noop(
    bench: Bench, keys: Path, patients: list[str], concurrency: int, timeout: float
) -> tuple[float, list[float]]:
    port = free_port()
    with (bench.work / "noop.log").open("ab") as log:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bench.ingest", str(port)],
            cwd=REPOSITORY,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        until(lambda: _answers(url), timeout, every=0.1)
        return asyncio.run(burst(url, keys, patients, concurrency))
    finally:
        server.terminate()
        server.wait(30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _figures(rate: float, durations: list[float]) -> str:
    return (
        f"{rate:,.0f} req/s; p50 {median(durations) * 1000:,.0f} ms, "
        f"p99 {percentile(durations, 0.99) * 1000:,.0f} ms"
    )


def run(bench: Bench, requests: int, concurrency: int, timeout: float) -> list[Row]:
    with (
        bench.console.status(f"P5: intake, {requests:,} POST diagnosis"),
        bench.services(bench.namespace(), ["intake"]) as system,
    ):
        url = system.processes["intake"].url
        patients = asyncio.run(registered(url, system.keys, requests, concurrency))
        rate, durations = asyncio.run(burst(url, system.keys, patients, concurrency))
    with bench.console.status("P5: no-op route, same middleware"):
        noop_rate, noop_durations = measure_noop(bench, system.keys, patients, concurrency, timeout)
    return [
        Row(
            f"P5 ingest, {requests:,} POST diagnosis, {concurrency} concurrent",
            _figures(rate, durations),
            f"no-op route, same middleware: {_figures(noop_rate, noop_durations)}",
            rate / noop_rate,
            "intake alone (SQLite); patients registered beforehand",
            {
                "per_s": rate,
                "p50_s": median(durations),
                "p99_s": percentile(durations, 0.99),
                "noop_per_s": noop_rate,
                "noop_p50_s": median(noop_durations),
                "noop_p99_s": percentile(noop_durations, 0.99),
            },
        )
    ]


if __name__ == "__main__":
    serve_noop(int(sys.argv[1]))

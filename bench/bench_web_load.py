"""Bounded load test of the web app on loopback: C concurrent clients post forecasts for
D seconds, and every --runs-every-th client starts report runs instead (POST /api/runs,
then polls the run); prints latency percentiles per kind, 5xx and other errors and
throughput; exits 1 on any 5xx or transport error (a 429 from the full job queue is the
app's limit working, counted apart).

    python bench/bench_web_load.py                      # 50 clients, 30 s, compromise
    python bench/bench_web_load.py --runs-every 5       # 1 client in 5 starts runs
    python bench/bench_web_load.py --model bdm --concurrency 20 --duration 10
    python bench/bench_web_load.py --url http://127.0.0.1:8765   # an app already running

Without --url it starts ``alliancelab serve`` as a subprocess on a free loopback port over
a temporary data directory, opens the shipped case, and stops the server afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "alliancelab", "serve", "--port", str(port),
         "--data", str(data)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(url + "/api/info", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start within 60 s")


async def client(http: httpx.AsyncClient, body: dict[str, object], stop: float,
                 latencies: list[float], errors: list[str]) -> None:
    while time.perf_counter() < stop:
        t0 = time.perf_counter()
        try:
            r = await http.post("/api/forecast", json=body)
            if r.status_code != 200:
                errors.append(f"HTTP {r.status_code}: {r.text[:200]}")
            else:
                r.json()
        except httpx.HTTPError as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        latencies.append(time.perf_counter() - t0)


async def runner(http: httpx.AsyncClient, body: dict[str, object], stop: float,
                 latencies: list[float], errors: list[str], refused: list[int]) -> None:
    """Start report runs (the latency is the POST's) and follow each to its end."""
    while time.perf_counter() < stop:
        t0 = time.perf_counter()
        try:
            r = await http.post("/api/runs", json=body)
            latencies.append(time.perf_counter() - t0)
            if r.status_code == 429:  # the job queue is full: the app's limit at work
                refused.append(1)
                await asyncio.sleep(0.5)
                continue
            if r.status_code != 202:
                errors.append(f"HTTP {r.status_code}: {r.text[:200]}")
                continue
            job = r.json()["id"]
            while time.perf_counter() < stop:
                s = await http.get(f"/api/runs/{job}")
                if s.status_code >= 500:
                    errors.append(f"HTTP {s.status_code}: {s.text[:200]}")
                if s.json().get("status") in ("done", "failed", "cancelled"):
                    if s.json()["status"] == "failed":
                        errors.append(f"run failed: {s.json().get('error')}")
                    break
                await asyncio.sleep(0.5)
        except httpx.HTTPError as exc:
            errors.append(f"{type(exc).__name__}: {exc}")


async def load(url: str, args: argparse.Namespace
               ) -> tuple[list[float], list[float], list[str], list[int], float]:
    limits = httpx.Limits(max_connections=args.concurrency,
                          max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        r = await http.post("/api/cases/open", json={"shipped": args.case})
        r.raise_for_status()
        body = {"case": args.case, "model": args.model, "dynamics": not args.no_dynamics,
                "interventions": args.interventions}
        run_body = {"case": args.case, "draws": args.run_draws, "models": ["compromise"],
                    "interventions": args.interventions}
        latencies: list[float] = []
        run_latencies: list[float] = []
        errors: list[str] = []
        refused: list[int] = []
        t0 = time.perf_counter()
        stop = t0 + args.duration
        every = args.runs_every
        await asyncio.gather(*(
            runner(http, run_body, stop, run_latencies, errors, refused)
            if every and k % every == every - 1
            else client(http, body, stop, latencies, errors)
            for k in range(args.concurrency)))
        return latencies, run_latencies, errors, refused, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=None, help="an app already running (default: start one)")
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds")
    ap.add_argument("--model", default="compromise")
    ap.add_argument("--case", default="us_rok_2025")
    ap.add_argument("--interventions", nargs="*", default=["dprk_nuclear_test"])
    ap.add_argument("--no-dynamics", action="store_true",
                    help="forecast only (by default each request also runs the dynamics)")
    ap.add_argument("--runs-every", type=int, default=0, metavar="K",
                    help="every K-th client starts report runs instead (default 0: none)")
    ap.add_argument("--run-draws", type=int, default=4, help="draws of each run (default 4)")
    args = ap.parse_args()
    if not 1 <= args.concurrency <= 500 or not 0 < args.duration <= 600:
        ap.error("concurrency must be 1-500 and duration 0-600 s")
    proc = None
    tmp = tempfile.TemporaryDirectory(prefix="alliancelab-bench-web-")
    try:
        url = args.url
        if url is None:
            proc, url = start_server(Path(tmp.name))
        latencies, run_latencies, errors, refused, wall = asyncio.run(load(url, args))
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        tmp.cleanup()
    lat = np.array(latencies) * 1000
    p50, p95, p99 = np.percentile(lat, [50, 95, 99]) if lat.size else (np.nan,) * 3
    print(f"web load: {args.concurrency} concurrent clients, {wall:.1f} s, model {args.model}"
          f"{'' if args.no_dynamics else ' + dynamics'}, interventions "
          f"{' '.join(args.interventions) or 'none'} (cores: {os.cpu_count()})")
    print(f"requests {lat.size}, errors {len(errors)}, throughput {lat.size / wall:.1f} req/s")
    print(f"latency ms: p50 {p50:.0f}  p95 {p95:.0f}  p99 {p99:.0f}  max {lat.max():.0f}")
    if args.runs_every:
        rl = np.array(run_latencies) * 1000
        r50, r95 = np.percentile(rl, [50, 95]) if rl.size else (np.nan,) * 2
        print(f"runs: {rl.size} POST /api/runs ({len(refused)} refused with 429, the job "
              f"limit), latency ms: p50 {r50:.0f}  p95 {r95:.0f}")
    server_errors = sum(e.startswith("HTTP 5") for e in errors)
    print(f"5xx responses: {server_errors}")
    for e in sorted(set(errors))[:5]:
        print("  error:", e)
    return 1 if errors or lat.size == 0 else 0


if __name__ == "__main__":
    sys.exit(main())

"""Latency of a what-if forecast in the web app: ``POST /api/forecast`` on the shipped
US-ROK case with one shock and one lever, the perception dynamics included (what the
browser's Forecast tab asks when a shock or lever is ticked).

    python bench/bench_web_whatif.py                  # each engine of --models, 7 repeats
    python bench/bench_web_whatif.py --models compromise,bdm --repeats 11

The real app (:func:`alliancelab.web.create_app`) is served by uvicorn on a free loopback
port in a thread of this process, over a temporary data directory; requests go through
httpx like the browser's. The first request of each engine is a warm-up (it imports the
engine); the measured value is the median latency of the following ``--repeats``
requests, the minimum is printed beside it. Target: issue 15, "a what-if forecast in the
web app <= 0.5 s". Prints measured, target and ratio per engine; exits 1 on a miss or an
error.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from alliancelab.web import Settings, create_app

TARGET_S = 0.5
CASE = "us_rok_2025"
INTERVENTIONS = ["dprk_nuclear_test", "joint_threat_assessment"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(data: Path) -> tuple[uvicorn.Server, threading.Thread, str]:
    """The app served by uvicorn in a daemon thread, once it accepts requests."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(data_dir=data)),
                                           host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise SystemExit("the web app did not start")
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"


def measure(http: httpx.Client, model: str, repeats: int) -> list[float]:
    body = {"case": CASE, "model": model, "interventions": INTERVENTIONS, "dynamics": True,
            "seed": 1}
    out = []
    for k in range(repeats + 1):
        t0 = time.perf_counter()
        r = http.post("/api/forecast", json=body)
        dt = time.perf_counter() - t0
        if r.status_code != 200:
            raise SystemExit(f"{model}: HTTP {r.status_code}: {r.text[:300]}")
        if k:  # the first request is the warm-up
            out.append(dt)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="compromise,bdm,smp",
                    help="engines to measure (default: the run's three)")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-whatif-") as tmp:
        server, thread, url = serve(Path(tmp))
        try:
            with httpx.Client(base_url=url, timeout=120) as http:
                r = http.post("/api/cases/open", json={"shipped": CASE})
                if r.status_code != 200:
                    raise SystemExit(f"cannot open {CASE}: {r.text[:300]}")
                results = {m: measure(http, m, args.repeats) for m in models}
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    print(f"what-if forecast (POST /api/forecast, {CASE}, {' + '.join(INTERVENTIONS)}, "
          f"dynamics on), {args.repeats} requests after a warm-up")
    print(f"{'engine':<12} {'median s':>9} {'min s':>7} {'target s':>9} {'ratio':>6}")
    missed = False
    for model, lat in results.items():
        med = statistics.median(lat)
        ratio = med / TARGET_S
        missed |= ratio > 1
        print(f"{model:<12} {med:9.3f} {min(lat):7.3f} {TARGET_S:9.2f} {ratio:6.2f}"
              f"{'  MISS' if ratio > 1 else ''}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

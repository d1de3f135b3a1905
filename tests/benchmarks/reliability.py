"""Load, soak and hostile-input figures -> tests/reports/reliability.md.

    .venv/bin/python -m tests.benchmarks.reliability [--soak 3000] [--requests 200]

Starts the local server (uvicorn, one process) on 127.0.0.1 and sends it bounded
traffic: each level stops after ``--requests`` requests or ``--seconds`` seconds.
Only loopback is ever addressed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.conftest import DATA, REPO
from tests.local_server import start_server, stop_server

REPORT = REPO / "tests" / "reports" / "reliability.md"


FAULTS = [
    ("S3 GetObject throttled (503 SlowDown) twice", "retried by botocore, result written"),
    ("S3 PutObject failing (500) twice", "retried, result written"),
    ("S3 unreachable on PutObject (all 6 attempts)",
     "invocation fails (Lambda retries, then the failure queue); image intact, no result written"),
    ("S3 AccessDenied on GetObject", "invocation fails, reaches the failure queue"),
    ("4 concurrent events for one key", "identical readings, one result object"),
    ("model file missing at cold start",
     "API logs 'model failed to load at cold start'; /api/health and OCR routes answer 503"),
    ("model file corrupt at cold start", "S3 function init fails with ModelUnavailable (a Lambda init error)"),
]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def load_level(url: str, payload: bytes, clients: int, max_requests: int, max_seconds: float) -> dict:
    latencies, statuses, lock = [], {}, threading.Lock()
    deadline = time.perf_counter() + max_seconds
    remaining = [max_requests]

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            while time.perf_counter() < deadline:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                t = time.perf_counter()
                r = client.post("/api/ocr", params={"detect": "false"}, files={"file": ("w.png", payload)})
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    latencies.append(ms)
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for _ in range(clients):
            pool.submit(worker)
    wall = time.perf_counter() - started
    return {"clients": clients, "requests": len(latencies), "rps": len(latencies) / wall,
            "p50": _pct(latencies, 0.50), "p95": _pct(latencies, 0.95), "p99": _pct(latencies, 0.99),
            "statuses": statuses}


def soak(url: str, pid: int, payload: bytes, total: int, clients: int = 4) -> dict:
    samples = []
    done = 0
    batch = max(50, total // 20)
    while done < total:
        level = load_level(url, payload, clients, min(batch, total - done), 120)
        done += level["requests"]
        samples.append((done, rss_mb(pid), level["statuses"]))
    warm = samples[1][1] if len(samples) > 1 else samples[0][1]  # after the first batch: caches filled
    last = samples[-1][1]
    errors = sum(n for _, _, s in samples for code, n in s.items() if code >= 500)
    return {"requests": done, "rss_after_warmup_mb": warm, "rss_end_mb": last,
            "growth_pct": 100 * (last - warm) / warm, "samples": samples, "server_errors": errors}


def hostile_outcomes() -> list[tuple[str, int, int, str]]:
    from fastapi.testclient import TestClient

    from functions.api.app import app
    from tests.hostile_corpus import corpus

    client = TestClient(app)
    rows = []
    for case in corpus():
        r = client.post("/api/ocr", files={"file": (case.filename, case.data)})
        rows.append((case.name, case.status, r.status_code, r.json().get("error", "") if r.status_code >= 400 else ""))
    return rows


BANDIT_EXPLAINED = {
    "layers/ocr_engine/bench.py": "the benchmark starts Python and Tesseract with fixed argument lists, "
                                  "no shell and no user input (B404/B603)",
}


def security_checks() -> list[str]:
    """bandit on the code, pip-audit on the serving requirements; each finding explained."""
    import json

    bin_dir = Path(sys.executable).parent
    out = ["## Supply chain and static analysis", ""]
    bandit = subprocess.run([bin_dir / "bandit", "-q", "-r", "layers", "functions", "-f", "json"], cwd=REPO,
                            capture_output=True, text=True, check=False)
    findings = json.loads(bandit.stdout or "{}").get("results", [])
    unexplained = [f for f in findings if f["filename"] not in BANDIT_EXPLAINED]
    severities = sorted({f["issue_severity"].title() for f in findings}) or ["none"]
    out.append(f"- bandit (layers/, functions/): {len(findings)} findings (severity: {', '.join(severities)}); "
               f"{len(unexplained)} without an explanation.")
    for name, why in BANDIT_EXPLAINED.items():
        n = sum(f["filename"] == name for f in findings)
        if n:
            out.append(f"  - {name}: {n}: {why}.")
    audit = subprocess.run([bin_dir / "pip-audit", "-r", "requirements/serving.txt", "-f", "json",
                            "--progress-spinner", "off"], cwd=REPO, capture_output=True, text=True, check=False)
    try:
        deps = json.loads(audit.stdout)["dependencies"]
        vulns = [d for d in deps if d.get("vulns")]
        skipped = [d["name"] for d in deps if d.get("skip_reason")]
        out.append(f"- pip-audit (requirements/serving.txt, {len(deps)} resolved packages): "
                   f"{len(vulns)} with known vulnerabilities; {len(skipped)} could not be looked up from this "
                   "machine (its registry mirror does not answer the vulnerability API for them).")
        out += [f"  - {d['name']} {d['version']}: {', '.join(v['id'] for v in d['vulns'])}" for d in vulns]
    except (ValueError, KeyError):
        out.append(f"- pip-audit did not run: {audit.stderr.strip()[-300:]}")
    out.append("- cfn-lint (run by `make test`) passes on template.yaml, its security rules included.")
    out += checkov_findings()
    return [*out, ""]


def checkov_findings() -> list[str]:
    """checkov on the template: failures, and each skipped check with the reason the template gives."""
    import json

    checkov = REPO / ".venv-checkov" / "bin" / "checkov"
    if not checkov.exists():
        return ["- checkov did not run: `make checkov` installs it (its own venv, .venv-checkov)."]
    run = subprocess.run([checkov, "-f", "template.yaml", "--framework", "cloudformation", "-o", "json",
                          "--skip-download"], cwd=REPO, capture_output=True, text=True, check=False)
    report = json.loads(run.stdout)
    failed, skipped = report["results"]["failed_checks"], report["results"]["skipped_checks"]
    out = [f"- checkov {report['summary']['checkov_version']} (template.yaml): {report['summary']['passed']} passed, "
           f"{len(failed)} failed, {len(skipped)} skipped, each with the reason the template gives:"]
    out += [f"  - FAILED {c['check_id']} {c['resource']}: {c['check_name']}" for c in failed]
    out += [f"  - {c['check_id']} {c['resource']}: {c['check_result'].get('suppress_comment', '')}" for c in skipped]
    return out


def write_report(levels: list[dict], soaked: dict, hostile: list, args) -> None:
    lines = [
        "# Reliability report",
        "",
        f"Written by `python -m tests.benchmarks.reliability` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} CPUs. The same cases are asserted by `tests/integration/test_hostile.py`, "
        "`test_faults.py` and `test_schema_fuzz.py`; this page records the figures.",
        "",
        "## Hostile and broken input (POST /api/ocr on the local-server app)",
        "",
        "| case | expected | got | error code |",
        "|---|---|---|---|",
        *[f"| {n} | {e} | {g} | {c} |" for n, e, g, c in hostile],
        "",
        f"All as documented: **{all(e == g for _, e, g, _ in hostile)}**; 5xx answers: "
        f"**{sum(g >= 500 for _, _, g, _ in hostile)}**.",
        "",
        "## Load (local server, one uvicorn process, one word crop, `detect=false`, beam 10)",
        "",
        f"Each level stops after {args.requests} requests or {args.seconds:.0f} s.",
        "",
        "| clients | requests | req/s | p50 ms | p95 ms | p99 ms | statuses |",
        "|---|---|---|---|---|---|---|",
        *[f"| {x['clients']} | {x['requests']} | {x['rps']:.1f} | {x['p50']:.0f} | {x['p95']:.0f} | {x['p99']:.0f} | "
          f"{x['statuses']} |" for x in levels],
        "",
        "## Soak",
        "",
        f"{soaked['requests']} requests at 4 clients. Server RSS after the first batch "
        f"{soaked['rss_after_warmup_mb']:.1f} MB, at the end {soaked['rss_end_mb']:.1f} MB: "
        f"**{soaked['growth_pct']:+.1f}%** (target: within ±10%). 5xx answers: {soaked['server_errors']}.",
        "",
        "| requests done | server RSS MB |",
        "|---|---|",
        *[f"| {n} | {m:.1f} |" for n, m, _ in soaked["samples"]],
        "",
        "## Faults (asserted in tests/integration/test_faults.py)",
        "",
        "| fault | outcome |",
        "|---|---|",
        *[f"| {fault} | {outcome} |" for fault, outcome in FAULTS],
        "",
    ]
    lines += security_checks()
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines))
    print(f"wrote {REPORT}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--soak", type=int, default=3000)
    args = p.parse_args()
    payload = (DATA / "iiit5k" / "test" / "1002_1.png").read_bytes()
    proc, url = start_server()
    try:
        levels = [load_level(url, payload, c, args.requests, args.seconds) for c in (1, 4, 16)]
        for x in levels:
            print(f"{x['clients']:>2} clients: {x['rps']:.1f} req/s, p50 {x['p50']:.0f} ms, p95 {x['p95']:.0f} ms, "
                  f"p99 {x['p99']:.0f} ms, {x['statuses']}")
        soaked = soak(url, proc.pid, payload, args.soak)
        print(f"soak: {soaked['requests']} requests, RSS {soaked['rss_after_warmup_mb']:.1f} -> "
              f"{soaked['rss_end_mb']:.1f} MB ({soaked['growth_pct']:+.1f}%)")
    finally:
        stop_server(proc)
    write_report(levels, soaked, hostile_outcomes(), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

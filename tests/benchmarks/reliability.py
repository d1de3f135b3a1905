"""Load, soak, hostile-input, memory, fuzz and worst-case figures -> tests/reports/reliability.md.

    .venv/bin/python -m tests.benchmarks.reliability [--requests 64] [--seconds 60] [--soak 300]

1. Starts the local server (uvicorn, one process, as ``make serve``) on 127.0.0.1 and sends
   it street scenes with detection on (the service's real work) from 1, 4 and 16 clients:
   latency, throughput, the server's peak RSS, and /api/health's latency while it works.
2. Sends it the hostile corpus, the fuzzer's mutants (both routes) and the images just under
   the limits, then soaks it with clean scenes: does its memory settle after hostile input?
3. Peak memory of each image just under the limits, each in a fresh process
   (tests/integration/test_memory.py's measurement).
4. The worst lexicon request that can be built (OCR_MAX_LEXICON words far from every
   reading, max_regions at its limit, a busy scene): its time and the words it scores, and
   the old uncapped scoring forced on, to show the deadline (OCR_REQUEST_DEADLINE_S) stop it.
5. bandit, pip-audit (what it could actually check) and checkov.

Each load level stops after ``--requests`` requests or ``--seconds`` seconds. Only loopback
is ever addressed.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import cv2
import httpx
import numpy as np
from ocr_tools.bench import lexicon_of
from PIL import Image

from tests.conftest import DATA, REPO
from tests.fuzz_corpus import DEFAULT_SEED, mutants
from tests.hostile_corpus import corpus
from tests.integration.test_memory import PEAK_LIMIT_MB, _gray_scene, _measure
from tests.local_server import start_server, stop_server

REPORT = REPO / "tests" / "reports" / "reliability.md"
SCENES = DATA / "svt_train" / "images"
# The svt_train scene with the most detection candidates: 192 at max_regions 64, the most
# a request can have (3 per region), found by running the detector over all 100 scenes.
BUSY_SCENE = "16_08.jpg"
FUZZ_CASES = 150  # mutants through each route of the live server (the test suite's default)
DECODER_FACTOR = 100  # and this many times as many through the decoder alone (as test_fuzz.py)
# The worst lexicon request before the cap (commit 7a40cf0, this machine, 2026-11-26, the
# same scene and lexicon as worst_case() builds): every word scored for every reading.
BEFORE_CAP = {"seconds": 57.4, "words_scored": 1_930_000, "readings": 193, "ctc_seconds": 55.7}

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


# -- measuring ---------------------------------------------------------------------------
def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int) -> float:
    return _status_mb(pid, "VmRSS")


@contextlib.contextmanager
def peak_rss(pid: int) -> Iterator[dict]:
    """The process's peak RSS (MB) over the block: its VmHWM, reset at the start where the
    kernel allows it, else the highest of samples taken every 20 ms."""
    out = {"peak_mb": 0.0}
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM back to the current RSS
        exact = True
    except OSError:
        exact = False
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            out["peak_mb"] = max(out["peak_mb"], rss_mb(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield out
    finally:
        stop.set()
        sampler.join()
        if exact:
            out["peak_mb"] = max(out["peak_mb"], _status_mb(pid, "VmHWM"))


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def scene_payloads(count: int = 8) -> list[tuple[str, bytes]]:
    """The first ``count`` svt_train scenes (street photos, 80-450 kB)."""
    return [(p.name, p.read_bytes()) for p in sorted(SCENES.iterdir())[:count]]


def load_level(url: str, pid: int, scenes: list[tuple[str, bytes]], clients: int, max_requests: int,
               max_seconds: float) -> dict:
    """``clients`` threads posting scenes (detection on, the default options) in turn."""
    latencies, statuses, lock = [], collections.Counter(), threading.Lock()
    deadline = time.perf_counter() + max_seconds
    issued = [0]
    health: list[float] = []
    done = threading.Event()

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            while time.perf_counter() < deadline:
                with lock:
                    if issued[0] >= max_requests:
                        return
                    name, data = scenes[issued[0] % len(scenes)]
                    issued[0] += 1
                t = time.perf_counter()
                r = client.post("/api/ocr", files={"file": (name, data)})
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    latencies.append(ms)
                    statuses[r.status_code] += 1

    def probe() -> None:  # the server keeps answering while it reads (reads run off its event loop)
        with httpx.Client(base_url=url, timeout=60) as client:
            while not done.wait(0.5):
                t = time.perf_counter()
                client.get("/api/health")
                health.append((time.perf_counter() - t) * 1000)

    prober = threading.Thread(target=probe, daemon=True)
    with peak_rss(pid) as peak:
        started = time.perf_counter()
        prober.start()
        with ThreadPoolExecutor(clients) as pool:
            for _ in range(clients):
                pool.submit(worker)
        wall = time.perf_counter() - started
        done.set()
        prober.join()
    return {"clients": clients, "requests": len(latencies), "rps": len(latencies) / wall,
            "p50": _pct(latencies, 0.50), "p99": _pct(latencies, 0.99), "max": max(latencies, default=0.0),
            "statuses": dict(statuses), "peak_mb": peak["peak_mb"], "rss_end_mb": rss_mb(pid),
            "health_p50": _pct(health, 0.5), "health_max": max(health, default=0.0)}


# -- hostile input, fuzz mutants and images at the limits, through the live server ---------
def under_limit_images(folder: Path, max_image_bytes: int) -> list[tuple[str, Path]]:
    """Images just under the limits (and one just over the decoded-bytes limit): small files
    that decode to many pixels, and a file of noise at the byte limit."""
    out = []

    def save(name: str, what: str, img: Image.Image, **kw) -> None:
        path = folder / name
        img.save(path, **kw)
        out.append((what, path))

    save("tall.png", "1×20000 PNG (longest side at its 20,000 limit)", Image.new("L", (1, 20000), 128))
    wide = np.full((1999, 20000), 200, np.uint8)
    for x in range(200, 19000, 2400):
        cv2.putText(wide, "OPEN SHOP", (x, 1200), cv2.FONT_HERSHEY_DUPLEX, 8, 30, 16, cv2.LINE_AA)
    save("wide.png", "20000×1999 PNG (longest side and pixels at the limits)", Image.fromarray(wide))
    big = _gray_scene(6300)  # 39.7 million pixels, under the 40 million limit
    save("deep16.png", "6300×6300 16-bit PNG (39.7 M pixels)", Image.fromarray(big.astype(np.uint16) * 257))
    rgb = cv2.cvtColor(_gray_scene(6324), cv2.COLOR_GRAY2RGB)  # 39,992,976 pixels
    rgb[::97] = (200, 40, 40)
    save("rgb.jpg", "6324×6324 RGB JPEG (pixels and decoded bytes at the limits)", Image.fromarray(rgb),
         quality=90)
    save("float32-under.tif", "5470×5470 32-bit TIFF (just under the decoded-bytes limit)",
         Image.fromarray(_gray_scene(5470).astype(np.float32) / 255), compression="tiff_deflate")
    save("float32-over.tif", "6300×6300 32-bit TIFF (over the decoded-bytes limit: refused from its header)",
         Image.fromarray(big.astype(np.float32) / 255), compression="tiff_deflate")
    side = 1000
    while True:  # noise does not compress: 3 bytes a pixel
        noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (side, side, 3), np.uint8))
        buf = io.BytesIO()
        noise.save(buf, "PNG")
        if len(buf.getvalue()) <= max_image_bytes:
            break
        side -= 2
    (folder / "noise.png").write_bytes(buf.getvalue())
    out.append((f"{side}×{side} noise PNG ({len(buf.getvalue()):,} bytes: at the byte limit)", folder / "noise.png"))
    return out


def _error_code(r: httpx.Response) -> str:
    """The JSON body's error code ('' for a 200); '(not JSON)' for any other body."""
    try:
        body = r.json()
    except ValueError:
        return "(not JSON)"
    return (body.get("error") or {}).get("code", "") if r.status_code >= 400 else ""


def hostile_phase(url: str, pid: int, images: list[tuple[str, Path]], fuzz_cases: int) -> dict:
    """The hostile corpus, the fuzz mutants (both routes) and the images at the limits, sent
    one after another: outcomes and the server's memory before and after."""
    before = rss_mb(pid)
    hostile, fuzz = [], {"upload": collections.Counter(), "base64": collections.Counter()}
    not_json = 0
    with httpx.Client(base_url=url, timeout=120) as client, peak_rss(pid) as peak:
        for case in corpus():
            r = client.post("/api/ocr", files={"file": (case.filename, case.data)})
            hostile.append((case.name, case.status, r.status_code, _error_code(r)))
        for mutant in mutants(fuzz_cases, DEFAULT_SEED):
            r = client.post("/api/ocr", files={"file": (mutant.filename, mutant.data, "application/octet-stream")})
            r2 = client.post("/api/ocr/base64", json={"image": base64.b64encode(mutant.data).decode()})
            for route, resp in (("upload", r), ("base64", r2)):
                fuzz[route][resp.status_code] += 1
                not_json += _error_code(resp) == "(not JSON)"
        limits = []
        for what, path in images:
            r = client.post("/api/ocr", files={"file": (path.name, path.read_bytes())})
            limits.append((what, r.status_code, rss_mb(pid)))
    return {"hostile": hostile, "fuzz_cases": fuzz_cases, "fuzz": {k: dict(v) for k, v in fuzz.items()},
            "fuzz_not_json": not_json,
            "limits": limits, "rss_before_mb": before, "rss_after_mb": rss_mb(pid), "peak_mb": peak["peak_mb"]}


def soak(url: str, pid: int, scenes: list[tuple[str, bytes]], total: int, clients: int = 4) -> dict:
    samples = []
    done = 0
    batch = max(20, total // 10)
    while done < total:
        level = load_level(url, pid, scenes, clients, min(batch, total - done), 300)
        done += level["requests"]
        samples.append((done, rss_mb(pid), level["statuses"]))
    start, last = samples[0][1], samples[-1][1]
    tail = [m for _, m, _ in samples[len(samples) // 2:]]
    errors = sum(n for _, _, s in samples for code, n in s.items() if code >= 500)
    return {"requests": done, "rss_first_mb": start, "rss_end_mb": last, "tail_min_mb": min(tail),
            "tail_max_mb": max(tail), "growth_pct": 100 * (last - start) / start, "samples": samples,
            "server_errors": errors}


def decoder_fuzz(cases: int) -> dict:
    """Mutants through the engine's decoder alone, as tests/integration/test_fuzz.py does."""
    from ocr_engine.config import Settings
    from ocr_engine.errors import ImageTooLarge, InvalidImage
    from ocr_engine.imagefile import decode_image

    settings = Settings()
    outcomes: collections.Counter[str] = collections.Counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PIL warns about each corrupt EXIF block
        for mutant in mutants(cases, DEFAULT_SEED + 1):
            try:
                decode_image(mutant.data, settings)
                outcomes["decoded"] += 1
            except (InvalidImage, ImageTooLarge) as exc:
                outcomes[exc.code] += 1
            except Exception as exc:  # counted: the report says how many escaped
                outcomes[f"uncaught {type(exc).__name__}"] += 1
    return dict(outcomes)


def memory_at_limits(images: list[tuple[str, Path]]) -> list[dict]:
    """Each image read in a fresh process: its peak RSS (test_memory.py's measurement)."""
    rows = []
    for what, path in images:
        out = _measure(path)
        (read,) = out["reads"]
        rows.append({"what": what, "bytes": path.stat().st_size, "status": read["status"], "peak": read["peak"],
                     "baseline": out["baseline"]})
    return rows


# -- the worst lexicon request ------------------------------------------------------------
def far_lexicon(size: int, seed: int = 0) -> list[str]:
    """``size`` distinct words of 24-32 characters: no reading of a scene comes within 3
    edits of one, and long words are the costliest to score."""
    return lexicon_of(size, seed, lengths=(24, 32))


@contextlib.contextmanager
def counting_words_scored() -> Iterator[list[int]]:
    """Words scored exactly, one entry per reading decoded against a lexicon."""
    from ocr_engine import ctc

    counts: list[int] = []
    score = ctc.sequence_log_probs

    def counting(log_probs: np.ndarray, label_seqs: list[list[int]]) -> np.ndarray:
        counts.append(len(label_seqs))
        return score(log_probs, label_seqs)

    ctc.sequence_log_probs = counting
    try:
        yield counts
    finally:
        ctc.sequence_log_probs = score


@contextlib.contextmanager
def uncapped_scoring() -> Iterator[None]:
    """The scoring before the cap: every word for a reading near none of them."""
    from ocr_engine import ctc

    shortlist = ctc.shortlist
    ctc.shortlist = lambda probs, lexicon, *args, **kwargs: list(range(len(lexicon)))
    try:
        yield
    finally:
        ctc.shortlist = shortlist


def worst_case() -> dict:
    """The worst lexicon requests, through the API app (in this process, as the local server
    runs it): the busy scene, max_regions at its limit, a lexicon of OCR_MAX_LEXICON far
    words (the shortlist path) and of SHORTLIST_ABOVE far words (every word scored)."""
    from fastapi.testclient import TestClient
    from ocr_engine import ctc

    from functions.api.app import app, runtime

    assert runtime.engine is not None, "the model did not load"
    settings = runtime.engine.settings
    client = TestClient(app)
    image = base64.b64encode((SCENES / BUSY_SCENE).read_bytes()).decode()
    client.post("/api/ocr/base64", json={"image": image})  # warm: the model's first run allocates its buffers

    def request(lexicon: list[str], wrap: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext
                ) -> dict:
        body = {"image": image, "max_regions": settings.max_regions_limit, "lexicon": lexicon}
        with wrap(), counting_words_scored() as counts:
            t = time.perf_counter()
            r = client.post("/api/ocr/base64", json=body)
            seconds = time.perf_counter() - t
        payload = r.json()
        error = payload.get("error") or {}
        return {"status": r.status_code, "seconds": seconds, "readings": len(counts), "words_scored": sum(counts),
                "most_per_reading": max(counts, default=0), "error": error.get("code"),
                "detail": error.get("detail"), "timings": payload.get("timings_ms")}

    big = far_lexicon(settings.max_lexicon)
    return {
        "lexicon": len(big), "max_regions": settings.max_regions_limit, "deadline_s": settings.request_deadline_s,
        "most_scored": ctc.MOST_SEQUENCES,
        "capped": request(big),
        "all_scored": request(far_lexicon(ctc.SHORTLIST_ABOVE, seed=1)),
        "uncapped": request(big, uncapped_scoring),
    }


# -- static checks ------------------------------------------------------------------------
BANDIT_EXPLAINED = {
    "layers/ocr_tools/bench.py": "the benchmark starts Python and Tesseract with fixed argument lists, "
                                  "no shell and no user input (B404/B603)",
}


def security_checks() -> list[str]:
    """bandit on the code, pip-audit on the serving requirements; each finding explained."""
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
    out += pip_audit_coverage(bin_dir)
    out.append("- cfn-lint (run by `make test`) passes on template.yaml, its security rules included.")
    out += checkov_findings()
    return [*out, ""]


def pip_audit_coverage(bin_dir: Path) -> list[str]:
    """What pip-audit could actually check: a package it skipped was not audited at all."""
    audit = subprocess.run([bin_dir / "pip-audit", "-r", "requirements/serving.txt", "-f", "json",
                            "--progress-spinner", "off"], cwd=REPO, capture_output=True, text=True, check=False)
    try:
        deps = json.loads(audit.stdout)["dependencies"]
    except (ValueError, KeyError):
        return [f"- pip-audit did not run, so no package was checked: {audit.stderr.strip()[-300:]}"]
    skipped = [d for d in deps if d.get("skip_reason")]
    checked = [d for d in deps if not d.get("skip_reason")]
    vulns = [d for d in checked if d.get("vulns")]
    reasons = collections.Counter(d["skip_reason"].split(":")[0] for d in skipped)
    line = (f"- pip-audit (requirements/serving.txt, {len(deps)} resolved packages): **checked {len(checked)} of "
            f"{len(deps)}**; {len(skipped)} not checked ("
            + "; ".join(f"{n}: \"{why}\"" for why, n in reasons.most_common()) + ").")
    if not checked:
        line += (" **It checked none.** It gets the vulnerability data from PyPI's JSON API, and from this machine "
                 "(no network but a package registry, which installs packages but does not serve that API) every "
                 "lookup came back \"not found\". Its own summary, \"No known vulnerabilities found\", means "
                 "nothing here: this is no evidence either way. Run `pip-audit -r requirements/serving.txt` where "
                 "PyPI's JSON API answers.")
    else:
        line += f" Of those checked, {len(vulns)} with known vulnerabilities."
    return [line, *[f"  - {d['name']} {d['version']}: {', '.join(v['id'] for v in d['vulns'])}" for d in vulns]]


def checkov_findings() -> list[str]:
    """checkov on the template: failures, and each skipped check with the reason the template gives."""
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


# -- the report ---------------------------------------------------------------------------
def _counts(counts: dict) -> str:
    return ", ".join(f"{k}: {n}" for k, n in sorted(counts.items(), key=lambda kv: str(kv[0])))


def worst_case_lines(w: dict) -> list[str]:
    capped, all_scored, uncapped = w["capped"], w["all_scored"], w["uncapped"]
    readings = capped["readings"]
    return [
        "## The worst lexicon request, and the deadline",
        "",
        f"`POST /api/ocr/base64` on the API app (in process): the busy scene `svt_train/{BUSY_SCENE}`, "
        f"`max_regions={w['max_regions']}` (the limit), a lexicon of {w['lexicon']:,} words of 24-32 characters "
        "(`OCR_MAX_LEXICON`), none within 3 edits of any reading. Before the cap every word was scored for every "
        f"reading; now a reading scores at most {w['most_scored']} sequences (`ctc.MOST_SEQUENCES`: all of a "
        "lexicon of up to 500 words, else the 200 nearest by edit distance, and the network's own reading, the "
        f"confidence's rival), so a request scores at most {w['most_scored']} × its readings. Deadline: "
        f"`OCR_REQUEST_DEADLINE_S` = {w['deadline_s']:g} s.",
        "",
        "| case | status | seconds | readings | sequences scored | most in one reading |",
        "|---|---|---|---|---|---|",
        f"| before the cap (commit 7a40cf0, the engine in process, same scene and lexicon) | 200 | "
        f"{BEFORE_CAP['seconds']:.1f} "
        f"| {BEFORE_CAP['readings']} | {BEFORE_CAP['words_scored']:,} | {w['lexicon']:,} |",
        *[f"| {name} | {x['status']}{' ' + x['error'] if x['error'] else ''} | {x['seconds']:.1f} | {x['readings']} "
          f"| {x['words_scored']:,} | {x['most_per_reading']:,} |"
          for name, x in (("now: 10,000 far words (shortlist of the 200 nearest)", capped),
                          ("now: 500 far words (all scored, the most a reading scores)", all_scored),
                          ("the old uncapped scoring forced on, default deadline", uncapped))],
        "",
        f"The cap for this request: {readings} readings × {w['most_scored']} = {readings * w['most_scored']:,} "
        "sequences; "
        f"scored {capped['words_scored']:,} and {all_scored['words_scored']:,}. With the old scoring the deadline "
        f"stopped the request after {uncapped['seconds']:.1f} s with a {uncapped['status']} "
        f"(`{uncapped['error']}`: \"{uncapped['detail']}\"), where it ran {BEFORE_CAP['seconds']:.0f} s before, "
        "past API Gateway's 29 s. The deadline is checked between steps and between regions, so a request "
        "overruns it by at most one step (the recognizer's batch, or one region's decoding).",
        "",
    ]


def write_report(scenes: list[tuple[str, bytes]], levels: list[dict], hostile: dict, soaked: dict,
                 fuzz_decoder: dict, memory: list[dict], worst: dict, args: argparse.Namespace,
                 load: tuple[float, float, float]) -> None:
    fuzz_total = sum(sum(c.values()) for c in hostile["fuzz"].values())
    fuzz_5xx = sum(n for c in hostile["fuzz"].values() for code, n in c.items() if code >= 500)
    lines = [
        "# Reliability report",
        "",
        f"Written by `python -m tests.benchmarks.reliability` (`make reliability`) on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, load average {load[0]:.1f} at the start "
        "(the machine is shared: latencies are this sitting's). The same cases are asserted by "
        "`tests/integration/test_hostile.py`, `test_fuzz.py`, `test_memory.py`, `test_faults.py`, "
        "`test_schema_fuzz.py`, `test_deadline.py` and `tests/unit/test_request_bounds.py`; this page records "
        "the figures.",
        "",
        "## Load: street scenes, detection on (local server, one uvicorn process)",
        "",
        f"Each client posts svt_train scenes in turn ({len(scenes)} photos, "
        f"{min(len(d) for _, d in scenes) // 1000}-{max(len(d) for _, d in scenes) // 1000} kB) to `POST /api/ocr` "
        "with the default options (detection, 8 regions, beam 10 with the LM). Each level stops after "
        f"{args.requests} requests or {args.seconds:.0f} s; p99 is of that many requests. The server reads at most "
        "`OCR_API_CONCURRENCY` (2) images at once, off its event loop; the others queue. Peak RSS is the server "
        "process's over the level. /api/health was asked every 0.5 s during each level.",
        "",
        "| clients | requests | req/s | p50 ms | p99 ms | max ms | server peak RSS MB | health p50 / max ms "
        "| statuses |",
        "|---|---|---|---|---|---|---|---|---|",
        *[f"| {x['clients']} | {x['requests']} | {x['rps']:.2f} | {x['p50']:.0f} | {x['p99']:.0f} | {x['max']:.0f} | "
          f"{x['peak_mb']:.0f} | {x['health_p50']:.0f} / {x['health_max']:.0f} | {_counts(x['statuses'])} |"
          for x in levels],
        "",
        "## Hostile and broken input (POST /api/ocr on the live server)",
        "",
        "| case | expected | got | error code |",
        "|---|---|---|---|",
        *[f"| {n} | {e} | {g} | {c} |" for n, e, g, c in hostile["hostile"]],
        "",
        f"All as documented: **{all(e == g for _, e, g, _ in hostile['hostile'])}**; 5xx answers: "
        f"**{sum(g >= 500 for _, _, g, _ in hostile['hostile'])}**.",
        "",
        "## Mutation fuzzer (tests/fuzz_corpus.py)",
        "",
        f"Valid PNG, JPEG, WebP, TIFF, GIF and BMP files with bits flipped, header fields overwritten, truncated, "
        f"spliced, chunks duplicated or dropped (seed {DEFAULT_SEED}).",
        "",
        f"- {hostile['fuzz_cases']} mutants through each route of the live server ({fuzz_total} requests): "
        f"upload {_counts(hostile['fuzz']['upload'])}; base64 {_counts(hostile['fuzz']['base64'])}. "
        f"**5xx: {fuzz_5xx}**; answers that were not JSON: {hostile['fuzz_not_json']}.",
        f"- {sum(fuzz_decoder.values()):,} mutants through the engine's decoder alone (seed {DEFAULT_SEED + 1}): "
        f"{_counts(fuzz_decoder)}. Anything but `decoded`, `invalid_image`, `unsupported_format` and "
        "`image_too_large` would be an escaped exception.",
        "- The S3 function's path (each record its own result, never a raise) is asserted by "
        "`tests/integration/test_fuzz.py`; `make fuzz FUZZ_CASES=3000` runs a longer fuzz.",
        "",
        "## Peak memory of images just under the limits (fresh process each, as a Lambda container)",
        "",
        "The bombs in the hostile table are refused from their headers; what uses memory is what the limits "
        f"let through. Each image read alone in a fresh process (tests/integration/test_memory.py's measurement: "
        f"VmHWM); the bound the template's MemorySize follows from is {PEAK_LIMIT_MB} MB.",
        "",
        "| image | file bytes | outcome | process before the image MB | peak MB |",
        "|---|---|---|---|---|",
        *[f"| {m['what']} | {m['bytes']:,} | {m['status']} | {m['baseline']:.0f} | **{m['peak']:.0f}** |"
          for m in memory],
        "",
        f"Highest peak: **{max(m['peak'] for m in memory):.0f} MB** (limit {PEAK_LIMIT_MB} MB).",
        "",
        "## Soak after hostile input",
        "",
        f"The server after the load levels: {hostile['rss_before_mb']:.0f} MB. Then the hostile corpus, the "
        f"{hostile['fuzz_cases']} mutants on both routes and the images above at the limits, one after another: peak "
        f"{hostile['peak_mb']:.0f} MB, {hostile['rss_after_mb']:.0f} MB after them "
        "(" + "; ".join(f"{what.split(' (')[0]}: {status}, {mb:.0f} MB after" for what, status, mb in hostile["limits"])
        + ").",
        "",
        f"Then {soaked['requests']} clean scenes at 4 clients. Server RSS after the first batch "
        f"{soaked['rss_first_mb']:.0f} MB, at the end {soaked['rss_end_mb']:.0f} MB "
        f"(**{soaked['growth_pct']:+.1f}%**; the second half of the soak between {soaked['tail_min_mb']:.0f} and "
        f"{soaked['tail_max_mb']:.0f} MB). 5xx answers: {soaked['server_errors']}. Settled: "
        f"**{soaked['rss_end_mb']:.0f} MB, {soaked['rss_end_mb'] - hostile['rss_before_mb']:+.0f} MB** from the "
        "server before the hostile input; the figure to size a container for is this settled RSS after hostile "
        "input, not the clean-input one.",
        "",
        "| requests done | server RSS MB |",
        "|---|---|",
        *[f"| {n} | {m:.0f} |" for n, m, _ in soaked["samples"]],
        "",
        *worst_case_lines(worst),
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
    p.add_argument("--requests", type=int, default=64, help="requests per load level")
    p.add_argument("--seconds", type=float, default=60, help="most seconds per load level")
    p.add_argument("--soak", type=int, default=300, help="clean scenes after the hostile input")
    args = p.parse_args()
    load = os.getloadavg()
    scenes = scene_payloads()
    from ocr_engine.config import Settings

    with tempfile.TemporaryDirectory() as tmp:
        images = under_limit_images(Path(tmp), Settings().max_image_bytes)
        proc, url = start_server()
        # Drain the server's stderr (libtiff and PIL complain about each broken file): a full
        # pipe would block the server.
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        try:
            levels = []
            for clients in (1, 4, 16):
                levels.append(load_level(url, proc.pid, scenes, clients, args.requests, args.seconds))
                x = levels[-1]
                print(f"{clients:>2} clients: {x['rps']:.2f} req/s, p50 {x['p50']:.0f} ms, p99 {x['p99']:.0f} ms, "
                      f"peak RSS {x['peak_mb']:.0f} MB, health max {x['health_max']:.0f} ms, {x['statuses']}")
            hostile = hostile_phase(url, proc.pid, images, FUZZ_CASES)
            print(f"hostile: RSS {hostile['rss_before_mb']:.0f} -> {hostile['rss_after_mb']:.0f} MB, "
                  f"fuzz {hostile['fuzz']}")
            soaked = soak(url, proc.pid, scenes, args.soak)
            print(f"soak: {soaked['requests']} scenes, RSS {soaked['rss_first_mb']:.0f} -> "
                  f"{soaked['rss_end_mb']:.0f} MB ({soaked['growth_pct']:+.1f}%)")
        finally:
            stop_server(proc)
        fuzz_decoder = decoder_fuzz(FUZZ_CASES * DECODER_FACTOR)
        print(f"decoder fuzz: {fuzz_decoder}")
        memory = memory_at_limits(images)
        print("memory: " + ", ".join(f"{m['what'].split(' (')[0]} {m['peak']:.0f} MB" for m in memory))
    worst = worst_case()
    print("worst case: " + json.dumps(worst, default=str)[:800])
    write_report(scenes, levels, hostile, soaked, fuzz_decoder, memory, worst, args, load)
    return 0


if __name__ == "__main__":
    sys.exit(main())

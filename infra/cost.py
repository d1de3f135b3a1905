"""What reading 1,000 images costs on Lambda, beside the managed OCR services, and what the
image weighs.

    python -m infra.cost [--scenes 20] [--crops 50] [--bench bench.json] [--memory MB] [--json]
    python -m infra.cost --arm64-wheels      # + which serving pins have manylinux aarch64 wheels (asks PyPI)

Milliseconds per image are measured here with the shipped engine as the functions run it
(one thread, default options, detection on): svt_train street scenes and IIIT5K word crops
sent as whole images. ``--bench`` takes them from ``ocr bench --json`` instead
(full_image_ms, read_crop_ms_beam10). The memory is template.yaml's MemorySize default.
Lambda bills memory x duration (GB-seconds) plus a price per request; a drop or an API call
is one request per image, a bulk run one per BulkBatchSize images plus its Step Functions
state transitions and S3 requests. Not counted: CloudWatch Logs ingestion (a drop logs about
1.1 kB: $0.0006 per 1,000 at $0.50 a GB, two thirds of a word crop's Lambda cost) and X-Ray
traces (sampled; the first 100,000 a month are free). Throughput is what the account's default concurrency
limit (1,000) reaches with every container warm, engine time only (S3 reads not counted).
The speed is this machine's: one core here stands for one Lambda vCPU (Lambda gives
1,769 MB one vCPU; 2,048 MB a little more), and arm64 is priced at the same milliseconds
(not measured on Graviton).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ocr_tools.paths import data_dir

from infra.template_env import load_template

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "template.yaml"
IMAGE_CHECK = REPO / ".image-check"  # the task root infra/image_check.py builds (make image-check)

# List prices, US East (N. Virginia), in USD, as published on the AWS pricing pages named in
# each comment. AWS does not date these pages; the date given is when each price took effect
# (unchanged since), and PRICES_CHECKED is when this project last compared them.
PRICES_CHECKED = "2026-11-26"
# https://aws.amazon.com/lambda/pricing/ - x86 since 1 ms billing (2020-12-01), arm64 since
# Graviton2 functions launched (2021-09-29); first 6 billion GB-s a month (lower tiers beyond).
LAMBDA_GB_SECOND = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
LAMBDA_PER_REQUEST = 0.20 / 1_000_000
# https://aws.amazon.com/step-functions/pricing/ - Standard workflows, per state transition.
SFN_PER_TRANSITION = 0.025 / 1000
# https://aws.amazon.com/s3/pricing/ - S3 Standard requests: GET/HEAD, and PUT/LIST.
S3_GET = 0.0004 / 1000
S3_PUT = 0.005 / 1000
# https://aws.amazon.com/rekognition/pricing/ - Image API group 2 (DetectText among them),
# first 1 million images a month.
REKOGNITION_DETECT_TEXT = 1.00 / 1000
# https://aws.amazon.com/textract/pricing/ - DetectDocumentText (Detect Document Text API),
# first 1 million pages a month; 0.60 per 1,000 beyond.
TEXTRACT_DETECT_DOCUMENT_TEXT = 1.50 / 1000
ACCOUNT_CONCURRENCY = 1000  # a new account's default Lambda concurrency limit
# The base image's size as published (gallery.ecr.aws/lambda/python, tag 3.12): not read
# here - public.ecr.aws cannot be reached from the machines this project runs on. Fill it
# in (MB, uncompressed) from the gallery page to have it added to the image's total.
BASE_IMAGE_PUBLISHED_MB: float | None = None
BASE_IMAGE = "public.ecr.aws/lambda/python:3.12"
VENV_TOOLS = ("pip", "setuptools", "pkg_resources", "_distutils_hack", "distutils-precedence")


def template_defaults() -> dict[str, str]:
    params = load_template(TEMPLATE)["Parameters"]
    return {name: str(p["Default"]) for name, p in params.items() if "Default" in p}


def measure(data_dir: Path, scenes: int, crops: int) -> dict[str, float]:
    """Median ms per image read by the engine (fresh process: one thread, as deployed)."""
    code = f"""
import json, statistics, time
from pathlib import Path
from ocr_tools.labels import read_label_file, read_scenes
from ocr_engine.pipeline import get_engine
engine = get_engine()
data = Path({str(data_dir)!r})
sets = {{"scene": [p.read_bytes() for p, _ in read_scenes(data / "svt_train")[:{scenes}]],
        "crop": [p.read_bytes() for p, _ in read_label_file(data / "iiit5k" / "test.tsv")[:{crops}]]}}
engine.read(sets["crop"][0])  # warm
out = {{}}
for name, images in sets.items():
    ms = []
    for image in images:
        t = time.perf_counter(); engine.read(image); ms.append((time.perf_counter() - t) * 1000)
    out[name] = statistics.median(ms)
print(json.dumps(out))
"""
    env = {**os.environ, "OCR_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def from_bench(path: Path) -> dict[str, float]:
    ours = json.loads(path.read_text())["ours"]
    return {"scene": ours["full_image_ms"], "crop": ours["read_crop_ms_beam10"]}


def lambda_cost(ms: float, memory_mb: int, arch: str, images_per_request: int = 1) -> float:
    """USD per 1,000 images: GB-seconds plus requests."""
    gb_seconds = 1000 * ms / 1000 * memory_mb / 1024
    return gb_seconds * LAMBDA_GB_SECOND[arch] + 1000 / images_per_request * LAMBDA_PER_REQUEST


def bulk_overhead(batch_size: int) -> float:
    """USD per 1,000 images a bulk run adds to Lambda: one state transition per batch (its
    one Task state) and per image a GET, two HEADs (its result, then the image again before
    writing) and a PUT; the listing (1,000 keys a LIST, results included) is a rounding error."""
    transitions = 1000 / batch_size + 3  # + Settings, the map, Summarize
    return transitions * SFN_PER_TRANSITION + 1000 * (3 * S3_GET + S3_PUT) + 2 * S3_PUT


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def image_size() -> dict:
    """Uncompressed bytes of what infra/Dockerfile adds to the base image, measured on the task
    root make image-check builds (.image-check: its venv's site-packages stand for pip's install)."""
    if not IMAGE_CHECK.exists():
        return {"error": "no .image-check: run make image-check first"}
    site = next((IMAGE_CHECK / "venv" / "lib").glob("python3*/site-packages"))
    # The venv's own installer is not part of what the Dockerfile's pip install adds.
    installed = [p for p in site.iterdir() if not p.name.lower().startswith(VENV_TOOLS)]
    parts = {"pip install -r requirements/serving.txt": sum(_size(p) if p.is_dir() else p.stat().st_size
                                                             for p in installed),
             "layers/ocr_engine -> /opt/python": _size(IMAGE_CHECK / "opt" / "python"),
             "model -> /opt/model": _size(IMAGE_CHECK / "opt" / "model"),
             "functions -> task root": _size(IMAGE_CHECK / "task")}
    biggest = sorted(((_size(p), p.name) for p in installed if p.is_dir() and not p.name.endswith("-info")),
                     reverse=True)[:6]
    added = sum(parts.values())
    return {"added_mb": round(added / 1e6, 1), "parts_mb": {k: round(v / 1e6, 1) for k, v in parts.items()},
            "largest_packages_mb": {name: round(n / 1e6, 1) for n, name in biggest},
            "base_image": BASE_IMAGE, "base_image_published_mb": BASE_IMAGE_PUBLISHED_MB,
            "total_mb": round(added / 1e6 + BASE_IMAGE_PUBLISHED_MB, 1) if BASE_IMAGE_PUBLISHED_MB else None}


def compiled_dependencies() -> list[str]:
    """name==version of every package with native code that make image-check installed: the
    pins' own dependencies too (pydantic-core, wrapt, ...), which a pin-by-pin check misses."""
    if not IMAGE_CHECK.exists():
        return []
    site = next((IMAGE_CHECK / "venv" / "lib").glob("python3*/site-packages"))
    found = []
    for info in sorted(site.glob("*.dist-info")):
        record = info / "RECORD"
        if record.exists() and ".so," in record.read_text():
            name, version = info.name.removesuffix(".dist-info").rsplit("-", 1)
            found.append(f"{name}=={version}")
    return found


def arm64_wheels(python: str = "3.12") -> dict[str, str]:
    """For each pin of requirements/serving.txt, and each compiled dependency of them: the
    aarch64 wheel pip finds (manylinux2014 first, then the newer glibc tags Amazon Linux 2023 -
    glibc 2.34, the python:3.12 image's - also runs), or 'none'."""
    pins = [line.split("#")[0].strip() for line in (REPO / "requirements" / "serving.txt").read_text().splitlines()]
    named = {p.split("==")[0].replace("-", "_").lower() for p in pins if p}
    pins += [dep for dep in compiled_dependencies() if dep.split("==")[0].lower() not in named]
    tags = [["manylinux2014_aarch64"],
            [f"manylinux_2_{minor}_aarch64" for minor in range(34, 16, -1)]]
    found = {}
    with tempfile.TemporaryDirectory() as tmp:
        for pin in filter(None, pins):
            found[pin] = "none"
            for platforms in tags:
                args = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                        "--python-version", python, "--implementation", "cp", "-d", tmp, pin]
                args += [a for p in platforms for a in ("--platform", p)]
                if subprocess.run(args, capture_output=True, check=False).returncode == 0:
                    name = pin.split("==")[0].replace("-", "_").lower()
                    wheel = next(w.name for w in Path(tmp).glob("*.whl") if w.name.lower().startswith(name))
                    found[pin] = wheel
                    break
    return found


def report(ms: dict[str, float], memory_mb: int, batch_size: int) -> dict:
    rows = {}
    for kind, value in ms.items():
        rows[kind] = {"ms_per_image": round(value, 1),
                      **{f"lambda_{arch}": round(lambda_cost(value, memory_mb, arch), 4) for arch in LAMBDA_GB_SECOND},
                      **{f"bulk_{arch}": round(lambda_cost(value, memory_mb, arch, batch_size)
                                               + bulk_overhead(batch_size), 4) for arch in LAMBDA_GB_SECOND},
                      "images_per_second_at_1000": round(ACCOUNT_CONCURRENCY * 1000 / value),
                      "images_per_hour_at_1000": round(ACCOUNT_CONCURRENCY * 3600 * 1000 / value)}
    return {"memory_mb": memory_mb, "bulk_batch_size": batch_size, "per_1000_images_usd": rows,
            "rekognition_detect_text": REKOGNITION_DETECT_TEXT * 1000,
            "textract_detect_document_text": TEXTRACT_DETECT_DOCUMENT_TEXT * 1000,
            "prices": "US East (N. Virginia) list prices, checked " + PRICES_CHECKED}


def print_table(r: dict, size: dict) -> None:
    print(f"Per 1,000 images, USD ({r['prices']}); Lambda (requests + GB-seconds) at {r['memory_mb']} MB, "
          f"one request per image; a bulk run in batches of {r['bulk_batch_size']}, with its Step Functions "
          "transitions and S3 requests:\n")
    print("| images | ms / image | Lambda x86_64 | Lambda arm64 "
          "| bulk run with Step Functions and S3 requests, x86_64 | arm64 "
          "| Rekognition DetectText | Textract DetectDocumentText | images/s at 1,000 concurrent |")
    print("|---|---|---|---|---|---|---|---|---|")
    names = {"scene": "svt_train street scenes", "crop": "IIIT5K word crops"}
    for kind, row in r["per_1000_images_usd"].items():
        print(f"| {names.get(kind, kind)} | {row['ms_per_image']} | ${row['lambda_x86_64']:.4f} | "
              f"${row['lambda_arm64']:.4f} | ${row['bulk_x86_64']:.4f} | ${row['bulk_arm64']:.4f} | "
              f"${r['rekognition_detect_text']:.2f} | ${r['textract_detect_document_text']:.2f} | "
              f"{row['images_per_second_at_1000']:,} ({row['images_per_hour_at_1000'] / 1e6:.1f} M/h) |")
    print()
    if "error" in size:
        print("image size:", size["error"])
        return
    print(f"The image: {size['added_mb']} MB uncompressed on top of {size['base_image']} "
          + (f"({size['base_image_published_mb']} MB published): {size['total_mb']} MB"
             if size["total_mb"] else "(its published size is not reachable from here)"))
    for part, mb in size["parts_mb"].items():
        print(f"  {mb:7.1f} MB  {part}")
    print("  largest packages: " + ", ".join(f"{k} {v} MB" for k, v in size["largest_packages_mb"].items()))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=data_dir())
    p.add_argument("--scenes", type=int, default=20)
    p.add_argument("--crops", type=int, default=50)
    p.add_argument("--bench", type=Path, help="take the ms from `ocr bench --json` output instead of measuring")
    p.add_argument("--memory", type=int, help="MB (default: template.yaml's MemorySize default)")
    p.add_argument("--arm64-wheels", action="store_true", help="check the serving pins for aarch64 wheels (PyPI)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    defaults = template_defaults()
    started = time.perf_counter()
    ms = from_bench(args.bench) if args.bench else measure(args.data, args.scenes, args.crops)
    result = report(ms, args.memory or int(defaults["MemorySize"]), int(defaults["BulkBatchSize"]))
    result["image"] = image_size()
    if args.arm64_wheels:
        result["arm64_wheels"] = arm64_wheels()
    result["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print_table(result, result["image"])
    if args.arm64_wheels:
        print("\naarch64 wheels for Python 3.12:")
        for pin, wheel in result["arm64_wheels"].items():
            print(f"  {pin:32s} {wheel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

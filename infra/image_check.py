"""Proof that the image content is complete, without Docker.

Builds the Lambda task root as infra/Dockerfile does, into .image-check/: a clean
virtual environment with requirements/serving.txt only (no dev or training packages),
then each of the Dockerfile's COPY instructions mirrored (``copy_as_the_dockerfile``):
layers/ocr_engine to opt/python, the model to opt/model, functions/ to task/, each taken from
the build context that Docker receives (the repository root less what .dockerignore leaves out,
filtered by docker-py's own rules, as ``sam build`` filters it), so a file the context lacks
fails here as it would fail the image build.
Then runs each handler from there in a fresh process (cwd = the task root, no access to
the repository) with the sample events, and reports cold start and warm latency.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOT = REPO / ".image-check"
DOCKERFILE = REPO / "infra" / "Dockerfile"
# Where the Dockerfile's destinations land under a mirrored root; /tmp holds what the image's
# own build steps use (the pip requirements), not the image's content.
DESTINATIONS = {"${LAMBDA_TASK_ROOT}": "task", "/opt/": "opt/"}
LAMBDA_PYTHON = "3.12"  # the Dockerfile's base image, public.ecr.aws/lambda/python:3.12

RUNNER = r"""
import importlib, json, sys, time
from types import SimpleNamespace
t0 = time.perf_counter()
module = importlib.import_module(sys.argv[1])
init_ms = (time.perf_counter() - t0) * 1000
ctx = SimpleNamespace(function_name="f", memory_limit_in_mb=2048, aws_request_id="r",
                      invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:f")
event = json.load(open(sys.argv[2]))
t1 = time.perf_counter(); out = module.handler(event, ctx); first_ms = (time.perf_counter() - t1) * 1000
warm = []
for _ in range(5):
    t = time.perf_counter(); module.handler(event, ctx); warm.append((time.perf_counter() - t) * 1000)
bad = [m for m in ("tensorflow", "keras", "pytest", "moto") if m in sys.modules]
outcomes = out.get("outcomes") or out.get("counts")  # the S3 function's, a bulk batch's
print(json.dumps({"status": out.get("statusCode"), "outcomes": outcomes, "init_ms": init_ms,
                  "first_ms": first_ms, "warm_ms": sorted(warm)[2], "unexpected_modules": bad}))
"""


def dockerfile_copies(dockerfile: Path = DOCKERFILE) -> list[tuple[list[str], str]]:
    """The Dockerfile's COPY instructions: (sources in the build context, destination)."""
    text = dockerfile.read_text().replace("\\\n", " ")
    copies = []
    for line in text.splitlines():
        if line.strip().upper().startswith("COPY "):
            args = [w for w in shlex.split(line, comments=True)[1:] if not w.startswith("--")]
            copies.append((args[:-1], args[-1]))
    return copies


def build_context(dockerfile: Path = DOCKERFILE) -> set[str]:
    """The paths (files and folders, relative, "/"-separated) of the build context Docker is
    sent: ``sam build`` builds with docker-py, which keeps what the root's .dockerignore
    does not exclude (read as docker-py reads it: blank lines and comments dropped)."""
    from docker.utils.build import exclude_paths

    ignore = REPO / ".dockerignore"
    lines = ignore.read_text().splitlines() if ignore.exists() else []
    patterns = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    # Docker always sends the Dockerfile itself, excluded or not.
    inside = dockerfile.is_relative_to(REPO)
    return set(exclude_paths(str(REPO), patterns, dockerfile=str(dockerfile.relative_to(REPO)) if inside else None))


def context_files(source: str, context: set[str]) -> list[str]:
    """The files of ``source`` (a file or a folder) that the build context holds."""
    source = source.rstrip("/")
    inside = [p for p in context if p == source or p.startswith(source + "/")]
    files = sorted(p for p in inside if (REPO / p).is_file())
    if not files:
        raise ValueError(f"COPY {source}: not in the build context (.dockerignore leaves it out)")
    return files


def copy_as_the_dockerfile(root: Path, dockerfile: Path = DOCKERFILE) -> None:
    """Mirrors the image's content under ``root``: each COPY into the image, ``/opt/x`` as
    ``root/opt/x`` and the task root (``${LAMBDA_TASK_ROOT}``) as ``root/task``; a COPY to
    /tmp (a file a build step uses, then removes) is left out. Files come from the build
    context (``build_context``) only: a source the context lacks raises, as the build would fail."""
    context = build_context(dockerfile=dockerfile)
    for sources, destination in dockerfile_copies(dockerfile):
        if destination.startswith("/tmp/"):
            for source in sources:
                context_files(source, context)
            continue
        prefix = next((p for p in DESTINATIONS if destination.startswith(p)), None)
        if prefix is None:
            raise ValueError(f"{dockerfile}: COPY to {destination}: no place for it under the mirrored root")
        target = root / (DESTINATIONS[prefix] + destination[len(prefix):]).strip("/")
        into_folder = destination.endswith("/") or len(sources) > 1
        for source in sources:
            files = context_files(source, context)  # raises for a source the context lacks
            dst = target / Path(source).name if into_folder else target
            for file in files:
                out = dst / Path(file).relative_to(source) if (REPO / source).is_dir() else dst
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(REPO / file, out)


def build() -> Path:
    if ROOT.exists():
        shutil.rmtree(ROOT)
    venv.create(ROOT / "venv", with_pip=True)
    py = ROOT / "venv" / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "-q", "-r", REPO / "requirements" / "serving.txt"], check=True)
    copy_as_the_dockerfile(ROOT)
    return py


def wheels_for_lambda() -> list[str]:
    """Which of the image's architectures lack a wheel of some pin for the image's Python:
    the check's own environment is this machine's Python, not the base image's 3.12."""
    lacking = []
    for arch in ("x86_64", "aarch64"):
        # Amazon Linux 2023 has glibc 2.34: a wheel for any glibc from 2.17 on runs there. pip takes
        # each given platform tag alone, not the older ones it implies, so every one is named.
        platforms = [arg for minor in range(17, 35) for arg in ("--platform", f"manylinux_2_{minor}_{arch}")]
        out = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--dry-run", "--ignore-installed",
                              "--only-binary=:all:", "--python-version", LAMBDA_PYTHON, *platforms,
                              "-r", REPO / "requirements" / "serving.txt"], capture_output=True, text=True, check=False)
        if out.returncode != 0:
            lacking.append(f"{arch}: {out.stderr.strip()[-500:]}")
    return lacking


def run(py: Path, module: str, event: Path, extra_env: dict) -> dict:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "opt" / "python"), "PYTHONNOUSERSITE": "1",
           "OCR_MODEL_DIR": str(ROOT / "opt" / "model"), "AWS_DEFAULT_REGION": "us-east-1",
           "POWERTOOLS_SERVICE_NAME": "ocr", "POWERTOOLS_METRICS_NAMESPACE": "ServerlessOCR",
           "POWERTOOLS_TRACE_DISABLED": "true", "AWS_LAMBDA_FUNCTION_NAME": "image-check", **extra_env}
    out = subprocess.run([py, "-c", RUNNER, module, str(event)], cwd=ROOT / "task", env=env,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{module} failed:\n{out.stderr[-3000:]}")
    return json.loads([line for line in out.stdout.splitlines() if line.startswith('{"status"')][-1])


def _bulk_event_without_images() -> Path:
    """The sample batch less its image: the bulk handler runs, and calls no S3 for a text file."""
    event = json.loads((REPO / "events" / "bulk-batch.json").read_text())
    event["Items"] = [item for item in event["Items"] if item["key"].endswith(".txt")]
    path = ROOT / "bulk-non-image.json"
    path.write_text(json.dumps(event))
    return path


def main() -> int:
    py = build()
    results = {
        "api health": run(py, "functions.api.app", REPO / "events" / "api-health.json", {}),
        "api upload": run(py, "functions.api.app", REPO / "events" / "api-ocr-upload.json", {}),
        # The non-image event needs no S3 call: it proves the S3 handler imports and runs.
        "s3 non-image": run(py, "functions.s3_ocr.app", REPO / "events" / "s3-put-non-image.json",
                            {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}),
        "bulk non-image": run(py, "functions.bulk_ocr.app", _bulk_event_without_images(),
                              {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}),
    }
    ok = True
    for name, r in results.items():
        print(f"{name:14s} status={r['status']} outcomes={r['outcomes']} cold init {r['init_ms']:.0f} ms, "
              f"first {r['first_ms']:.0f} ms, warm {r['warm_ms']:.1f} ms, unexpected modules {r['unexpected_modules']}")
        ok &= not r["unexpected_modules"]
    ok &= results["api health"]["status"] == 200 and results["api upload"]["status"] == 200
    ok &= results["s3 non-image"]["outcomes"] == {"incoming/readme.txt": "skipped"}
    ok &= results["bulk non-image"]["outcomes"].get("skipped") == 1
    lacking = wheels_for_lambda()
    print(f"wheels for Python {LAMBDA_PYTHON}:", "x86_64 and aarch64 both" if not lacking else "; ".join(lacking))
    ok &= not lacking
    print("image-check:", "passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.pop("PYTHONPATH", None)
    sys.exit(main())

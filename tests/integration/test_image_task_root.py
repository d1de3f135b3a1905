"""The Lambda image holds what serving needs and nothing of the tools: its task root, built
as infra/Dockerfile builds it (``infra.image_check.copy_as_the_dockerfile`` mirrors each
COPY), imports every handler the template names, with only that root and the installed
packages on ``sys.path``; ``ocr_tools`` (CLI, evaluation, benchmarks, label files) is not
there, and the engine it ships has no such module of its own."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from infra.image_check import DOCKERFILE, build_context, context_files, copy_as_the_dockerfile, dockerfile_copies
from tests.conftest import REPO

TOOL_MODULES = {"cli", "bench", "evaluate", "labels"}
# The handlers the functions run (template.yaml's ImageConfig commands), as modules.
HANDLERS = sorted({m.rsplit(".", 1)[0] for m in re.findall(r'Command:\s*\["([\w.]+)"\]',
                                                              (REPO / "template.yaml").read_text())})

# Run in a fresh interpreter: -I -S, so no PYTHONPATH, no current folder and no site hooks
# (the editable install's .pth would put the repository's layers/ on the path); then the
# task root and /opt/python as the Lambda runtime has them, and the packages' folder.
PROBE = r"""
import importlib, importlib.util, json, pkgutil, sys
task, opt_python, *packages = sys.argv[1:]
sys.path[:0] = [task, opt_python]
sys.path += packages
handlers = {}
for name in HANDLERS:
    handlers[name] = callable(getattr(importlib.import_module(name), "handler", None))
import ocr_engine
engine_modules = sorted(m.name for m in pkgutil.iter_modules(ocr_engine.__path__))
for name in engine_modules:  # every engine module imports without the tools
    importlib.import_module("ocr_engine." + name)
print(json.dumps({
    "handlers": handlers,
    "ocr_engine_file": ocr_engine.__file__,
    "engine_modules": engine_modules,
    "ocr_tools_importable": importlib.util.find_spec("ocr_tools") is not None,
    "tool_packages_loaded": sorted(m for m in sys.modules if m.split(".")[0] in ("ocr_tools", "tqdm", "model")),
}))
"""


def test_the_dockerfile_copies_the_engine_alone_from_layers():
    from_layers = [s for sources, _ in dockerfile_copies() for s in sources if s.startswith("layers")]
    assert from_layers == ["layers/ocr_engine"], f"{DOCKERFILE} copies {from_layers} from layers/"


def test_the_build_context_is_what_the_image_copies_and_nothing_more():
    """sam build sends the context to Docker whole: without .dockerignore that was the virtual
    environments, checkpoints and caches (gigabytes)."""
    context = build_context()
    for sources, _ in dockerfile_copies():
        for source in sources:
            assert context_files(source, context), source
    top = {p.split("/")[0] for p in context}
    assert top <= {".dockerignore", "infra", "requirements", "layers", "functions", "model"}
    assert {p for p in context if p.startswith("model/")} <= {"model/artifacts", *(f"model/artifacts/{f}" for f in (
        "crnn-int8.tflite", "crnn-int8-single.tflite", "crnn.json", "charlm.npz"))}
    assert not [p for p in context if "__pycache__" in p or p.endswith(".pyc")]
    assert not [p for p in context if p.startswith(("layers/ocr_tools", "infra/")) and p != "infra/Dockerfile"]


def test_a_copy_of_what_the_context_leaves_out_fails_as_the_build_would(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\nCOPY layers/ocr_engine /opt/python/ocr_engine\nCOPY tests /opt/tests\n")
    with pytest.raises(ValueError, match="COPY tests: not in the build context"):
        copy_as_the_dockerfile(tmp_path / "root", dockerfile)


@pytest.fixture(scope="module")
def task_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("image")
    copy_as_the_dockerfile(root)
    return root


@pytest.fixture(scope="module")
def probed(task_root) -> dict:
    assert HANDLERS, "no ImageConfig command found in template.yaml"
    packages = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    env = {"PATH": "/usr/bin:/bin", "OCR_MODEL_DIR": str(task_root / "opt" / "model"),
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "POWERTOOLS_SERVICE_NAME": "ocr", "POWERTOOLS_METRICS_NAMESPACE": "ServerlessOCR",
           "POWERTOOLS_TRACE_DISABLED": "true", "AWS_LAMBDA_FUNCTION_NAME": "image-task-root"}
    code = f"HANDLERS = {HANDLERS!r}\n{PROBE}"
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(task_root / "task"),
                           str(task_root / "opt" / "python"), *packages],
                          cwd=task_root / "task", env=env, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, f"the task root does not import:\n{proc.stderr[-4000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_every_handler_imports_from_the_task_root(probed):
    assert probed["handlers"] == dict.fromkeys(HANDLERS, True)
    assert {"functions.api.app", "functions.s3_ocr.app"} <= set(HANDLERS)


def test_the_engine_comes_from_the_image_not_the_repository(probed, task_root):
    assert Path(probed["ocr_engine_file"]).is_relative_to(task_root / "opt" / "python")


def test_the_tools_are_not_in_the_image(probed):
    assert not probed["ocr_tools_importable"]
    assert probed["tool_packages_loaded"] == []
    assert not TOOL_MODULES & set(probed["engine_modules"]), probed["engine_modules"]
    assert {"pipeline", "config", "recognize"} <= set(probed["engine_modules"])  # the listing is real

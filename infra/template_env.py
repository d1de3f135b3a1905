"""A function's environment as template.yaml hands it to Lambda (the Globals' variables, then
the function's own, ``!Ref`` of a parameter resolved to its default or an override), for the
local runners: a local drop or bulk run reads with the deployed function's limits (the S3 and
bulk functions take 10 MiB images, the engine's default is 3,000,000 bytes)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"
# The container's layout, not a setting: a local run reads the working tree's model.
CONTAINER_ONLY = frozenset({"OCR_MODEL_DIR"})


@functools.cache
def load_template(template: Path = TEMPLATE) -> dict:
    """template.yaml parsed as SAM reads it (intrinsics as ``{"Ref": ...}``), once a process;
    not to be changed by its callers."""
    return yaml_parse(template.read_text())


def parameter_values(overrides: dict[str, str] | None = None, template: Path = TEMPLATE) -> dict[str, str]:
    """Each parameter's value for a local run: its default ("" without one), or its override."""
    params = load_template(template).get("Parameters", {})
    return {name: str(p.get("Default", "")) for name, p in params.items()} | (overrides or {})


def function_environment(logical_id: str, parameters: dict[str, str] | None = None,
                         template: Path = TEMPLATE) -> dict[str, str]:
    parsed = load_template(template)
    values = parameter_values(parameters, template)
    glob = parsed.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    own = parsed["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {})
    out = {}
    for name, value in {**glob, **own}.items():
        resolved = _resolved(value, values)
        if name not in CONTAINER_ONLY and resolved is not None:
            out[name] = resolved
    return out


def _resolved(value: Any, parameters: dict[str, str]) -> str | None:
    """A plain value or a parameter's ``!Ref`` -> text; other intrinsics name deployed
    resources (a queue's URL, a bucket's ARN) that a local run does not have -> None."""
    if isinstance(value, dict):
        ref = value.get("Ref") if len(value) == 1 else None
        return parameters.get(ref) if isinstance(ref, str) else None
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)

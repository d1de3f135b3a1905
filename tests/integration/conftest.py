"""What the integration tests share: the API module; a moto bucket wired into the S3 handler, and its events."""

from __future__ import annotations

import copy
import functools
import json
import urllib.parse

import boto3
import pytest
from moto import mock_aws

from tests.conftest import EVENTS

BUCKET = "ocr-drop-123456789012"


@pytest.fixture(scope="module")
def api():
    """The API function's module (its FastAPI app and Mangum handler), imported once."""
    from functions.api import app as module

    return module


def emf_lines(stdout: str, metric: str) -> list[dict]:
    """The EMF documents (powertools' metric lines) on stdout that carry ``metric``."""
    docs = [json.loads(line) for line in stdout.splitlines() if line.startswith('{"_aws"')]
    return [doc for doc in docs if metric in doc]


def alarm_sees(doc: dict, alarm: str) -> bool:
    """Whether template.yaml's ``alarm`` watches the metric this EMF document publishes: the
    same namespace, name and dimension set, the dimensions' values as the alarm names them."""
    from samtranslator.yaml_helper import yaml_parse

    from tests.conftest import REPO

    props = yaml_parse((REPO / "template.yaml").read_text())["Resources"][alarm]["Properties"]
    wanted = {d["Name"]: d["Value"] for d in props["Dimensions"]}
    return any(directive["Namespace"] == props["Namespace"]
               and props["MetricName"] in {m["Name"] for m in directive["Metrics"]}
               and any(set(dims) == set(wanted) for dims in directive["Dimensions"])
               and all(doc.get(name) == value for name, value in wanted.items())
               for directive in doc["_aws"]["CloudWatchMetrics"])


@functools.cache
def dashboard_rows() -> tuple[list[str], ...]:
    """template.yaml's dashboard metrics, a row each, with CloudWatch's shorthand written out
    ("..." repeats the row above but for the values after it; "." the item above)."""
    import re

    from samtranslator.yaml_helper import yaml_parse

    from tests.conftest import REPO

    body, variables = yaml_parse((REPO / "template.yaml").read_text())["Resources"]["Dashboard"][
        "Properties"]["DashboardBody"]["Fn::Sub"]
    text = re.sub(r"\$\{([^}]+)\}", lambda m: variables.get(m.group(1), "x"), body)
    rows = []
    for widget in json.loads(text)["widgets"]:
        above: list[str] = []
        for row in widget["properties"].get("metrics", []):
            items = [x for x in row if not isinstance(x, dict)]
            if items[:1] == ["..."]:
                items = above[: len(above) - (len(items) - 1)] + items[1:]
            else:
                items = [above[i] if x == "." else x for i, x in enumerate(items)]
            rows.append(above := items)
    return tuple(rows)


def dashboard_sees(doc: dict, metric: str) -> bool:
    """Whether a dashboard row charts ``metric`` as this EMF document publishes it: the same
    namespace and exactly its dimensions, with the document's values."""
    for directive in doc["_aws"]["CloudWatchMetrics"]:
        if metric not in {m["Name"] for m in directive["Metrics"]}:
            continue
        charted = [dict(zip(row[2::2], row[3::2], strict=True)) for row in dashboard_rows()
                   if row[:2] == [directive["Namespace"], metric]]
        if any({name: doc[name] for name in dims} in charted for dims in directive["Dimensions"]):
            return True
    return False


def s3_event(*keys: str) -> dict:
    """The sample S3 put event with a record per key in BUCKET (keys encoded as S3 sends
    them: spaces as +)."""
    sample = json.loads((EVENTS / "s3-put-image.json").read_text())["Records"][0]
    records = []
    for key in keys:
        record = copy.deepcopy(sample)
        record["s3"]["bucket"]["name"] = BUCKET
        record["s3"]["object"]["key"] = urllib.parse.quote_plus(key, safe="/")
        records.append(record)
    return {"Records": records}


@pytest.fixture
def s3(monkeypatch):
    """(moto S3 client with BUCKET, the S3 handler module using that client)."""
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        from functions.common.s3_store import S3Store
        from functions.s3_ocr import app as module

        monkeypatch.setattr(module, "store", S3Store(client))
        yield client, module

"""Bulk OCR: the state machine definition (infra/bulk_ocr.asl.json) run by the local runner
(infra/bulk_local.py) against a moto server, the batch step it invokes, and the summary.

The runner reads the deployed definition with template.yaml's values, so these tests also
hold that the two agree: the batch size, the filter (the S3 handler's own), where results
land (beside each image, as a drop writes them) and where the run's files go.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse

import boto3
import botocore.awsrequest
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer
from samtranslator.yaml_helper import yaml_parse

from functions.common import s3_objects
from functions.common.s3_store import S3Store
from infra import bulk_local
from infra.invoke import context
from infra.local_drop import s3_client
from tests.conftest import REPO
from tests.helpers import RawBody
from tests.integration.conftest import BUCKET, s3_event

SAM = yaml_parse((REPO / "template.yaml").read_text())
VOLATILE = ("timings_ms",)  # differs between two reads, as the source's request_id and processed_at do


@pytest.fixture(scope="module")
def endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(endpoint):
    s3 = s3_client(endpoint)
    s3.create_bucket(Bucket=BUCKET)
    yield s3
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=obj["Key"])
    s3.delete_bucket(Bucket=BUCKET)


def _keys(s3) -> dict[str, object]:
    return {o["Key"]: o["LastModified"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def _json(s3, key: str) -> dict:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def _stable(result: dict) -> dict:
    source = {k: v for k, v in result["source"].items() if k not in ("request_id", "processed_at")}
    return {**{k: v for k, v in result.items() if k not in VOLATILE}, "source": source}


# -- the definition and the runner agree ------------------------------------------------------
def test_the_runner_fills_every_placeholder_from_the_template_and_nothing_else():
    subs = bulk_local.substitutions("b")
    placeholders = set(re.findall(r"\$\{(\w+)\}", bulk_local.DEFINITION.read_text()))
    assert set(subs) == placeholders == set(SAM["Resources"]["BulkOcrStateMachine"]["Properties"]
                                            ["DefinitionSubstitutions"])
    params = SAM["Parameters"]
    definition = bulk_local.load_definition(subs)
    data = bulk_local.evaluate(definition["States"]["Settings"]["Parameters"], {"prefix": "p/"})
    assert data == {"prefix": "p/", "batch_size": int(params["BulkBatchSize"]["Default"]),
                    "max_concurrency": int(params["BulkMaxConcurrency"]["Default"]),
                    "tolerated_failure_percentage": params["BulkToleratedFailurePercentage"]["Default"]}
    ocr = definition["States"]["OcrObjects"]
    assert bulk_local._path(ocr["ItemBatcher"]["MaxItemsPerBatchPath"], data, {}) == data["batch_size"]
    assert bulk_local._path(ocr["MaxConcurrencyPath"], data, {}) == data["max_concurrency"]
    # The Map's task invokes the bulk function; the runner runs that function's own handler.
    command = SAM["Resources"]["BulkOcrFunction"]["Properties"]["ImageConfig"]["Command"][0]
    assert subs["BulkFunctionArn"] == f"local:{command}" == "local:functions.bulk_ocr.app.handler"
    assert bulk_local.load_definition(bulk_local.substitutions("b", {"BulkBatchSize": "3"})) \
        ["States"]["Settings"]["Parameters"]["batch_size.$"] == "States.StringToJson('3')"


def test_drops_and_bulk_runs_share_one_filter_and_one_result_key():
    from functions.bulk_ocr import app as bulk_app
    from functions.common import bulk
    from functions.s3_ocr import app as drop_app

    events = SAM["Resources"]["S3OcrFunction"]["Properties"]["Events"].values()
    triggers = {r["Value"] for e in events for r in e["Properties"]["Filter"]["S3Key"]["Rules"]}
    assert triggers == {s for suffix in s3_objects.IMAGE_SUFFIXES for s in (suffix, suffix.upper())}
    assert bulk.is_candidate is s3_objects.is_candidate
    assert bulk.process_object is s3_objects.process_object  # the very same per-object logic
    assert drop_app.process_records.__module__ == "functions.common.s3_objects"  # which the drops' records go to
    assert bulk_app.handler.__module__ == "functions.bulk_ocr.app"


@pytest.mark.parametrize(("execution_input", "prefix"), [
    ({"prefix": "scans/"}, "scans/"), ({"prefix": ""}, ""),
    ({}, ""), ({"Comment": "Insert your JSON here"}, ""),  # the console's sample input
])
def test_an_input_without_a_prefix_reads_the_whole_bucket(execution_input, prefix):
    """``$.prefix`` missing failed the execution (States.Runtime) and fired BulkFailedAlarm."""
    definition = bulk_local.load_definition(bulk_local.substitutions(BUCKET))
    data = bulk_local.input_at(definition["States"], definition["StartAt"], execution_input, stop="Settings")
    assert data["prefix"] == prefix
    assert bulk_local.evaluate(definition["States"]["Settings"]["Parameters"], data)["prefix"] == prefix


@pytest.mark.parametrize("prefix", [None, 5, ["scans/"], {"a": 1}])
def test_a_prefix_that_is_not_text_is_refused_before_any_listing(prefix):
    definition = bulk_local.load_definition(bulk_local.substitutions(BUCKET))
    with pytest.raises(bulk_local.ExecutionFailed) as failed:
        bulk_local.input_at(definition["States"], definition["StartAt"], {"prefix": prefix}, stop="Settings")
    assert failed.value.error == "InvalidInput" and "must be text" in failed.value.cause


# -- a run against a local bucket ---------------------------------------------------------------
def _run(s3, endpoint: str, execution_input: dict | None = None, **overrides: str) -> dict:
    out = bulk_local.run_state_machine(s3, BUCKET, {"prefix": "p/"} if execution_input is None else execution_input,
                                       endpoint, workers=2, overrides=overrides, progress=False)
    assert out["status"] == "SUCCEEDED", out
    return out["summary"]


def test_a_bulk_run_writes_what_a_drop_writes_and_a_second_run_reads_nothing(bucket, endpoint, data_dir,
                                                                             monkeypatch):
    s3 = bucket
    scene = (data_dir / "svt_train/images/14_03.jpg").read_bytes()
    word = (data_dir / "iiit5k/test/1002_1.png").read_bytes()
    objects = {"p/Shop Sign é.jpg": scene, "p/sub/word.PNG": word, "p/broken.png": b"\x89PNG\r\n\x1a\n broken",
               "p/notes.txt": b"not an image", "other/outside.jpg": word}
    for key, body in objects.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)

    # What a drop writes for the scene (the S3 handler, on its ObjectCreated event) ...
    from functions.s3_ocr import app as drop

    monkeypatch.setattr(drop, "store", S3Store(s3))
    assert drop.handler(s3_event("p/Shop Sign é.jpg"), context("s3_ocr"))["outcomes"] == {"p/Shop Sign é.jpg": "done"}
    dropped = _json(s3, "p/Shop Sign é.jpg.ocr.json")
    s3.delete_object(Bucket=BUCKET, Key="p/Shop Sign é.jpg.ocr.json")

    # ... is what the bulk run writes: the same file, beside each image, for images only.
    summary = _run(s3, endpoint, BulkBatchSize="3")
    assert summary["images"] == {"done": 2, "refused": 1, "current": 0, "skipped": 1, "dropped": 0, "error": 0}
    assert summary["listed"] == 4 and summary["refused"] == ["p/broken.png"]
    assert summary["batches"] == {"succeeded": math.ceil(4 / 3), "failed": 0}  # the ItemBatcher's size
    keys = _keys(s3)
    results = {k for k in keys if k.endswith(".ocr.json")}
    assert results == {"p/Shop Sign é.jpg.ocr.json", "p/sub/word.PNG.ocr.json", "p/broken.png.ocr.json"}
    assert _stable(_json(s3, "p/Shop Sign é.jpg.ocr.json")) == _stable(dropped)
    assert _json(s3, "p/broken.png.ocr.json")["error"]["code"] == "invalid_image"

    # The ResultWriter's export and the summary, beside each other under bulk-runs/<run>/.
    folder = summary["summary_key"].rsplit("/", 1)[0]
    assert folder.startswith("bulk-runs/")
    assert {k.rsplit("/", 1)[1] for k in keys if k.startswith(folder)} == {"manifest.json", "SUCCEEDED_0.json",
                                                                             "summary.json"}
    assert _json(s3, summary["summary_key"])["images"] == summary["images"]
    assert len(_json(s3, folder + "/SUCCEEDED_0.json")) == 2

    # Again: every result is newer than its image, so nothing is read and nothing rewritten.
    again = _run(s3, endpoint)
    assert again["images"] == {"done": 0, "refused": 0, "current": 3, "skipped": 4, "dropped": 0, "error": 0}
    assert {k: v for k, v in _keys(s3).items() if k in results} == {k: keys[k] for k in results}

    # A replaced image is read again (its result is older, or was read from other bytes).
    s3.put_object(Bucket=BUCKET, Key="p/sub/word.PNG", Body=scene)
    third = _run(s3, endpoint)
    assert (third["images"]["done"], third["images"]["current"]) == (1, 2)
    assert _json(s3, "p/sub/word.PNG.ocr.json")["image_size"] == {"width": 1280, "height": 880}

    # An input without a prefix reads the whole bucket: the image outside p/ too.
    whole = _run(s3, endpoint, execution_input={})
    assert whole["prefix"] == "" and (whole["images"]["done"], whole["images"]["current"]) == (1, 3)
    assert "other/outside.jpg.ocr.json" in _keys(s3)


def test_an_empty_prefix_is_a_run_with_nothing_to_read(bucket, endpoint):
    summary = _run(bucket, endpoint)
    assert summary["listed"] == 0 and summary["batches"] == {"succeeded": 0, "failed": 0}


# -- the batch step and the summary, in process ---------------------------------------------------
@pytest.fixture
def mocked():
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client


RUN_1, RUN_2 = (f"arn:aws:states:us-east-1:123456789012:execution:ocr-bulk:run-{n}" for n in (1, 2))


def _items(s3, run: str = RUN_1) -> list[dict]:
    """The bucket's objects through the definition's own ItemSelector, as one run lists them."""
    selector = bulk_local.load_definition(bulk_local.substitutions(BUCKET))["States"]["OcrObjects"]["ItemSelector"]
    return [bulk_local.evaluate(selector, {}, {"Map": {"Item": {"Value": item, "Index": i}}, "Execution": {"Id": run}})
            for i, item in enumerate(bulk_local.list_items(s3, BUCKET, ""))]


def _deny_gets_of(s3, name: str, times: int) -> None:
    """The first ``times`` GETs of the object ``name`` answered 403 AccessDenied: a transient
    fault to the bulk function (not one S3 drops for good), and one botocore does not retry."""
    left = {"n": times}

    def before_send(request, **_):
        if left["n"] and urllib.parse.unquote(request.url).endswith(f"/{name}"):
            left["n"] -= 1
            body = b"<Error><Code>AccessDenied</Code><Message>injected</Message></Error>"
            return botocore.awsrequest.AWSResponse(request.url, 403, {}, RawBody(body))
        return None

    s3.meta.events.register("before-send.s3.GetObject", before_send)


def test_a_transient_fault_fails_the_batch_after_the_others_and_the_retry_reads_only_it(mocked, data_dir):
    from ocr_engine.pipeline import get_engine

    from functions.common.bulk import BatchFailed, process_batch

    word = (data_dir / "iiit5k/test/1002_1.png").read_bytes()
    for key in ("a.png", "flaky.png", "c.png"):
        mocked.put_object(Bucket=BUCKET, Key=key, Body=word)
    event = {"BatchInput": {"bucket": BUCKET}, "Items": _items(mocked)}
    _deny_gets_of(mocked, "flaky.png", 1)  # the first attempt's; the state machine's retry then reads it
    with pytest.raises(BatchFailed, match="1 of 3 object"):
        process_batch(S3Store(mocked), get_engine(), event, "r1")
    assert {"a.png.ocr.json", "c.png.ocr.json"} <= set(_keys(mocked)) and "flaky.png.ocr.json" not in _keys(mocked)
    out = process_batch(S3Store(mocked), get_engine(), event, "r2")
    # The two results of the first attempt are this run's readings, counted as such.
    assert (out["counts"]["done"], out["counts"]["current"]) == (3, 0)
    rerun = {**event, "Items": _items(mocked, run=RUN_2)}
    assert process_batch(S3Store(mocked), get_engine(), rerun, "r3")["counts"]["current"] == 3


# An execution may be named in any script: its id, which S3 metadata cannot carry, marked hashed.
@pytest.mark.parametrize("run", [RUN_1, "arn:aws:states:us-east-1:123456789012:execution:ocr-bulk:relecture-été"])
def test_a_retried_batch_still_counts_and_names_what_its_first_attempt_refused(mocked, data_dir, run):
    """The retry of a batch met the first attempt's results and counted them all 'current': the
    run's summary said 0 refused, and no later summary ever named the refused image."""
    from ocr_engine.pipeline import get_engine

    from functions.common.bulk import BatchFailed, process_batch

    mocked.put_object(Bucket=BUCKET, Key="good.png", Body=(data_dir / "iiit5k/test/1002_1.png").read_bytes())
    mocked.put_object(Bucket=BUCKET, Key="corrupt.png", Body=b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    mocked.put_object(Bucket=BUCKET, Key="flaky.png", Body=(data_dir / "iiit5k/test/1002_1.png").read_bytes())
    event = {"BatchInput": {"bucket": BUCKET}, "Items": _items(mocked, run)}
    _deny_gets_of(mocked, "flaky.png", 1)
    with pytest.raises(BatchFailed):
        process_batch(S3Store(mocked), get_engine(), event, "r1")
    out = process_batch(S3Store(mocked), get_engine(), event, "r2")
    assert (out["counts"]["done"], out["counts"]["refused"], out["refused"]) == (2, 1, ["corrupt.png"])


def test_the_summary_counts_failed_batches_by_their_objects(mocked):
    from functions.common.bulk import summarize

    ok = {"Status": "SUCCEEDED", "Input": "{}", "Output": json.dumps(
        {"counts": {"done": 2, "refused": 1, "current": 0, "skipped": 3, "dropped": 0, "error": 0},
         "refused": ["p/bad.png"], "dropped": []})}
    failed = {"Status": "FAILED", "Error": "BatchFailed", "Cause": "…",
              "Input": json.dumps({"BatchInput": {"bucket": BUCKET}, "Items": [{"key": "x"}, {"key": "y"}]})}
    mocked.put_object(Bucket=BUCKET, Key="bulk-runs/r/SUCCEEDED_0.json", Body=json.dumps([ok, ok]))
    mocked.put_object(Bucket=BUCKET, Key="bulk-runs/r/FAILED_0.json", Body=json.dumps([failed]))
    manifest = {"DestinationBucket": BUCKET, "MapRunArn": "arn:aws:states:::mapRun:m/r",
                "ResultFiles": {"SUCCEEDED": [{"Key": "bulk-runs/r/SUCCEEDED_0.json"}],
                                "FAILED": [{"Key": "bulk-runs/r/FAILED_0.json"}], "PENDING": []}}
    mocked.put_object(Bucket=BUCKET, Key="bulk-runs/r/manifest.json", Body=json.dumps(manifest))
    out = summarize(S3Store(mocked), BUCKET, "bulk-runs/r/manifest.json", "p/")
    assert out["images"]["done"] == 4 and out["images"]["skipped"] == 6 and out["refused"] == ["p/bad.png"] * 2
    assert out["batches"] == {"succeeded": 2, "failed": 1} and out["objects_in_failed_batches"] == 2
    assert out["listed"] == 14 and out["summary_key"] == "bulk-runs/r/summary.json"
    assert json.loads(mocked.get_object(Bucket=BUCKET, Key="bulk-runs/r/summary.json")["Body"].read())["prefix"] == "p/"


def test_an_image_too_large_to_read_is_current_on_the_next_run(mocked):
    """A listing's ETag has quotes; the error result records it without, and a re-run must
    match the two (it read and rewrote the refused image on every run)."""
    from dataclasses import replace

    from ocr_engine.pipeline import OcrEngine, get_engine

    from functions.common.bulk import process_batch

    shipped = get_engine()
    engine = OcrEngine(replace(shipped.settings, max_image_bytes=1000), shipped.recognizer, shipped.lm)
    mocked.put_object(Bucket=BUCKET, Key="big.png", Body=b"\x89PNG\r\n\x1a\n" + b"\0" * 5000)
    event = {"BatchInput": {"bucket": BUCKET}, "Items": _items(mocked)}
    assert event["Items"][0]["etag"].startswith('"')
    first = process_batch(S3Store(mocked), engine, event, "r1")
    assert first["counts"]["refused"] == 1 and first["refused"] == ["big.png"]
    next_run = _items(mocked, run=RUN_2)
    event = {"BatchInput": {"bucket": BUCKET}, "Items": [i for i in next_run if i["key"] == "big.png"]}
    again = process_batch(S3Store(mocked), engine, event, "r2")
    assert again["counts"]["current"] == 1 and again["counts"]["refused"] == 0


@pytest.mark.parametrize("event", [
    {"Items": []},
    {"BatchInput": {"bucket": ""}, "Items": []},
    {"BatchInput": "b", "Items": []},
    {"BatchInput": {"bucket": BUCKET}},
    {"BatchInput": {"bucket": BUCKET}, "Items": "a.png"},
    {"BatchInput": {"bucket": BUCKET}, "Items": None},
], ids=["no batch input", "empty bucket", "batch input not an object", "no items", "items a string", "items null"])
def test_an_event_that_is_not_a_batch_is_refused_before_any_object_is_touched(mocked, event):
    from ocr_engine.pipeline import get_engine

    from functions.common.bulk import MalformedBatch, process_batch

    with pytest.raises(MalformedBatch):  # not BatchFailed: the state machine does not retry it
        process_batch(S3Store(mocked), get_engine(), event, "r")


def test_items_without_a_key_are_errors_named_in_the_answer_and_the_others_are_read(mocked, data_dir):
    from ocr_engine.pipeline import get_engine

    from functions.common.bulk import process_batch

    mocked.put_object(Bucket=BUCKET, Key="a.png", Body=(data_dir / "iiit5k/test/1002_1.png").read_bytes())
    items = [{"etag": "x"}, "c.png", {"key": 7}, *_items(mocked)]
    out = process_batch(S3Store(mocked), get_engine(), {"BatchInput": {"bucket": BUCKET}, "Items": items}, "r")
    assert out["counts"]["error"] == 3 and out["counts"]["done"] == 1
    assert out["error"] == ["{'etag': 'x'}", "c.png", "{'key': 7}"]
    assert "a.png.ocr.json" in _keys(mocked)


@pytest.mark.parametrize("event", [
    {"summarize": None},
    {"summarize": "manifest.json"},
    {"summarize": {"Bucket": BUCKET}},
    {"summarize": {"Key": "manifest.json"}},
    {"summarize": {"Bucket": BUCKET, "Key": 7}},
    {"summarize": {"Bucket": BUCKET, "Key": "manifest.json"}, "prefix": None},
], ids=["null", "a string", "no key", "no bucket", "key a number", "prefix null"])
def test_a_summary_event_without_its_manifest_is_refused_with_what_it_needs(mocked, event):
    from functions.common.bulk import MalformedBatch, summary_request

    with pytest.raises(MalformedBatch, match="a summary needs"):
        summary_request(event)


def test_a_summary_event_names_its_bucket_manifest_and_prefix():
    from functions.common.bulk import summary_request

    event = {"summarize": {"Bucket": BUCKET, "Key": "runs/manifest.json"}, "prefix": "p/"}
    assert summary_request(event) == (BUCKET, "runs/manifest.json", "p/")
    assert summary_request({"summarize": {"Bucket": BUCKET, "Key": "m.json"}}) == (BUCKET, "m.json", "")


def test_a_manifest_at_the_bucket_root_gets_its_summary_beside_it(mocked):
    from functions.common.bulk import summarize

    mocked.put_object(Bucket=BUCKET, Key="manifest.json", Body=json.dumps({"ResultFiles": {}}))
    assert summarize(S3Store(mocked), BUCKET, "manifest.json", "")["summary_key"] == "summary.json"


@pytest.mark.parametrize("given, message", [
    (["BulkBatchSize=-1"], "is a whole number between 1 and 40"),
    (["BulkBatchSize=0"], "is a whole number between 1 and 40"),
    (["BulkBatchSize=41"], "is a whole number between 1 and 40"),
    (["BulkBatchSize=abc"], "is a whole number between 1 and 40"),
    # CloudFormation's Number took these; the Map refuses 10.5, StringToJson 010, as a run starts.
    (["BulkBatchSize=10.5"], "is a whole number between 1 and 40"),
    (["BulkBatchSize=010"], "is a whole number between 1 and 40"),
    (["BulkMaxConcurrency=2.5"], "is a whole number between 1 and 10000"),
    (["BulkMaxConcurrency=10001"], "is a whole number between 1 and 10000"),
    (["BulkToleratedFailurePercentage=abc"], "is a number"),
    (["BulkBatchSize"], "expected NAME=VALUE"),
    (["BulkBatchsize=5"], "no parameter 'BulkBatchsize'"),
])
def test_a_setting_the_template_would_refuse_stops_a_local_run_before_it_starts(given, message):
    with pytest.raises(SystemExit, match=message):
        bulk_local.parameter_overrides(given)


def test_a_valid_setting_is_taken():
    assert bulk_local.parameter_overrides(["BulkBatchSize=40", "BulkMaxConcurrency=10000"]) == {
        "BulkBatchSize": "40", "BulkMaxConcurrency": "10000"}


def test_local_runs_read_with_the_deployed_functions_variables():
    from infra.template_env import function_environment

    for function in ("S3OcrFunction", "BulkOcrFunction"):  # 10 MiB, not the engine's 3,000,000 bytes
        assert function_environment(function)["OCR_MAX_IMAGE_BYTES"] == "10485760"
    api = function_environment("ApiFunction", {"BeamWidth": "3"})
    assert "OCR_MAX_IMAGE_BYTES" not in api and api["OCR_BEAM_WIDTH"] == "3"
    assert "OCR_MODEL_DIR" not in api  # the container's path: a local run reads the tree's model


@pytest.mark.parametrize("value", ["nan", " 5", "1_0", "5e0", "inf"])
def test_a_number_is_written_as_cloudformation_writes_one(value):
    with pytest.raises(SystemExit, match="is a number"):
        bulk_local.parameter_overrides([f"BulkToleratedFailurePercentage={value}"])
    with pytest.raises(SystemExit, match="is a whole number"):
        bulk_local.parameter_overrides([f"BulkBatchSize={value}"])


def test_a_result_written_with_a_quoted_etag_is_still_current(mocked):
    """Results of refused images written before the fix kept a listing's quotes."""
    from datetime import UTC, datetime

    from functions.common.s3_objects import current_result

    store = S3Store(mocked)
    store.write_result(BUCKET, "a.png.ocr.json", b"{}", '"d41d8cd98f00b204e9800998ecf8427e"', "refused")
    since = datetime(2000, 1, 1, tzinfo=UTC)
    assert current_result(store, BUCKET, "a.png", since, "d41d8cd98f00b204e9800998ecf8427e")
    assert current_result(store, BUCKET, "a.png", since, '"d41d8cd98f00b204e9800998ecf8427e"')
    assert current_result(store, BUCKET, "a.png", since, "0cc175b9c0f1b6a831c399e269772661") is None


def test_a_key_too_long_for_its_result_is_dropped_not_a_failed_batch(mocked, data_dir):
    """S3 answers a HEAD of a key over 1,024 bytes 400 with no body (moto: 404); a bulk run
    asked for such an image's result before dropping it, and failed the batch on every run."""
    from ocr_engine.pipeline import get_engine

    from functions.common.bulk import process_batch

    word = (data_dir / "iiit5k/test/1002_1.png").read_bytes()
    too_long = "in/" + "é" * 504 + "x.png"  # 1,016 bytes: its result's key would be 1,025
    for key in ("a.png", too_long):
        mocked.put_object(Bucket=BUCKET, Key=key, Body=word)

    def as_s3_answers(request, **_):
        path = urllib.parse.unquote(urllib.parse.urlsplit(request.url).path).removeprefix(f"/{BUCKET}")
        if len(path.removeprefix("/").encode()) > 1024:
            return botocore.awsrequest.AWSResponse(request.url, 400, {}, RawBody(b""))
        return None

    mocked.meta.events.register("before-send.s3.HeadObject", as_s3_answers)
    event = {"BatchInput": {"bucket": BUCKET}, "Items": _items(mocked)}
    out = process_batch(S3Store(mocked), get_engine(), event, "r1")
    assert (out["counts"]["done"], out["counts"]["dropped"], out["dropped"]) == (1, 1, [too_long])


def test_an_image_a_bug_refused_is_read_again_by_the_next_run_not_by_a_retry(mocked, data_dir, monkeypatch):
    """Its internal_error result counted 'current' forever: after the bug's fix, re-runs skipped it."""
    from ocr_engine.pipeline import get_engine

    from functions.common.bulk import process_batch

    engine = get_engine()
    mocked.put_object(Bucket=BUCKET, Key="w.png", Body=(data_dir / "iiit5k/test/1002_1.png").read_bytes())
    read = engine.read

    def bug(*_args, **_kwargs):
        raise TypeError("a bug")

    monkeypatch.setattr(engine, "read", bug)
    event = {"BatchInput": {"bucket": BUCKET}, "Items": _items(mocked)}
    assert process_batch(S3Store(mocked), engine, event, "r1")["refused"] == ["w.png"]
    monkeypatch.setattr(engine, "read", read)  # the fix
    retry = process_batch(S3Store(mocked), engine, event, "r2")  # the same run: counted as it was
    assert (retry["counts"]["refused"], retry["counts"]["done"]) == (1, 0)
    next_run = {**event, "Items": _items(mocked, run=RUN_2)}
    assert process_batch(S3Store(mocked), engine, next_run, "r3")["counts"]["done"] == 1
    assert "words" in json.loads(mocked.get_object(Bucket=BUCKET, Key="w.png.ocr.json")["Body"].read())

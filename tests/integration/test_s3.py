"""The S3 function against moto: drop an image, get <key>.ocr.json next to it."""

from __future__ import annotations

import json
import urllib.parse

import botocore.awsrequest
import pytest

from infra.invoke import context
from tests.conftest import EVENTS
from tests.helpers import RawBody
from tests.integration.conftest import BUCKET, alarm_sees, dashboard_sees, emf_lines, s3_event

CONTEXT = context("s3_ocr")


def keys(client) -> set[str]:
    return {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_photo_with_spaces_and_unicode_gets_a_result_next_to_it(s3, data_dir, capsys):
    client, module = s3
    scene = data_dir / "svt_train" / "images" / "14_03.jpg"
    key = "incoming/Shop Sign é.JPG"
    client.put_object(Bucket=BUCKET, Key=key, Body=scene.read_bytes())
    out = module.handler(s3_event(key), CONTEXT)
    assert out["outcomes"] == {key: "done"}
    result = json.loads(client.get_object(Bucket=BUCKET, Key=key + ".ocr.json")["Body"].read())
    assert result["source"]["bucket"] == BUCKET and result["source"]["key"] == key
    assert result["image_size"] == {"width": 1280, "height": 880}
    assert result["words"] and result["source"]["processed_at"] and result["source"]["request_id"]
    assert set(result) == {"schema_version", "filename", "image_size", "words", "full_text", "timings_ms", "model",
                           "source"} and result["filename"] == "Shop Sign é.JPG"
    emf = [line for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert any('"ImagesProcessed"' in line and '"s3_ocr"' in line for line in emf)
    docs = [json.loads(line) for line in emf]
    for metric in ("ImagesProcessed", "InferenceMs"):  # charted by the dimensions they carry
        assert any(dashboard_sees(doc, metric) for doc in docs if metric in doc), metric


@pytest.mark.parametrize("event_file", ["s3-put-non-image.json", "s3-put-result-json.json"])
def test_non_images_and_our_own_results_produce_nothing(s3, event_file):
    client, module = s3
    event = json.loads((EVENTS / event_file).read_text())
    event["Records"][0]["s3"]["bucket"]["name"] = BUCKET
    key = urllib.parse.unquote_plus(event["Records"][0]["s3"]["object"]["key"])
    client.put_object(Bucket=BUCKET, Key=key, Body=b"{}")
    before = keys(client)
    assert module.handler(event, CONTEXT)["outcomes"] == {key: "skipped"}
    assert keys(client) == before


def test_corrupt_image_gets_an_error_result_not_a_retry(s3):
    client, module = s3
    client.put_object(Bucket=BUCKET, Key="bad.png", Body=b"\x89PNG\r\n\x1a\n broken")
    assert module.handler(s3_event("bad.png"), CONTEXT)["outcomes"] == {"bad.png": "refused"}
    result = json.loads(client.get_object(Bucket=BUCKET, Key="bad.png.ocr.json")["Body"].read())
    assert result["error"]["code"] == "invalid_image"
    assert set(result) == {"schema_version", "filename", "error", "source"} and result["filename"] == "bad.png"


def _fail_gets_of(client, key: str, code: str = "AccessDenied", status: int = 403) -> None:
    """Every GetObject of ``key`` answers an S3 error (AccessDenied: not retried by the client)."""
    quoted = urllib.parse.quote(key)

    def before_send(request, **_):
        if urllib.parse.unquote(request.url).endswith("/" + key) or request.url.endswith("/" + quoted):
            body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
            return botocore.awsrequest.AWSResponse(request.url, status, {}, RawBody(body))
        return None

    client.meta.events.register("before-send.s3.GetObject", before_send)


def _result(client, key: str) -> dict:
    return json.loads(client.get_object(Bucket=BUCKET, Key=key + ".ocr.json")["Body"].read())


def _emf(capsys) -> str:
    return "\n".join(line for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"'))


def test_a_transient_fault_fails_the_event_after_every_other_record_had_its_turn(s3, data_dir):
    client, module = s3
    word = (data_dir / "iiit5k/test/1002_1.png").read_bytes()
    for key in ("a.png", "flaky.png", "c.png"):
        client.put_object(Bucket=BUCKET, Key=key, Body=word)
    client.put_object(Bucket=BUCKET, Key="bad.png", Body=b"\x89PNG\r\n\x1a\n broken")
    _fail_gets_of(client, "flaky.png")
    with pytest.raises(module.RecordFailed, match="1 record") as info:
        module.handler(s3_event("a.png", "flaky.png", "bad.png", "c.png"), CONTEXT)
    assert "flaky.png" in str(info.value) and "a.png" not in str(info.value)
    assert "words" in _result(client, "a.png") and "words" in _result(client, "c.png")
    assert _result(client, "bad.png")["error"]["code"] == "invalid_image"
    assert "flaky.png.ocr.json" not in keys(client)


def test_bad_images_in_a_batch_get_their_error_and_the_others_their_results(s3, data_dir):
    client, module = s3
    from tests.hostile_corpus import corpus

    cases = {c.name: c for c in corpus()}
    batch = {"good.png": (data_dir / "iiit5k/test/1002_1.png").read_bytes(),
             "crafted.jpg": cases["EXIF with a RATIONAL tag stored as ASCII"].data,
             "short.jpg": cases["JPEG claiming 19999x1999 in a few hundred bytes"].data,
             "cut.png": cases["truncated PNG"].data,
             "bomb.png": cases["decompression bomb (tiny file, 15000x15000)"].data}
    for key, body in batch.items():
        client.put_object(Bucket=BUCKET, Key=key, Body=body)
    out = module.handler(s3_event(*batch), CONTEXT)
    assert out["outcomes"] == {"good.png": "done", "crafted.jpg": "done", "short.jpg": "refused",
                               "cut.png": "refused", "bomb.png": "refused"}
    assert _result(client, "crafted.jpg")["image_size"] == {"width": 20, "height": 60}  # EXIF rotation applied
    assert _result(client, "short.jpg")["error"]["code"] == "invalid_image"
    assert _result(client, "bomb.png")["error"]["code"] == "image_too_large"


def test_an_unexpected_error_reading_one_image_is_its_error_result_not_a_retry(s3, data_dir, monkeypatch, capsys):
    client, module = s3
    word = (data_dir / "iiit5k/test/1002_1.png").read_bytes()
    client.put_object(Bucket=BUCKET, Key="a.png", Body=word)
    client.put_object(Bucket=BUCKET, Key="boom.png", Body=word + b"\0")
    read = module.engine.read

    def read_or_fail(data, *args):
        if data.endswith(b"\0"):
            raise TypeError("a bug")
        return read(data, *args)

    monkeypatch.setattr(module.engine, "read", read_or_fail)
    out = module.handler(s3_event("boom.png", "a.png"), CONTEXT)
    assert out["outcomes"] == {"boom.png": "refused", "a.png": "done"}
    assert _result(client, "boom.png")["error"]["code"] == "internal_error"
    # The invocation succeeds (Lambda counts no error): the bug's own metric is what alarms.
    (bug,) = emf_lines(capsys.readouterr().out, "InternalErrors")
    assert bug["InternalErrors"] == [1.0] and alarm_sees(bug, "InternalErrorsAlarm")
    assert dashboard_sees(bug, "InternalErrors")


def test_a_missing_object_is_dropped_and_counted_not_retried(s3, data_dir, capsys):
    client, module = s3
    client.put_object(Bucket=BUCKET, Key="a.png", Body=(data_dir / "iiit5k/test/1002_1.png").read_bytes())
    out = module.handler(s3_event("missing.png", "a.png"), CONTEXT)
    assert out["outcomes"] == {"missing.png": "dropped", "a.png": "done"}
    assert keys(client) == {"a.png", "a.png.ocr.json"}
    emf = _emf(capsys)
    assert '"RecordsDropped":[1.0]' in emf and '"Errors"' not in emf  # counted apart: no alarm for it
    (dropped,) = emf_lines(emf, "RecordsDropped")
    assert dashboard_sees(dropped, "RecordsDropped")


@pytest.mark.parametrize("bucket", ["Bad Bucket", "b" * 300, "arn:aws:s3:::x"])
def test_a_bucket_no_bucket_can_be_called_is_dropped_not_retried(s3, data_dir, capsys, bucket):
    client, module = s3
    client.put_object(Bucket=BUCKET, Key="a.png", Body=(data_dir / "iiit5k/test/1002_1.png").read_bytes())
    event = s3_event("b.png", "a.png")
    event["Records"][0]["s3"]["bucket"]["name"] = bucket
    out = module.handler(event, CONTEXT)  # a retry could not help: the event does not fail
    assert out["outcomes"] == {"b.png": "dropped", "a.png": "done"}
    assert keys(client) == {"a.png", "a.png.ocr.json"}
    assert '"RecordsDropped":[1.0]' in _emf(capsys)


def test_a_key_too_long_for_its_result_is_dropped_without_fetching_it(s3, data_dir, capsys):
    client, module = s3
    word = (data_dir / "iiit5k/test/1002_1.png").read_bytes()
    fits = "in/" + "é" * 504 + ".png"  # 1,015 bytes: the result's key is exactly 1,024
    too_long = "in/" + "é" * 504 + "x.png"  # 1,016 bytes
    assert len(fits.encode()) + len(".ocr.json") == 1024
    for key in (fits, too_long):
        client.put_object(Bucket=BUCKET, Key=key, Body=word)
    gets = []
    client.meta.events.register("before-send.s3.GetObject", lambda request, **_: gets.append(request.url))
    out = module.handler(s3_event(fits, too_long), CONTEXT)
    assert out["outcomes"] == {fits: "done", too_long: "dropped"}
    assert len(gets) == 1 and keys(client) == {fits, too_long, fits + ".ocr.json"}
    assert '"RecordsDropped":[1.0]' in _emf(capsys)


@pytest.fixture
def versioned(s3):
    client, module = s3
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client, module


def _versioned_event(key: str, version_id: str) -> dict:
    event = s3_event(key)
    event["Records"][0]["s3"]["object"]["versionId"] = version_id
    return event


def test_an_image_deleted_before_processing_gets_no_result(versioned, data_dir):
    client, module = versioned
    version = client.put_object(Bucket=BUCKET, Key="gone.png",
                                Body=(data_dir / "iiit5k/test/1002_1.png").read_bytes())["VersionId"]
    client.delete_object(Bucket=BUCKET, Key="gone.png")  # a delete marker: the version itself is still there
    out = module.handler(_versioned_event("gone.png", version), CONTEXT)
    assert out["outcomes"] == {"gone.png": "dropped"}
    assert keys(client) == set()


def test_an_image_replaced_before_processing_leaves_the_result_to_the_new_version(versioned, data_dir):
    client, module = versioned
    word = (data_dir / "iiit5k/test/1002_1.png").read_bytes()
    old = client.put_object(Bucket=BUCKET, Key="w.png", Body=word)["VersionId"]
    new = client.put_object(Bucket=BUCKET, Key="w.png", Body=word + b"\0")["VersionId"]
    assert module.handler(_versioned_event("w.png", old), CONTEXT)["outcomes"] == {"w.png": "dropped"}
    assert module.handler(_versioned_event("w.png", new), CONTEXT)["outcomes"] == {"w.png": "done"}
    assert _result(client, "w.png")["source"]["version_id"] == new


def test_a_version_that_no_longer_exists_is_dropped(versioned, data_dir):
    client, module = versioned
    version = client.put_object(Bucket=BUCKET, Key="v.png",
                                Body=(data_dir / "iiit5k/test/1002_1.png").read_bytes())["VersionId"]
    client.delete_object(Bucket=BUCKET, Key="v.png", VersionId=version)  # deleted for good
    assert module.handler(_versioned_event("v.png", version), CONTEXT)["outcomes"] == {"v.png": "dropped"}
    assert keys(client) == set()


@pytest.mark.parametrize("event", [
    {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-26T12:00:00.000Z", "Bucket": BUCKET},
    {"version": "0", "source": "aws.s3", "detail-type": "Object Created", "detail": {"object": {"key": "a.png"}}},
    {"Records": None},
    {"Records": []},
], ids=["s3 test event", "eventbridge event", "null records", "no records"])
def test_an_event_that_names_no_object_reads_nothing_and_does_not_fail(s3, event):
    client, module = s3
    assert module.handler(event, CONTEXT)["outcomes"] == {}
    assert keys(client) == set()


def test_a_malformed_record_is_dropped_and_the_others_in_its_event_are_read(s3, data_dir, capsys):
    client, module = s3
    client.put_object(Bucket=BUCKET, Key="a.png", Body=(data_dir / "iiit5k/test/1002_1.png").read_bytes())
    event = s3_event("a.png")
    good = event["Records"][0]
    no_key = json.loads(json.dumps(good))
    del no_key["s3"]["object"]["key"]
    numeric_key = json.loads(json.dumps(good))
    numeric_key["s3"]["object"]["key"] = 42
    event["Records"] = [{"eventName": "ObjectCreated:Put"}, no_key, numeric_key, "not a record", good]
    out = module.handler(event, CONTEXT)
    assert out["outcomes"] == {"a.png": "done"}
    assert keys(client) == {"a.png", "a.png.ocr.json"}
    assert '"RecordsDropped":[1.0,1.0,1.0,1.0]' in _emf(capsys)  # one per malformed record

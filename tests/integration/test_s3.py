"""The S3 function against moto: drop an image, get <key>.ocr.json next to it."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from infra.invoke import context
from tests.conftest import EVENTS
from tests.integration.conftest import BUCKET, s3_event

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
    assert result["region_count"] == len(result["regions"]) and result["processed_at"]
    emf = [line for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert any('"ImagesProcessed"' in line and '"s3_ocr"' in line for line in emf)


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


def test_a_failing_record_does_not_hide_the_others(s3, data_dir):
    client, module = s3
    client.put_object(Bucket=BUCKET, Key="a.png", Body=(data_dir / "iiit5k/test/1002_1.png").read_bytes())
    event = s3_event("missing.png", "a.png")
    with pytest.raises(module.RecordFailed, match="missing.png"):
        module.handler(event, CONTEXT)
    assert "a.png.ocr.json" in keys(client)

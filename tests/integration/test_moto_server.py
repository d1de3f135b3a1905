"""The S3 flow end to end against a moto *server* on 127.0.0.1, with the handler run in a
fresh process by infra/invoke.py (as `make invoke` does)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.conftest import EVENTS, REPO

BUCKET = "ocr-drop-local"


@pytest.fixture(scope="module")
def endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_drop_a_photo_and_read_the_json_back(endpoint, data_dir, tmp_path):
    s3 = boto3.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket=BUCKET)
    key = "incoming/Shop Sign é.JPG"
    s3.put_object(Bucket=BUCKET, Key=key, Body=(data_dir / "svt_train/images/14_03.jpg").read_bytes())
    event = json.loads((EVENTS / "s3-put-unicode-key.json").read_text())
    event["Records"][0]["s3"]["bucket"]["name"] = BUCKET
    assert urllib.parse.unquote_plus(event["Records"][0]["s3"]["object"]["key"]) == key
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event))
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, str(REPO / "infra" / "invoke.py"), "s3_ocr", str(event_file)],
                         capture_output=True, text=True, env=env, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert '"done"' in out.stdout
    assert '"ImagesProcessed"' in out.stdout  # the EMF line, printed by the handler
    result = json.loads(s3.get_object(Bucket=BUCKET, Key=key + ".ocr.json")["Body"].read())
    assert result["source"]["key"] == key and result["image_size"] == {"width": 1280, "height": 880}


def test_local_drop_script_puts_invokes_and_reads_back(data_dir, capsys):
    # infra/local_drop.py: its own moto server, the S3 handler in a fresh process.
    from ocr_engine.pipeline import get_engine

    from infra import local_drop

    image = data_dir / "iiit5k" / "test" / "1002_1.png"
    assert local_drop.main([str(image), "--key", "incoming/a word + é.png"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["source"]["key"] == "incoming/a word + é.png"
    assert result["full_text"] == get_engine().read(image.read_bytes()).full_text != ""


def test_local_drop_shows_the_handlers_log_when_it_writes_no_result(data_dir, capsys):
    """A key too long for its ``.ocr.json`` is dropped by the handler, which says why in its
    log: the script said "see its log" and showed none of it."""
    from infra import local_drop

    key = "incoming/" + "a" * 1007 + ".png"  # 1,020 bytes: with ".ocr.json", over S3's 1,024
    with pytest.raises(SystemExit, match="no result was written"):
        local_drop.main([str(data_dir / "iiit5k" / "test" / "1002_1.png"), "--key", key])
    log = capsys.readouterr().err
    assert "record dropped" in log and '"outcomes"' in log

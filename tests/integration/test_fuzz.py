"""The mutation fuzzer: damaged PNG, JPEG, WebP, TIFF, GIF and BMP files (tests/fuzz_corpus.py)
through both API routes (the local server's app and Mangum, as Lambda calls it) and the S3
function. Every one gets a 200 or a 4xx with the JSON error body, the same on every path;
the S3 function writes a result or an error result for each and never raises.

Seeded and bounded: OCR_FUZZ_CASES mutants through every path (default 150) and 100 times as
many through the engine's decoder alone, from OCR_FUZZ_SEED: about 10 s.
``make fuzz`` runs a longer one. A failure names its seed and index: rerun with those.
"""

from __future__ import annotations

import base64
import collections
import json
import os

import pytest
from fastapi.testclient import TestClient

from infra.invoke import context
from infra.make_events import BOUNDARY, http_v2, multipart
from tests.fuzz_corpus import DEFAULT_SEED, Mutant, mutants, seeds
from tests.integration.conftest import BUCKET, s3_event

CASES = int(os.environ.get("OCR_FUZZ_CASES", "150"))
DECODER_FACTOR = 100  # the decoder alone takes this many times as many mutants
SEED = int(os.environ.get("OCR_FUZZ_SEED", str(DEFAULT_SEED)))
S3_BATCH = 10  # records per S3 event: a bad one must not stop the others
CTX = context("api")
pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning:PIL"),  # PIL warns about each corrupt EXIF block
              pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")]


@pytest.fixture(scope="module")
def client(api):
    return TestClient(api.app)  # raises any exception the app lets escape: an uncaught one fails the test


def _check(status: int, body: str, where: str, mutant: Mutant) -> None:
    context_ = f"{where}, seed {SEED} {mutant.label}: {body[:300]}"
    assert status == 200 or 400 <= status < 500, context_
    payload = json.loads(body)
    if status >= 400:
        assert payload["error"]["code"] and payload["error"]["detail"] and payload["request_id"], context_
    else:
        assert payload["image_size"]["width"] >= 1 and isinstance(payload["words"], list), context_


def test_the_valid_files_are_read():
    from ocr_engine.pipeline import get_engine

    for name, (data, _) in seeds().items():
        result = get_engine().read(data)
        turned = "exif" in name  # their EXIF says: turn a quarter
        assert tuple(result.image_size) == ((32, 96) if turned else (96, 32)), name
        assert result.full_text == "open", name


def _report(capsys, what: str, counts: collections.Counter, seed: int = SEED) -> None:
    with capsys.disabled():  # the counts, on the terminal (make fuzz)
        print(f"\nfuzz seed {seed}: {what}: " + ", ".join(f"{k}: {n}" for k, n in sorted(counts.items())))


def test_many_more_mutants_decode_or_are_refused_with_a_typed_error(capsys):
    """The engine's decoder alone is fast: many more mutants than go through the routes."""
    from ocr_engine.config import Settings
    from ocr_engine.errors import ImageTooLarge, InvalidImage
    from ocr_engine.imagefile import decode_image

    settings = Settings()
    outcomes: collections.Counter[str] = collections.Counter()
    for mutant in mutants(CASES * DECODER_FACTOR, SEED + 1):
        try:
            image = decode_image(mutant.data, settings)
        except (InvalidImage, ImageTooLarge) as exc:  # UnsupportedFormat is an InvalidImage
            outcomes[exc.code] += 1
            continue
        except Exception as exc:
            pytest.fail(f"seed {SEED + 1} {mutant.label}: {type(exc).__name__}: {exc}")
        assert image.rgb.dtype.name == "uint8" and image.rgb.ndim == 3 and image.rgb.shape[2] == 3
        outcomes["decoded"] += 1
    assert outcomes["decoded"] and outcomes["invalid_image"], outcomes
    _report(capsys, f"{CASES * DECODER_FACTOR} mutants through the decoder", outcomes, SEED + 1)


def test_mutants_through_both_routes_get_200_or_a_json_4xx(api, client, capsys):
    statuses: collections.Counter[int] = collections.Counter()
    for mutant in mutants(CASES, SEED):
        b64 = base64.b64encode(mutant.data).decode()
        r = client.post("/api/ocr", files={"file": (mutant.filename, mutant.data, "application/octet-stream")})
        _check(r.status_code, r.text, "upload", mutant)
        r2 = client.post("/api/ocr/base64", json={"image": b64, "filename": mutant.filename})
        _check(r2.status_code, r2.text, "base64", mutant)
        event = http_v2("POST", "/api/ocr", multipart(mutant.filename, mutant.data, "image/png"),
                        f"multipart/form-data; boundary={BOUNDARY}", b64=True)
        resp = api.handler(event, CTX)
        _check(resp["statusCode"], resp["body"], "Mangum upload", mutant)
        resp2 = api.handler(http_v2("POST", "/api/ocr/base64", json.dumps({"image": b64}), "application/json"), CTX)
        _check(resp2["statusCode"], resp2["body"], "Mangum base64", mutant)
        assert r.status_code == r2.status_code == resp["statusCode"] == resp2["statusCode"], mutant.label
        statuses[r.status_code] += 1
    # The mutants are not all refused at the door: some decode and are read, some are refused
    # by the decoder, some are no longer an image at all.
    assert statuses[200] and statuses[400] and statuses[415], statuses
    _report(capsys, f"{CASES} mutants x 4 API paths, statuses", statuses)


def test_mutants_through_the_s3_function_each_get_a_result(s3, capsys):
    s3_client, module = s3
    batch: list[tuple[str, Mutant]] = []
    outcomes: collections.Counter[str] = collections.Counter()

    def run() -> None:
        keys = [key for key, _ in batch]
        out = module.handler(s3_event(*keys), context("s3_ocr"))  # raises: the test fails
        for key, mutant in batch:
            assert out["outcomes"][key] in ("done", "refused"), (SEED, mutant.label, out["outcomes"][key])
            result = json.loads(s3_client.get_object(Bucket=BUCKET, Key=key + ".ocr.json")["Body"].read())
            assert ("words" in result) != ("error" in result), (SEED, mutant.label)
            if "error" in result:
                assert result["error"]["code"] != "internal_error", (SEED, mutant.label, result["error"])
            outcomes[out["outcomes"][key]] += 1
        batch.clear()

    for mutant in mutants(CASES, SEED):
        key = f"fuzz/{mutant.index:05d}-{mutant.filename}"
        s3_client.put_object(Bucket=BUCKET, Key=key, Body=mutant.data)
        batch.append((key, mutant))
        if len(batch) == S3_BATCH:
            run()
    if batch:
        run()
    assert outcomes["done"] and outcomes["refused"], outcomes
    _report(capsys, f"{CASES} mutants through the S3 function", outcomes)

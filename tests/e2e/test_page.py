"""The web page in a real headless Chromium (Debian's), against the local server."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from ocr_engine.config import DEFAULT_MAX_IMAGE_BYTES
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from tests.local_server import start_server, stop_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The README shows the committed screenshots; a test run writes its own elsewhere so it
# leaves the working tree clean. `make screenshots` refreshes the committed ones.
SHOTS_ENV = "OCR_E2E_SCREENSHOTS"
# Flags for a closed network and a root user (see the env notes): no background traffic.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def server():
    try:
        proc, url = start_server()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "Chromium is missing: `make setup` installs Debian's chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


def _api(server: str, path: Path, **params) -> dict:
    r = httpx.post(server + "api/ocr", params=params, files={"file": (path.name, path.read_bytes())}, timeout=60)
    r.raise_for_status()
    return r.json()


def _shown_words(page) -> list[str]:
    return page.locator("#words li .w").all_inner_texts()


def _shown_numbers(page) -> list[str]:
    return page.locator("#words li .n").all_inner_texts()


UNSUPPORTED = "That file is not a supported image. Use PNG, JPEG, BMP, TIFF, WebP or GIF."


def test_reads_a_word_image(server, browser, data_dir):
    crop = data_dir / "iiit5k" / "test" / "1002_1.png"
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(server)
    expect(page.locator("#model")).to_contain_text("crnn")
    page.uncheck("#detect")
    page.set_input_files("#file", str(crop))
    expect(page.locator("#result")).to_be_visible(timeout=30000)
    expected = _api(server, crop, detect="false", beam_width=10, min_confidence=0)
    assert _shown_words(page) == [w["text"] for w in expected["words"]]
    assert page.locator("#fulltext").inner_text() == (expected["full_text"] or "(no words found)")
    assert page.eval_on_selector("#annotated", "img => img.complete && img.naturalWidth > 0")
    expect(page.locator("#raw")).to_contain_text('"request_id"')
    page.close()


@pytest.mark.parametrize("name,viewport", [("desktop", {"width": 1366, "height": 900}),
                                           ("phone", {"width": 390, "height": 844})])
def test_reads_a_scene_and_saves_screenshots(server, browser, data_dir, name, viewport, tmp_path):
    scene = data_dir / "svt_train" / "images" / "14_03.jpg"
    page = browser.new_page(viewport=viewport, device_scale_factor=1)
    page.goto(server)
    page.set_input_files("#file", str(scene))
    expect(page.locator("#result")).to_be_visible(timeout=30000)
    expect(page.locator("#status")).to_contain_text("Found")
    expected = _api(server, scene, detect="true", beam_width=10, min_confidence=0)
    assert page.locator("#words li").count() == len(expected["words"]) > 0
    # Word i carries number i, as box i on the annotated image does (annotate.py numbers
    # the words 1, 2, ... in the API's order), and the number is on screen.
    assert _shown_numbers(page) == [str(i) for i in range(1, len(expected["words"]) + 1)]
    assert _shown_words(page) == [w["text"] for w in expected["words"]]
    for number in page.locator("#words li .n").all():
        expect(number).to_be_visible()
        assert number.bounding_box()["width"] >= 8  # a number one can read, not a collapsed cell
    assert page.eval_on_selector("#annotated", "img => img.naturalWidth") > 0
    shots = Path(os.environ.get(SHOTS_ENV) or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / f"page-{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_non_image_gets_a_clear_message(server, browser, tmp_path):
    fake = tmp_path / "holiday.png"
    fake.write_text("this is not a picture")
    page = browser.new_page()
    page.goto(server)
    page.set_input_files("#file", str(fake))
    expect(page.locator("#error")).to_be_visible(timeout=30000)
    expect(page.locator("#error")).to_have_text(UNSUPPORTED)  # one message, the formats once
    expect(page.locator("#status")).to_have_text("Nothing was read.")
    page.close()


@pytest.mark.parametrize("name,content", [("holiday.png", "this is not a picture"),  # refused by the server
                                          ("notes.txt", "plain text")])  # refused by the page itself
def test_a_new_upload_clears_the_previous_result(server, browser, data_dir, tmp_path, name, content):
    page = browser.new_page()
    page.goto(server)
    page.uncheck("#detect")
    page.set_input_files("#file", str(data_dir / "iiit5k" / "test" / "1002_1.png"))
    expect(page.locator("#result")).to_be_visible(timeout=30000)
    expect(page.locator("#words li")).to_have_count(1)
    expect(page.locator("#preview")).to_be_visible()
    bad = tmp_path / name
    bad.write_text(content)
    page.set_input_files("#file", str(bad))
    expect(page.locator("#error")).to_have_text(UNSUPPORTED, timeout=30000)
    expect(page.locator("#error")).to_have_count(1)
    expect(page.locator("#status")).to_have_text("Nothing was read.")
    # The old result is gone, not left under the error for the new file.
    expect(page.locator("#result")).to_be_hidden()
    expect(page.locator("#words li")).to_have_count(0)
    assert page.locator("#fulltext").inner_text() == ""
    assert page.get_attribute("#annotated", "src") is None
    # No blank preview frame: the drop zone says what to do instead.
    expect(page.locator("#preview")).to_be_hidden()
    expect(page.locator("#drop-text")).to_be_visible()
    page.close()


def _fulfil_with(status: int, body: str):
    return lambda route: route.fulfill(status=status, content_type="application/json", body=body)


@pytest.mark.parametrize("kind,handler,message", [
    ("network", lambda route: route.abort("connectionrefused"),
     "Could not reach the server. Check the connection and try again."),
    ("api error", _fulfil_with(413, '{"schema_version": "1", "error": {"code": "image_too_large", "detail": '
                                    '"the image is 3,500,000 bytes; the limit is 3,000,000"}, "request_id": "r-1"}'),
     "That image is too large (the image is 3,500,000 bytes; the limit is 3,000,000). "
     "Try a smaller one, or drop it into the S3 bucket instead."),
    ("server bug", _fulfil_with(500, '{"schema_version": "1", "error": {"code": "internal_error", "detail": "x"}, '
                                     '"request_id": "r-2"}'),
     "The server failed while reading this image (a bug on our side, request r-2). "
     "Try again, or try another image."),
    ("gateway page", lambda route: route.fulfill(status=502, content_type="text/html", body="<h1>Bad gateway</h1>"),
     "The server is busy or restarting. Try again in a moment."),
    # The server's detail names an API option the page has no control for: the page's own words.
    ("deadline", _fulfil_with(503, '{"schema_version": "1", "error": {"code": "deadline_exceeded", "detail": '
                                   '"the request was stopped at its 20 s deadline; ask for fewer regions '
                                   '(max_regions)"}, "request_id": "r-3"}'),
     'That took too long to read. Try a smaller image, a shorter word list, or turn off "Find words in a scene".'),
    # A 200 the page cannot draw (no timings): the page's own failure, not the network's.
    ("rendering", _fulfil_with(200, '{"schema_version": "1", "words": [{"text": "hi", "bbox": [0, 0, 1, 1], '
                                    '"confidence": 1}], "full_text": "hi"}'),
     "The image was read, but this page could not show the result"),
])
def test_each_kind_of_failure_has_its_own_message(server, browser, data_dir, kind, handler, message):
    page = browser.new_page()
    page.route("**/api/ocr?*", handler)
    page.goto(server)
    page.set_input_files("#file", str(data_dir / "iiit5k" / "test" / "1002_1.png"))
    expect(page.locator("#error")).to_be_visible(timeout=30000)
    text = page.locator("#error").inner_text()
    assert text.startswith(message), (kind, text)
    assert ("reach the server" in text) == (kind == "network")
    expect(page.locator("#status")).to_have_text("Nothing was read.")
    expect(page.locator("#result")).to_be_hidden()
    page.close()


def test_the_page_has_a_favicon_and_no_failed_requests(server, browser):
    page = browser.new_page()
    failures = []
    page.on("response", lambda r: failures.append(r.url) if r.status >= 400 else None)
    page.on("requestfailed", lambda r: failures.append(r.url))
    page.goto(server)
    expect(page.locator("#model")).to_contain_text("crnn")
    href = page.get_attribute("link[rel=icon]", "href")
    assert href and href.startswith("data:image/svg+xml,")  # inline: no route, no request
    size = page.evaluate("""href => new Promise((done) => {
        const img = new Image();
        img.onload = () => done(img.naturalWidth);
        img.onerror = () => done(0);
        img.src = href;
    })""", href)
    assert size > 0
    assert failures == []
    page.close()


def test_keyboard_reaches_the_file_picker(server, browser):
    page = browser.new_page()
    # Playwright turns on file-chooser interception when the first listener appears;
    # register one now so it is in place before the key press, not racing it.
    page.on("filechooser", lambda _chooser: None)
    page.goto(server)
    page.keyboard.press("Tab")  # the drop zone is the first stop
    assert page.evaluate("document.activeElement.id") == "drop"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "choose"
    with page.expect_file_chooser(timeout=10000) as chooser:
        page.keyboard.press("Enter")
    assert chooser.value.element.get_attribute("id") == "file"  # the picker of images, not the camera's
    page.close()


def test_stats_panel_says_when_cloudwatch_is_unavailable(server, browser):
    page = browser.new_page()
    page.goto(server)
    expect(page.locator("#stats")).to_contain_text("unavailable", timeout=15000)
    page.close()


def test_an_api_deployed_with_auth_gets_a_clear_message(server, browser, data_dir):
    # With ApiAuth=AWS_IAM or JWT, API Gateway itself answers the page's unsigned calls
    # (the function never runs); the page must say why instead of failing silently.
    page = browser.new_page()
    gateway_denial = {"status": 401, "content_type": "application/json", "body": '{"message":"Unauthorized"}'}
    page.route("**/api/ocr?*", lambda route: route.fulfill(**gateway_denial))
    page.route("**/api/stats", lambda route: route.fulfill(**gateway_denial))
    page.goto(server)
    expect(page.locator("#stats")).to_contain_text("requires authentication", timeout=15000)
    page.set_input_files("#file", str(data_dir / "iiit5k" / "test" / "1002_1.png"))
    expect(page.locator("#error")).to_contain_text("requires authentication", timeout=30000)
    expect(page.locator("#status")).to_have_text("Nothing was read.")
    page.close()


def _watch_requests(page, server: str) -> tuple[list[str], list[str]]:
    """-> (requests to any host but the local server, local requests that failed or got >= 400)."""
    local = urlsplit(server).netloc
    elsewhere, failed = [], []
    page.on("request", lambda r: elsewhere.append(r.url)
            if urlsplit(r.url).scheme not in ("data", "blob") and urlsplit(r.url).netloc != local else None)
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return elsewhere, failed


def test_swagger_ui_renders_with_no_request_leaving_the_server(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    elsewhere, failed = _watch_requests(page, server)
    page.goto(server + "docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Serverless OCR", timeout=15000)
    # Every operation of the OpenAPI document is listed, with its method and path.
    spec = httpx.get(server + "openapi.json", timeout=30).json()
    documented = {f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops}
    assert {"POST /api/ocr", "POST /api/ocr/base64", "POST /api/ocr/batch", "GET /api/health",
            "GET /api/stats"} <= documented
    operations = page.locator(".opblock .opblock-summary")
    expect(operations).to_have_count(len(documented))
    listed = {" ".join(o.inner_text().split()[:2]) for o in operations.all()}
    assert listed == documented
    page.locator(".opblock-summary", has_text="/api/health").first.click()  # an operation opens
    expect(page.locator(".opblock-body").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert elsewhere == [] and failed == []
    page.close()


def test_redoc_renders_with_no_request_leaving_the_server(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    elsewhere, failed = _watch_requests(page, server)
    page.goto(server + "redoc")
    expect(page.locator("h1")).to_contain_text("Serverless OCR", timeout=20000)
    expect(page.get_by_role("heading", name="Read an uploaded image (multipart/form-data)")).to_be_visible()
    expect(page.get_by_text("Model loaded? Version, cold or warm container").first).to_be_attached()
    page.wait_for_load_state("networkidle")
    assert elsewhere == [] and failed == []
    page.close()


def _stat(page, panel: str, name: str) -> str:
    return page.locator(f"#{panel} dt", has_text=re.compile(f"^{name}$")).locator("xpath=following-sibling::dd[1]") \
        .inner_text()


def test_stats_panel_shows_this_containers_numbers_and_why_the_service_has_none(server, browser, data_dir):
    _api(server, data_dir / "iiit5k" / "test" / "1002_1.png", detect="false")  # at least one read counted
    counted = httpx.get(server + "api/stats", timeout=30).json()["container"]
    page = browser.new_page()
    page.goto(server)
    expect(page.locator("#stats-container")).to_contain_text("Requests", timeout=15000)
    requests = int(_stat(page, "stats-container", "Requests").replace(",", ""))
    assert requests >= counted["requests"] >= 1
    assert int(_stat(page, "stats-container", "Images").replace(",", "")) >= counted["images_processed"] >= 1
    assert re.fullmatch(r"\d[\d,]*", _stat(page, "stats-container", "Words"))
    assert re.fullmatch(r"\d[\d,]*", _stat(page, "stats-container", "Errors"))
    for q in ("p50", "p90", "p99"):
        assert re.fullmatch(r"\d+(\.\d)? ms", _stat(page, "stats-container", f"Latency {q}"))
    # No AWS here: the service's part says so, in words.
    expect(page.locator("#stats-service")).to_contain_text("unavailable")
    why = page.locator("#stats-service-why").inner_text()
    assert why.startswith("CloudWatch is not reachable from here (")
    assert not re.search(r"Error|botocore|https?://", why)
    page.close()


# API Gateway's HTTP API refuses a request whose request line and headers pass 10,240 bytes
# (a quota that cannot be raised), before the function runs.
API_GATEWAY_REQUEST_LINE_AND_HEADERS = 10240


def test_a_long_word_list_is_sent_in_the_body_not_the_url(server, browser, data_dir):
    words = [f"word{i:04d}" for i in range(2000)]
    page = browser.new_page()
    sent = []
    page.on("request", lambda r: sent.append(r) if "/api/ocr" in r.url else None)
    page.goto(server)
    page.uncheck("#detect")
    page.fill("#lexicon", ", ".join(words))
    page.set_input_files("#file", str(data_dir / "iiit5k" / "test" / "1002_1.png"))
    expect(page.locator("#result")).to_be_visible(timeout=30000)
    assert len(sent) == 1
    request_line_and_headers = len(sent[0].url) + sum(len(k) + len(v) for k, v in sent[0].headers.items())
    assert request_line_and_headers < API_GATEWAY_REQUEST_LINE_AND_HEADERS // 2, len(sent[0].url)
    shown = _shown_words(page)
    assert shown and all(w in words for w in shown), shown  # the word list was applied
    page.close()


def _drop_file(page, selector: str, name: str, data: bytes, mime: str) -> bool:
    """Drop a file on ``selector`` as a drag from the desktop does -> whether the page took
    the drop (the browser's default action, opening the file in place of the page, prevented)."""
    return page.evaluate("""([selector, name, bytes, mime]) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], name, { type: mime }));
        const target = document.querySelector(selector);
        for (const type of ['dragenter', 'dragover']) {
            target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
        }
        const drop = new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt });
        target.dispatchEvent(drop);
        return drop.defaultPrevented;
    }""", [selector, name, list(data), mime])


@pytest.mark.parametrize("where", ["#drop", "header", "#stats"])
def test_a_dropped_image_is_read_wherever_it_lands(server, browser, data_dir, where):
    """A drop that misses the drop zone must not replace the page with the image."""
    crop = (data_dir / "iiit5k" / "test" / "1002_1.png").read_bytes()
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(server)
    page.uncheck("#detect")
    assert _drop_file(page, where, "word.png", crop, "image/png")
    expect(page.locator("#result")).to_be_visible(timeout=30000)
    expect(page.locator("#words li")).to_have_count(1)
    page.close()


def test_a_second_drop_while_the_first_is_read_wins(server, browser, data_dir, tmp_path):
    """The second image's answer is shown, and the first upload is stopped, not left to
    hold the connection and the server's reading slot for an answer no one will see."""
    page = browser.new_page()
    held, stopped = [], []
    page.route("**/api/ocr?*", lambda route: held.append(route) if not held else route.continue_())
    page.on("requestfailed", lambda r: stopped.append(r.failure) if "/api/ocr" in r.url else None)
    page.goto(server)
    page.uncheck("#detect")
    crop = (data_dir / "iiit5k" / "test" / "1002_1.png").read_bytes()
    _drop_file(page, "#drop", "first.png", crop, "image/png")
    expect(page.locator("#status")).to_have_text("Reading first.png…")
    _drop_file(page, "#drop", "second.png", crop, "image/png")
    expect(page.locator("#result")).to_be_visible(timeout=30000)
    assert stopped == ["net::ERR_ABORTED"]
    with contextlib.suppress(PlaywrightError):  # a stopped request cannot be answered
        held[0].fulfill(status=500, content_type="application/json", body='{"error": {"code": "x", "detail": "x"}}')
    page.wait_for_timeout(300)  # had it been answered, arriving last, it must not undo the second
    expect(page.locator("#error")).to_be_hidden()
    expect(page.locator("#status")).to_contain_text("Found")
    page.close()


def test_the_same_file_can_be_chosen_again_after_a_failure(server, browser, data_dir):
    """A file input fires no change event when the file chosen is the one it already holds:
    after a failure, choosing the same file again to retry did nothing. Each pick is read
    and the inputs emptied, so the next pick of any file is a change."""
    page = browser.new_page()
    answers = iter([lambda route: route.abort("connectionrefused")])
    page.route("**/api/ocr?*", lambda route: next(answers, lambda r: r.continue_())(route))
    page.goto(server)
    page.uncheck("#detect")
    crop = str(data_dir / "iiit5k" / "test" / "1002_1.png")
    page.set_input_files("#file", crop)
    expect(page.locator("#error")).to_contain_text("Could not reach the server", timeout=30000)
    assert page.eval_on_selector("#file", "input => input.files.length") == 0
    page.set_input_files("#file", crop)
    expect(page.locator("#result")).to_be_visible(timeout=30000)
    assert page.eval_on_selector("#file", "input => input.files.length") == 0
    page.close()


@pytest.mark.parametrize(("status", "content_type", "body", "shown"), [
    (403, "application/json", '{"message":"Forbidden"}', "Model info unavailable: this API requires authentication."),
    # A gateway's error page in place of health's JSON showed the parse error ("Unexpected token <").
    (502, "text/html", "<html><h1>502 Bad Gateway</h1></html>", "Model info unavailable (the server answered 502)."),
])
def test_the_model_line_says_plainly_why_health_is_unavailable(server, browser, status, content_type, body, shown):
    page = browser.new_page()
    page.route("**/api/health", lambda route: route.fulfill(status=status, content_type=content_type, body=body))
    page.goto(server)
    expect(page.locator("#model")).to_have_text(shown, timeout=15000)
    page.close()


def test_a_file_over_the_upload_limit_is_refused_before_it_is_sent(server, browser, data_dir, tmp_path):
    """The API answers 413 only once it has the whole file: the page, told the limit by health, says so at once."""
    limit = httpx.get(server + "api/health", timeout=30).json().get("max_image_bytes", DEFAULT_MAX_IMAGE_BYTES)
    huge = tmp_path / "huge.png"
    crop = (data_dir / "iiit5k" / "test" / "1002_1.png").read_bytes()
    huge.write_bytes(crop + bytes(limit + 1 - len(crop)))
    page = browser.new_page()
    sent = []
    page.on("request", lambda r: sent.append(r.url) if "/api/ocr" in r.url else None)
    page.goto(server)
    expect(page.locator("#model")).to_contain_text("crnn")  # health has answered
    page.set_input_files("#file", str(huge))
    expect(page.locator("#error")).to_be_visible(timeout=30000)
    expect(page.locator("#error")).to_have_text(
        f"That image is too large ({(limit + 10_000) / 1e6:g} MB; the limit is {limit / 1e6:g} MB). "
        "Try a smaller one, or drop it into the S3 bucket instead.")
    expect(page.locator("#status")).to_have_text("Nothing was read.")
    expect(page.locator("#choose")).to_be_enabled()
    assert sent == []
    page.close()


def test_an_upload_the_server_never_answers_is_given_up(server, browser, data_dir):
    """A hung server left the spinner running for ever: the upload is stopped after 2 minutes
    (well past the API's 20 s deadline and API Gateway's 29 s) and the page can try again."""
    page = browser.new_page()
    page.clock.install()
    held = []
    page.route("**/api/ocr?*", lambda route: held.append(route) if not held else route.continue_())
    page.goto(server)
    page.uncheck("#detect")
    crop = str(data_dir / "iiit5k" / "test" / "1002_1.png")
    page.set_input_files("#file", crop)
    expect(page.locator("#status")).to_have_text("Reading 1002_1.png…")
    page.clock.run_for(110_000)
    expect(page.locator("#choose")).to_be_disabled()  # still waiting: generous, not hasty
    expect(page.locator("#error")).to_be_hidden()
    page.clock.run_for(11_000)
    expect(page.locator("#error")).to_have_text("The server did not answer within 2 minutes, so the upload was "
                                                "stopped. Try again, or try a smaller image.")
    expect(page.locator("#status")).to_have_text("Nothing was read.")
    expect(page.locator("#choose")).to_be_enabled()
    page.set_input_files("#file", crop)  # and again: this one is answered
    expect(page.locator("#result")).to_be_visible(timeout=30000)
    expect(page.locator("#error")).to_be_hidden()
    page.close()


NO_WORDS = ('{"schema_version": "1", "filename": "blank.png", "image_size": {"width": 40, "height": 20}, '
            '"words": [], "full_text": "", "timings_ms": {"total": 5.0}, "request_id": "r-3", "annotated_b64": null}')


def test_copy_text_copies_nothing_when_no_words_were_read(server, browser, data_dir):
    """It copied the placeholder "(no words found)"."""
    page = browser.new_page()
    answers = iter([_fulfil_with(200, NO_WORDS)])
    page.route("**/api/ocr?*", lambda route: next(answers, lambda r: r.continue_())(route))
    page.goto(server)
    page.evaluate("() => { window.copied = []; navigator.clipboard.writeText = async (t) => { copied.push(t); }; }")
    page.uncheck("#detect")
    crop = str(data_dir / "iiit5k" / "test" / "1002_1.png")
    page.set_input_files("#file", crop)
    expect(page.locator("#fulltext")).to_have_text("(no words found)", timeout=30000)
    page.evaluate("document.getElementById('copy').click()")
    page.wait_for_timeout(300)
    assert page.evaluate("window.copied") == []
    expect(page.locator("#copy")).to_be_disabled()
    page.set_input_files("#file", crop)  # a reading with words: its text is copied
    expect(page.locator("#words li")).to_have_count(1, timeout=30000)
    expect(page.locator("#copy")).to_be_enabled()
    page.click("#copy")
    expect(page.locator("#copy")).to_have_text("Copied")
    assert page.evaluate("window.copied") == [page.locator("#fulltext").inner_text()] != ["(no words found)"]
    page.close()


def test_the_sliders_are_named_for_a_screen_reader(server, browser):
    """Each label named the <output> inside it, not the slider: "slider, 10", no name."""
    page = browser.new_page()
    page.goto(server)
    expect(page.get_by_role("slider", name="Beam width")).to_have_value("10")
    expect(page.get_by_role("slider", name="Minimum confidence")).to_have_value("0")
    page.close()


def test_pasting_words_with_a_picture_of_them_is_typing_not_an_upload(server, browser, data_dir):
    """Spreadsheets copy a picture of the cells beside their text: pasting into the word list
    uploaded it, read with the word list as it was before the paste."""
    page = browser.new_page()
    sent = []
    page.on("request", lambda r: sent.append(r.url) if "/api/ocr" in r.url else None)
    page.goto(server)
    paste = """([bytes, where]) => {
        const clip = new DataTransfer();
        clip.setData('text/plain', 'open, closed');
        clip.items.add(new File([new Uint8Array(bytes)], 'cells.png', {type: 'image/png'}));
        const target = document.querySelector(where);
        target.focus();
        target.dispatchEvent(new ClipboardEvent('paste', {clipboardData: clip, bubbles: true, cancelable: true}));
    }"""
    image = list((data_dir / "iiit5k" / "test" / "1002_1.png").read_bytes())
    page.evaluate(paste, [image, "#lexicon"])
    page.wait_for_timeout(1000)
    assert sent == []
    page.evaluate(paste, [image, "body"])  # anywhere else on the page: an image pasted to be read
    expect(page.locator("#result")).to_be_visible(timeout=30000)
    assert len(sent) == 1
    page.close()


def test_try_it_out_calls_the_api_where_the_docs_are_served(server, browser):
    """Behind an API Gateway stage the docs are at /prod/docs and the API at /prod/api/...: the
    OpenAPI document's server is relative to it, so Swagger UI's requests stay under the stage."""
    spec = httpx.get(server + "openapi.json", timeout=30).json()
    assert spec["servers"][0]["url"] == "."
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + "docs")
    page.locator(".opblock-summary", has_text="/api/health").first.click()
    page.get_by_role("button", name="Try it out").first.click()
    page.locator("button.execute").first.click()
    expect(page.locator(".request-url pre").first).to_have_text(server + "api/health", timeout=15000)
    expect(page.locator(".live-responses-table tbody .response-col_status").first).to_contain_text("200")
    page.close()

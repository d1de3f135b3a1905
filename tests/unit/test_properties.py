"""Property tests (Hypothesis) on the two parsers of untrusted data: image decoding and
CTC decoding. Bounded budgets keep them to a few seconds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from ocr_engine.charset import ALPHABET, NUM_CLASSES
from ocr_engine.config import Settings
from ocr_engine.ctc import beam_search, greedy_decode, lexicon_decode, sequence_log_prob
from ocr_engine.errors import OcrError
from ocr_engine.imagefile import decode_image

from tests.hostile_corpus import corpus

SETTINGS = Settings(max_image_bytes=200_000, max_pixels=2_000_000)
MAGIC = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM", b"II*\x00", b"MM\x00*", b"GIF89a", b"RIFF\0\0\0\0WEBP"]
VALID = [c.data for c in corpus() if c.status == 200 and len(c.data) < 100_000]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decodes_or_refuses(data: bytes) -> None:
    try:
        img = decode_image(data, SETTINGS)
    except OcrError:
        return
    assert img.rgb.dtype == np.uint8 and img.rgb.ndim == 3 and img.rgb.shape[2] == 3


@FAST
@given(st.binary(max_size=2000))
def test_any_bytes_decode_or_get_a_domain_error(data):
    _decodes_or_refuses(data)


@FAST
@given(st.sampled_from(MAGIC), st.binary(max_size=3000))
def test_bytes_behind_an_image_signature_decode_or_get_a_domain_error(magic, rest):
    _decodes_or_refuses(magic + rest)


@FAST
@given(st.sampled_from(VALID), st.data())
def test_corrupted_real_images_decode_or_get_a_domain_error(data, draw):
    buf = bytearray(data)
    for _ in range(draw.draw(st.integers(1, 20))):
        i = draw.draw(st.integers(0, len(buf) - 1))
        buf[i] = draw.draw(st.integers(0, 255))
    cut = draw.draw(st.integers(1, len(buf)))
    _decodes_or_refuses(bytes(buf[:cut]))


def _probs(steps: int):
    return arrays(np.float32, (steps, NUM_CLASSES), elements=st.floats(0.0625, 1.0, width=32)).map(
        lambda a: a / a.sum(axis=1, keepdims=True))


@FAST
@given(_probs(12))
def test_decoders_return_alphabet_text_and_a_probability(probs):
    for d in (greedy_decode(probs), beam_search(probs, 8)):
        assert set(d.text) <= set(ALPHABET) and 0.0 <= d.confidence <= 1.0
    assert beam_search(probs, 1) == greedy_decode(probs)


@FAST
@given(_probs(10), st.lists(st.text(alphabet="abc01", min_size=1, max_size=5), min_size=1, max_size=6, unique=True))
def test_lexicon_choice_is_the_most_probable_word(probs, words):
    from ocr_engine.charset import text_to_indices

    chosen = lexicon_decode(probs, words)
    logp = np.log(probs)
    best = max(sequence_log_prob(logp, text_to_indices(w)) for w in words)
    assert sequence_log_prob(logp, text_to_indices(chosen.text)) == pytest.approx(best, rel=1e-9)  # ties

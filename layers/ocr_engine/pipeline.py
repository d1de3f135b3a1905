"""The engine: bytes -> image decoding -> detect -> recognize -> CTC decoding -> OcrResult.

Every entry point calls :func:`get_engine` (a cached factory: the model loads once per
process) and then :meth:`OcrEngine.read` for one image, or :meth:`OcrEngine.read_many` for
several whose word crops share the recognizer's batches (``with_image=True``: each result
comes with its decoded image, to draw the words on). A request's ``ReadOptions`` are
resolved once (:meth:`OcrEngine.resolve` -> :class:`ResolvedOptions`) and passed down.

Already-cut word crops (evaluation, benchmarks): :meth:`OcrEngine.read_crops`. Their
probabilities come from the one recognition step, ``recognize.crop_probs`` (margin, every
way of reading, normalize, predict), which the training tools call with Keras weights and
then decode with :meth:`OcrEngine.decode_readings`. The margin is the detector's for its
boxes (``detect`` pads them by ``WORD_MARGIN`` inside the image, so the boxes a user gets
include it) and ``crop_probs``' for the whole image and already-cut crops.

"decode" means three things, kept apart by name: *image* decoding is
``imagefile.decode_image`` (bytes -> RGB; the ``decode`` timing), *CTC* decoding is
``ctc`` (probabilities -> text; the ``ctc`` timing, ``DecodeOptions``), and *label*
conversion is ``charset.indices_to_text`` / ``charset.text_to_indices``.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple, overload

import cv2
import numpy as np

from ocr_engine import ctc, recognize
from ocr_engine.charset import text_to_indices
from ocr_engine.config import Settings, load_settings
from ocr_engine.detect import Region, detect_candidates, reading_order, whole_image_region
from ocr_engine.errors import DeadlineExceeded, ImageTooLarge, InvalidOption, OcrError
from ocr_engine.imagefile import DecodedImage, decode_image
from ocr_engine.lm import CharLM
from ocr_engine.preprocess import WORD_MARGIN, cut, has_ink, with_margin
from ocr_engine.recognize import Recognizer
from ocr_engine.schemas import ModelInfo, OcrResult, ReadOptions, Word

CANDIDATES_PER_REGION = 3  # detection candidates recognized per region asked for
# The whole image is read as one word crop too: the recognizer sees 32 rows, so a taller
# image is shrunk to this height before its margin is added (a 1×20000 strip padded by a
# tenth of its height on every side would be 4001×24000 pixels: 288 MB for one reading).
WHOLE_IMAGE_MAX_HEIGHT = 1024


def checked_lexicon(given: Sequence[str], most: int) -> tuple[str, ...] | None:
    """The words a reading may be held to, once each; ``InvalidOption`` for too many words or
    for text that cannot be written back in the answer (a lone surrogate from JSON's ``\\ud800``).
    A word with no letter or digit is left out: it has nothing the recognizer spells, so it
    could only ever be chosen for a crop of no text."""
    words = tuple(dict.fromkeys(w.strip() for w in given if w and w.strip()))
    if len(words) > most:
        raise InvalidOption(f"the lexicon may hold at most {most} words (got {len(words)})")
    for word in words:
        try:
            word.encode("utf-8")
        except UnicodeEncodeError as exc:
            # Its first characters only: the answer must stay small whatever the word's length.
            shown = repr(word[:40]) + ("..." if len(word) > 40 else "")
            raise InvalidOption(f"lexicon word {shown} is not valid Unicode text ({exc.reason})") from None
    spellable = tuple(w for w in words if text_to_indices(w))
    if words and not spellable:
        raise InvalidOption("no lexicon word holds a letter or digit (a-z, 0-9) to read")
    return spellable or None


@dataclass(frozen=True)
class ResolvedOptions:
    """A request's ``ReadOptions`` with the defaults filled in and the limits checked
    (:meth:`OcrEngine.resolve`, once per request)."""

    detect: bool
    beam_width: int
    max_regions: int
    min_confidence: float
    lexicon: tuple[str, ...] | None

    @property
    def decoding(self) -> DecodeOptions:
        return DecodeOptions(beam_width=self.beam_width, lexicon=self.lexicon)


@dataclass(frozen=True)
class DecodeOptions:
    """How CTC decoding reads a crop's probabilities; ``None``: the engine's setting. The
    language-model knobs are for the tuning tools (``model.tune_decoding``, ``dev_compare``)."""

    beam_width: int | None = None
    lexicon: tuple[str, ...] | None = None
    lm_weight: float | None = None
    lm_bonus: float | None = None
    lm_support: float | None = None
    keep_digits: bool = True


class Reading(NamedTuple):
    """An image read with ``with_image=True``: its decoded image (to draw the words on) and result."""

    image: DecodedImage
    result: OcrResult


class OcrEngine:
    def __init__(self, settings: Settings, recognizer: Recognizer, lm: CharLM | None = None):
        self.settings = settings
        self.recognizer = recognizer
        self.lm = lm  # steers beam search (width > 1) when there is no lexicon

    @classmethod
    def from_settings(cls, settings: Settings) -> OcrEngine:
        """The model (and the language model, unless switched off) that ``settings`` name."""
        single = settings.single_model_path
        if settings.single_crop_model and single is None:
            logging.getLogger(__name__).warning(
                "OCR_SINGLE_CROP_MODEL is on but %s has no single-crop twin: lone crops use it too",
                settings.model_path.name)
        recognizer = Recognizer(settings.model_path, settings.metadata_path, settings.num_threads, single)
        return cls(settings, recognizer, CharLM.load(settings.lm_path) if settings.lm_path else None)

    @property
    def model_info(self) -> ModelInfo:
        return self.recognizer.metadata.info()

    @property
    def decoding(self) -> str:
        """How a word crop is read by default, for the records of what was measured."""
        s = self.settings
        if s.beam_width <= 1:
            steer = "greedy"
        elif self.lm is None:
            steer = f"beam {s.beam_width}, no language model"
        else:
            steer = (f"beam {s.beam_width} steered by the order-{self.lm.order} character LM {s.lm_file} "
                     f"(weight {s.lm_weight}, bonus {s.lm_bonus}, support {s.lm_support} nats, "
                     "digits kept but for strays in words)")
        return f"{WORD_MARGIN:.0%} margin, read {s.read_stretch:g}x as wide, {steer}"

    # -- options ----------------------------------------------------------------------
    def resolve(self, options: ReadOptions | None = None) -> ResolvedOptions:
        """Defaults filled in and limits enforced (``InvalidOption`` otherwise)."""
        options = options or ReadOptions()
        s = self.settings
        beam = s.beam_width if options.beam_width is None else options.beam_width
        regions = s.max_regions if options.max_regions is None else options.max_regions
        min_conf = s.min_confidence if options.min_confidence is None else options.min_confidence
        if not 1 <= beam <= s.max_beam_width:
            raise InvalidOption(f"beam_width must be between 1 and {s.max_beam_width}")
        if not 1 <= regions <= s.max_regions_limit:
            raise InvalidOption(f"max_regions must be between 1 and {s.max_regions_limit}")
        if not 0.0 <= min_conf <= 1.0:
            raise InvalidOption("min_confidence must be between 0 and 1")
        lexicon = checked_lexicon(options.lexicon, s.max_lexicon) if options.lexicon else None
        return ResolvedOptions(options.detect, beam, regions, min_conf, lexicon)

    # -- reading ----------------------------------------------------------------------
    @overload
    def read(self, data: bytes, options: ReadOptions | None = None, *,
             with_image: Literal[False] = False) -> OcrResult: ...
    @overload
    def read(self, data: bytes, options: ReadOptions | None = None, *, with_image: Literal[True]) -> Reading: ...

    def read(self, data: bytes, options: ReadOptions | None = None, *,
             with_image: bool = False) -> OcrResult | Reading:
        """Image bytes -> OcrResult (with ``with_image``: a ``Reading``, the decoded image
        too, to draw the words on it). Raises the engine's OcrError subclasses."""
        resolved = self.resolve(options)  # fail on bad options before the work
        deadline = self._deadline()
        staged = self._staged(0, data, resolved, deadline)
        self._check(deadline, "recognition")
        t0 = time.perf_counter()
        probs = self.crop_probs(staged.crops, margin=0.0)
        result = self._finished(staged, probs, (time.perf_counter() - t0) * 1000, resolved, deadline)
        return Reading(staged.image, result) if with_image else result

    @overload
    def read_many(self, images: Sequence[bytes], options: ReadOptions | None = None, *,
                  with_image: Literal[False] = False) -> list[OcrResult | OcrError]: ...
    @overload
    def read_many(self, images: Sequence[bytes], options: ReadOptions | None = None, *,
                  with_image: Literal[True]) -> list[Reading | OcrError]: ...

    def read_many(self, images: Sequence[bytes], options: ReadOptions | None = None, *,
                  with_image: bool = False) -> list[OcrResult | OcrError] | list[Reading | OcrError]:
        """Several images' bytes -> per image, in order, its OcrResult (with ``with_image``:
        its ``Reading``) or the OcrError that refused it (one bad image does not fail the
        others). Each image is read as :meth:`read` reads it, the same words, but the word
        crops of all of them go through the recognizer together, in shared batches.

        Raised for the whole batch, before any work: bad options (``InvalidOption``), more
        than ``max_batch_images`` images (``InvalidOption``), more than ``max_batch_bytes``
        in all (``ImageTooLarge``). Per image: what :meth:`read` would raise for it, and
        ``ImageTooLarge`` for an image whose pixels would take the batch past
        ``max_pixels`` in all (the decoded images are held until the shared recognition).
        One deadline (``request_deadline_s``) covers the whole batch: an image whose
        reading it stops gets ``DeadlineExceeded``, those finished before keep their results.
        An image's ``recognize`` timing is its share (by crops) of the shared recognition.
        """
        resolved = self.resolve(options)  # fail on bad options before the work
        self.check_batch(len(images), sum(len(d) for d in images))
        deadline = self._deadline()
        out: dict[int, Reading | OcrError] = {}
        staged: list[_Staged] = []
        pixels = 0
        for i, data in enumerate(images):
            try:
                s = self._staged(i, data, resolved, deadline, f" in image {i + 1} of {len(images)}",
                                 pixels_before=pixels)
                pixels += s.image.width * s.image.height
                staged.append(s)
            except OcrError as exc:
                out[i] = exc
        try:
            self._check(deadline, "recognition")
        except DeadlineExceeded as exc:
            out.update((s.index, exc) for s in staged)
            staged = []
        crops = [c for s in staged for c in s.crops]
        t0 = time.perf_counter()
        probs = self.crop_probs(crops, margin=0.0) if crops else []  # one call: the crops of every image
        recognize_ms = (time.perf_counter() - t0) * 1000
        start = 0
        for s in staged:
            end = start + len(s.crops)
            try:
                share = recognize_ms * len(s.crops) / len(crops)
                out[s.index] = Reading(s.image, self._finished(s, probs[start:end], share, resolved, deadline))
            except OcrError as exc:
                out[s.index] = exc
            start = end
        readings = [out[i] for i in range(len(images))]  # every image has its result or its error
        return readings if with_image else [r if isinstance(r, OcrError) else r.result for r in readings]

    def _staged(self, index: int, data: bytes, resolved: ResolvedOptions, deadline: float, where: str = "",
                pixels_before: int = 0) -> _Staged:
        """One image decoded, its regions found and cut out, ready for recognition.
        ``pixels_before``: the pixels of a batch's earlier images (all held until the shared
        recognition, so bounded together by ``max_pixels``)."""
        self._check(deadline, f"decoding{where}")
        t0 = time.perf_counter()
        image = decode_image(data, self.settings, functools.partial(self._check_batch_pixels, pixels_before))
        t1 = time.perf_counter()
        self._check(deadline, f"detection{where}")
        regions = self._regions(image, resolved)
        t2 = time.perf_counter()
        return _Staged(index, image, regions, _crops(image, regions),
                       {"decode": (t1 - t0) * 1000, "detect": (t2 - t1) * 1000})

    def _finished(self, staged: _Staged, probs: Sequence[np.ndarray], recognize_ms: float,
                  resolved: ResolvedOptions, deadline: float) -> OcrResult:
        """A staged image's crops' probabilities -> its result, with the timings of every step."""
        t0 = time.perf_counter()
        reads = self.decode_readings(probs, resolved.decoding, deadline)
        words = self._words(staged.image.rgb, staged.regions, staged.crops, reads, resolved, deadline)
        timings = {**staged.timings, "recognize": recognize_ms, "ctc": (time.perf_counter() - t0) * 1000}
        timings["total"] = sum(timings.values())
        return OcrResult(words, (staged.image.width, staged.image.height), timings, self.model_info)

    def _check_batch_pixels(self, pixels_before: int, w: int, h: int) -> None:
        """From an image's header, once it has passed its own checks: one that fits alone but
        not beside the batch's earlier images is refused before it is decoded."""
        if pixels_before + w * h > self.settings.max_pixels:
            raise ImageTooLarge(f"the batch's images decode to more than {self.settings.max_pixels:,} "
                                "pixels in all (OCR_MAX_PIXELS); send this one in another request")

    def check_batch(self, count: int, total_bytes: int) -> None:
        """A batch's bounds, before any work: at most ``max_batch_images`` images
        (``InvalidOption``) of at most ``max_batch_bytes`` in all (``ImageTooLarge``)."""
        s = self.settings
        if count > s.max_batch_images:
            raise InvalidOption(f"a batch may hold at most {s.max_batch_images} images (OCR_MAX_BATCH_IMAGES), "
                                f"not {count}")
        if total_bytes > s.max_batch_bytes:
            raise ImageTooLarge(f"the images of a batch total over the {s.max_batch_bytes:,}-byte limit "
                                "(OCR_MAX_BATCH_BYTES); send them in several requests")

    def _regions(self, image: DecodedImage, resolved: ResolvedOptions) -> list[Region]:
        """The regions to read: the detector's candidates when ``detect``, then the whole image."""
        detected = detect_candidates(
            image.rgb, max_candidates=resolved.max_regions * CANDIDATES_PER_REGION,
            max_side=self.settings.detect_max_side,
        ) if resolved.detect else []
        # The whole image competes too (last): an upload that is one word (a crop, a
        # label) has no word *inside* it for the detector to find, and gets a margin.
        return [*detected, whole_image_region(image.rgb)]

    def _words(self, rgb: np.ndarray, regions: list[Region], crops: Sequence[np.ndarray],
               reads: Sequence[ctc.Decoded], resolved: ResolvedOptions, deadline: float) -> list[Word]:
        """The readings of an image's crops -> the words it reads, chosen."""
        min_conf, max_regions = resolved.min_confidence, resolved.max_regions
        words = [Word(r.text, r.confidence, region.bbox) for region, r in zip(regions, reads, strict=True)]
        # A blank crop (a flat colour, one pixel) holds nothing to read, whatever it decodes to.
        words = [w if has_ink(c) else Word("", 0.0, w.bbox) for w, c in zip(words, crops, strict=True)]
        if not resolved.detect or _whole_image_stands_alone(words):
            return [w for w in words[-1:] if w.text and w.confidence >= min_conf]  # the upload is one word
        words = [w for w in words[:-1] if w.text and w.confidence >= min_conf]
        s = self.settings

        def kept(word: Word) -> bool:
            return scene_word_kept(word.text, word.confidence, s.scene_min_confidence, s.scene_short_min_confidence)

        lm = self._lm_reading(resolved.decoding)
        if lm is not None:
            words = _without_lines_of_words(words, lm, kept)
        words = _without_fragments(words)
        # Words the floors will keep come first: a stray "4" read at 0.75 would otherwise take the
        # slot of a 0.6 "pacific" and then be dropped. Other words fill what is left, and a piece
        # beside a kept word comes along beyond the limit, as the two may join ("livi" + "ng").
        best = _best_in_reading_order(words, max_regions, first=kept)
        words = reading_order(best + _pieces_beside(best, words, kept, limit=max_regions))
        self._check(deadline, "joining letter-spaced words")
        words = self._joined_across_gaps(rgb, words, resolved.decoding, lm)
        return _best_in_reading_order([w for w in words if kept(w)], max_regions)

    def _lm_reading(self, decoding: DecodeOptions) -> CharLM | None:
        """The language model, when it steers this request's decoding (a beam wider than one,
        a weight above zero, no lexicon); only then may it also say where a scene's words part."""
        steers = self._beam_width(decoding) > 1 and self._lm_weight(decoding) > 0 and not decoding.lexicon
        return self.lm if steers else None

    def _beam_width(self, decoding: DecodeOptions) -> int:
        return self.settings.beam_width if decoding.beam_width is None else decoding.beam_width

    def _lm_weight(self, decoding: DecodeOptions) -> float:
        return self.settings.lm_weight if decoding.lm_weight is None else decoding.lm_weight

    def _joined_across_gaps(self, rgb: np.ndarray, words: list[Word], decoding: DecodeOptions,
                            lm: CharLM | None) -> list[Word]:
        """Letter-spaced words reach the detector in pieces ("livi" + "ng"): two words side by
        side on one line, less than ``JOIN_GAP`` of their height apart, are read again as one
        box, and that reading replaces both when it keeps their letters and is clearly surer:
        with ``lm``, its odds ``JOIN_MARGIN`` times the surer piece's and the LM finding it
        likelier as one word than the two ("anno" + "domini" stay apart); without, its
        confidence ``JOIN_MARGIN`` times the surer piece's (odds alone ran such words together)."""
        pairs = _side_by_side(words)
        if not pairs:
            return words
        boxes = [_union(a.bbox, b.bbox) for a, b in pairs]
        probs = self.crop_probs([cut(rgb, box) for box in boxes], margin=0.0)  # the pieces' boxes have theirs
        reads = self.decode_readings(probs, decoding)
        out = list(words)
        for (a, b), box, read in sorted(zip(pairs, boxes, reads, strict=True), key=lambda t: -t[2].confidence):
            still_there = any(w is a for w in out) and any(w is b for w in out)
            if still_there and len(read.text) >= len(a.text) + len(b.text) - 1 and _clearly_surer(read, a, b, lm):
                out = [w for w in out if w is not a and w is not b] + [Word(read.text, read.confidence, box)]
        return out

    def read_crops(self, crops: Sequence[np.ndarray], decoding: DecodeOptions | None = None) -> list[ctc.Decoded]:
        """Already-cut word crops (evaluation, benchmarks) -> decoded texts: :meth:`crop_probs`
        with the word margin, then :meth:`decode_readings`."""
        return self.decode_readings(self.crop_probs(crops), decoding)

    def crop_probs(self, crops: Sequence[np.ndarray], predict: Callable | None = None,
                   margin: float = WORD_MARGIN) -> list[np.ndarray]:
        """The one crop step as this engine serves it (``recognize.crop_probs`` with the
        settings' ``read_tall`` and ``read_stretch``): per crop, the probabilities of each way
        of reading it, all in one batch. ``predict``: the network (default the engine's; Keras
        weights in the training tools)."""
        return recognize.crop_probs(predict or self.recognizer.predict_crops, crops, self.settings.read_tall,
                                    margin, self.settings.read_stretch)

    def decode_readings(self, probs: Sequence[np.ndarray], decoding: DecodeOptions | None = None,
                        deadline: float = math.inf) -> list[ctc.Decoded]:
        """Per-crop probabilities (:meth:`crop_probs`) -> CTC-decoded, calibrated texts
        (``decoding``'s choices, the settings where it gives none), the deadline checked
        between crops. A crop's probabilities are (T, C), or (k, T, C) for k ways of reading
        it: the surest wins."""
        decoding = decoding or DecodeOptions()
        out = []
        for i, p in enumerate(probs):
            self._check(deadline, f"decoding region {i + 1} of {len(probs)}")
            out.append(self._calibrated(self._decode_one(p, decoding)))
        return out

    def _calibrated(self, decoded: ctc.Decoded) -> ctc.Decoded:
        """The decoder's confidence mapped to a probability of being right (``calibration``)."""
        return ctc.Decoded(decoded.text, self.recognizer.metadata.calibration(decoded.confidence))

    def _deadline(self) -> float:
        """The ``time.perf_counter()`` by which a read starting now must be done (inf: none)."""
        limit = self.settings.request_deadline_s
        return time.perf_counter() + limit if limit > 0 else math.inf

    def _check(self, deadline: float, step: str) -> None:
        """Between steps and regions: a read past its deadline stops here (DeadlineExceeded)."""
        if time.perf_counter() > deadline:
            raise DeadlineExceeded(self.settings.request_deadline_s, step)

    def _decode_one(self, probs: np.ndarray, decoding: DecodeOptions) -> ctc.Decoded:
        """One crop's probabilities -> its CTC decoding (uncalibrated)."""
        if probs.ndim == 3:  # several ways of reading one crop: the surest reading
            return max((self._decode_one(p, decoding) for p in probs), key=lambda d: d.confidence)
        if decoding.lexicon:
            return ctc.lexicon_decode(probs, decoding.lexicon)
        s = self.settings
        beam = self._beam_width(decoding)
        if beam <= 1:
            return ctc.greedy_decode(probs)
        return ctc.gated_beam_search(
            probs, beam, self.lm,
            lm_weight=self._lm_weight(decoding),
            lm_bonus=s.lm_bonus if decoding.lm_bonus is None else decoding.lm_bonus,
            support=s.lm_support if decoding.lm_support is None else decoding.lm_support,
            keep_digits=decoding.keep_digits,
        )


@dataclass(frozen=True)
class _Staged:
    """An image of a batch, decoded and its regions found, waiting for the shared recognition."""

    index: int
    image: DecodedImage
    regions: list[Region]
    crops: list[np.ndarray]
    timings: dict[str, float]


def _crops(image: DecodedImage, regions: list[Region]) -> list[np.ndarray]:
    """The pixels of each region with its margin: the detected ones as they are (the detector
    pads its boxes by ``WORD_MARGIN``), the whole image (last) shrunk to at most
    ``WHOLE_IMAGE_MAX_HEIGHT`` rows and given ``WORD_MARGIN``."""
    return [*(cut(image.rgb, r.bbox) for r in regions[:-1]), with_margin(_shrunk_for_reading(image.rgb))]


def _shrunk_for_reading(rgb: np.ndarray) -> np.ndarray:
    """The image at most ``WHOLE_IMAGE_MAX_HEIGHT`` rows high (same aspect), to be read whole."""
    h, w = rgb.shape[:2]
    if h <= WHOLE_IMAGE_MAX_HEIGHT:
        return rgb
    scale = WHOLE_IMAGE_MAX_HEIGHT / h
    return cv2.resize(rgb, (max(1, round(w * scale)), WHOLE_IMAGE_MAX_HEIGHT), interpolation=cv2.INTER_AREA)


def _whole_image_stands_alone(words: list[Word]) -> bool:
    """The last reading is the whole image's: it stands alone when it is surer than every
    detected word (the upload is one word)."""
    *detected, whole = words
    return bool(whole.text) and whole.confidence > max((w.confidence for w in detected if w.text), default=0.0)



SHORT_WORD = 3  # characters: "e", "4", "bl" are most of a scene's junk
# Letter-spaced pieces: at most this share of their height apart, and the joined reading at
# least this many times as sure as the surer piece (chosen on svt_train: 1.0 lost words).
JOIN_GAP = 1.2
JOIN_MARGIN = 1.2


def _clearly_surer(joined: ctc.Decoded, a: Word, b: Word, lm: CharLM | None) -> bool:
    """Whether the joined reading of pieces ``a`` and ``b`` should replace them
    (:meth:`OcrEngine._joined_across_gaps`)."""
    surer = max(a.confidence, b.confidence)
    if lm is None:
        return joined.confidence >= JOIN_MARGIN * surer
    return (_odds(joined.confidence) >= JOIN_MARGIN * _odds(surer)
            and lm.word_log_prob(joined.text) >= lm.word_log_prob(a.text) + lm.word_log_prob(b.text))


def _odds(p: float) -> float:
    return p / (1.0 - p) if p < 1.0 else math.inf


def _side_by_side(words: list[Word]) -> list[tuple[Word, Word]]:
    """Pairs (left, right) of words on one line (their heights overlap by 60% of the lower
    one and differ by less than 1.6×) with a gap under ``JOIN_GAP`` of their mean height;
    each word pairs only with its nearest neighbour to the right, so a scene of n words
    costs at most n more readings."""
    pairs = []
    for a in words:
        (ax1, ay1, ax2, ay2) = a.bbox
        nearest: tuple[int, Word] | None = None
        for b in words:
            (bx1, by1, _, by2) = b.bbox
            ah, bh = ay2 - ay1, by2 - by1
            if b is a or bx1 <= ax1 or min(ah, bh) <= 0 or not 1 / 1.6 <= ah / bh <= 1.6:
                continue
            overlap = min(ay2, by2) - max(ay1, by1)
            gap = bx1 - ax2
            if (overlap >= 0.6 * min(ah, bh) and -0.2 * (ah + bh) / 2 <= gap <= JOIN_GAP * (ah + bh) / 2
                    and (nearest is None or gap < nearest[0])):
                nearest = (gap, b)
        if nearest is not None:
            pairs.append((a, nearest[1]))
    return pairs


def _pieces_beside(chosen: list[Word], words: list[Word], kept: Callable[[Word], bool], limit: int) -> list[Word]:
    """The ``limit`` surest words not ``chosen`` that lie side by side on one line with a
    chosen word the floors keep (``_side_by_side``), so that a scene's joins stay at most
    twice its words."""
    ids = {id(w) for w in chosen}
    pieces: dict[int, Word] = {}
    for a, b in _side_by_side(words):
        for piece, other in ((a, b), (b, a)):
            if id(piece) not in ids and id(other) in ids and kept(other):
                pieces[id(piece)] = piece
    return sorted(pieces.values(), key=lambda w: -w.confidence)[:limit]


def _union(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def scene_word_kept(text: str, confidence: float, min_confidence: float, short_min_confidence: float) -> bool:
    """Whether a word read in a scene is kept by the scene's floors: ``min_confidence``, and
    ``short_min_confidence`` for words shorter than ``SHORT_WORD`` characters (a scene's unsure
    readings, short ones above all, are mostly junk read from texture: ``model.scene_curve``)."""
    floor = max(min_confidence, short_min_confidence) if len(text) < SHORT_WORD else min_confidence
    return confidence >= floor


def _likeliest_spelling(text: str, parts: list[Word], lm: CharLM) -> float:
    """The highest sum of ``lm.word_log_prob`` over two or more of ``parts`` (left to right)
    whose readings, one after another, spell ``text``; -inf when none do."""
    best: dict[tuple[int, bool], float] = {(0, False): 0.0}  # (letters spelled, by two or more) -> log P
    for part in sorted(parts, key=lambda w: w.bbox[0]):
        for (end, _), score in list(best.items()):
            if part.text and text.startswith(part.text, end):
                key = (end + len(part.text), end > 0)
                best[key] = max(best.get(key, -math.inf), score + lm.word_log_prob(part.text))
    return best.get((len(text), True), -math.inf)


def _without_lines_of_words(words: list[Word], lm: CharLM, kept: Callable[[Word], bool],
                            inside: float = 0.8) -> list[Word]:
    """Drop a reading of a whole line when words inside its box spell it and the language
    model finds them likelier as words than the line as one: "livingroomlounge" gives way to
    "living", "room", "lounge", while "antique" stays whole over "ant" + "ique"."""
    def is_line(word: Word) -> bool:
        parts = [w for w in words if w is not word and kept(w) and _overlap_share(w.bbox, word.bbox) >= inside]
        return len(parts) >= 2 and _likeliest_spelling(word.text, parts, lm) > lm.word_log_prob(word.text)

    return [w for w in words if not is_line(w)]


def _without_fragments(words: list[Word], inside: float = 0.8) -> list[Word]:
    """Drop a word lying inside a surer word's box whose reading already contains it.

    Overlapping candidates read the same letters twice ("theaters", then "ea" and "ters"
    from boxes within it); the fragment says nothing new and would take a slot that
    another word could have.
    """
    def fragment_of(small: Word, big: Word) -> bool:
        return small.text in big.text and _overlap_share(small.bbox, big.bbox) >= inside

    kept: list[Word] = []  # surest first, so a word is only ever dropped for a surer one
    for word in sorted(words, key=lambda w: -w.confidence):
        if not any(fragment_of(word, k) for k in kept):
            kept.append(word)
    return [w for w in words if any(w is k for k in kept)]


def _overlap_share(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """The share of box ``a``'s area that lies inside box ``b``."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    area = (a[2] - a[0]) * (a[3] - a[1])
    return ix * iy / area if area > 0 else 0.0


def _best_in_reading_order(words: list[Word], limit: int,
                           first: Callable[[Word], bool] = lambda _: True) -> list[Word]:
    """The most confident ``limit`` words, those for which ``first`` holds before the others,
    sorted as a reader reads."""
    return reading_order(sorted(words, key=lambda w: (not first(w), -w.confidence))[:limit])


@functools.cache
def get_engine() -> OcrEngine:
    """The process-wide engine: settings read and the model loaded once (cold start)."""
    return OcrEngine.from_settings(load_settings())

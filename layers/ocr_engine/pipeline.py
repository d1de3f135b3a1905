"""The engine: bytes -> decode -> detect -> normalize -> recognize -> CTC decode -> OcrResult.

Every entry point calls :func:`get_engine` (a cached factory: the model loads once per
process) and then :meth:`OcrEngine.read`, or :meth:`OcrEngine.read_many` for several images
whose word crops share the recognizer's batches.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ocr_engine import ctc
from ocr_engine.config import Settings, load_settings
from ocr_engine.decode import DecodedImage, decode_image
from ocr_engine.detect import Region, detect_candidates, reading_order, whole_image_region
from ocr_engine.errors import DeadlineExceeded, ImageTooLarge, InvalidOption, OcrError
from ocr_engine.lm import CharLM
from ocr_engine.orient import read_every_way
from ocr_engine.preprocess import WORD_MARGIN, has_ink, with_margin
from ocr_engine.recognize import Recognizer
from ocr_engine.schemas import ModelInfo, OcrResult, ReadOptions, Word

CANDIDATES_PER_REGION = 3  # detection candidates recognized per region asked for
# The whole image is read as one word crop too: the recognizer sees 32 rows, so a taller
# image is shrunk to this height before its margin is added (a 1×20000 strip padded by a
# tenth of its height on every side would be 4001×24000 pixels: 288 MB for one reading).
WHOLE_IMAGE_MAX_HEIGHT = 1024


class OcrEngine:
    def __init__(self, settings: Settings, recognizer: Recognizer, lm: CharLM | None = None):
        self.settings = settings
        self.recognizer = recognizer
        self.lm = lm  # steers beam search (width > 1) when there is no lexicon

    @classmethod
    def from_settings(cls, settings: Settings) -> OcrEngine:
        """The model (and the language model, unless switched off) that ``settings`` name."""
        recognizer = Recognizer(settings.model_path, settings.metadata_path, settings.num_threads)
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
                     f"(weight {s.lm_weight}, bonus {s.lm_bonus}, support {s.lm_support} nats, digits kept)")
        return f"{WORD_MARGIN:.0%} margin, {steer}"

    # -- options ----------------------------------------------------------------------
    def resolve(self, options: ReadOptions) -> tuple[int, int, float, tuple[str, ...] | None]:
        """Defaults filled in and limits enforced -> (beam, regions, min_conf, lexicon)."""
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
        lexicon = None
        if options.lexicon:
            words = tuple(dict.fromkeys(w.strip() for w in options.lexicon if w and w.strip()))
            if len(words) > s.max_lexicon:
                raise InvalidOption(f"the lexicon may hold at most {s.max_lexicon} words")
            lexicon = words or None
        return beam, regions, min_conf, lexicon

    # -- reading ----------------------------------------------------------------------
    def read(self, data: bytes, options: ReadOptions | None = None) -> OcrResult:
        """Image bytes -> OcrResult. Raises the engine's OcrError subclasses."""
        return self.read_with_image(data, options)[1]

    def read_with_image(self, data: bytes, options: ReadOptions | None = None) -> tuple[DecodedImage, OcrResult]:
        """As :meth:`read`, also returning the decoded image (to draw the words on it)."""
        options = options or ReadOptions()
        self.resolve(options)  # fail on bad options before the work
        t0 = time.perf_counter()
        deadline = self._deadline()
        image = decode_image(data, self.settings)
        t1 = time.perf_counter()
        return image, self.read_decoded(image, options, {"decode": (t1 - t0) * 1000}, deadline)

    def read_decoded(self, image: DecodedImage, options: ReadOptions, timings: dict | None = None,
                     deadline: float | None = None) -> OcrResult:
        beam, max_regions, min_conf, lexicon = self.resolve(options)
        timings = dict(timings or {})
        deadline = self._deadline() if deadline is None else deadline
        self._check(deadline, "detection")
        t0 = time.perf_counter()
        regions = self._regions(image, options.detect, max_regions)
        t1 = time.perf_counter()
        crops = _crops(image, regions)
        self._check(deadline, "recognition")
        probs = self._recognize(crops)
        t2 = time.perf_counter()
        words = self._words(image.rgb, regions, crops, probs, options, (beam, max_regions, min_conf, lexicon),
                            deadline)
        t3 = time.perf_counter()
        timings.update(detect=(t1 - t0) * 1000, recognize=(t2 - t1) * 1000, ctc=(t3 - t2) * 1000)
        timings["total"] = sum(timings.values())
        return OcrResult(words, (image.width, image.height), timings, self.model_info)

    def read_many(self, images: Sequence[bytes], options: ReadOptions | None = None) -> list[OcrResult | OcrError]:
        """Several images' bytes -> per image, in order, its OcrResult or the OcrError that
        refused it (one bad image does not fail the others). Each image is read as
        :meth:`read` reads it, the same words, but the word crops of all of them go through
        the recognizer together, in shared batches. See :meth:`read_many_with_images`."""
        return [r if isinstance(r, OcrError) else r[1] for r in self.read_many_with_images(images, options)]

    def read_many_with_images(self, images: Sequence[bytes], options: ReadOptions | None = None
                              ) -> list[tuple[DecodedImage, OcrResult] | OcrError]:
        """As :meth:`read_many`, each result with its decoded image (to draw the words on it).

        Raised for the whole batch, before any work: bad options (``InvalidOption``), more
        than ``max_batch_images`` images (``InvalidOption``), more than ``max_batch_bytes``
        in all (``ImageTooLarge``). Per image: what :meth:`read` would raise for it, and
        ``ImageTooLarge`` for an image whose pixels would take the batch past
        ``max_pixels`` in all (the decoded images are held until the shared recognition).
        One deadline (``request_deadline_s``) covers the whole batch: an image whose
        reading it stops gets ``DeadlineExceeded``, those finished before keep their results.
        An image's ``recognize`` timing is its share (by crops) of the shared recognition.
        """
        options = options or ReadOptions()
        resolved = self.resolve(options)  # fail on bad options before the work
        self.check_batch(len(images), sum(len(d) for d in images))
        deadline = self._deadline()
        out: dict[int, tuple[DecodedImage, OcrResult] | OcrError] = {}
        staged: list[_Staged] = []
        pixels = 0
        for i, data in enumerate(images):
            try:
                self._check(deadline, f"decoding image {i + 1} of {len(images)}")
                t0 = time.perf_counter()
                image = decode_image(data, self.settings)
                if pixels + image.width * image.height > self.settings.max_pixels:
                    raise ImageTooLarge(f"the batch's images decode to more than {self.settings.max_pixels:,} "
                                        "pixels in all (OCR_MAX_PIXELS); send this one in another request")
                pixels += image.width * image.height
                t1 = time.perf_counter()
                self._check(deadline, f"detection in image {i + 1} of {len(images)}")
                regions = self._regions(image, options.detect, resolved[1])
                t2 = time.perf_counter()
                staged.append(_Staged(i, image, regions, _crops(image, regions),
                                      {"decode": (t1 - t0) * 1000, "detect": (t2 - t1) * 1000}))
            except OcrError as exc:
                out[i] = exc
        crops = [c for s in staged for c in s.crops]
        try:
            self._check(deadline, "recognition")
        except DeadlineExceeded as exc:
            for s in staged:
                out[s.index] = exc
            staged = []
        t0 = time.perf_counter()
        probs = self._recognize(crops) if staged else []  # one call: the crops of every image
        recognize_ms = (time.perf_counter() - t0) * 1000
        start = 0
        for s in staged:
            end = start + len(s.crops)
            try:
                t1 = time.perf_counter()
                words = self._words(s.image.rgb, s.regions, s.crops, probs[start:end], options, resolved, deadline)
                timings = {**s.timings, "recognize": recognize_ms * len(s.crops) / len(crops),
                           "ctc": (time.perf_counter() - t1) * 1000}
                timings["total"] = sum(timings.values())
                out[s.index] = (s.image, OcrResult(words, (s.image.width, s.image.height), timings, self.model_info))
            except OcrError as exc:
                out[s.index] = exc
            start = end
        return [out[i] for i in range(len(images))]  # every image has its result or its error

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

    def _regions(self, image: DecodedImage, detect: bool, max_regions: int) -> list[Region]:
        """The regions to read: the detector's candidates when ``detect``, then the whole image."""
        detected = detect_candidates(
            image.rgb, max_candidates=max_regions * CANDIDATES_PER_REGION, max_side=self.settings.detect_max_side
        ) if detect else []
        # The whole image competes too (last): an upload that is one word (a crop, a
        # label) has no word *inside* it for the detector to find, and gets a margin.
        return [*detected, whole_image_region(image.rgb)]

    def _words(self, rgb: np.ndarray, regions: list[Region], crops: Sequence[np.ndarray],
               probs: Sequence[np.ndarray], options: ReadOptions,
               resolved: tuple[int, int, float, tuple[str, ...] | None], deadline: float) -> list[Word]:
        """The recognizer's probabilities for an image's crops -> the words it reads, chosen."""
        beam, max_regions, min_conf, lexicon = resolved
        words = self._decode(regions, probs, beam, lexicon, deadline)
        # A blank crop (a flat colour, one pixel) holds nothing to read, whatever it decodes to.
        words = [w if has_ink(c) else Word("", 0.0, w.bbox) for w, c in zip(words, crops, strict=True)]
        if not options.detect or _whole_image_stands_alone(words):
            return [w for w in words[-1:] if w.text and w.confidence >= min_conf]  # the upload is one word
        words = [w for w in words[:-1] if w.text and w.confidence >= min_conf]
        words = _best_in_reading_order(_without_fragments(words), max_regions)
        self._check(deadline, "joining letter-spaced words")
        words = self._joined_across_gaps(rgb, words, beam, lexicon)
        s = self.settings
        kept = [w for w in words if scene_word_kept(w.text, w.confidence, s.scene_min_confidence,
                                                    s.scene_short_min_confidence)]
        return _best_in_reading_order(kept, max_regions)

    def _joined_across_gaps(self, rgb: np.ndarray, words: list[Word], beam: int, lexicon) -> list[Word]:
        """Letter-spaced words reach the detector in pieces ("livi" + "ng"): two words side by
        side on one line, less than ``JOIN_GAP`` of their height apart, are read again as one
        box, and that reading replaces both when it is clearly surer (``JOIN_MARGIN`` times
        the surer piece's confidence) and keeps their letters."""
        pairs = _side_by_side(words)
        if not pairs:
            return words
        boxes = [_union(a.bbox, b.bbox) for a, b in pairs]
        probs = self._recognize([rgb[y1:y2, x1:x2] for x1, y1, x2, y2 in boxes])
        reads = [self._calibrated(self._decode_one(p, beam, lexicon)) for p in probs]
        out = list(words)
        for (a, b), box, read in sorted(zip(pairs, boxes, reads, strict=True), key=lambda t: -t[2].confidence):
            still_there = any(w is a for w in out) and any(w is b for w in out)
            if (still_there and read.confidence >= JOIN_MARGIN * max(a.confidence, b.confidence)
                    and len(read.text) >= len(a.text) + len(b.text) - 1):
                out = [w for w in out if w is not a and w is not b] + [Word(read.text, read.confidence, box)]
        return out

    def read_crops(self, crops: Sequence[np.ndarray], beam_width: int | None = None,
                   lexicon: Sequence[str] | None = None, lm_weight: float | None = None,
                   lm_bonus: float | None = None) -> list[ctc.Decoded]:
        """Already-cropped words (evaluation, benchmarks) -> decoded texts."""
        probs = self._recognize([with_margin(c) for c in crops])
        return self.decode_probs(probs, beam_width, lexicon, lm_weight, lm_bonus)

    def _recognize(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Crops -> per crop, the probabilities of each way of reading it (one, or four for a
        tall crop: ``orient.readings_of``), all in one batch."""
        return read_every_way(self.recognizer.predict_crops, crops, self.settings.read_tall)

    def decode_probs(self, probs: Sequence[np.ndarray], beam_width: int | None = None,
                     lexicon: Sequence[str] | None = None, lm_weight: float | None = None,
                     lm_bonus: float | None = None, lm_support: float | None = None,
                     keep_digits: bool = True) -> list[ctc.Decoded]:
        """The recognizer's per-crop probabilities -> decoded texts (the settings where not given).
        A crop's probabilities are (T, C), or (k, T, C) for k ways of reading it: the surest wins."""
        beam = self.settings.beam_width if beam_width is None else beam_width
        lexicon = tuple(lexicon) if lexicon else None
        return [self._calibrated(self._decode_one(p, beam, lexicon, lm_weight, lm_bonus, lm_support, keep_digits))
                for p in probs]

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

    def _decode(self, regions: list[Region], probs: Sequence[np.ndarray], beam: int, lexicon,
                deadline: float = math.inf) -> list[Word]:
        out = []
        for i, (region, p) in enumerate(zip(regions, probs, strict=True)):
            self._check(deadline, f"decoding region {i + 1} of {len(regions)}")
            d = self._calibrated(self._decode_one(p, beam, lexicon))
            out.append(Word(d.text, d.confidence, region.bbox))
        return out

    def _decode_one(self, probs: np.ndarray, beam: int, lexicon: tuple[str, ...] | None,
                    lm_weight: float | None = None, lm_bonus: float | None = None,
                    lm_support: float | None = None, keep_digits: bool = True) -> ctc.Decoded:
        if probs.ndim == 3:  # several ways of reading one crop: the surest reading
            reads = [self._decode_one(p, beam, lexicon, lm_weight, lm_bonus, lm_support, keep_digits) for p in probs]
            return max(reads, key=lambda d: d.confidence)
        if lexicon:
            return ctc.lexicon_decode(probs, lexicon)
        if beam <= 1:
            return ctc.greedy_decode(probs)
        s = self.settings
        return ctc.gated_beam_search(
            probs, beam, self.lm,
            lm_weight=s.lm_weight if lm_weight is None else lm_weight,
            lm_bonus=s.lm_bonus if lm_bonus is None else lm_bonus,
            support=s.lm_support if lm_support is None else lm_support,
            keep_digits=keep_digits,
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
    """The pixels of each region: the detected ones as they are, the whole image (last) shrunk
    to at most ``WHOLE_IMAGE_MAX_HEIGHT`` rows and given a margin."""
    crops = [image.rgb[y1:y2, x1:x2] for (x1, y1, x2, y2) in (r.bbox for r in regions[:-1])]
    crops.append(with_margin(_shrunk_for_reading(image.rgb)))
    return crops


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


def _union(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def scene_word_kept(text: str, confidence: float, min_confidence: float, short_min_confidence: float) -> bool:
    """Whether a word read in a scene is kept by the scene's floors: ``min_confidence``, and
    ``short_min_confidence`` for words shorter than ``SHORT_WORD`` characters (a scene's unsure
    readings, short ones above all, are mostly junk read from texture: ``model.scene_curve``)."""
    floor = max(min_confidence, short_min_confidence) if len(text) < SHORT_WORD else min_confidence
    return confidence >= floor


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


def _best_in_reading_order(words: list[Word], limit: int) -> list[Word]:
    """The most confident ``limit`` words, sorted as a reader reads."""
    best = sorted(words, key=lambda w: -w.confidence)[:limit]
    by_box = {w.bbox: w for w in best}
    ordered = reading_order([Region(w.bbox, w.confidence) for w in best])
    return [by_box[r.bbox] for r in ordered]


@functools.cache
def get_engine() -> OcrEngine:
    """The process-wide engine: settings read and the model loaded once (cold start)."""
    return OcrEngine.from_settings(load_settings())

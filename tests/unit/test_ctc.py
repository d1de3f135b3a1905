import itertools

import numpy as np
import pytest
from ocr_engine import ctc
from ocr_engine.charset import ALPHABET, BLANK_INDEX, NUM_CLASSES, normalize_text, text_to_indices
from ocr_engine.ctc import (
    SHORTLIST_ABOVE,
    SHORTLIST_MOST,
    beam_search,
    greedy_decode,
    lexicon_decode,
    sequence_log_prob,
    sequence_log_probs,
    shortlist,
)


def peaked(path: list[int], sharp: float = 0.97) -> np.ndarray:
    """Per-step probabilities with ``sharp`` mass on the given class at each step."""
    probs = np.full((len(path), NUM_CLASSES), (1 - sharp) / (NUM_CLASSES - 1), np.float32)
    probs[np.arange(len(path)), path] = sharp
    return probs


def path_for(text: str, steps: int = 32) -> list[int]:
    """A valid alignment: each character, then a blank, then blanks to the end."""
    path = []
    for i in text_to_indices(text):
        path += [i, BLANK_INDEX]
    return path + [BLANK_INDEX] * (steps - len(path))


def test_charset_convention():
    assert BLANK_INDEX == 0 and NUM_CLASSES == 37 and len(ALPHABET) == 36
    assert normalize_text("Café-42!") == "caf42"


@pytest.mark.parametrize("word", ["hello", "coffee", "2026", "a", "zzz"])
def test_greedy_reads_a_peaked_path_with_repeats(word):
    d = greedy_decode(peaked(path_for(word)))
    assert d.text == word and d.confidence > 0.9


@pytest.mark.parametrize("word", ["street", "book", "ok", "1337"])
def test_beam_equals_greedy_on_peaked_inputs(word):
    probs = peaked(path_for(word))
    assert beam_search(probs, beam_width=10).text == greedy_decode(probs).text == word


def test_repeated_characters_need_a_blank_between():
    aa = text_to_indices("a") * 2
    assert greedy_decode(peaked(aa + [0] * 6)).text == "a"
    assert greedy_decode(peaked([aa[0], 0, aa[0]] + [0] * 5)).text == "aa"


def test_beam_search_beats_greedy_when_paths_split_the_mass():
    # Step-wise argmax gives blank, blank ("") but "a" has more total probability:
    # P("") = 0.4*0.4 = 0.16, P("a") = 0.3*0.4+0.4*0.3+0.3*0.3 = 0.33.
    a = text_to_indices("a")[0]
    probs = np.zeros((2, NUM_CLASSES), np.float32)
    probs[:, BLANK_INDEX] = 0.4
    probs[:, a] = 0.3
    probs[:, text_to_indices("b")[0]] = 0.3
    assert greedy_decode(probs).text == ""
    assert beam_search(probs, beam_width=5).text in {"a", "b"}


def test_forward_algorithm_matches_brute_force():
    rng = np.random.default_rng(0)
    classes = [BLANK_INDEX, *text_to_indices("ab")]
    logits = rng.normal(size=(4, NUM_CLASSES))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    for target in ("a", "ab", "aa", "ba"):
        want = 0.0
        for path in itertools.product(classes, repeat=4):
            collapsed = [c for i, c in enumerate(path) if c != BLANK_INDEX and (i == 0 or c != path[i - 1])]
            if collapsed == text_to_indices(target):
                want += float(np.prod(probs[np.arange(4), list(path)]))
        got = np.exp(sequence_log_prob(np.log(probs), text_to_indices(target)))
        assert got == pytest.approx(want, rel=1e-6)


def test_scoring_many_words_at_once_matches_scoring_each_alone():
    # Padding the short words to the longest must not change their scores; a word that
    # needs more steps than there are scores -inf (in 5 steps "aaa" fits as a-_-a-_-a,
    # "aaaa" does not).
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(5, NUM_CLASSES)) * 2
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    words = ["", "a", "ab", "aa", "aaa", "abc", "aaaa", "abcdef", "x" * 10_000]
    together = sequence_log_probs(log_probs, [text_to_indices(w) for w in words])
    alone = [sequence_log_probs(log_probs, [text_to_indices(w)])[0] for w in words]
    assert np.all(np.isfinite(together[:6]))
    assert together[:6] == pytest.approx(alone[:6], rel=1e-9)
    assert np.all(together[6:] == -np.inf)


def test_a_lexicon_no_path_can_spell_gets_zero_confidence_not_nan():
    d = lexicon_decode(peaked(path_for("a")), ["x" * 40, "y" * 50])
    assert d.confidence == 0.0


def test_lexicon_picks_the_nearest_word_even_when_the_raw_read_is_wrong():
    probs = peaked(path_for("hcllo"), sharp=0.7)
    assert greedy_decode(probs).text == "hcllo"
    d = lexicon_decode(probs, ["world", "hello", "help"])
    assert d.text == "hello" and 0 < d.confidence <= 1


def test_lexicon_keeps_the_callers_spelling():
    assert lexicon_decode(peaked(path_for("cafe")), ["Café", "Bar"]).text == "Café"


def random_words(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), int(rng.integers(6, 12)))) for _ in range(n)]


def test_a_large_lexicon_is_narrowed_to_the_words_near_the_reading_and_still_finds_the_word():
    lexicon = (*random_words(3000), "hello", "hallo", "help")
    probs = peaked(path_for("hcllo"), sharp=0.7)
    near = shortlist(probs, lexicon)
    assert {lexicon[i] for i in near} >= {"hello", "hallo", "help"}
    assert len(near) < 50  # random 6-11 letter words are rarely within 3 edits of 'hcllo'
    assert lexicon_decode(probs, lexicon).text == "hello"
    # The same choice as scoring every word.
    assert lexicon_decode(probs, lexicon, shortlist_above=10**9).text == "hello"


def test_a_short_reading_keeps_only_the_nearest_words():
    lexicon = tuple(f"{a}{b}" for a in "abcdefghij" for b in "0123456789")  # 100 two-character words
    lexicon = (*lexicon, *random_words(1000, seed=1))
    near = shortlist(peaked(path_for("a1")), lexicon, most=20)
    assert len(near) == 20 and lexicon.index("a1") in near


def test_a_reading_near_no_word_scores_only_the_nearest_words():
    # Scoring every word when none is close let 10,000 far words cost 57 s a scene.
    lexicon = (*random_words(600, seed=2), "012345wxyz")
    probs = peaked(path_for("0123456789"))
    near = shortlist(probs, lexicon, most=20)
    assert len(near) == 20 and lexicon.index("012345wxyz") in near  # 4 edits: not close, but the nearest
    chosen = lexicon_decode(probs, lexicon)
    assert chosen.text in lexicon and 0.0 <= chosen.confidence <= 1.0


def _far_words(n: int, seed: int = 3) -> list[str]:
    """Words of 24-32 characters: many edits from any reading, and the costliest to score."""
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list(ALPHABET), int(rng.integers(24, 33)))) for _ in range(n)]


@pytest.mark.parametrize("lexicon", [
    pytest.param(_far_words(10_000), id="10000-far-words"),
    pytest.param([f"{a}{b}" for a in ALPHABET for b in ALPHABET], id="1296-words-near-a-short-reading"),
    pytest.param(_far_words(SHORTLIST_ABOVE), id="500-far-words-scored-in-full"),
    pytest.param(_far_words(SHORTLIST_ABOVE + 1), id="501-far-words"),
    pytest.param([*_far_words(2000), *("x" * n for n in range(33, 1033))], id="words-too-long-to-spell"),
])
def test_one_reading_scores_at_most_most_scored_words_whatever_the_lexicon(lexicon, monkeypatch):
    scored = []
    monkeypatch.setattr(ctc, "sequence_log_probs",
                        lambda log_probs, seqs: scored.append(len(seqs)) or sequence_log_probs(log_probs, seqs))
    for reading in ("", "ab", "hello", "0123456789abcdefghij"):
        chosen = lexicon_decode(peaked(path_for(reading)), lexicon)
        assert chosen.text in lexicon
    # One pass per reading: the words kept, and the network's own reading (the confidence's rival).
    assert len(scored) == 4 and max(scored) <= ctc.MOST_SEQUENCES == max(SHORTLIST_ABOVE, SHORTLIST_MOST) + 1
    if len(lexicon) > SHORTLIST_ABOVE:
        assert max(scored) <= SHORTLIST_MOST + 1


def test_empty_lexicon_is_an_error():
    with pytest.raises(ValueError):
        lexicon_decode(peaked(path_for("a")), [])


def test_a_dubious_character_among_blanks_is_not_confident():
    # 31 sure blank frames and one frame where "s" barely wins: the read is "s" but the
    # confidence must reflect that frame, not the blanks around it.
    probs = peaked([BLANK_INDEX] * 32, sharp=0.99)
    s = text_to_indices("s")[0]
    probs[10] = 0.0
    probs[10, s], probs[10, BLANK_INDEX], probs[10, text_to_indices("5")[0]] = 0.4, 0.35, 0.25
    for d in (greedy_decode(probs), beam_search(probs, 10)):
        assert d.text == "s" and d.confidence < 0.5


def test_nothing_read_has_zero_confidence():
    probs = peaked([BLANK_INDEX] * 32)
    assert greedy_decode(probs) == beam_search(probs, 10) == type(greedy_decode(probs))("", 0.0)


def test_a_lexicon_word_far_from_what_the_network_reads_gets_a_low_confidence():
    """The confidence was the chosen word's share among the list's words alone: a crop
    reading "gabbana" against a list without it got "bank" at 1.00, so min_confidence and the
    scene's floors kept every junk word a lexicon was given."""
    probs = peaked(path_for("gabbana"))
    far = lexicon_decode(probs, ["bank", "open", "closed"])
    assert far.text == "bank" and far.confidence < 0.01
    assert lexicon_decode(probs, ["bank", "gabbana"]).confidence > 0.9  # in the list: as sure as before


def test_a_lexicon_correcting_a_misread_letter_keeps_its_confidence():
    """A reading a letter away from a list word ("livng") is the word misread: no rival."""
    probs = peaked(path_for("livng"))
    near = lexicon_decode(probs, ["living", "room"])
    assert near.text == "living" and near.confidence > 0.9


@pytest.mark.parametrize("lexicon", [["bank"], ["bank", "open"], ["a"]])
def test_a_crop_read_as_nothing_gets_no_sure_lexicon_word(lexicon):
    """A crop of texture the network reads as nothing got the list's word at its whole share
    (1.00 for a list of one): in a scene, such candidates are common, and passed every floor."""
    chosen = lexicon_decode(peaked([BLANK_INDEX] * 32), lexicon)
    assert chosen.text in lexicon and chosen.confidence < 0.05  # was 1.00 for a list of one

"""The character language model and the beam search it steers."""

from __future__ import annotations

import numpy as np
import pytest
from ocr_engine.charset import ALPHABET, BLANK_INDEX, NUM_CLASSES, text_to_indices
from ocr_engine.ctc import beam_search, gated_beam_search, greedy_decode, lm_may_overrule, sequence_log_prob
from ocr_engine.errors import ModelUnavailable
from ocr_engine.lm import END, CharLM

from model import charlm
from model.charlm import build

WORDS = ["hello", "help", "world", "quiz", "queen", "quote"]


def symbol(ch: str) -> int:
    return ALPHABET.index(ch) + 1


@pytest.fixture(scope="module")
def lm() -> CharLM:
    return build(WORDS, order=4)


def test_every_context_is_a_distribution(lm):
    for prefix in ("", "q", "hel", "zzz9", "helloworld"):
        assert np.exp(lm.log_probs(prefix)).sum() == pytest.approx(1.0, abs=1e-3)


def test_it_has_learned_the_words(lm):
    assert np.argmax(lm.log_probs("q")) == symbol("u")
    assert np.argmax(lm.log_probs("hell")) == symbol("o")
    assert np.argmax(lm.log_probs("hello")) == END


def test_a_whole_word_scores_each_letter_then_its_end(lm):
    expected = sum(lm.log_probs("help"[:i])[symbol(c)] for i, c in enumerate("help")) + lm.log_probs("help")[END]
    assert lm.word_log_prob("help") == pytest.approx(expected)
    assert lm.word_log_prob("hello") > lm.word_log_prob("hell")  # "hell" is not a word it learned to end
    assert lm.word_log_prob("hello") + lm.word_log_prob("world") > lm.word_log_prob("helloworld")
    assert lm.word_log_prob("Café-Help!") == lm.word_log_prob("cafhelp")  # a lexicon word, as it is spelled


def test_nothing_is_impossible(lm):
    # Names, codes and numbers must stay readable: smoothing leaves every symbol some mass.
    assert np.all(np.isfinite(lm.log_probs("x7")))


def test_it_survives_a_round_trip_through_its_file(lm, tmp_path):
    lm.save(tmp_path / "lm.npz")
    again = CharLM.load(tmp_path / "lm.npz")
    assert np.allclose(again.log_probs("hel"), lm.log_probs("hel"), atol=1e-2)  # stored as float16


def test_a_broken_file_is_a_clear_error(tmp_path):
    (tmp_path / "lm.npz").write_bytes(b"not a model")
    with pytest.raises(ModelUnavailable):
        CharLM.load(tmp_path / "lm.npz")


def sure_reading(word: str) -> np.ndarray:
    """Steps alternating each letter of ``word`` and the blank, each at 0.99."""
    path = []
    for i in text_to_indices(word):
        path += [i, BLANK_INDEX]
    probs = np.full((len(path), NUM_CLASSES), 0.01 / (NUM_CLASSES - 1))
    probs[np.arange(len(path)), path] = 0.99
    return probs


def ambiguous_hello() -> np.ndarray:
    """Each letter of 'hello' sure, except the second: 'c' 0.5 against 'e' 0.4."""
    probs = sure_reading("hello")
    probs[2] = 0.1 / (NUM_CLASSES - 2)
    probs[2, symbol("c")], probs[2, symbol("e")] = 0.5, 0.4
    return probs


def test_the_language_model_corrects_a_close_call(lm):
    probs = ambiguous_hello()
    assert greedy_decode(probs).text == "hcllo"
    assert beam_search(probs, 10).text == "hcllo"
    assert beam_search(probs, 10, lm=lm, lm_weight=0.0).text == "hcllo"
    read = beam_search(probs, 10, lm=lm, lm_weight=0.3)
    assert read.text == "hello"
    # The confidence stays the recognizer's own: 'e' had 0.4 there, so well below certain.
    assert 0.5 < read.confidence < 0.95


def test_the_language_model_does_not_overrule_a_clear_reading(lm):
    assert beam_search(sure_reading("hxllo"), 10, lm=lm, lm_weight=0.3).text == "hxllo"


def faint_last_letter(word: str, p_last: float) -> np.ndarray:
    """Every letter of ``word`` sure except the last, seen with probability ``p_last``
    against the blank: the recognizer is unsure whether the letter is there at all."""
    probs = sure_reading(word)
    last = len(probs) - 2  # the last letter's step (a blank follows it)
    probs[last] = 0.0
    probs[last, text_to_indices(word)[-1]], probs[last, BLANK_INDEX] = p_last, 1.0 - p_last
    return probs


def test_the_bonus_pays_back_what_each_letter_costs_under_the_language_model(lm):
    # 'help' is a word of the LM, 'hel' is not one: with a weak 'p' the plain CTC reading
    # drops it; each letter's bonus keeps it. The bonus changes nothing without the LM.
    probs = faint_last_letter("help", 0.3)
    assert beam_search(probs, 10).text == "hel"
    assert beam_search(probs, 10, lm_bonus=5.0).text == "hel"
    assert beam_search(probs, 10, lm=lm, lm_weight=0.3).text == "hel"
    boosted = beam_search(probs, 10, lm=lm, lm_weight=0.3, lm_bonus=1.0)
    assert boosted.text == "help"
    # The confidence stays the recognizer's own: P_ctc('help') per character.
    p_help = np.exp(sequence_log_prob(np.log(np.clip(probs, 1e-12, 1.0)), text_to_indices("help")) / 4)
    assert boosted.confidence == pytest.approx(p_help, rel=0.01)


def test_the_candidate_lms_cover_every_word_count_and_order(monkeypatch):
    # As model.tune_decoding compares them; the word list stands in for wordfreq's.
    monkeypatch.setattr(charlm, "english_words", lambda n: WORDS[:n])
    built = list(charlm.candidates([2, 6], [3, 5]))
    assert [label for label, _ in built] == [
        "LM of order 3 from the top 2 words (2 types)", "LM of order 5 from the top 2 words (2 types)",
        "LM of order 3 from the top 6 words (6 types)", "LM of order 5 from the top 6 words (6 types)"]
    assert [lm.order for _, lm in built] == [3, 5, 3, 5]
    # The two-word LM has never seen "quiz"; the six-word one has.
    assert np.argmax(built[0][1].log_probs("q")) != symbol("u")
    assert np.argmax(built[2][1].log_probs("q")) == symbol("u")


# -- the gate: the LM may not overrule the network ------------------------------------


def test_the_gate_keeps_the_lm_within_reach_of_the_network(lm):
    probs = ambiguous_hello()  # the network reads 'hcllo'; the LM pulls to 'hello' (0.4 against 0.5)
    near = gated_beam_search(probs, 10, lm, lm_weight=0.3, lm_bonus=0.0, support=1.0)
    assert near.text == "hello"  # log 0.5 - log 0.4 = 0.22 nats: nearly supported
    strict = gated_beam_search(probs, 10, lm, lm_weight=0.3, lm_bonus=0.0, support=0.1)
    assert strict.text == "hcllo"  # the network's own reading, not the LM's
    assert strict == beam_search(probs, 10)


def test_the_lm_never_adds_drops_or_changes_a_digit_in_numbers_and_codes():
    assert not lm_may_overrule("2002", -3.0, "22", -3.0, support=10.0)
    assert not lm_may_overrule("20p", -3.0, "2op", -2.0, support=10.0)
    assert not lm_may_overrule("hornby", -3.0, "horn8y", -3.0, support=10.0)
    assert lm_may_overrule("20p", -3.0, "20p", -9.0, support=0.0)  # the same reading
    assert lm_may_overrule("2op", -3.0, "20p", -3.5, support=1.0, keep_digits=False)
    assert lm_may_overrule("hcllo", -3.0, "hello", -3.5, support=1.0)
    assert not lm_may_overrule("hcllo", -3.0, "hello", -4.5, support=1.0)


def test_the_lm_may_read_a_stray_digit_in_a_word_of_letters_as_a_letter():
    assert lm_may_overrule("5tar", -3.0, "star", -4.0, support=6.0)
    assert lm_may_overrule("70uch", -3.0, "touch", -4.0, support=6.0)
    assert not lm_may_overrule("5tar", -3.0, "star", -10.0, support=6.0)  # still within the gate
    assert not lm_may_overrule("5tar", -3.0, "tar", -3.0, support=6.0)  # not by dropping it
    assert not lm_may_overrule("5tar", -3.0, "s7ar", -3.0, support=6.0)  # nor trading it for another digit
    assert not lm_may_overrule("m1a1", -3.0, "mala", -3.0, support=6.0)  # half digits: a code, kept
    assert not lm_may_overrule("20p", -3.0, "zop", -3.0, support=6.0)  # mostly digits: a number, kept
    assert lm_may_overrule("3ooks", -3.0, "books", -4.0, support=6.0)
    assert not lm_may_overrule("2nd", -3.0, "and", -3.0, support=6.0)  # a 2 does not look like an a
    assert not lm_may_overrule("mp3", -3.0, "mps", -3.0, support=6.0)  # nor a 3 like an s
    assert not lm_may_overrule("5tar", -3.0, "stab", -3.0, support=6.0)  # the letters stay as read

"""model.tune_decoding's record: each choice's table is appended, never overwritten."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.train  # Keras: requirements/train-ci.txt, which make test installs

from model.tune_decoding import record  # noqa: E402


def test_a_table_is_appended_under_its_title_and_command(tmp_path):
    path = tmp_path / "decoding_choice.txt"
    path.write_text("# earlier choices\n")
    record(path, "phase 7, last epoch", ["--weights", "w.h5"], ["dev crops: 466", "   0.4   1.0  0.848"])
    record(path, "the language model", ["--lm-words", "20000", "--record", "the language model"], ["dev crops: 466"])
    text = path.read_text()
    assert text.startswith("# earlier choices\n")
    first, second = text.index("## phase 7, last epoch"), text.index("## the language model")
    assert first < second
    assert "# python -m model.tune_decoding --weights w.h5, " in text[first:second]
    assert "   0.4   1.0  0.848\n" in text[first:second]
    assert "# python -m model.tune_decoding --lm-words 20000 --record 'the language model', " in text[second:]

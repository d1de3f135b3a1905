"""model.tune_decoding's record: each choice's table is appended, never overwritten. The
tools that read the dev crops with the LiteRT engine import no Keras."""

from __future__ import annotations

import subprocess
import sys

from model.tune_decoding import record
from tests.conftest import REPO


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


def test_a_markdown_log_gets_the_command_in_backticks_the_note_and_a_blank_line(tmp_path):
    # model.dev_compare's dev log (model/checkpoints/dev_log.md)
    path = tmp_path / "dev_log.md"
    record(path, "Phase 9", ["a=w.h5", "--record", "Phase 9"], ["| candidate |", "|---|"],
           module="model.dev_compare", note="beam 8 with the LM", markdown=True)
    lines = path.read_text().split("\n")
    assert lines[:6] == ["", "## Phase 9", lines[2], "", "| candidate |", "|---|"]
    assert lines[2].startswith("`python -m model.dev_compare a=w.h5 --record 'Phase 9'`, ")
    assert lines[2].endswith(", beam 8 with the LM")


def test_the_tools_that_read_with_the_litert_engine_import_no_keras():
    tools = ["model.tune_decoding", "model.calibrate", "model.read_stretch", "model.dev_compare",
             "model.device_bundle", "model.test_point", "model.real_sets"]
    code = ("import sys\n" + "".join(f"import {t}\n" for t in tools)
            + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow', 'jax')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

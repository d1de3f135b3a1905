from pathlib import Path

import pytest
from pytest_socket import disable_socket, enable_socket

from tests.helpers import write_crop


@pytest.fixture(autouse=True)
def _no_network():
    """Unit tests are pure: any socket use fails the test."""
    disable_socket()
    yield
    enable_socket()


@pytest.fixture
def labels(tmp_path) -> Path:
    """A labels file of three crops that exist (the ocr command's tests)."""
    for name in ("a", "b", "c"):
        write_crop(tmp_path / "crops" / f"{name}.png")
    tsv = tmp_path / "labels.tsv"
    tsv.write_text("crops/a.png\tone\ncrops/b.png\ttwo\ncrops/c.png\tthree\n", encoding="utf-8")
    return tsv


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    """A generator over a small word list (wordfreq is a training dependency, as the
    device bundle's OCR_WORDS_FILE stands in for it) and this machine's fonts."""
    import model.synth as synth_module

    words = tmp_path_factory.mktemp("words") / "words.txt"
    words.write_text("\n".join(["coffee", "shop", "hotel", "area", "open", "sale", "street", "park"]) + "\n")
    patch = pytest.MonkeyPatch()
    patch.setattr(synth_module, "WORDS_FILE", str(words))
    synth_module.word_list.cache_clear()
    try:
        yield synth_module.WordSynth(seed=3)
    except RuntimeError as exc:  # no fonts: every make target that runs tests installs DejaVu (make fonts)
        pytest.fail(f"{exc} (make fonts installs DejaVu, enough for these tests)")  # a skip hid them
    finally:
        patch.undo()
        synth_module.word_list.cache_clear()

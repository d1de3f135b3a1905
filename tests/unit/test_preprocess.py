import numpy as np
import pytest
from ocr_engine.preprocess import INPUT_HEIGHT, INPUT_WIDTH, batch_to_input, crop_to_input, with_margin


@pytest.mark.parametrize("shape", [(10, 10), (50, 400, 3), (100, 30, 4), (1, 1)])
def test_any_crop_becomes_model_input(shape):
    out = crop_to_input(np.random.default_rng(0).integers(0, 255, shape, dtype=np.uint8))
    assert out.shape == (INPUT_HEIGHT, INPUT_WIDTH, 1) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_short_words_keep_their_aspect_and_are_padded():
    crop = np.zeros((32, 40), np.uint8)
    crop[:, -1] = 255  # last column white: the padding repeats it
    out = crop_to_input(crop)[:, :, 0]
    assert out[:, :39].max() == 0.0 and out[:, 60:].min() == 1.0


def test_empty_crop_is_an_error():
    with pytest.raises(ValueError):
        crop_to_input(np.zeros((0, 5), np.uint8))


def test_batch_shape():
    assert batch_to_input([np.zeros((20, 60), np.uint8)] * 3).shape == (3, 32, 128, 1)
    assert batch_to_input([]).shape == (0, 32, 128, 1)


def test_decoded_colours_become_their_luminance(tmp_path):
    # Served bytes, files read for training/evaluation, and synthetic words all reach
    # the model as RGB: pure red must weigh 0.299, pure blue 0.114 (BT.601), not swapped.
    from ocr_engine.imagefile import load_rgb
    from PIL import Image

    img = np.zeros((32, 128, 3), np.uint8)
    img[:, :64, 0] = 255  # red left half
    img[:, 64:, 2] = 255  # blue right half
    path = tmp_path / "red-blue.png"
    Image.fromarray(img).save(path)
    out = crop_to_input(load_rgb(path))[:, :, 0]
    assert out[16, 10] == pytest.approx(0.299, abs=0.01)
    assert out[16, 100] == pytest.approx(0.114, abs=0.01)


def test_a_word_crop_gets_a_margin_of_its_own_background():
    crop = np.full((40, 100, 3), 200, np.uint8)
    crop[5:35, 10:90] = 0  # the "word", cut tight
    out = with_margin(crop, 0.1)
    assert out.shape == (48, 108, 3)  # 4 pixels (10% of 40) on every side
    assert np.array_equal(out[4:44, 4:104], crop)
    assert out[:4].min() == 200 and out[:, :4].min() == 200  # the background, repeated


def test_a_crop_too_small_for_a_margin_is_left_as_it_is():
    crop = np.zeros((3, 9), np.uint8)
    assert with_margin(crop, 0.1) is crop


def test_stretched_widens_a_crop_and_keeps_its_height():
    import numpy as np
    from ocr_engine.preprocess import stretched

    crop = np.zeros((20, 40, 3), np.uint8)
    assert stretched(crop, 1.15).shape == (20, 46, 3)
    assert stretched(crop, 2.0).shape == (20, 80, 3)
    assert stretched(np.zeros((0, 0, 3), np.uint8), 1.5).size == 0
    assert stretched(np.zeros((5, 1, 3), np.uint8), 0.1).shape == (5, 1, 3)  # never zero wide

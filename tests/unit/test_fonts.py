"""The generator's fonts: which files count as Latin fonts, the Google Fonts fetch, and the
fonts the GPU bundle carries."""

from __future__ import annotations

import io
import json
import string
import tarfile
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont

from model import google_fonts
from model import synth as synth_module

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.fixture
def _dejavu():
    """make test and make test-fast install DejaVu (make fonts): missing, it is a broken set-up
    to fail on, not a reason to skip these tests silently."""
    if not DEJAVU.exists():
        pytest.fail(f"{DEJAVU} is missing: make fonts installs DejaVu (fonts-dejavu-core)")


needs_dejavu = pytest.mark.usefixtures("_dejavu")


def dejavu_as(path: Path, flavor: str | None = None, same_glyph_for: str = "", source: Path = DEJAVU,
              style: str | None = None, family: str | None = None) -> Path:
    """A DejaVu font saved as ``flavor`` (woff, woff2), its letters in ``same_glyph_for`` all
    mapped to one glyph (as a symbol font's Latin code points are), named ``family`` ``style``."""
    font = TTFont(source)
    for table in font["cmap"].tables:
        for ch in same_glyph_for:
            if ord(ch) in table.cmap:
                table.cmap[ord(ch)] = table.cmap[ord("o")]
    if style:
        for record in font["name"].names:
            if record.nameID in (2, 17):  # the style, and the typographic style FreeType prefers
                record.string = style
    if family:
        for record in font["name"].names:
            if record.nameID in (1, 16):  # the family, and the typographic family
                record.string = family
    font.flavor = flavor
    font.save(path)
    return path


@pytest.fixture
def font_dirs(tmp_path, monkeypatch):
    """find_fonts over ``tmp_path`` alone, its cache cleared before and after."""
    monkeypatch.setattr(synth_module, "FONT_DIRS", (str(tmp_path),))
    synth_module.find_fonts.cache_clear()
    yield tmp_path
    synth_module.find_fonts.cache_clear()


@needs_dejavu
@pytest.mark.parametrize("flavor", [None, "woff", "woff2"])
def test_a_latin_font_counts_in_each_format(tmp_path, flavor):
    font = dejavu_as(tmp_path / f"DejaVuSans.{flavor or 'ttf'}", flavor=flavor)
    assert synth_module.latin_font_name(str(font)) == ("DejaVu Sans", "Book")


@needs_dejavu
def test_a_monospaced_font_counts_whatever_its_file_is_called(tmp_path):
    mono = dejavu_as(tmp_path / "Typewriter.ttf", source=DEJAVU.with_name("DejaVuSansMono.ttf"))
    assert synth_module.latin_font_name(str(mono)) == ("DejaVu Sans Mono", "Book")


@needs_dejavu
def test_a_font_that_draws_one_shape_for_every_letter_is_left_out(tmp_path):
    assert synth_module.latin_font_name(str(dejavu_as(tmp_path / "symbols.ttf", same_glyph_for="aegx"))) is None


def test_a_file_that_is_no_font_is_left_out(tmp_path):
    junk = tmp_path / "junk.woff2"
    junk.write_bytes(b"wOF2" + bytes(200))
    assert synth_module.latin_font_name(str(junk)) is None


@needs_dejavu
def test_fonts_are_found_in_every_format_and_symbol_fonts_skipped(font_dirs):
    (font_dirs / "a").mkdir()
    dejavu_as(font_dirs / "a" / "Latin.woff2", flavor="woff2")
    dejavu_as(font_dirs / "Serif.TTF", source=DEJAVU.with_name("DejaVuSerif.ttf"))
    dejavu_as(font_dirs / "Symbols.ttf", same_glyph_for="aegx", style="Symbols")
    (font_dirs / "notes.txt").write_text("not a font")
    assert synth_module.find_fonts() == (str(font_dirs / "Serif.TTF"), str(font_dirs / "a" / "Latin.woff2"))


@needs_dejavu
def test_families_that_draw_no_letters_at_latin_code_points_are_left_out(font_dirs):
    """Barcodes and symbol-encoded fonts draw a distinct shape for each letter, so only their
    names tell them apart (model.synth.LEFT_OUT_FAMILIES)."""
    dejavu_as(font_dirs / "sans.ttf")
    junk = ("Libre Barcode 39 Text", "Linefont", "Wavefont", "Yarndings 20", "Standard Symbols PS", "D050000L")
    for i, family in enumerate(junk):
        dejavu_as(font_dirs / f"junk{i}.ttf", family=family)
    assert synth_module.latin_font_name(str(font_dirs / "junk0.ttf")) == ("Libre Barcode 39 Text", "Book")
    assert synth_module.find_fonts() == (str(font_dirs / "sans.ttf"),)


@needs_dejavu
def test_one_family_and_style_installed_twice_is_drawn_from_one_file(font_dirs):
    (font_dirs / "debian").mkdir()
    (font_dirs / "google").mkdir()
    dejavu_as(font_dirs / "debian" / "DejaVuSans.ttf")
    dejavu_as(font_dirs / "google" / "dejavu-sans-latin-400-normal.woff2", flavor="woff2")
    dejavu_as(font_dirs / "google" / "dejavu-sans-latin-700-normal.woff2", flavor="woff2", style="Bold")
    assert synth_module.find_fonts() == (str(font_dirs / "debian" / "DejaVuSans.ttf"),
                                         str(font_dirs / "google" / "dejavu-sans-latin-700-normal.woff2"))


def test_the_family_list_takes_latin_families_and_one_handwriting_face_in_three(tmp_path):
    meta = {f"hand{i}": {"subsets": ["latin"], "styles": ["normal"], "category": "handwriting"} for i in range(6)}
    meta |= {"sans": {"subsets": ["latin", "latin-ext"], "styles": ["normal", "italic"], "category": "sans-serif"},
             "kana": {"subsets": ["japanese"], "styles": ["normal"], "category": "sans-serif"},
             "slanted": {"subsets": ["latin"], "styles": ["italic"], "category": "serif"}}
    source, out = tmp_path / "meta.json", tmp_path / "list.txt"
    source.write_text(json.dumps(meta))
    assert google_fonts.make_list(source, out) == 3
    assert google_fonts.listed_families(out) == ["hand2", "hand5", "sans"]


def fontsource_tarball(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in names:
            data = f"font {name}".encode()
            info = tarfile.TarInfo(f"package/files/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def registry(monkeypatch):
    """npm's registry as the fetch sees it: a family's metadata, then its tarball."""
    tarballs: dict[str, bytes] = {}
    asked: list[str] = []

    def urlopen(url, timeout):
        asked.append(url)
        if url.endswith("/latest"):
            fid = url.rsplit("/", 2)[-2]
            return io.BytesIO(json.dumps({"dist": {"tarball": f"tarball:{fid}"}}).encode())
        return io.BytesIO(tarballs[url.removeprefix("tarball:")])

    monkeypatch.setattr(google_fonts.urllib.request, "urlopen", urlopen)
    return tarballs, asked


def test_a_family_gives_its_latin_regular_and_bold_only(tmp_path, registry):
    tarballs, _ = registry
    tarballs["sans"] = fontsource_tarball([
        "sans-latin-400-normal.woff2", "sans-latin-700-normal.woff2", "sans-latin-400-italic.woff2",
        "sans-latin-ext-400-normal.woff2", "sans-cyrillic-400-normal.woff2", "sans-latin-400-normal.woff"])
    assert google_fonts.fetch_family("sans", tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sans-latin-400-normal.woff2", "sans-latin-700-normal.woff2"]
    assert (tmp_path / "sans-latin-700-normal.woff2").read_bytes() == b"font sans-latin-700-normal.woff2"


def test_a_family_without_regular_or_bold_gives_its_weight_nearest_regular(tmp_path, registry):
    tarballs, _ = registry
    tarballs["thin"] = fontsource_tarball(["thin-latin-ext-300-normal.woff2", "thin-latin-100-normal.woff2",
                                           "thin-latin-300-normal.woff2", "thin-latin-900-normal.woff2"])
    assert google_fonts.fetch_family("thin", tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["thin-latin-300-normal.woff2"]


def test_a_family_fetched_before_is_not_fetched_again(tmp_path, registry):
    _, asked = registry
    (tmp_path / "sans-latin-400-normal.woff2").write_bytes(b"kept")
    assert google_fonts.fetch_family("sans", tmp_path) == 0
    assert asked == []


def test_a_failed_family_fails_the_fetch_and_keeps_the_others(tmp_path, registry, monkeypatch, capsys):
    tarballs, _ = registry
    tarballs["sans"] = fontsource_tarball(["sans-latin-400-normal.woff2"])
    tarballs["torn"] = fontsource_tarball(["torn-latin-400-normal.woff2"])[:40]  # a download cut short
    listing = tmp_path / "list.txt"
    listing.write_text("# fonts\nsans sans-serif\ntorn display\n")
    monkeypatch.setattr(google_fonts, "LIST_FILE", listing)
    with pytest.raises(SystemExit, match="1 of 2 families failed"):
        google_fonts.main(["--out", str(tmp_path / "fonts"), "--jobs", "2"])
    assert [p.name for p in (tmp_path / "fonts").iterdir()] == ["sans-latin-400-normal.woff2"]
    assert "failed: torn" in capsys.readouterr().out


def test_the_committed_list_is_one_fontsource_id_a_line():
    families = google_fonts.listed_families()
    assert len(families) > 1000 and len(set(families)) == len(families)
    assert all(fid == fid.lower() and " " not in fid for fid in families)


@needs_dejavu
def test_a_compacted_font_draws_every_character_the_generator_draws(tmp_path):
    from PIL import ImageFont

    from model.device_bundle import compact_font

    data = compact_font(DEJAVU)
    assert data[:4] == b"wOFF" and len(data) < DEJAVU.stat().st_size / 10
    small = tmp_path / "DejaVuSans.woff"
    small.write_bytes(data)
    assert set(synth_module.DRAWN_CHARACTERS) <= {chr(c) for c in TTFont(small).getBestCmap()}
    full, cut = ImageFont.truetype(str(DEJAVU), 32), ImageFont.truetype(str(small), 32)
    assert cut.getname() == full.getname()
    for size in (16, 24, 32, 48):
        full, cut = ImageFont.truetype(str(DEJAVU), size), ImageFont.truetype(str(small), size)
        for text in ("Hamburg 1958", "[area!]", "no5 & co.", string.ascii_letters):
            # the same outlines, hinted by FreeType instead of the font's own program
            assert all(abs(a - b) <= 1 for a, b in zip(cut.getbbox(text), full.getbbox(text), strict=True))


def test_every_character_a_sample_draws_is_one_the_bundle_keeps():
    synth = synth_module.WordSynth.__new__(synth_module.WordSynth)  # no fonts needed to make text
    synth.rng = np.random.default_rng(0)
    synth.words = ("coffee", "Shop", "area", "1958")
    drawn = {ch for _ in range(3000) for ch in synth.random_text()}
    assert drawn <= set(synth_module.DRAWN_CHARACTERS)
    assert {"[", "]", "(", "&"} <= drawn


@needs_dejavu
def test_the_bundle_takes_a_regular_and_one_more_style_per_family_within_its_budget(tmp_path):
    from model.device_bundle import pick_fonts, write_fonts

    folder = DEJAVU.parent
    italic = dejavu_as(tmp_path / "DejaVuSerif-Italic.ttf", source=folder / "DejaVuSerif.ttf", style="Italic")
    paths = (str(folder / "DejaVuSerif-Bold.ttf"), str(italic), str(folder / "DejaVuSerif.ttf"),
             str(folder / "DejaVuSansMono.ttf"))
    fonts = pick_fonts(paths, budget_bytes=10**6)
    names = [path.name for path, _ in fonts]
    assert len(names) == 3 and "DejaVuSansMono.ttf" in names
    serif = [name for name in names if name.startswith("DejaVuSerif")]
    assert serif == ["DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"]  # its regular ("Book") first
    assert len(pick_fonts(paths, budget_bytes=len(fonts[0][1]))) == 1
    write_fonts(fonts, tmp_path / "fonts.tar.gz")
    with tarfile.open(tmp_path / "fonts.tar.gz") as tar:
        members = tar.getnames()
        assert len(members) == 3 and all(name.endswith(".woff") for name in members)
        assert tar.extractfile(members[0]).read() == fonts[0][1]


def test_a_family_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    """A run stopped while writing a family leaves nothing the next run takes for fetched."""
    real_replace = Path.replace
    calls = []

    def replace_then_stop(self, target):
        calls.append(target)
        if len(calls) == 1:
            raise KeyboardInterrupt  # stopped before the first font is in place
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", replace_then_stop)
    files = {tmp_path / "sans-latin-400-normal.woff2": b"regular", tmp_path / "sans-latin-700-normal.woff2": b"bold"}
    with pytest.raises(KeyboardInterrupt):
        google_fonts.write_family(files)
    assert not list(tmp_path.glob("sans-latin-*-normal.woff2"))  # the next run fetches it again
    monkeypatch.undo()
    google_fonts.write_family(files)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".part")) == sorted(f.name for f in files)
    assert (tmp_path / "sans-latin-700-normal.woff2").read_bytes() == b"bold"


@needs_dejavu
def test_the_font_sheet_puts_a_font_that_draws_no_letters_first(tmp_path):
    from ocr_engine.config import load_settings
    from ocr_engine.recognize import Recognizer
    from PIL import Image

    from model import font_sheet

    settings = load_settings()
    recognizer = Recognizer(settings.model_path, settings.metadata_path)
    blobs = dejavu_as(tmp_path / "Blobs.ttf", same_glyph_for=string.ascii_letters + string.digits)
    rows = font_sheet.screen((str(DEJAVU), str(blobs)), recognizer.predict_crops)
    assert [path for _, path, _ in rows] == [str(blobs), str(DEJAVU)]
    (worst, _, _), (best, _, read) = rows
    assert worst < 0.5 and best > 0.9, rows
    assert read.split() == [w.lower() for w in font_sheet.WORDS]
    font_sheet.draw_sheet(rows, tmp_path / "sheet.png")
    sheet = np.asarray(Image.open(tmp_path / "sheet.png").convert("L"))
    assert sheet.shape[0] == 2 * 44
    for row in (sheet[:44, 360:], sheet[44:, 360:]):  # each font's words drawn in its row
        assert (row < 128).mean() > 0.01

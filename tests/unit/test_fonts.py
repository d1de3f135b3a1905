"""The generator's fonts: which files count as Latin fonts, and the Google Fonts fetch."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from model import google_fonts
from model import synth as synth_module

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
pytestmark = pytest.mark.skipif(not DEJAVU.exists(), reason="make fonts installs DejaVu")


def dejavu_as(path: Path, flavor: str | None = None, same_glyph_for: str = "") -> Path:
    """DejaVu Sans saved as ``flavor`` (woff), its letters in ``same_glyph_for`` all mapped
    to one glyph, as a symbol font's Latin code points are."""
    font = TTFont(DEJAVU)
    for table in font["cmap"].tables:
        for ch in same_glyph_for:
            if ord(ch) in table.cmap:
                table.cmap[ord(ch)] = table.cmap[ord("o")]
    font.flavor = flavor
    font.save(path)
    return path


def test_a_latin_font_counts_in_any_of_its_formats(tmp_path):
    assert synth_module.draws_latin(str(DEJAVU))
    assert synth_module.draws_latin(str(dejavu_as(tmp_path / "DejaVuSans.woff", flavor="woff")))


def test_a_font_that_draws_one_shape_for_every_letter_is_left_out(tmp_path):
    assert not synth_module.draws_latin(str(dejavu_as(tmp_path / "symbols.ttf", same_glyph_for="aegx")))


def test_a_file_that_is_no_font_is_left_out(tmp_path):
    junk = tmp_path / "junk.woff2"
    junk.write_bytes(b"wOF2" + bytes(200))
    assert not synth_module.draws_latin(str(junk))


def test_fonts_are_found_in_every_format_and_symbol_fonts_skipped(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    dejavu_as(tmp_path / "a" / "Latin.woff", flavor="woff")
    dejavu_as(tmp_path / "Symbols.ttf", same_glyph_for="aegx")
    (tmp_path / "notes.txt").write_text("not a font")
    monkeypatch.setattr(synth_module, "FONT_DIRS", (str(tmp_path),))
    synth_module.find_fonts.cache_clear()
    try:
        assert synth_module.find_fonts() == (str(tmp_path / "a" / "Latin.woff"),)
    finally:
        synth_module.find_fonts.cache_clear()


def test_the_family_list_takes_latin_families_and_one_handwriting_face_in_three(tmp_path):
    meta = {f"hand{i}": {"subsets": ["latin"], "styles": ["normal"], "category": "handwriting"} for i in range(6)}
    meta |= {"sans": {"subsets": ["latin", "latin-ext"], "styles": ["normal", "italic"], "category": "sans-serif"},
             "kana": {"subsets": ["japanese"], "styles": ["normal"], "category": "sans-serif"},
             "slanted": {"subsets": ["latin"], "styles": ["italic"], "category": "serif"}}
    source, out = tmp_path / "meta.json", tmp_path / "list.txt"
    source.write_text(json.dumps(meta))
    assert google_fonts.make_list(source, out) == 3
    assert google_fonts.listed_families(out) == ["hand2", "hand5", "sans"]


def fontsource_tarball(fid: str, names: list[str]) -> bytes:
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
    tarballs["sans"] = fontsource_tarball("sans", [
        "sans-latin-400-normal.woff2", "sans-latin-700-normal.woff2", "sans-latin-400-italic.woff2",
        "sans-latin-ext-400-normal.woff2", "sans-cyrillic-400-normal.woff2", "sans-latin-400-normal.woff"])
    assert google_fonts.fetch_family("sans", tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sans-latin-400-normal.woff2", "sans-latin-700-normal.woff2"]
    assert (tmp_path / "sans-latin-700-normal.woff2").read_bytes() == b"font sans-latin-700-normal.woff2"


def test_a_family_without_regular_or_bold_gives_its_first_latin_weight(tmp_path, registry):
    tarballs, _ = registry
    tarballs["thin"] = fontsource_tarball("thin", ["thin-latin-ext-100-normal.woff2", "thin-latin-300-normal.woff2",
                                                   "thin-latin-100-normal.woff2"])
    assert google_fonts.fetch_family("thin", tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["thin-latin-100-normal.woff2"]


def test_a_family_fetched_before_is_not_fetched_again(tmp_path, registry):
    _, asked = registry
    (tmp_path / "sans-latin-400-normal.woff2").write_bytes(b"kept")
    assert google_fonts.fetch_family("sans", tmp_path) == 0
    assert asked == []


def test_the_committed_list_names_families_the_generator_can_fetch():
    families = google_fonts.listed_families()
    assert len(families) > 1000 and len(set(families)) == len(families)
    assert all(fid == fid.lower() and " " not in fid for fid in families)


def test_a_compacted_font_draws_the_same_letters_in_a_fraction_of_the_size(tmp_path):
    from PIL import ImageFont

    from model.device_bundle import compact_font

    data = compact_font(DEJAVU)
    assert data[:4] == b"wOF2" and len(data) < DEJAVU.stat().st_size / 10
    small = tmp_path / "DejaVuSans.woff2"
    small.write_bytes(data)
    assert synth_module.draws_latin(str(small))
    full, cut = ImageFont.truetype(str(DEJAVU), 32), ImageFont.truetype(str(small), 32)
    for text in ("Hamburg 1958", "(area!)", "no5 & co."):
        assert cut.getbbox(text) == full.getbbox(text)
    assert cut.getname() == full.getname()


def test_the_bundle_takes_a_regular_and_one_more_style_per_family_within_its_budget(tmp_path):
    import tarfile

    from model.device_bundle import pick_fonts, write_fonts

    folder = DEJAVU.parent
    paths = tuple(str(folder / f"DejaVuSerif{style}.ttf") for style in ("-Bold", "", "-Italic", "-BoldItalic"))
    paths += (str(folder / "DejaVuSansMono.ttf"),)
    fonts = pick_fonts(paths, budget_bytes=10**6)
    names = [path.name for path, _ in fonts]
    assert names.count("DejaVuSansMono.ttf") == 1 and "DejaVuSerif.ttf" in names and len(names) == 3
    assert names.index("DejaVuSerif.ttf") < names.index("DejaVuSerif-Bold.ttf")  # the regular first
    one = pick_fonts(paths, budget_bytes=len(fonts[0][1]))
    assert len(one) == 1
    write_fonts(fonts, tmp_path / "fonts.tar")
    with tarfile.open(tmp_path / "fonts.tar") as tar:
        members = tar.getnames()
        assert len(members) == 3 and all(name.endswith(".woff2") for name in members)
        assert tar.extractfile(members[0]).read() == fonts[0][1]

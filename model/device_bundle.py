"""What training needs on a lent GPU machine, in one folder: ``python -m model.device_bundle``.

That machine has JAX, OpenCV, Pillow and h5py but no Keras, no Debian fonts and no
network, and it receives only the working tree (64 MiB in all, the ignored folder
named in ``carry`` included). The bundle (``.device/``, git-ignored) holds:

- ``wheels/``: Keras and the two of its dependencies that machine lacks, for its Python;
- ``fonts.tar.gz``: one or two styles of every font family here, within a size budget, each
  cut down to the characters the generator draws and saved as WOFF (``compact_font``: about
  10 KB, where a Debian TTF is up to 700), in one archive;
- ``words.txt``: the synthetic generator's word list (wordfreq is 30 MB; this is 0.5);
- ``real.tar.gz``: the real *training* sets (``iiit5k/``, ``ic15_train/``,
  ``ic13_born_digital/``; never a test split), re-encoded at training resolution: at most
  ``--crop-height`` pixels high (twice the model's input, room for the augmentation's
  resampling), JPEG; the file stems stay, so the hold-outs (``model.real_sets``) are the same
  crops there as here. One archive, not 10,000 small files: the tool that sends the tree
  counts each file's disk blocks;
- ``init.weights.h5``: with ``--init-weights``, the weights the run starts from (without
  it, ``device_train.sh`` starts from the shipped weights, which travel with the tree:
  the tree and the bundle must fit 64 MiB together).

Then, on the device (model/README.md, "Training on a lent GPU"):

    pip install --no-index --find-links .device/wheels keras
    FONTS=$(mktemp -d) && mkdir -p /tmp/data
    tar -xzf .device/real.tar.gz -C /tmp/data && tar -xzf .device/fonts.tar.gz -C "$FONTS"
    KERAS_BACKEND=jax OCR_DATA_DIR=/tmp/data OCR_FONT_DIRS="$FONTS" \\
        OCR_WORDS_FILE=.device/words.txt PYTHONPATH=layers:. python3 -m model.train ...
"""

from __future__ import annotations

import argparse
import io
import logging
import shutil
import subprocess
import sys
import tarfile
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import cv2
from ocr_tools.labels import read_label_file
from ocr_tools.paths import data_dir

from model.real_sets import REAL_SETS

REPO = Path(__file__).resolve().parents[1]
DEVICE_PYTHON = "3.12"  # the lent machines' python3 (KINDS.md of the device tool)


def download_wheels(out: Path) -> None:
    import keras

    out.mkdir(parents=True, exist_ok=True)
    pins = [f"keras=={keras.__version__}", "namex", "optree"]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--python-version", DEVICE_PYTHON, "--implementation", "cp",
                    "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_17_x86_64",
                    "-d", str(out), *pins], check=True)


REGULAR_STYLES = {"regular", "book", "normal", "roman"}  # what families call their upright weight


def compact_font(path: Path) -> bytes:
    """The font cut down to the characters the generator draws (``DRAWN_CHARACTERS``), as
    WOFF: the same outlines in a tenth of a Debian TTF's size. Its other scripts and its
    hinting are left out, so FreeType auto-hints it and small sizes come out a pixel
    different, within what the generator's blur and resampling do anyway. WOFF (zlib), not
    WOFF2 (brotli): any FreeType build reads it, whatever Pillow the GPU machine has."""
    from fontTools import subset

    from model.synth import DRAWN_CHARACTERS

    options = subset.Options()
    options.layout_features = ["*"]  # ligatures and kerning, as PIL draws them
    options.name_IDs = ["*"]  # the family and style names pick_fonts groups by
    options.hinting = False
    options.flavor = "woff"
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)  # tables it drops (FFTM), font by font
    font = subset.load_font(str(path), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=DRAWN_CHARACTERS)
    subsetter.subset(font)
    out = io.BytesIO()
    subset.save_font(font, out, options)
    return out.getvalue()


def pick_fonts(paths: tuple[str, ...], budget_bytes: int, per_family: int = 2) -> list[tuple[Path, bytes]]:
    """Up to ``per_family`` styles of each family (its regular first), compacted
    (``compact_font``), smallest families first, until the budget is spent: as many
    distinct letter shapes as fit. -> [(source path, compacted font)]."""
    from model.synth import latin_font_name

    families: dict[str, list[tuple[Path, bytes]]] = defaultdict(list)
    for path in map(Path, paths):
        name, style = latin_font_name(str(path)) or (path.stem, "")  # find_fonts' fonts all have one
        try:
            styled = (path, compact_font(path))
        except Exception as err:  # noqa: BLE001 - fontTools raises many kinds for a font it cannot cut
            print(f"{path}: left out ({err})", file=sys.stderr)
            continue
        if style.lower() in REGULAR_STYLES:
            families[name].insert(0, styled)
        else:
            families[name].append(styled)
    chosen, used = [], 0
    for styles in sorted(families.values(), key=lambda s: sum(len(data) for _, data in s[:per_family])):
        for path, data in styles[:per_family]:
            if used + len(data) > budget_bytes:
                return chosen
            chosen.append((path, data))
            used += len(data)
    return chosen


def write_fonts(fonts: list[tuple[Path, bytes]], archive: Path) -> None:
    """One archive: the device tool counts each file's disk blocks, and 2,000 fonts of 10 KB
    would take twice their size in blocks (and a plain tar adds a 1 KB header to each)."""
    with tarfile.open(archive, "w:gz") as tar:
        for i, (path, data) in enumerate(fonts):  # numbered: two families may share a file name
            info = tarfile.TarInfo(f"{i:04d}-{path.stem}.woff")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def at_training_resolution(image, max_height: int, quality: int) -> bytes:
    """A crop no taller than ``max_height`` (shrunk keeping its aspect), as JPEG bytes."""
    h, w = image.shape[:2]
    if h > max_height:
        image = cv2.resize(image, (max(1, round(w * max_height / h)), max_height), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()


def copy_real_set(data: Path, out: Path, folder: str, max_height: int = 64, quality: int = 90) -> int:
    """One real set's train.tsv and crops, re-encoded; -> the number of crops."""
    (out / folder / "train").mkdir(parents=True, exist_ok=True)
    lines = []
    for path, label in read_label_file(data / folder / "train.tsv"):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        rel = Path("train") / f"{path.stem}.jpg"
        (out / folder / rel).write_bytes(at_training_resolution(image, max_height, quality))
        lines.append(f"{rel.as_posix()}\t{label}")
    (out / folder / "train.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


CALL_LIMIT_MIB = 64  # what one device call may carry: the tree and the bundle together


def on_disk_mib(paths: Iterable[Path]) -> float:
    """Disk blocks, not bytes: the device tool counts each file's blocks (fonts are many small files)."""
    return sum(p.stat().st_blocks * 512 for p in paths if p.is_file()) / 2**20


def tree_files(repo: Path) -> list[Path]:
    """The files a device call sends besides ``carry``: tracked and untracked-not-ignored."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=repo, capture_output=True, check=True).stdout.decode()
    return [repo / name for name in listed.split("\0") if name]


def main(argv=None) -> None:
    from model.synth import find_fonts, word_list

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=REPO / ".device")
    p.add_argument("--data", type=Path, default=data_dir())
    p.add_argument("--font-mb", type=float, default=14.0, help="size budget for the fonts, compacted")
    p.add_argument("--crop-height", type=int, default=64, help="real crops taller than this are shrunk to it")
    p.add_argument("--init-weights", type=Path, help="weights to start from, copied as init.weights.h5")
    args = p.parse_args(argv)
    if args.out.exists():
        shutil.rmtree(args.out)
    download_wheels(args.out / "wheels")
    fonts = pick_fonts(find_fonts(), int(args.font_mb * 2**20))
    write_fonts(fonts, args.out / "fonts.tar.gz")
    (args.out / "words.txt").write_text("\n".join(word_list()) + "\n", encoding="utf-8")
    crops = {name: copy_real_set(args.data, args.out / "data", folder, args.crop_height)
             for name, folder in REAL_SETS.items()}
    shutil.make_archive(str(args.out / "real"), "gztar", args.out / "data")
    shutil.rmtree(args.out / "data")
    if args.init_weights:
        shutil.copy(args.init_weights, args.out / "init.weights.h5")
    bundle, tree = on_disk_mib(args.out.rglob("*")), on_disk_mib(tree_files(REPO))
    print(f"{args.out}: {len(fonts)} of {len(find_fonts())} fonts, {len(word_list())} words, real training crops "
          f"{crops}, wheels {sorted(p.name for p in (args.out / 'wheels').iterdir())}; {bundle:.1f} MiB, "
          f"with the tree {bundle + tree:.1f} of the {CALL_LIMIT_MIB} MiB a call may carry")
    if bundle + tree > CALL_LIMIT_MIB:
        # The tree already holds the shipped weights; a second set rarely fits beside them.
        sys.exit("too large for one call: lower --font-mb, or leave out --init-weights and copy those weights "
                 "over model/artifacts/crnn.weights.h5 for the call (git checkout it afterwards), giving "
                 "device_train.sh their WIDTH (it assumes the shipped weights' low-rank width then)")


if __name__ == "__main__":
    main()

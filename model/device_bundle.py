"""What training needs on a lent GPU machine, in one folder: ``python -m model.device_bundle``.

That machine has JAX, OpenCV, Pillow and h5py but no Keras, no Debian fonts and no
network, and it receives only the working tree (64 MiB in all, the ignored folder
named in ``carry`` included). The bundle (``.device/``, git-ignored) holds:

- ``wheels/``: Keras and the two of its dependencies that machine lacks, for its Python;
- ``fonts/``: one or two styles of every font family here, within a size budget;
- ``words.txt``: the synthetic generator's word list (wordfreq is 30 MB; this is 0.5);
- ``iiit5k/``: IIIT5K *train* (``train.tsv`` and ``train/``), never test.

Then, on the device (README, "Training on a lent GPU"):

    pip install --no-index --find-links .device/wheels keras
    KERAS_BACKEND=jax OCR_DATA_DIR=.device OCR_FONT_DIRS=.device/fonts \\
        OCR_WORDS_FILE=.device/words.txt PYTHONPATH=layers:. python3 -m model.train ...
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from model.data import DEFAULT_DATA_DIR

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


def pick_fonts(paths: tuple[str, ...], budget_bytes: int, per_family: int = 2) -> list[Path]:
    """Up to ``per_family`` styles of each family (its regular first), smallest families
    first, until the budget is spent: as many distinct letter shapes as fit."""
    from PIL import ImageFont

    families: dict[str, list[Path]] = defaultdict(list)
    for path in map(Path, paths):
        name, style = ImageFont.truetype(str(path), 12).getname()
        if style.lower() == "regular":
            families[name].insert(0, path)
        else:
            families[name].append(path)
    chosen, used = [], 0
    for styles in sorted(families.values(), key=lambda s: sum(p.stat().st_size for p in s[:per_family])):
        for path in styles[:per_family]:
            size = path.stat().st_size
            if used + size > budget_bytes:
                return chosen
            chosen.append(path)
            used += size
    return chosen


def copy_iiit5k_train(data: Path, out: Path) -> int:
    (out / "iiit5k").mkdir(parents=True, exist_ok=True)
    shutil.copy(data / "iiit5k" / "train.tsv", out / "iiit5k" / "train.tsv")
    shutil.copytree(data / "iiit5k" / "train", out / "iiit5k" / "train", dirs_exist_ok=True)
    return sum(1 for _ in (out / "iiit5k" / "train").iterdir())


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def main(argv=None) -> None:
    from model.synth import find_fonts, word_list

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=REPO / ".device")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    p.add_argument("--font-mb", type=float, default=20.0, help="size budget for the fonts")
    args = p.parse_args(argv)
    if args.out.exists():
        shutil.rmtree(args.out)
    download_wheels(args.out / "wheels")
    fonts = pick_fonts(find_fonts(), int(args.font_mb * 2**20))
    (args.out / "fonts").mkdir(parents=True)
    for i, path in enumerate(fonts):  # numbered: two families may share a file name
        shutil.copy(path, args.out / "fonts" / f"{i:03d}-{path.name}")
    (args.out / "words.txt").write_text("\n".join(word_list()) + "\n", encoding="utf-8")
    crops = copy_iiit5k_train(args.data, args.out)
    print(f"{args.out}: {len(fonts)} of {len(find_fonts())} fonts, {len(word_list())} words, {crops} IIIT5K train "
          f"crops, wheels {sorted(p.name for p in (args.out / 'wheels').iterdir())}; {folder_mb(args.out):.1f} MiB")


if __name__ == "__main__":
    main()

"""Reading evaluation files: ``path<TAB>label`` lists and scene folders with boxes.json."""

from __future__ import annotations

import json
from pathlib import Path


def read_label_file(tsv: Path) -> list[tuple[Path, str]]:
    """``path<TAB>label`` lines -> [(path, label)]; paths are relative to the file."""
    rows = []
    for n, line in enumerate(tsv.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if "\t" not in line:
            raise ValueError(f"{tsv}:{n}: expected 'path<TAB>label'")
        rel, label = line.split("\t", 1)
        rows.append((tsv.parent / rel, label))
    return rows


def read_scenes(folder: Path) -> list[tuple[Path, list[tuple[list[float], str]]]]:
    """A folder with images/ and boxes.json -> [(image path, [(bbox, text)])]."""
    boxes = json.loads((folder / "boxes.json").read_text(encoding="utf-8"))
    return [
        (folder / "images" / name, [(w["bbox"], w["text"]) for w in words])
        for name, words in sorted(boxes.items())
    ]

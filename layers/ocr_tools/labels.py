"""Reading evaluation files: ``path<TAB>label`` lists and scene folders with boxes.json.

A file that is there but malformed raises ValueError with a one-line message naming the
file (and the line); a file that is not there raises the OSError of opening it.
"""

from __future__ import annotations

import json
from pathlib import Path


def read_label_file(tsv: Path) -> list[tuple[Path, str]]:
    """``path<TAB>label`` lines -> [(path, label)]; paths are relative to the file."""
    try:
        text = tsv.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{tsv} is not UTF-8 text (byte {exc.start}); expected path<TAB>label lines") from exc
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if "\t" not in line:
            raise ValueError(f"{tsv}:{n}: expected 'path<TAB>label', found no tab in {line[:60]!r}")
        rel, label = line.split("\t", 1)
        rows.append((tsv.parent / rel, label))
    return rows


def read_scenes(folder: Path) -> list[tuple[Path, list[tuple[list[float], str]]]]:
    """A folder with images/ and boxes.json -> [(image path, [(bbox, text)])]."""
    path = folder / "boxes.json"
    try:
        boxes = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
    try:
        return [
            (folder / "images" / name, [(w["bbox"], w["text"]) for w in words])
            for name, words in sorted(boxes.items())
        ]
    except (AttributeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: expected {{image name: [{{\"bbox\": [x1, y1, x2, y2], \"text\": ...}}]}}") from exc

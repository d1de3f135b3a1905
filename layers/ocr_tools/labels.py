"""Reading evaluation files: ``path<TAB>label`` lists and scene folders with boxes.json.

A file that is there but malformed raises ValueError with a one-line message naming the
file (and the line, or the image); a file that is not there raises the OSError of opening it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

# The largest labels file or boxes.json read: 64 MiB is over a million labelled crops, and a
# bound keeps a wrong path (/dev/zero, a video) from filling the memory.
MAX_LIST_BYTES = 64 << 20

Words = list[tuple[list[float], str]]  # one image's labelled words: (bbox, text)
Scenes = list[tuple[Path, Words]]


def read_label_file(tsv: Path, *, require_labels: bool = False) -> list[tuple[Path, str]]:
    """``path<TAB>label`` lines -> [(path, label)]; paths are relative to the file.

    A byte-order mark (Excel and Notepad write one) is not part of the first path; blank
    lines and lines that start with ``#`` (comments) are skipped; a line with no path, or
    with a second tab (a label holds none: it would be glued onto the label), is an error.
    ``require_labels``: so is a blank label (evaluation: it would score as read right);
    without it such a row is kept, as training sets have unlabelled rows that their readers
    skip while keeping every row's index (``model.real_sets``)."""
    try:
        text = _read_bounded(tsv).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{tsv} is not UTF-8 text (byte {exc.start}); expected path<TAB>label lines") from exc
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if "\t" not in line:
            raise ValueError(f"{tsv}:{n}: expected 'path<TAB>label', found no tab in {line[:60]!r}")
        rel, label = line.split("\t", 1)
        if "\t" in label:
            raise ValueError(f"{tsv}:{n}: expected 'path<TAB>label', found more than one tab in {line[:60]!r}")
        if not rel.strip():
            raise ValueError(f"{tsv}:{n}: no path before the tab in {line[:60]!r}")
        if "\0" in rel:
            raise ValueError(f"{tsv}:{n}: the path holds a NUL byte, which no file name can: {rel[:60]!r}")
        if require_labels and not label.strip():
            raise ValueError(f"{tsv}:{n}: the label of {rel[:60]!r} is empty; expected 'path<TAB>label'")
        rows.append((tsv.parent / rel, label))
    return rows


def _read_bounded(path: Path) -> bytes:
    """A list file's bytes, read no further than ``MAX_LIST_BYTES`` + 1."""
    with open(path, "rb") as f:
        data = f.read(MAX_LIST_BYTES + 1)
    if len(data) > MAX_LIST_BYTES:
        raise ValueError(f"{path} is larger than {MAX_LIST_BYTES >> 20} MiB; is it the right file?")
    return data


def _bbox(value: Any) -> bool:
    """Whether ``value`` is [x1, y1, x2, y2]: four finite numbers (IoU needs all four), x2 past
    x1 and y2 past y1 (a box turned inside out can never be matched: its word would count as missed)."""
    return (isinstance(value, list) and len(value) == 4
            and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value)
            and value[2] > value[0] and value[3] > value[1])


def _scene_words(path: Path, name: str, words: list[dict]) -> Words:
    """One image's ``[{"bbox": ..., "text": ...}]``, each word checked."""
    out = []
    for i, word in enumerate(words):
        bbox, text = word["bbox"], word["text"]
        if not _bbox(bbox):
            raise ValueError(f"{path}: {name}: word {i}: bbox must be four numbers [x1, y1, x2, y2] "
                             f"with x2 > x1 and y2 > y1 (got {json.dumps(bbox)[:60]})")
        if not isinstance(text, str):
            raise ValueError(f"{path}: {name}: word {i}: text must be a string (got {json.dumps(text)[:60]})")
        out.append((bbox, text))
    return out


def read_scenes(folder: Path) -> Scenes:
    """A folder with images/ and boxes.json -> [(image path, [(bbox, text)])]."""
    path = folder / "boxes.json"
    try:
        boxes = json.loads(_read_bounded(path).decode("utf-8-sig"))  # a BOM is not JSON
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
    expected = f"{path}: expected {{image name: [{{\"bbox\": [x1, y1, x2, y2], \"text\": ...}}]}}"
    if not isinstance(boxes, dict):
        raise ValueError(expected)
    if any("\0" in name for name in boxes):
        raise ValueError(f"{path}: an image name holds a NUL byte, which no file name can")
    try:
        return [(folder / "images" / name, _scene_words(path, name, words)) for name, words in sorted(boxes.items())]
    except (AttributeError, KeyError, TypeError) as exc:
        raise ValueError(expected) from exc

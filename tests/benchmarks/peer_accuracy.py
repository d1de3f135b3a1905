"""Word accuracy of the peers on IIIT5K test, scored exactly as ``ocr eval`` scores ours
(case-insensitive over [0-9a-z]): ``python -m tests.benchmarks.peer_accuracy [--limit N]``.

Tesseract runs as its CLI is used (one process per crop, ``--psm 7``: one text line);
RapidOCR runs its recognizer only (the crops are already words).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from pathlib import Path

import cv2
from ocr_engine.decode import load_rgb
from ocr_engine.evaluate import recognition_score
from ocr_engine.labels import read_label_file
from tqdm import tqdm

from tests.conftest import DATA


def tesseract_texts(paths: list[Path]) -> list[str]:
    exe = shutil.which("tesseract")
    if not exe:
        raise SystemExit("tesseract is not installed (Debian: tesseract-ocr)")
    out = []
    for p in tqdm(paths, desc="tesseract", unit="crop"):
        run = subprocess.run([exe, str(p), "-", "--psm", "7"], capture_output=True, text=True, check=False)
        out.append(run.stdout.strip())
    return out


def rapidocr_texts(paths: list[Path]) -> list[str]:
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
    out = []
    for p in tqdm(paths, desc="rapidocr", unit="crop"):
        result, _ = engine(cv2.cvtColor(load_rgb(p), cv2.COLOR_RGB2BGR), use_det=False, use_cls=False, use_rec=True)
        out.append(result[0][0] if result else "")
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--peers", nargs="+", default=["tesseract", "rapidocr"])
    args = p.parse_args(argv)
    rows = read_label_file(DATA / "iiit5k" / "test.tsv")[: args.limit or None]
    paths, labels = [path for path, _ in rows], [label for _, label in rows]
    readers = {"tesseract": tesseract_texts, "rapidocr": rapidocr_texts}
    for name in args.peers:
        score = recognition_score(readers[name](paths), labels)
        print(json.dumps({"peer": name, "n": score.n, "word_accuracy": round(score.word_accuracy, 4),
                          "cer": round(score.cer, 4)}))


if __name__ == "__main__":
    main()

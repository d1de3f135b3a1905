"""Word accuracy of the peers on IIIT5K test, scored exactly as ``ocr eval`` scores ours, by
the same evaluator (``ocr_tools.evaluate.evaluate_crops``; case-insensitive over [0-9a-z]):
``python -m tests.benchmarks.peer_accuracy [--limit N]``.

Tesseract runs as its CLI is used (one process per crop, ``--psm 7``: one text line);
RapidOCR runs its recognizer only (the crops are already words). A peer not installed
here (`make setup` installs RapidOCR, not Tesseract) is said so on stderr and the others
still run; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from ocr_engine.imagefile import load_rgb
from ocr_tools.evaluate import evaluate_crops
from ocr_tools.paths import data_dir

Peer = tuple[Callable[[Path], object], Callable[[object], str]]
"""How a peer loads a crop's file and reads it."""


class PeerMissing(Exception):
    """A peer that is not installed here: what to install."""


def tesseract() -> Peer:
    """Its CLI on the file itself, one process per crop."""
    exe = shutil.which("tesseract")
    if not exe:
        raise PeerMissing("tesseract is not installed (Debian: apt-get install tesseract-ocr)")

    def read(path: Path) -> str:
        run = subprocess.run([exe, str(path), "-", "--psm", "7"], capture_output=True, text=True, check=False)
        return run.stdout.strip()

    return Path, read


def rapidocr() -> Peer:
    """Its recognizer on the crop decoded as ours is (in OpenCV's channel order)."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        raise PeerMissing("rapidocr-onnxruntime is not installed (make setup installs it)") from None

    engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)

    def read(rgb: np.ndarray) -> str:
        result, _ = engine(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), use_det=False, use_cls=False, use_rec=True)
        return result[0][0] if result else ""

    return load_rgb, read


PEERS: dict[str, Callable[[], Peer]] = {"tesseract": tesseract, "rapidocr": rapidocr}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--peers", nargs="+", default=list(PEERS), choices=list(PEERS))
    args = p.parse_args(argv)
    missing = 0
    for name in args.peers:
        try:
            load, read = PEERS[name]()
        except PeerMissing as exc:
            print(f"{name}: skipped, {exc}", file=sys.stderr)
            missing += 1
            continue
        score = evaluate_crops(data_dir() / "iiit5k" / "test.tsv", read, limit=args.limit or None, load=load,
                               progress=name).score()
        print(json.dumps({"peer": name, "n": score.n, "word_accuracy": round(score.word_accuracy, 4),
                          "cer": round(score.cer, 4)}))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

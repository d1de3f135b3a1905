"""Peak memory of one read, in a fresh process (as a Lambda container has it): small files
that decode to many pixels, just under the limits. Every accepted image stays under about
600 MB peak (the model and libraries take ~140 MB of it), and what the limits refuse is
refused from its header, before any pixel is decoded.

Measured on the development machine (peak RSS, MB, of a fresh process reading one image;
before the fix -> now): a 1×20000 PNG 503 -> 137; a 6300×6300 16-bit PNG 1119 -> 289; a
6300×6300 32-bit TIFF 1198 -> refused from its header (137); a 16×16 TIFF of one 26720×26720
tile 2092 -> refused from its header; a 5470×5470 32-bit TIFF
939 -> 312; a 6324×6324 RGB JPEG 670 -> 413; a 6300×6300 still WebP 768 -> 429 (libwebp
through OpenCV). The process takes ~135 MB before any image.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO
from tests.helpers import tiled_tiff

PEAK_LIMIT_MB = 600
_CHILD = r"""
import io, json, re, sys
from PIL import Image
from ocr_engine.errors import OcrError
from ocr_engine.pipeline import get_engine

def status(field):  # MB. VmHWM is this process's own peak (ru_maxrss can carry the parent's over exec)
    return int(re.search(field + r":\s+(\d+)", open("/proc/self/status").read())[1]) / 1024

def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # VmHWM back to the current RSS
    except OSError:
        pass  # then peaks only grow: the paths come smallest expected peak first

engine = get_engine()
warm = io.BytesIO()
Image.new("L", (120, 40), 200).save(warm, "PNG")
engine.read(warm.getvalue())  # the model's first run allocates its buffers
out = {"baseline": status("VmRSS"), "reads": []}
for path in sys.argv[1:]:
    reset_peak()
    try:
        size, outcome = engine.read(open(path, "rb").read()).image_size, "read"
    except OcrError as exc:
        size, outcome = None, exc.code
    out["reads"].append({"path": path, "status": outcome, "size": size, "peak": status("VmHWM")})
print(json.dumps(out))
"""


def _measure(*paths: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", _CHILD, *map(str, paths)], capture_output=True, text=True,
                          cwd=REPO, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _gray_scene(side: int) -> np.ndarray:
    img = np.full((side, side), 200, np.uint8)
    for y in range(400, side - 300, 900):
        cv2.putText(img, "OPEN SHOP", (300, y), cv2.FONT_HERSHEY_DUPLEX, 12, 30, 25, cv2.LINE_AA)
    return img


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("memory")
    paths = {name: folder / name for name in ("tall.png", "deep16.png", "float32-over.tif", "float32-under.tif",
                                              "tile-bomb.tif", "still.webp")}
    # 16×16 pixels in 172 bytes, but one 26720×26720 tile: libtiff would allocate 2.1 GB for it.
    paths["tile-bomb.tif"].write_bytes(tiled_tiff(np.zeros((16, 16, 3), np.uint8), tile=26720, crafted=True))
    Image.new("L", (1, 20000), 128).save(paths["tall.png"])
    big = _gray_scene(6300)  # 39.7 million pixels: under the 40 million limit
    Image.fromarray(big.astype(np.uint16) * 257).save(paths["deep16.png"])
    Image.fromarray(big.astype(np.float32) / 255).save(paths["float32-over.tif"], compression="tiff_deflate")
    Image.fromarray(big).convert("RGB").save(paths["still.webp"], lossless=True, quality=100)
    under = _gray_scene(5470)  # 29.9 million 4-byte pixels: just under the decoded-bytes limit
    Image.fromarray(under.astype(np.float32) / 255).save(paths["float32-under.tif"], compression="tiff_deflate")
    return paths


def test_small_files_with_many_pixels_stay_under_the_memory_bound(images):
    assert all(p.stat().st_size < 600_000 for p in images.values())  # small files, all of them
    first = _measure(images["tall.png"], images["float32-over.tif"], images["tile-bomb.tif"], images["deep16.png"])
    tall, over, tiles, deep = first["reads"]
    base = first["baseline"]
    # The 1×20000 strip is no longer padded at full size before it is read.
    assert tall["status"] == "read" and tall["size"] == [1, 20000] and tall["peak"] - base < 50, first
    # 6300×6300 in 32 bits decodes to 159 MB: refused from the header, nothing decoded.
    assert over["status"] == "image_too_large" and over["peak"] - base < 30, first
    # Nor is the TIFF whose tile is larger than the decoded-bytes budget (2092 MB peak before).
    assert tiles["status"] == "image_too_large" and tiles["peak"] - base < 30, first
    # The 16-bit image is scaled to 8 bits a band at a time: no float64 copy of it.
    assert deep["status"] == "read" and deep["size"] == [6300, 6300] and deep["peak"] < PEAK_LIMIT_MB, first
    second = _measure(images["float32-under.tif"])
    (under,) = second["reads"]
    assert under["status"] == "read" and under["peak"] < PEAK_LIMIT_MB, second
    # PIL's WebP decoder held 40 Mpx in several 32-bit canvases: a 768 MB peak.
    third = _measure(images["still.webp"])
    (webp,) = third["reads"]
    assert webp["status"] == "read" and webp["size"] == [6300, 6300] and webp["peak"] < PEAK_LIMIT_MB, third

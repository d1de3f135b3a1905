"""Choose how wide the engine reads a word crop, on the dev crops: ``python -m model.read_stretch``.

The recognizer sees every crop at 32 px high, its width kept in proportion. Text cut
tightly, small or condensed reads better a little wider than it is (IC15's crops above
all). This reads every dev crop of ``model.tune_decoding`` (svt_train's words and the real
training sets' image hold-outs; never a test split) with the shipped engine, once per
stretch, and writes the words right per set to ``model/artifacts/read_stretch_choice.txt``.
The chosen stretch is ``OCR_READ_STRETCH``. The cost is none: the input stays 32 x 128.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from ocr_engine.config import REPO_ARTIFACTS_DIR, load_settings
from ocr_engine.pipeline import OcrEngine
from ocr_tools.paths import data_dir

from model.tune_decoding import dev_sets, words_right

STRETCHES = (1.0, 1.1, 1.15, 1.2, 1.3, 1.5)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=data_dir())
    p.add_argument("--out", type=Path, default=REPO_ARTIFACTS_DIR / "read_stretch_choice.txt")
    args = p.parse_args(argv)
    shipped = OcrEngine.from_settings(load_settings())
    sets = dev_sets(args.data)
    total = sum(len(labels) for _, labels in sets.values())
    lines = [f"dev crops {total} (engine {shipped.model_info.version}, {shipped.decoding}); words right",
             "", "stretch  " + "  ".join(f"{name} ({len(labels)})" for name, (_, labels) in sets.items()) + "  all"]
    for stretch in STRETCHES:
        engine = OcrEngine(dataclasses.replace(shipped.settings, read_stretch=stretch), shipped.recognizer, shipped.lm)
        right = [int(words_right(engine.read_crops(crops), labels).sum()) for crops, labels in sets.values()]
        mark = "  <- OCR_READ_STRETCH" if stretch == shipped.settings.read_stretch else ""
        lines.append(f"{stretch:7.2f}  " + "  ".join(f"{r:>{len(n) + len(str(len(ls))) + 3}d}" for r, (n, (_, ls))
                                                      in zip(right, sets.items(), strict=True))
                     + f"  {sum(right)} ({sum(right) / total:.1%}){mark}")
        print(lines[-1], flush=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Fetch Google Fonts for the synthetic word generator: ``python -m model.google_fonts``.

The Debian packages (``font-packages.txt``) give about 60 families; real signs and shop
fronts use many more faces, and large stylized crops are one of the classes the model
still misses (issue 16). Google Fonts' families are published on npm by Fontsource
(``@fontsource/<id>``, open licences: OFL or Apache), and npm is reachable where the model
is trained. This writes each listed family's Latin regular (and bold, where it has one)
as WOFF2, which FreeType (and so PIL) reads, into ``--out`` (default ``.cache/fonts``,
ignored by git); ``model.synth.find_fonts`` looks there too.

The list (``google-fonts.txt``, ``id category`` a line) was made once from the metadata
package ``google-font-metadata`` 6.0.8 (every family with a Latin subset; one handwriting
family in three, since script is a small share of real signs) by ``--list-from``; the 117
ids Fontsource does not publish (npm answers 404) were then taken out, so a failure here
is a real one and the command exits 1 (``make setup-train`` stops).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tarfile
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

REGISTRY = "https://registry.npmjs.org/@fontsource"
LIST_FILE = Path(__file__).resolve().parent / "google-fonts.txt"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / ".cache" / "fonts"
WEIGHTS = ("400", "700")
HANDWRITING_EVERY = 3


def listed_families(path: Path = LIST_FILE) -> list[str]:
    lines = (line.split("#", 1)[0].split() for line in path.read_text().splitlines())
    return [parts[0] for parts in lines if parts]


def make_list(metadata: Path, out: Path = LIST_FILE) -> int:
    """Write the family list from google-font-metadata's ``google-fonts-v2.json``; -> families listed."""
    families = json.loads(metadata.read_text())
    chosen, handwriting = [], 0
    for fid, meta in sorted(families.items()):
        if "latin" not in meta["subsets"] or "normal" not in meta["styles"]:
            continue
        if meta["category"] == "handwriting":
            handwriting += 1
            if handwriting % HANDWRITING_EVERY:
                continue
        chosen.append(f"{fid} {meta['category']}")
    out.write_text(f"# {Path(__file__).name}: Fontsource ids of the Google Fonts families the generator uses\n"
                   + "\n".join(chosen) + "\n")
    return len(chosen)


def wanted_files(fid: str) -> list[str]:
    return [f"package/files/{fid}-latin-{weight}-normal.woff2" for weight in WEIGHTS]


def nearest_regular(names: set[str], fid: str) -> str | None:
    """The family's Latin upright weight nearest 400, for a family with neither 400 nor 700."""
    prefix = f"package/files/{fid}-latin-"
    weights = [name.removeprefix(prefix).split("-")[0] for name in names
               if name.startswith(prefix) and name.endswith("-normal.woff2")]
    weights = [int(w) for w in weights if w.isdigit()]
    if not weights:
        return None
    return f"{prefix}{min(weights, key=lambda w: abs(w - 400))}-normal.woff2"


def write_family(files: dict[Path, bytes]) -> None:
    """All of a family's files, or (to within a rename) none: each is written under a .part
    name first, so a run stopped midway leaves no truncated font and no half a family, which
    the next run would take for fetched."""
    parts = {path: path.with_name(path.name + ".part") for path in files}
    for path, data in files.items():
        parts[path].write_bytes(data)
    for path, part in parts.items():
        part.replace(path)


def fetch_family(fid: str, out: Path) -> int:
    """Download one family's tarball and keep its Latin regular and bold; -> files written."""
    if any(out.glob(f"{fid}-latin-*-normal.woff2")):
        return 0  # fetched by an earlier run (write_family)
    with urllib.request.urlopen(f"{REGISTRY}/{fid}/latest", timeout=60) as reply:
        tarball = json.load(reply)["dist"]["tarball"]
    with urllib.request.urlopen(tarball, timeout=120) as reply:
        data = reply.read()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        names = set(tar.getnames())
        keep = [name for name in wanted_files(fid) if name in names]
        if not keep:
            keep = [name for name in [nearest_regular(names, fid)] if name]
        write_family({out / Path(name).name: tar.extractfile(name).read() for name in keep})
    return len(keep)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--jobs", type=int, default=16)
    p.add_argument("--list-from", type=Path, metavar="JSON",
                   help="remake google-fonts.txt from google-font-metadata's google-fonts-v2.json")
    args = p.parse_args(argv)
    if args.list_from:
        print(f"{LIST_FILE}: {make_list(args.list_from)} families")
        return
    args.out.mkdir(parents=True, exist_ok=True)
    families = listed_families(LIST_FILE)
    failed = []

    def fetch(fid: str) -> int:
        try:
            return fetch_family(fid, args.out)
        except Exception as err:  # noqa: BLE001 - one family's failure (network, archive) does not stop the rest
            failed.append(f"{fid}: {err!r}")
            return 0

    with ThreadPoolExecutor(args.jobs) as pool:
        written = sum(tqdm(pool.map(fetch, families), total=len(families), desc="font families"))
    print(f"{args.out}: {written} new files, {len(list(args.out.glob('*.woff2')))} in all")
    for line in failed:
        print("failed:", line)
    if failed:
        sys.exit(f"{len(failed)} of {len(families)} families failed; run again to fetch them")


if __name__ == "__main__":
    main()

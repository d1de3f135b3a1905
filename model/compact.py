"""Weights at half their bytes, to resume from: ``python -m model.compact IN OUT``.

    python -m model.compact model/checkpoints/phase25/anneal/mean3.weights.h5 \\
        model/checkpoints/phase25/anneal-mean.f16.weights.h5

Every float32 array of a ``.weights.h5`` is stored as float16, the file's layout kept, so
Keras's ``load_weights`` reads it into the network's float32 variables as it is (a network
read from it differs by under 0.004 in any probability). It is for a checkpoint a later
session trains on from, not for serving: the repository's tree and the device bundle must
fit the 64 MiB a device call may carry, and full weights beside the shipped ones do not
(model/checkpoints/README.md, phase 23). Written to a new file: HDF5 does not give back the
space of an array replaced in place.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import h5py
import numpy as np


def compact(source: Path, out: Path) -> None:
    """``source``'s groups, attributes and arrays in ``out``, float32 arrays as float16."""
    with h5py.File(source, "r") as fin, h5py.File(out, "w") as fout:
        fout.attrs.update(dict(fin.attrs))

        def copy(name: str, item: h5py.Group | h5py.Dataset) -> None:
            if isinstance(item, h5py.Group):
                fout.require_group(name).attrs.update(dict(item.attrs))
                return
            data = item[()]
            if isinstance(data, np.ndarray) and data.dtype == np.float32:
                data = data.astype(np.float16)
            fout.create_dataset(name, data=data).attrs.update(dict(item.attrs))

        fin.visititems(copy)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source", type=Path, help="a .weights.h5")
    p.add_argument("out", type=Path, help="where the float16 copy goes (a .weights.h5)")
    args = p.parse_args(argv)
    compact(args.source, args.out)
    print(f"wrote {args.out}: {args.out.stat().st_size / 1e6:.1f} MB (from {args.source.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()

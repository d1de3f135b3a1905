"""Where the tools find the data: one definition for the CLI, the model tools, infra and tests.

The data folder is ``$OCR_DATA_DIR``, else ``shared/data`` beside the repository
(``../shared/data`` from its root), found from this file's place rather than the
working directory. The model's artifacts folder is the engine's
(``ocr_engine.config.REPO_ARTIFACTS_DIR``).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The repository's root (this package is installed editable from ``layers/``)."""
DEFAULT_DATA_DIR = REPO.parent / "shared" / "data"
"""The data folder when ``OCR_DATA_DIR`` is not set."""


def data_dir(override: str | Path | None = None) -> Path:
    """The data folder: ``override`` (a ``--data`` argument) when given, else ``$OCR_DATA_DIR``
    when set (and not empty), else ``DEFAULT_DATA_DIR``. Read when called, so that a changed
    environment is seen."""
    return Path(override or os.environ.get("OCR_DATA_DIR") or DEFAULT_DATA_DIR)

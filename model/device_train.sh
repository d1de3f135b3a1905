#!/usr/bin/env bash
# One training call on a lent GPU (README, "Training on a lent GPU"), from the bundle that
# `python -m model.device_bundle [--init-weights W]` writes to .device/ (without W the run
# starts from the shipped model/artifacts/crnn.weights.h5, already in the tree). Run as
#   run(command="bash model/device_train.sh", carry=[".device"])
# It trains for at most BUDGET seconds and leaves in $OUT the last epoch's weights and the
# mean of the last three, without optimizer state (in parts under the 16 MiB a file may be,
# joined by model/device_join.sh), with history.csv and state.json. Settings come from the environment (defaults below).
set -u
: "${OUT:?set by the device tool}"
EPOCHS=${EPOCHS:-11} STEPS=${STEPS:-600} BATCH=${BATCH:-128} WORKERS=${WORKERS:-14} BUDGET=${BUDGET:-520}
LR=${LR:-4e-4} REAL_FRACTION=${REAL_FRACTION:-0.5} REAL_SETS=${REAL_SETS:-iiit5k,ic15,ic13} REAL_AUGMENT=${REAL_AUGMENT:-mild}
# A fresh run folder: a warm machine keeps /tmp between calls, and a second call writing into
# the first one's folder would average and return the first call's epochs (phase 10 lost run 2 so).
CK=$(mktemp -d /tmp/run.XXXXXX) DATA=/tmp/data
INIT=.device/init.weights.h5
# The resume files are full width; the shipped weights have a low-rank block 6 (model.factorize).
if [ -f "$INIT" ]; then WIDTH=${WIDTH:-32-64-128-128-384-384-192}
else INIT=model/artifacts/crnn.weights.h5 WIDTH=${WIDTH:-32-64-128-128-384-384r160-192}; fi
INIT_WIDTH=${INIT_WIDTH:-$WIDTH}
export PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --find-links .device/wheels keras || exit 1
FONTS=$(mktemp -d /tmp/fonts.XXXXXX)  # fresh, as CK: a warm machine keeps /tmp
mkdir -p "$DATA" "$FONTS" && tar -xzf .device/real.tar.gz -C "$DATA" && tar -xzf .device/fonts.tar.gz -C "$FONTS" || exit 1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
export KERAS_BACKEND=${KERAS_BACKEND:-jax} OCR_DATA_DIR=$DATA OCR_FONT_DIRS=$FONTS OCR_WORDS_FILE=.device/words.txt
export PYTHONPATH=layers:.
# Fail in seconds, not after the start, if this machine's Pillow cannot read the bundle's fonts.
python3 -c "from model.synth import find_fonts; print(len(find_fonts()), 'fonts')" || exit 1
# Keras redraws a progress line per step (with \r and \b); keep model.train's epoch lines only.
timeout "$BUDGET" python3 -m model.train --out "$CK" --init-weights "$INIT" \
  --init-width "$INIT_WIDTH" --width "$WIDTH" --epochs "$EPOCHS" --steps "$STEPS" --batch "$BATCH" --lr "$LR" \
  --real-fraction "$REAL_FRACTION" --real-sets "$REAL_SETS" --real-augment "$REAL_AUGMENT" --workers "$WORKERS" --keep-epochs 3 2>&1 \
  | tr '\r\b' '\n\n' | grep -a -v -E "ETA[: ]|step - loss|^[[:space:]]*$"
# Training may stop at BUDGET (timeout); from here on a failed step fails the call.
set -e -o pipefail
last=$(ls "$CK"/epochs/epoch*.weights.h5 | tail -1)
# model.average writes a fresh model's weights: the epoch files also hold Adam's state (3x the size).
python3 -m model.average --width "$WIDTH" "$last" --out "$CK/last-$(basename "$last")"
python3 -m model.average --width "$WIDTH" "$CK"/epochs/epoch*.weights.h5 --out "$CK/mean3.weights.h5"
# A returned file may be 16 MiB at most, and a wider network's weights are more (22 MB at
# 32-64-128-256-384-384-256): each goes back in 15 MiB parts with its checksum, joined here by
# `bash model/device_join.sh FILES_AT DEST`.
for weights in "$CK"/last-*.weights.h5 "$CK/mean3.weights.h5"; do
  name=$(basename "$weights")
  (cd "$CK" && sha256sum "$name" > "$OUT/$name.sha256")
  split -b 15M "$weights" "$OUT/$name.part."
done
cp "$CK"/history.csv "$CK"/state.json "$OUT/"
ls -la "$OUT"

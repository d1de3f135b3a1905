#!/usr/bin/env bash
# Joins the weights a device call returned in parts (model/device_train.sh) and checks each
# against the checksum taken on the device:  bash model/device_join.sh FILES_AT DEST
# A file is joined beside its destination and moved there only once its checksum matches.
set -euo pipefail
shopt -s nullglob
src=$(realpath "${1:?the files_at folder of the call}") dest=${2:?where the joined weights go}
sums=("$src"/*.sha256)
if [ ${#sums[@]} -eq 0 ]; then
  echo "$src holds no *.sha256: not the files of a model/device_train.sh call" >&2
  exit 1
fi
# A part no checksum covers is a file that would be left behind without a word (its .sha256 lost).
for part in "$src"/*.part.*; do
  name=$(basename "$part"); name=${name%.part.*}
  if [ ! -f "$src/$name.sha256" ]; then
    echo "$part has no $name.sha256 beside it: the call's files are incomplete" >&2
    exit 1
  fi
done
mkdir -p "$dest"
for sum in "${sums[@]}"; do
  name=$(basename "$sum" .sha256)
  parts=("$src/$name".part.*)
  if [ ${#parts[@]} -eq 0 ]; then
    echo "$src has no parts of $name" >&2
    exit 1
  fi
  cat "${parts[@]}" > "$dest/.$name.joining"
  if ! (cd "$dest" && sed "s/  $name\$/  .$name.joining/" "$sum" | sha256sum -c --quiet -); then
    rm -f "$dest/.$name.joining"
    echo "$dest/$name does not match the checksum taken on the device" >&2
    exit 1
  fi
  mv "$dest/.$name.joining" "$dest/$name"
  echo "$dest/$name"
done
for extra in history.csv state.json; do
  if [ -f "$src/$extra" ]; then cp "$src/$extra" "$dest/"; fi
done

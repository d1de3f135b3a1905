#!/usr/bin/env bash
# Joins the weights a device call returned in parts (model/device_train.sh) and checks each
# against the checksum taken on the device:  bash model/device_join.sh FILES_AT DEST
set -euo pipefail
src=$(realpath "${1:?the files_at folder of the call}") dest=${2:?where the joined weights go}
mkdir -p "$dest"
for sum in "$src"/*.sha256; do
  name=$(basename "$sum" .sha256)
  cat "$src/$name".part.* > "$dest/$name"
  if ! (cd "$dest" && sha256sum -c --quiet "$sum"); then
    echo "$dest/$name does not match the checksum taken on the device" >&2
    exit 1
  fi
  echo "$dest/$name"
done
for extra in history.csv state.json; do
  if [ -f "$src/$extra" ]; then cp "$src/$extra" "$dest/"; fi
done

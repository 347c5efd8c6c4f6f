#!/usr/bin/env bash
# Debian packages strongroom needs at run time — installed only when missing:
#   libmagic1          file type detection (python-magic)
#   tesseract-ocr(-eng) OCR of images and scanned PDF pages (English traineddata only)
#   antiword, catdoc   text of legacy Word .doc (catdoc also gives catppt for .ppt)
set -euo pipefail
need=()
for package in libmagic1 tesseract-ocr tesseract-ocr-eng antiword catdoc; do
  dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${need[*]} (run: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

"""Images: EXIF (camera, software, times with their offsets, GPS when present) with Pillow, and
the text in them with Tesseract, one page per frame (multi-page TIFF, animated GIF...).

Pillow refuses images above `max_image_pixels` (decompression bombs) before decoding them.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from strongroom.formats import docmeta, ocr
from strongroom.formats.base import Parsed, Status
from strongroom.formats.extract import PAGE_BREAK, ExtractOptions, corrupt, finish

_BASE_TAGS = {
    "Make": "camera_make",
    "Model": "camera_model",
    "Software": "creator_tool",
    "Artist": "author",
    "Copyright": "copyright",
    "ImageDescription": "description",
    "HostComputer": "host_computer",
}
_EXIF_TAGS = {
    "LensModel": "lens",
    "BodySerialNumber": "camera_serial",
    "CameraOwnerName": "camera_owner",
}
_EXIF_DATES = (
    ("DateTimeOriginal", "OffsetTimeOriginal", "created"),
    ("DateTimeDigitized", "OffsetTimeDigitized", "digitized"),
)
MIN_OCR_SIDE = 16
_ANIMATED = ("GIF", "PNG", "WEBP")
_ANIMATION_TRIES = 5


def _ratio(value: Any) -> float:
    return float(value)


def _gps(gps: dict[int, Any]) -> dict[str, Any] | None:
    names = {ExifTags.GPSTAGS.get(key, str(key)): value for key, value in gps.items()}
    out: dict[str, Any] = {}
    try:
        for axis, ref in (("GPSLatitude", "GPSLatitudeRef"), ("GPSLongitude", "GPSLongitudeRef")):
            parts = names.get(axis)
            if parts and len(parts) == 3:
                degrees = _ratio(parts[0]) + _ratio(parts[1]) / 60 + _ratio(parts[2]) / 3600
                if str(names.get(ref, "")).upper() in ("S", "W"):
                    degrees = -degrees
                out["latitude" if axis == "GPSLatitude" else "longitude"] = round(degrees, 7)
        if "GPSAltitude" in names:
            out["altitude_m"] = round(_ratio(names["GPSAltitude"]), 2)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    for key in ("GPSDateStamp", "GPSMapDatum"):
        if key in names:
            out[key] = docmeta.clean(names[key])
    return out or None


def exif(image: Image.Image) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    tags = image.getexif()
    if not tags:
        return metadata
    base = {ExifTags.TAGS.get(key, str(key)): value for key, value in tags.items()}
    for tag, key in _BASE_TAGS.items():
        docmeta.set_text(metadata, key, base.get(tag))
    sub = {ExifTags.TAGS.get(k, str(k)): v for k, v in tags.get_ifd(ExifTags.IFD.Exif).items()}
    for tag, key in _EXIF_TAGS.items():
        docmeta.set_text(metadata, key, sub.get(tag))
    for tag, offset_tag, key in _EXIF_DATES:
        raw = docmeta.clean(sub.get(tag))
        if raw:
            metadata[key] = docmeta.exif_date(raw, docmeta.clean(sub.get(offset_tag)))
    raw_modified = docmeta.clean(base.get("DateTime"))
    if raw_modified:
        metadata["modified"] = docmeta.exif_date(raw_modified, docmeta.clean(sub.get("OffsetTime")))
    make, model = metadata.get("camera_make"), metadata.get("camera_model")
    if make or model:
        metadata["camera"] = " ".join(str(p) for p in (make, model) if p)
    gps = _gps(dict(tags.get_ifd(ExifTags.IFD.GPSInfo)))
    if gps:
        metadata["gps"] = gps
    return metadata


def _frames(image: Image.Image) -> int:
    try:
        return int(getattr(image, "n_frames", 1))
    except Exception as error:  # counting frames decodes headers Pillow may choke on
        raise corrupt(f"image not readable: {type(error).__name__}: {error}") from error


def extract(data: bytes, options: ExtractOptions) -> Parsed:
    parsed = Parsed(kind="document")
    Image.MAX_IMAGE_PIXELS = options.max_image_pixels
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise corrupt(f"refused: {error}") from error
    except UnidentifiedImageError:
        parsed.status = Status.UNSUPPORTED
        parsed.reason = "no reader for this image format"
        return parsed
    except Exception as error:  # Pillow's plugins raise many types on damaged files
        raise corrupt(f"image not readable: {type(error).__name__}: {error}") from error
    with image:
        metadata: dict[str, Any] = {
            "image_format": image.format,
            "width": image.width,
            "height": image.height,
            "mode": image.mode,
            "frames": _frames(image),
        }
        try:
            metadata.update(exif(image))
        except Exception as error:  # a damaged EXIF block must not lose the image's text
            parsed.defects.append(f"EXIF unreadable: {type(error).__name__}: {error}")
        parsed.record["metadata"] = metadata
        parsed.facts.extend(docmeta.facts(metadata))
        if not ocr.available(options):
            parsed.defects.append("not OCR'd: OCR is off or tesseract is not installed")
            return finish(parsed, "", options)
        pages = _ocr_frames(image, options, parsed)
    offset = 0
    parsed.record["pages"] = []
    for number, text in enumerate(pages, 1):
        parsed.record["pages"].append(
            {"page": number, "offset": offset, "chars": len(text), "source": "ocr"}
        )
        offset += len(text) + len(PAGE_BREAK)
    return finish(parsed, PAGE_BREAK.join(pages), options, ocr_used=True)


def _ocr_frames(image: Image.Image, options: ExtractOptions, parsed: Parsed) -> list[str]:
    frames = total = _frames(image)
    animated = image.format in _ANIMATED
    if animated:
        frames = 1  # the frames of an animation are not pages: the first with text is read
    pages = []
    index = -1
    while (index := index + 1) < min(frames, options.ocr_max_pages):
        try:
            if index:
                image.seek(index)
            frame = image.convert("RGBA" if "A" in image.mode else "RGB")
            frame = ImageOps.exif_transpose(frame) or frame
        except Exception as error:  # Pillow's plugins raise many types on damaged frames
            if index == 0:
                raise corrupt(f"image not decodable: {error}") from error
            parsed.defects.append(f"frame {index + 1} not decodable: {error}")
            break
        if min(frame.size) < MIN_OCR_SIDE:
            pages.append("")
            continue
        if frame.mode == "RGBA":
            background = Image.new("RGB", frame.size, "white")
            background.paste(frame, mask=frame.getchannel("A"))
            frame = background
        buffer = io.BytesIO()
        frame.convert("L").save(buffer, format="PNG")
        text = ocr.recognise(buffer.getvalue(), options)
        if animated and not text.strip() and index + 1 < min(total, _ANIMATION_TRIES):
            frames += 1  # a blank opening frame: read the next one instead
            continue
        pages.append(text.replace(PAGE_BREAK, "\n"))
    if not animated and frames > options.ocr_max_pages:
        parsed.defects.append(f"{frames - options.ocr_max_pages} frames not OCR'd (page limit)")
    return pages

"""Make an uploaded photo safe to store: verified by decoding, re-encoded, stripped, resized.

A person may attach up to :data:`MAX_PHOTOS` photos to a consultation request. Each one is
untrusted bytes from the internet, so :func:`clean` treats it as such:

1. Size first: empty input or more than :data:`MAX_BYTES` is refused before any parsing.
2. The real format comes from the bytes (Pillow, restricted to JPEG, PNG and WebP). A file
   name or a declared content type is never consulted, because the caller never passes one.
3. The *declared* pixel count is checked against :data:`MAX_PIXELS` straight after reading the
   header, before a single pixel is decoded, so a decompression bomb (a tiny file that claims
   to be 100 000 x 100 000 pixels) costs nothing. A JPEG with an absurd number of progressive
   scans (the other cheap way to make a small JPEG expensive to decode) is refused too.
4. The first frame is then fully decoded; anything the decoders reject (truncated data, bad
   checksums, garbage) becomes a :class:`PhotoError` with a sentence meant for the person.
5. The EXIF orientation is applied to the pixels, colours are converted to sRGB if the photo
   carried an ICC profile, transparency is flattened onto white, and the longer side is
   brought down to :data:`MAX_SIDE`.
6. The pixels are copied into a brand-new image with no metadata at all and encoded afresh as
   JPEG. Nothing of the input file survives except the picture itself: no EXIF (so no GPS
   position, camera serial number or capture time), no XMP, no comments or PNG text chunks,
   no ICC blob, no second image of an MPO, and no bytes appended after the end of the image
   (a JPEG with a ZIP or ``<script>`` tacked on comes out as just the JPEG).

Choices, and why:

- **Always JPEG out.** These are photographs of skin for a clinician. JPEG at quality 85 is
  visually lossless for photographs, a PNG of a 2048 px camera photo would be 5-10 MB for no
  clinical gain, transparency carries no clinical information, and one output format keeps
  every consumer (the clinicians' queue, the printed PDF summary, the FHIR export) simple.
  Lossy re-encoding also rebuilds every byte of the file from pixels, so nothing crafted in
  the input's byte stream can ride along.
- **ICC profiles are applied, then dropped.** Phones (iPhones in particular) save Display P3
  photos; ignoring the profile would dull the redness a clinician looks at. Copying the profile
  into the output instead would carry an arbitrary, attacker-chosen blob of up to megabytes
  into storage, so the pixels are converted to sRGB and the output has no profile (sRGB is
  what every viewer assumes). A profile that cannot be read is ignored, not fatal.
- **A bad EXIF block is not fatal either.** Orientation is a nicety; if the EXIF cannot be
  parsed the photo is kept as stored. The EXIF is dropped in any case.
- :data:`MAX_SIDE` and :data:`MAX_PIXELS` are justified where they are defined.

This module is pure: bytes in, bytes out, no I/O, and Pillow's settings (``MAX_IMAGE_PIXELS``,
``LOAD_TRUNCATED_IMAGES``) are left as they are. Pillow's decompression-bomb warning is turned
into an error only while :func:`clean` or :func:`sniff` runs, with ``warnings.catch_warnings``;
our :data:`MAX_PIXELS` is lower than Pillow's threshold, so Pillow's check can only ever fire
for a photo we refuse anyway. (On Python < 3.14, ``catch_warnings`` swaps the process-wide
warning filters, so a warning raised at that moment by another thread may be filtered as here;
harmless for a web worker, and the refusals never depend on it.)
"""

from __future__ import annotations

import io
import struct
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

__all__ = [
    "ALLOWED",
    "MAX_BYTES",
    "MAX_PHOTOS",
    "MAX_PIXELS",
    "MAX_SIDE",
    "THUMBNAIL_SIDE",
    "CleanPhoto",
    "PhotoError",
    "clean",
    "clean_all",
    "sniff",
]

#: The most bytes one uploaded photo may have (10 MB, as the upload form says).
MAX_BYTES: Final = 10 * 1024 * 1024

#: The most photos one consultation request may carry.
MAX_PHOTOS: Final = 3

#: The longest side, in pixels, of a stored photo. 2048 px (about 3 megapixels at 4:3) shows
#: a 1 mm papule across several pixels when the photo is framed on the spot, fills a clinician's
#: screen, and keeps a stored JPEG at a few hundred kilobytes. A full-resolution 12-50 MP phone
#: photo would multiply storage and the size of the summary and the FHIR export by 4-16 for
#: detail that the phone's own lens and focus seldom deliver at close range.
MAX_SIDE: Final = 2048

#: The largest *declared* pixel count accepted, checked before decoding. 50 million pixels
#: admits the full-resolution output of every common phone camera mode up to "50 MP"
#: (8160 x 6120 = 49.9 MP; a 48 MP 8064 x 6048 frame is 48.8 MP), while bounding the memory a
#: single upload can make the server allocate: a lossless PNG or WebP at the cap decodes to
#: about 200 MB (Pillow keeps 4 bytes a pixel), and a JPEG is decoded at a reduced scale, so
#: far less. It is below Pillow's own warning threshold (about 89 MP), so Pillow's check never
#: fires for a photo we would accept. 200 MP phone modes are refused (they rarely fit in
#: 10 MB anyway); the person is asked for a smaller picture.
MAX_PIXELS: Final = 50_000_000

#: The longest side of the thumbnail shown in the clinicians' queue and the printed summary.
THUMBNAIL_SIDE: Final = 320

#: The content types an upload may be. Only the bytes decide which one a photo is.
ALLOWED: Final = frozenset({"image/jpeg", "image/png", "image/webp"})

#: At most this many progressive scans in a JPEG (up to the end of its first image). Encoders
#: write about 10 (mozjpeg's scan optimisation a few more); a small file with many thousands of
#: near-empty scans makes libjpeg redo work per scan and can take minutes to decode (see
#: libjpeg-turbo's "Two Issues with the JPEG Standard", and djpeg's ``-maxscans``).
MAX_JPEG_SCANS: Final = 100

_QUALITY: Final = 85
_THUMBNAIL_QUALITY: Final = 80
_WHITE: Final = (255, 255, 255)

#: Pillow format names -> content types. MPO is a JPEG with more images after the first one
#: (many phones write it); Pillow opens it when asked for JPEG, and only the first image is used.
_CONTENT_TYPES: Final = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
}
_FORMATS: Final = ("JPEG", "PNG", "WEBP")

#: Everything Pillow's parsers and decoders are known to raise on hostile input. A photo that
#: makes any of them fail is refused, not a server error.
_DECODE_ERRORS: Final = (
    OSError,  # includes UnidentifiedImageError and "image file is truncated"
    SyntaxError,  # PNG chunk and checksum errors
    ValueError,
    EOFError,
    struct.error,
    ArithmeticError,
    IndexError,
    KeyError,
    TypeError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)


class PhotoError(ValueError):
    """A photo was refused; ``message`` is a plain sentence to show the person."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        #: What to tell the person, e.g. "Photo 2 is larger than 10 MB."
        self.message = message
        #: Which photo (1-based), or None when the refusal is about the whole set.
        self.index = index


@dataclass(frozen=True)
class CleanPhoto:
    """A photo safe to store: a fresh JPEG, metadata-free, at most MAX_SIDE on its longer side."""

    #: The re-encoded photo.
    data: bytes
    #: Always "image/jpeg" (see the module docstring for why).
    content_type: str
    #: Pixel size of ``data``, after orientation and downscaling.
    width: int
    height: int
    #: A JPEG at most THUMBNAIL_SIDE on its longer side, for the queue and the printed summary.
    thumbnail: bytes


def sniff(raw: bytes) -> str | None:
    """The content type the bytes really are (one of ALLOWED), or None.

    Only the header is read; the pixels are not decoded, so a "yes" here does not mean the
    photo will pass :func:`clean`.
    """
    if not raw or len(raw) > MAX_BYTES:
        return None
    try:
        with _pillow_warnings_handled(), Image.open(io.BytesIO(raw), formats=_FORMATS) as im:
            return _CONTENT_TYPES.get(im.format or "")
    except _DECODE_ERRORS:
        return None


def clean(raw: bytes, index: int = 1) -> CleanPhoto:
    """Verify, strip and re-encode one uploaded photo; ``index`` (1-based) names it in errors.

    Raises :class:`PhotoError`, and nothing else, for anything that is not a sound JPEG, PNG
    or WebP picture within the limits.
    """
    if not raw:
        raise PhotoError(f"Photo {index} is empty.", index)
    if len(raw) > MAX_BYTES:
        raise PhotoError(f"Photo {index} is larger than {MAX_BYTES // (1024 * 1024)} MB.", index)
    picture = _decode(raw, index)
    data = _encode(picture, _QUALITY)
    thumbnail = _encode(_fit(picture, THUMBNAIL_SIDE), _THUMBNAIL_QUALITY)
    return CleanPhoto(
        data=data,
        content_type="image/jpeg",
        width=picture.width,
        height=picture.height,
        thumbnail=thumbnail,
    )


def clean_all(raws: Sequence[bytes]) -> list[CleanPhoto]:
    """Clean every photo of one request, refusing more than MAX_PHOTOS before looking at any."""
    if len(raws) > MAX_PHOTOS:
        raise PhotoError(f"Please send at most {MAX_PHOTOS} photos.")
    return [clean(raw, number) for number, raw in enumerate(raws, start=1)]


# --- decoding ------------------------------------------------------------------------------


@contextmanager
def _pillow_warnings_handled() -> Iterator[None]:
    """Pillow's warnings about an untrusted upload, handled here without touching globals.

    A DecompressionBombWarning becomes an exception (and so a refusal). ``Image.MAX_IMAGE_PIXELS``
    is left alone, since other code in the process (WeasyPrint for one) uses Pillow too; our
    own, lower MAX_PIXELS check does the real work. Pillow's UserWarnings about malformed
    metadata ("Possibly corrupt EXIF data", "Invalid APNG", "malformed MPO") are silenced: that
    metadata is dropped anyway, and the warnings would only fill the log with an attacker's
    noise. Other warnings (deprecations, say) are left to the caller's filters.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _decode(raw: bytes, index: int) -> Image.Image:
    """The first frame, oriented, in sRGB "RGB", at most MAX_SIDE; or PhotoError."""
    not_a_picture = PhotoError(f"Photo {index} is not a JPEG, PNG or WebP picture.", index)
    unreadable = PhotoError(
        f"Photo {index} could not be read; it may be damaged or incomplete.", index
    )
    too_many_pixels = PhotoError(
        f"Photo {index} has too many pixels (over {MAX_PIXELS // 1_000_000} megapixels). "
        "Please send a smaller picture.",
        index,
    )
    # A truncated upload is refused. Pillow's switch is process-wide and WeasyPrint turns it
    # on when imported (for the clinic's PDF summary), so it is turned off again here.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    with _pillow_warnings_handled():
        try:
            im = Image.open(io.BytesIO(raw), formats=_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise too_many_pixels from None
        except UnidentifiedImageError:
            raise not_a_picture from None
        except _DECODE_ERRORS:
            raise unreadable from None
        with im:
            width, height = im.size
            if width < 1 or height < 1:
                raise unreadable
            if width * height > MAX_PIXELS:
                raise too_many_pixels
            if im.format in ("JPEG", "MPO"):
                if _jpeg_scans(raw) > MAX_JPEG_SCANS:
                    raise unreadable
                # Let libjpeg decode straight to 1/2, 1/4 or 1/8 scale when the photo is far
                # bigger than we keep: less memory and time, the same final quality.
                im.draft(None, _fitted_size(im.size, MAX_SIDE))
            icc = im.info.get("icc_profile")
            transparent = "transparency" in im.info
            try:
                im.load()  # the first frame only, fully: this is the verification
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise too_many_pixels from None
            except _DECODE_ERRORS:
                raise unreadable from None
            _apply_orientation(im)
            try:
                picture = _to_rgb(im, transparent, icc if isinstance(icc, bytes) else None)
            except _DECODE_ERRORS:
                raise unreadable from None
            # A new image of the same pixels: no ``info`` (EXIF, XMP, ICC, comments, text
            # chunks), which Pillow otherwise carries through convert() and resize() and some
            # of its encoders write out; and no tie to the input file, closed on leaving.
            return Image.frombytes("RGB", picture.size, picture.tobytes())


def _apply_orientation(im: ImageFile.ImageFile) -> None:
    """Turn the pixels the way the EXIF orientation says; ignore an EXIF we cannot parse."""
    with suppress(*_DECODE_ERRORS):
        ImageOps.exif_transpose(im, in_place=True)


def _jpeg_scans(raw: bytes) -> int:
    """How many scans (SOS markers) the first image of a JPEG has, walking its segments.

    Stops at the first EOI, so bytes after the image (an MPO's other images, an appended
    payload) are not counted; on malformed structure it returns what it has and leaves the
    verdict to the decoder.
    """
    scans = 0
    size = len(raw)
    i = 2  # after SOI
    while i + 1 < size:
        if raw[i] != 0xFF:
            return scans
        marker = raw[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker == 0xD9:  # EOI
            return scans
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # no length field
            i += 2
            continue
        if i + 3 >= size:
            return scans
        i += 2 + int.from_bytes(raw[i + 2 : i + 4], "big")
        if marker != 0xDA:
            continue
        scans += 1
        # Skip the entropy-coded data: it ends at the first 0xFF that is not followed by a
        # stuffed zero, a restart marker or another fill byte.
        while True:
            j = raw.find(b"\xff", i)
            if j < 0 or j + 1 >= size:
                return scans
            following = raw[j + 1]
            if following == 0x00 or 0xD0 <= following <= 0xD7:
                i = j + 2
            elif following == 0xFF:
                i = j + 1
            else:
                i = j
                break
    return scans


# --- pixels --------------------------------------------------------------------------------


def _to_rgb(im: Image.Image, transparent: bool, icc: bytes | None) -> Image.Image:
    """Bring any decoded mode to sRGB "RGB" at most MAX_SIDE, transparency on white."""
    if im.mode.startswith("I") or im.mode == "F":
        # 16-bit greyscale PNG: Pillow's convert() would clip every value above 255 to white.
        im = im.convert("I").point(_sixteen_to_eight).convert("L")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or transparent:
        im = im.convert("RGBA")
    elif im.mode not in ("RGB", "L", "CMYK"):
        im = im.convert("RGB")  # "1", "P" without transparency, "YCbCr", ...
    im = _fit(im, MAX_SIDE)  # before the copies below, to keep memory down
    if im.mode == "RGBA":
        background = Image.new("RGBA", im.size, (*_WHITE, 255))
        background.alpha_composite(im)
        im = background.convert("RGB")
    return _to_srgb(im, icc)


def _sixteen_to_eight(value: float) -> float:
    """Scale a 16-bit sample to 8 bits (Pillow's point() turns this into a linear map)."""
    return value / 256


_SRGB: Final = ImageCms.createProfile("sRGB")


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert from the photo's ICC profile to sRGB "RGB"; without a usable profile, as is."""
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(im, source, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # unreadable, or not for this mode: keep the pixels as they are
        if converted is not None:
            return converted
    return im if im.mode == "RGB" else im.convert("RGB")


def _fitted_size(size: tuple[int, int], side: int) -> tuple[int, int]:
    """``size`` scaled so its longer side is at most ``side`` (never enlarged, never 0)."""
    width, height = size
    longer = max(width, height)
    if longer <= side:
        return size
    return max(1, round(width * side / longer)), max(1, round(height * side / longer))


def _fit(im: Image.Image, side: int) -> Image.Image:
    """``im`` downscaled (Lanczos) so its longer side is at most ``side``."""
    target = _fitted_size(im.size, side)
    if target == im.size:
        return im
    return im.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(im: Image.Image, quality: int) -> bytes:
    """A fresh JPEG of ``im`` (an "RGB" image with an empty ``info``): JFIF header and pixels."""
    out = io.BytesIO()
    im.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()

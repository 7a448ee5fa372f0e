"""Uploaded photos: accepted pictures are re-encoded clean; abuse is refused with a plain reason.

Every image here is made with Pillow in the test; there are no binary fixtures.
"""

from __future__ import annotations

import io
import random
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageFile
from PIL.PngImagePlugin import PngInfo

from miliacheck.clinic import photos
from miliacheck.clinic.photos import (
    ALLOWED,
    MAX_BYTES,
    MAX_PHOTOS,
    MAX_PIXELS,
    MAX_SIDE,
    THUMBNAIL_SIDE,
    CleanPhoto,
    PhotoError,
    clean,
    clean_all,
    sniff,
)

RED = (220, 30, 30)
BLUE = (30, 30, 220)
SECRETS = (b"SECRET-MAKE", b"SECRET-GPS-AREA", b"SECRET-XMP", b"SECRET-COMMENT", b"SECRET-TEXT")


# --- making pictures -------------------------------------------------------------------------


def encode(im: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    im.save(out, format=fmt, **options)
    return out.getvalue()


def halves(size: tuple[int, int] = (60, 40), mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: enough to tell which way up a photo came out."""
    im = Image.new("RGB", size, RED)
    im.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return im.convert(mode)


def exif_with_gps(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "SECRET-MAKE"  # Make
    gps = exif.get_ifd(0x8825)  # GPSInfo
    gps[1] = "N"  # GPSLatitudeRef
    gps[2] = (52.0, 22.0, 12.5)  # GPSLatitude
    gps[3] = "E"  # GPSLongitudeRef
    gps[4] = (4.0, 53.0, 41.0)  # GPSLongitude
    gps[28] = b"ASCII\x00\x00\x00SECRET-GPS-AREA"  # GPSAreaInformation
    return exif


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
    b"<dc:creator>SECRET-XMP</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"
)


def opened(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def close_to(pixel: Any, expected: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def assert_clean_jpeg(photo: CleanPhoto) -> Image.Image:
    """The output is a JPEG with no metadata at all, and so is its thumbnail."""
    assert photo.content_type == "image/jpeg"
    for data in (photo.data, photo.thumbnail):
        assert data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9")
        assert b"Exif\x00\x00" not in data
        assert b"http://ns.adobe.com/xap/1.0/" not in data
        assert b"ICC_PROFILE" not in data
        assert b"\xff\xfe" not in data.split(b"\xff\xda", 1)[0]  # no COM segment
        im = opened(data)
        assert im.format == "JPEG"
        assert im.mode == "RGB"
        assert not im.getexif()
        assert not set(im.info) & {"exif", "xmp", "icc_profile", "comment"}
    im = opened(photo.data)
    assert im.size == (photo.width, photo.height)
    return im


def png_declaring(width: int, height: int) -> bytes:
    """A valid 1 x 1 PNG whose IHDR is patched (with a fresh CRC) to declare another size."""
    raw = bytearray(encode(Image.new("L", (1, 1)), "PNG"))
    assert raw[12:16] == b"IHDR"
    raw[16:24] = struct.pack(">II", width, height)
    raw[29:33] = struct.pack(">I", zlib.crc32(bytes(raw[12:29])))
    return bytes(raw)


def jpeg_declaring(width: int, height: int) -> bytes:
    """A valid 8 x 8 JPEG whose frame header (SOF0) is patched to declare another size."""
    raw = bytearray(encode(Image.new("RGB", (8, 8)), "JPEG"))
    sof = raw.index(b"\xff\xc0")
    raw[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(raw)


# --- accepted pictures -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_jpeg_png_and_webp_are_accepted_and_re_encoded(fmt: str) -> None:
    raw = encode(halves(), fmt)
    photo = clean(raw)
    im = assert_clean_jpeg(photo)
    assert photo.data != raw
    assert (photo.width, photo.height) == (60, 40)
    assert close_to(im.getpixel((5, 20)), RED)
    assert close_to(im.getpixel((55, 20)), BLUE)


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_sniff_reads_the_type_from_the_bytes(fmt: str, content_type: str) -> None:
    assert sniff(encode(halves(), fmt)) == content_type
    assert content_type in ALLOWED


@pytest.mark.parametrize("raw", [b"", b"GIF89a", b"%PDF-1.7\n", b"<svg></svg>", b"\x00" * 64])
def test_sniff_says_none_for_anything_else(raw: bytes) -> None:
    assert sniff(raw) is None
    assert sniff(encode(halves(), "GIF")) is None
    assert sniff(b"\xff" * (MAX_BYTES + 1)) is None


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_exif_with_gps_is_stripped_and_the_orientation_applied(fmt: str) -> None:
    raw = encode(halves(), fmt, exif=exif_with_gps(orientation=6).tobytes())
    assert b"SECRET-MAKE" in raw and b"SECRET-GPS-AREA" in raw  # the test is not vacuous
    photo = clean(raw)
    im = assert_clean_jpeg(photo)
    for secret in SECRETS:
        assert secret not in photo.data and secret not in photo.thumbnail
    # Orientation 6: the stored picture is shown turned 90 degrees clockwise, so the red
    # left half ends up on top.
    assert (photo.width, photo.height) == (40, 60)
    assert close_to(im.getpixel((20, 5)), RED)
    assert close_to(im.getpixel((20, 55)), BLUE)


def test_xmp_comments_and_png_text_are_stripped() -> None:
    jpeg = encode(halves(), "JPEG", xmp=XMP, comment=b"SECRET-COMMENT <script>x()</script>")
    info = PngInfo()
    info.add_text("Comment", "SECRET-TEXT")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode(), zip=True)
    png = encode(halves(), "PNG", pnginfo=info)
    for raw, secrets in ((jpeg, (b"SECRET-XMP", b"SECRET-COMMENT")), (png, (b"SECRET-TEXT",))):
        assert all(secret in raw for secret in secrets)
        photo = clean(raw)
        assert_clean_jpeg(photo)
        assert not any(secret in photo.data for secret in SECRETS)
        assert b"<script" not in photo.data


def test_a_broken_exif_block_does_not_cost_the_photo() -> None:
    raw = encode(halves(), "JPEG", exif=b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\xff\xff\xff")
    photo = clean(raw)
    assert_clean_jpeg(photo)
    assert (photo.width, photo.height) == (60, 40)


def test_an_icc_profile_is_applied_then_dropped() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for profile in (srgb, b"not really an ICC profile" * 10):
        raw = encode(halves(), "JPEG", icc_profile=profile)
        assert opened(raw).info.get("icc_profile") == profile
        photo = clean(raw)
        im = assert_clean_jpeg(photo)
        assert close_to(im.getpixel((5, 20)), RED)


@pytest.mark.parametrize(
    ("im", "fmt", "expected"),
    [
        (Image.new("RGBA", (40, 30), (*RED, 0)), "PNG", (255, 255, 255)),  # transparent -> white
        (Image.new("RGBA", (40, 30), (*RED, 255)), "WEBP", RED),
        (Image.new("LA", (40, 30), (0, 0)), "PNG", (255, 255, 255)),
        (Image.new("RGB", (40, 30), RED).convert("P"), "PNG", RED),
        (Image.new("1", (40, 30), 1), "PNG", (255, 255, 255)),
        (Image.new("L", (40, 30), 100), "JPEG", (100, 100, 100)),
        (Image.new("I;16", (40, 30), 40000), "PNG", (156, 156, 156)),  # 16-bit, not clipped
        (Image.new("CMYK", (40, 30), (0, 0, 0, 0)), "JPEG", (255, 255, 255)),
    ],
    ids=["rgba-png", "rgba-webp", "la", "palette", "bilevel", "grey-jpeg", "16-bit", "cmyk"],
)
def test_every_mode_comes_out_rgb(
    im: Image.Image, fmt: str, expected: tuple[int, int, int]
) -> None:
    photo = clean(encode(im, fmt))
    out = assert_clean_jpeg(photo)
    assert close_to(out.getpixel((20, 15)), expected, tolerance=12)


def test_a_palette_png_with_a_transparent_entry_is_flattened_on_white() -> None:
    im = Image.new("P", (40, 30), 0)
    im.putpalette([*RED, *BLUE])
    im.paste(1, (20, 0, 40, 30))
    raw = encode(im, "PNG", transparency=0)
    out = assert_clean_jpeg(clean(raw))
    assert close_to(out.getpixel((5, 15)), (255, 255, 255), tolerance=12)
    assert close_to(out.getpixel((35, 15)), BLUE)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_only_the_first_frame_of_an_animation_is_kept(fmt: str) -> None:
    frames = [Image.new("RGB", (40, 30), RED), Image.new("RGB", (40, 30), BLUE)]
    raw = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert getattr(Image.open(io.BytesIO(raw)), "n_frames", 1) == 2
    out = assert_clean_jpeg(clean(raw))
    assert close_to(out.getpixel((20, 15)), RED)


@pytest.mark.parametrize(
    ("size", "fitted"),
    [
        ((5000, 1000), (MAX_SIDE, 410)),
        ((1000, 5000), (410, MAX_SIDE)),
        ((3000, 3000), (MAX_SIDE, MAX_SIDE)),
        ((4000, 1), (MAX_SIDE, 1)),
        ((300, 200), (300, 200)),  # never enlarged
    ],
)
def test_big_photos_are_downscaled_to_max_side(
    size: tuple[int, int], fitted: tuple[int, int]
) -> None:
    for fmt in ("JPEG", "PNG"):
        photo = clean(encode(halves(size), fmt))
        assert (photo.width, photo.height) == fitted
        assert_clean_jpeg(photo)


def test_the_thumbnail_is_small() -> None:
    photo = clean(encode(halves((3000, 2000)), "JPEG", quality=95))
    thumb = opened(photo.thumbnail)
    assert max(thumb.size) == THUMBNAIL_SIDE
    assert thumb.size == (THUMBNAIL_SIDE, 213)
    assert len(photo.thumbnail) < 30_000
    assert len(photo.thumbnail) < len(photo.data)
    small = clean(encode(halves((100, 50)), "PNG"))
    assert opened(small.thumbnail).size == (100, 50)


def test_a_progressive_jpeg_is_fine() -> None:
    raw = encode(halves((300, 200)), "JPEG", progressive=True)
    assert 1 < photos._jpeg_scans(raw) <= photos.MAX_JPEG_SCANS
    assert clean(raw).width == 300


def test_the_photo_at_exactly_the_byte_limit_is_accepted() -> None:
    jpeg = encode(halves(), "JPEG")
    raw = jpeg + b"\x00" * (MAX_BYTES - len(jpeg))
    assert len(raw) == MAX_BYTES
    assert clean(raw).width == 60


# --- abuse -----------------------------------------------------------------------------------


def refused(raw: bytes, index: int = 1) -> str:
    with pytest.raises(PhotoError) as caught:
        clean(raw, index)
    error = caught.value
    assert str(error) == error.message
    assert error.index == index
    assert error.message.startswith(f"Photo {index} ")
    return error.message


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a single pixel is decoded."""

    def load(self: ImageFile.ImageFile) -> Any:
        raise AssertionError("decoded a photo that should have been refused unread")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


def test_oversize_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("opened a photo that was too big")

    monkeypatch.setattr(Image, "open", never)
    jpeg = encode(halves(), "JPEG")
    raw = jpeg + b"\x00" * (MAX_BYTES + 1 - len(jpeg))
    assert refused(raw, 2) == "Photo 2 is larger than 10 MB."
    assert refused(b"", 3) == "Photo 3 is empty."


WRONG_TYPES: dict[str, Callable[[], bytes]] = {
    "gif": lambda: encode(halves(), "GIF"),
    "bmp": lambda: encode(halves(), "BMP"),
    "tiff": lambda: encode(halves(), "TIFF"),
    "pdf": lambda: b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n",
    "svg": lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "html": lambda: b"<!doctype html><html><body><script>alert(1)</script></body></html>",
    "zip": lambda: zipped(),
    "random": lambda: random.Random(7).randbytes(4096),
}


def zipped() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("evil.js", "alert(1)")
    return out.getvalue()


@pytest.mark.parametrize("kind", sorted(WRONG_TYPES))
def test_wrong_types_are_refused(kind: str) -> None:
    assert refused(WRONG_TYPES[kind](), 2) == "Photo 2 is not a JPEG, PNG or WebP picture."


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_truncated_picture_is_refused(fmt: str) -> None:
    raw = encode(Image.effect_noise((200, 200), 50).convert("RGB"), fmt)
    message = refused(raw[: len(raw) // 2])
    assert message == "Photo 1 could not be read; it may be damaged or incomplete."


def test_a_png_with_a_bad_checksum_is_refused() -> None:
    raw = bytearray(encode(halves(), "PNG"))
    raw[-20] ^= 0xFF  # inside the IDAT data or its CRC
    assert "could not be read" in refused(bytes(raw))


@pytest.mark.parametrize(
    "size",
    [
        (100_000, 100_000),  # over twice Pillow's limit: Pillow raises on opening
        (10_000, 10_000),  # over Pillow's limit: Pillow would only warn
        (7_100, 7_100),  # under Pillow's limit, over ours
        (MAX_PIXELS + 1, 1),
    ],
)
def test_a_decompression_bomb_is_refused_without_decoding_it(
    size: tuple[int, int], no_decoding: None
) -> None:
    bombs = [png_declaring(*size)]
    if max(size) < 65536:  # the most a JPEG can declare
        bombs.append(jpeg_declaring(*size))
    for raw in bombs:
        assert len(raw) < 1000
        started = time.perf_counter()
        message = refused(raw)
        assert time.perf_counter() - started < 1
        assert message == (
            "Photo 1 has too many pixels (over 50 megapixels). Please send a smaller picture."
        )


def test_the_pixel_cap_is_on_the_declared_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(photos, "MAX_PIXELS", 100 * 100)
    assert clean(encode(halves((100, 100)), "PNG")).width == 100
    assert "too many pixels" in refused(encode(halves((101, 100)), "PNG"))


def test_a_jpeg_with_thousands_of_scans_is_refused_before_decoding(no_decoding: None) -> None:
    raw = encode(halves((64, 64)), "JPEG", progressive=True)
    last_scan = raw[raw.rindex(b"\xff\xda") : -2]
    bloated = raw[:-2] + last_scan * 2000 + b"\xff\xd9"
    assert photos._jpeg_scans(bloated) > 2000
    assert "could not be read" in refused(bloated)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize(
    "payload",
    [
        zipped(),
        b"<html><script>fetch('/steal?c='+document.cookie)</script></html>",
        b"\n%PDF-1.4\n<< /JS (app.alert(1)) >>",
    ],
    ids=["zip", "html", "pdf"],
)
def test_a_polyglot_comes_out_as_just_the_picture(fmt: str, payload: bytes) -> None:
    raw = encode(halves(), fmt) + payload
    photo = clean(raw)
    out = assert_clean_jpeg(photo)
    assert close_to(out.getpixel((5, 20)), RED)
    for data in (photo.data, photo.thumbnail):
        assert payload not in data
        assert b"PK\x03\x04" not in data
        assert b"<script" not in data and b"/JS" not in data


def test_a_polyglot_with_the_payload_in_a_comment_loses_it() -> None:
    raw = encode(halves(), "JPEG", comment=b"<script>alert(1)</script>") + zipped()
    photo = clean(raw)
    assert b"<script" not in photo.data and b"PK\x03\x04" not in photo.data


def test_at_most_three_photos() -> None:
    raw = encode(halves(), "JPEG")
    assert len(clean_all([raw] * MAX_PHOTOS)) == MAX_PHOTOS
    with pytest.raises(PhotoError) as caught:
        clean_all([raw] * (MAX_PHOTOS + 1))
    assert caught.value.message == "Please send at most 3 photos."
    assert caught.value.index is None
    with pytest.raises(PhotoError, match=r"^Photo 2 is not a JPEG, PNG or WebP picture\.$"):
        clean_all([raw, b"GIF89a nope", raw])


# --- arbitrary input -------------------------------------------------------------------------

SEEDS = [encode(halves((24, 16)), fmt) for fmt in ("JPEG", "PNG", "WEBP")]
SEEDS.append(encode(halves((24, 16)), "JPEG", progressive=True, exif=exif_with_gps().tobytes()))


def mutated(seed: bytes, edits: list[tuple[int, int]], cut: int) -> bytes:
    raw = bytearray(seed)
    for position, value in edits:
        raw[position % len(raw)] = value
    return bytes(raw[: max(1, len(raw) - cut)])


def never_anything_but_photo_error(raw: bytes) -> None:
    try:
        photo = clean(raw)
    except PhotoError as error:
        assert error.message
        return
    assert_clean_jpeg(photo)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_raise_nothing_but_photo_error(raw: bytes) -> None:
    never_anything_but_photo_error(raw)
    assert sniff(raw) in ALLOWED | {None}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SEEDS),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
    st.integers(0, 64),
)
def test_damaged_pictures_raise_nothing_but_photo_error(
    seed: bytes, edits: list[tuple[int, int]], cut: int
) -> None:
    never_anything_but_photo_error(mutated(seed, edits, cut))

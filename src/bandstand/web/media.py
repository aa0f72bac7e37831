"""The demo catalogue's media, made by Bandstand itself so that the demo shows offline.

Pictures are SVG posters (a gradient, a few shapes and the title) and songs are short WAV files
(a melody of soft sine tones), both generated from the name alone, so they are the same on every
machine and nothing is stored. The music demo (`bandstand/music/demo/*.json`) points at them as
`/media/demo/pictures/{name}.svg` and `/media/demo/audio/{name}.wav`; `media_routes()` answers
those paths, with an ETag, a day of public caching and, for audio, byte ranges (an HTML audio
player asks for ranges to seek).
"""

from __future__ import annotations

import hashlib
import math
import re
import sys
import wave
from array import array
from dataclasses import dataclass
from functools import cache
from html import escape
from io import BytesIO

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PICTURES_PATH = "/media/demo/pictures"
AUDIO_PATH = "/media/demo/audio"
CACHE_CONTROL = "public, max-age=86400"
SVG_TYPE = "image/svg+xml"
WAV_TYPE = "audio/wav"
SAMPLE_RATE = 22_050
SECONDS = 8

# Event pictures: name -> (city, country, date as written on the poster).
EVENTS: dict[str, tuple[str, str, str]] = {
    "lisbon-2026-03-14": ("Lisbon", "Portugal", "14 March 2026"),
    "porto-2026-03-21": ("Porto", "Portugal", "21 March 2026"),
    "madrid-2026-04-02": ("Madrid", "Spain", "2 April 2026"),
    "paris-2026-04-18": ("Paris", "France", "18 April 2026"),
    "berlin-2026-05-09": ("Berlin", "Germany", "9 May 2026"),
    "manchester-2026-05-23": ("Manchester", "United Kingdom", "23 May 2026"),
    "dublin-2026-06-06": ("Dublin", "Ireland", "6 June 2026"),
    "austin-2026-07-04": ("Austin", "United States", "4 July 2026"),
    "montreal-2026-08-15": ("Montréal", "Canada", "15 August 2026"),
    "tokyo-2026-09-30": ("Tokyo", "Japan", "30 September 2026"),
}
# Covers of artists and albums: name -> (title, subtitle).
COVERS: dict[str, tuple[str, str]] = {
    "cover-the-lantern-hours": ("The Lantern Hours", "Indie Folk"),
    "cover-mira-solenne": ("Mira Solenne", "Soul"),
    "cover-copper-meadow": ("Copper Meadow", "Bluegrass"),
    "cover-dune-telegraph": ("Dune Telegraph", "Electronic"),
    "cover-nocturne-pilots": ("Nocturne Pilots", "Jazz"),
    "cover-pilar-santos-quartet": ("Pilar Santos Quartet", "Latin Jazz"),
    "cover-paper-boats": ("Paper Boats", "The Lantern Hours"),
    "cover-golden-static": ("Golden Static", "Mira Solenne"),
    "cover-crooked-fence": ("Crooked Fence", "Copper Meadow"),
    "cover-salt-flat-transmissions": ("Salt Flat Transmissions", "Dune Telegraph"),
    "cover-bandstand-sampler-vol-1": ("Bandstand Sampler, Vol. 1", "Various Artists"),
    "cover-calle-de-la-luna": ("Calle de la Luna", "Pilar Santos Quartet"),
}
# Pictures of the marketplace's demo listings, one per category: name -> category.
INSTRUMENTS: dict[str, str] = {
    "instrument-guitarras": "Guitarras",
    "instrument-guitarras-electricas": "Guitarras eléctricas",
    "instrument-bajos": "Bajos",
    "instrument-teclados-y-pianos": "Teclados y pianos",
    "instrument-baterias-y-percusion": "Baterías y percusión",
    "instrument-viento": "Viento",
    "instrument-cuerda-frotada": "Cuerda frotada",
    "instrument-amplificadores": "Amplificadores",
    "instrument-efectos-y-pedales": "Efectos y pedales",
    "instrument-audio-y-estudio": "Audio y estudio",
    "instrument-dj": "DJ",
    "instrument-ukeleles-y-folk": "Ukeleles y folk",
}
# Songs with an audio file: name -> title.
SONGS: dict[str, str] = {
    "paper-boats-at-dawn": "Paper Boats at Dawn",
    "kettle-song": "Kettle Song",
    "lighthouse-keepers-daughter": "Lighthouse Keeper's Daughter",
    "small-hours": "Small Hours",
    "velvet-thunder": "Velvet Thunder",
    "honey-in-the-static": "Honey in the Static",
    "sunday-bus": "Sunday Bus",
    "gold-leaf": "Gold Leaf",
    "crooked-fence-reel": "Crooked Fence Reel",
    "rain-on-the-tin-roof": "Rain on the Tin Roof",
    "old-mare-named-tuesday": "Old Mare Named Tuesday",
    "harvest-moon-waltz": "Harvest Moon Waltz",
    "signal-from-the-salt-flats": "Signal from the Salt Flats",
    "neon-cartographer": "Neon Cartographer",
    "static-caravan": "Static Caravan",
    "mirage-protocol": "Mirage Protocol",
    "blue-hour-landing": "Blue Hour Landing",
    "cafe-orbit": "Café Orbit",
    "altitude-sickness": "Altitude Sickness",
    "night-shift-ballad": "Night Shift Ballad",
    "corazon-de-tiza": "Corazón de Tiza",
    "calle-de-la-luna": "Calle de la Luna",
    "corazon-despacio": "Corazón Despacio",
    "azulejo-blues": "Azulejo Blues",
}


@dataclass(frozen=True)
class Media:
    body: bytes
    media_type: str

    @property
    def etag(self) -> str:
        return f'"{hashlib.sha256(self.body).hexdigest()[:32]}"'


def _seed(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()


# --- pictures ---------------------------------------------------------------------------------


def _colour(hue: float, saturation: int, lightness: int) -> str:
    return f"hsl({hue % 360:.0f}, {saturation}%, {lightness}%)"


def _title_lines(title: str, width: int) -> list[str]:
    """`title` broken into lines of at most `width` characters (a word longer stays whole)."""
    lines: list[str] = []
    for word in title.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > 1 and len(lines[-1]) <= 3:  # no "1" alone on the last line
        lines[-2] += " " + lines.pop()
    return lines


def poster_svg(name: str, title: str, subtitle: str, lower: str, *, square: bool) -> bytes:
    """A poster for `title`: a diagonal gradient of two hues picked from `name`, soft discs and
    rings, the title large and the `subtitle` and `lower` lines below it."""
    seed = _seed(name)
    width, height = (800, 800) if square else (1200, 800)
    hue = seed[0] / 255 * 360
    second = hue + 40 + seed[1] / 255 * 80
    shapes: list[str] = []
    for index in range(6):
        x = seed[2 + index] / 255 * width
        y = seed[8 + index] / 255 * height * 0.7
        radius = 40 + seed[14 + index] / 255 * 220
        colour = _colour(hue + 180 + index * 25, 80, 75)
        if index % 2:
            shapes.append(
                f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{radius:.0f}" fill="none" '
                f'stroke="{colour}" stroke-width="6" opacity="0.35"/>'
            )
        else:
            shapes.append(
                f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{radius:.0f}" fill="{colour}" '
                f'opacity="0.25"/>'
            )
    lines = _title_lines(title, 14 if square else 20)
    size = 84 if max(len(line) for line in lines) <= 12 else 64
    top = height * 0.62 - (len(lines) - 1) * size * 1.1
    texts = [
        f'<text x="60" y="{top + i * size * 1.1:.0f}" font-size="{size}" font-weight="700" '
        f'fill="#ffffff">{escape(line)}</text>'
        for i, line in enumerate(lines)
    ]
    below = top + (len(lines) - 1) * size * 1.1
    texts.append(
        f'<text x="62" y="{below + 70:.0f}" font-size="38" fill="#ffffff" '
        f'opacity="0.92">{escape(subtitle)}</text>'
    )
    if lower:
        texts.append(
            f'<text x="62" y="{below + 122:.0f}" font-size="30" fill="#ffffff" '
            f'opacity="0.8">{escape(lower)}</text>'
        )
    label = escape(f"{title}: {subtitle}" + (f", {lower}" if lower else ""), quote=True)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}">'
        f"<title>{escape(title)}</title>"
        '<defs><linearGradient id="sky" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="{_colour(hue, 70, 55)}"/>'
        f'<stop offset="1" stop-color="{_colour(second, 65, 30)}"/>'
        "</linearGradient>"
        '<linearGradient id="shade" x1="0" y1="0" x2="0" y2="1">'
        '<stop offset="0.45" stop-color="#000000" stop-opacity="0"/>'
        '<stop offset="1" stop-color="#000000" stop-opacity="0.45"/>'
        "</linearGradient></defs>"
        f'<rect width="{width}" height="{height}" fill="url(#sky)"/>'
        f"{''.join(shapes)}"
        f'<rect width="{width}" height="{height}" fill="url(#shade)"/>'
        '<g font-family="Helvetica, Arial, sans-serif">'
        f"{''.join(texts)}</g></svg>"
    )
    return svg.encode("utf-8")


@cache
def picture(name: str) -> Media | None:
    """The SVG poster called `name`; None for a name the demo does not use."""
    if name in EVENTS:
        city, country, day = EVENTS[name]
        body = poster_svg(name, city, country, day, square=False)
    elif name in COVERS:
        title, subtitle = COVERS[name]
        body = poster_svg(name, title, subtitle, "", square=True)
    elif name in INSTRUMENTS:
        body = poster_svg(name, INSTRUMENTS[name], "Second-hand instruments", "", square=True)
    else:
        return None
    return Media(body, SVG_TYPE)


# --- audio ------------------------------------------------------------------------------------

# A major pentatonic scale over two octaves, as semitones above the key's root.
_SCALE = (0, 2, 4, 7, 9, 12, 14, 16, 19, 21)


def _frequency(semitones: float) -> float:
    return 440.0 * 2 ** ((semitones - 9) / 12)  # semitone 0 = C4


def _tone(frequency: float, length: int, volume: float) -> list[float]:
    """A sine with a little second and third harmonic, a 10 ms attack and an exponential
    decay, so that notes neither click nor drone."""
    attack = int(SAMPLE_RATE * 0.01)
    step = 2 * math.pi * frequency / SAMPLE_RATE
    decay = 3.0 / length
    return [
        volume
        * min(1.0, i / attack)
        * math.exp(-i * decay)
        * (math.sin(step * i) + 0.3 * math.sin(2 * step * i) + 0.1 * math.sin(3 * step * i))
        for i in range(length)
    ]


def melody_wav(name: str) -> bytes:
    """`SECONDS` of 16-bit mono WAV: a pentatonic melody in a key picked from `name`, eighth
    notes over a bass note that changes every bar."""
    seed = _seed(name)
    key = seed[0] % 12 - 5
    beat = 0.25 + (seed[1] % 3) * 0.05  # 120 to 86 eighth-note beats a minute
    per_note = int(SAMPLE_RATE * beat)
    total = SAMPLE_RATE * SECONDS
    mix = [0.0] * total
    position, degree, index = 0, 4, 0
    while position < total:
        # A walk on the scale: mostly steps, now and then a leap, a rest every few notes.
        move = seed[(2 + index) % 32] % 5 - 2
        degree = min(len(_SCALE) - 1, max(0, degree + move))
        length = min(per_note * (2 if seed[(index * 7) % 32] % 4 == 0 else 1), total - position)
        if seed[(index * 3 + 5) % 32] % 6 != 0:
            for i, value in enumerate(_tone(_frequency(key + _SCALE[degree]), length, 0.32)):
                mix[position + i] += value
        position += length
        index += 1
    bar = per_note * 8
    for start in range(0, total, bar):
        root = key - 12 + (0, 7, 9, 5)[(start // bar) % 4]
        for i, value in enumerate(_tone(_frequency(root), min(bar, total - start), 0.22)):
            mix[start + i] += value
    peak = max(1e-9, max(abs(value) for value in mix))
    fade = int(SAMPLE_RATE * 0.5)
    samples = array(
        "h",
        (
            int(value / peak * 0.8 * 32767 * min(1.0, (total - i) / fade))
            for i, value in enumerate(mix)
        ),
    )
    if sys.byteorder == "big":  # WAV samples are little-endian
        samples.byteswap()
    buffer = BytesIO()
    with wave.open(buffer, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(SAMPLE_RATE)
        file.writeframes(samples.tobytes())
    return buffer.getvalue()


@cache
def audio(name: str) -> Media | None:
    """The WAV file called `name`; None for a name the demo does not use."""
    if name not in SONGS:
        return None
    return Media(melody_wav(name), WAV_TYPE)


# --- HTTP -------------------------------------------------------------------------------------

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The one range of `header` as (first, last) inclusive, clipped to `size`; None when the
    header is not a single byte range (the whole body is then sent). Raises ValueError when
    the range is unsatisfiable."""
    match = _RANGE.fullmatch(header.strip())
    if match is None or not (match[1] or match[2]):
        return None
    if not match[1]:  # the last N bytes
        suffix = int(match[2])
        if suffix == 0:
            raise ValueError(header)
        return max(0, size - suffix), size - 1
    first = int(match[1])
    last = min(int(match[2]), size - 1) if match[2] else size - 1
    if first >= size or last < first:
        raise ValueError(header)
    return first, last


def _not_found() -> Response:
    return Response('{"detail":"Not Found"}', 404, media_type="application/json")


def media_response(request: Request, media: Media, *, ranges: bool) -> Response:
    """`media` with caching headers; 304 for a matching If-None-Match; with `ranges`, 206 for a
    satisfiable Range (and 416 for one that is not), as RFC 9110 says."""
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": media.etag}
    if ranges:
        headers["Accept-Ranges"] = "bytes"
    if_none_match = request.headers.get("if-none-match", "")
    if media.etag in if_none_match or if_none_match.strip() == "*":
        return Response(status_code=304, headers=headers)
    size = len(media.body)
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if ranges and wanted and (if_range is None or if_range.strip() == media.etag):
        try:
            found = _byte_range(wanted, size)
        except ValueError:
            headers["Content-Range"] = f"bytes */{size}"
            return Response(status_code=416, headers=headers)
        if found is not None:
            first, last = found
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
            part = media.body[first : last + 1]
            return Response(part, 206, headers=headers, media_type=media.media_type)
    return Response(media.body, headers=headers, media_type=media.media_type)


# Made on first use, off the event loop (a song takes a fraction of a second), then kept.
async def picture_endpoint(request: Request) -> Response:
    found = await run_in_threadpool(picture, str(request.path_params["name"]))
    return _not_found() if found is None else media_response(request, found, ranges=False)


async def audio_endpoint(request: Request) -> Response:
    found = await run_in_threadpool(audio, str(request.path_params["name"]))
    return _not_found() if found is None else media_response(request, found, ranges=True)


def picture_url(name: str) -> str:
    return f"{PICTURES_PATH}/{name}.svg"


def audio_url(name: str) -> str:
    return f"{AUDIO_PATH}/{name}.wav"


def media_routes() -> list[Route]:
    """`GET /media/demo/pictures/{name}.svg` and `GET /media/demo/audio/{name}.wav`."""
    return [
        Route(PICTURES_PATH + "/{name}.svg", picture_endpoint, methods=["GET", "HEAD"]),
        Route(AUDIO_PATH + "/{name}.wav", audio_endpoint, methods=["GET", "HEAD"]),
    ]

"""Write N realistic synthetic instrument listings, as scraped from second-hand sites.

uv run python bench/gen_instruments.py 1000000 > listings.csv
uv run python bench/gen_instruments.py 5000 --format jsonl --output listings.jsonl

Spanish and English names of instruments by category, real brands and models, conditions,
prices spread by category, Spanish cities, publication and expiration dates. The same N and
seed always give the same file; every link is unique.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from datetime import date, timedelta
from typing import IO, Any

FIELDS = (
    "name",
    "price",
    "link",
    "image",
    "location",
    "category",
    "expiration",
    "publish",
    "website",
)

# category: (kinds of instrument, brands and their models, price range in euros)
CATALOGUE: dict[str, tuple[list[str], dict[str, list[str]], tuple[int, int]]] = {
    "Guitarras eléctricas": (
        ["Guitarra eléctrica", "Electric guitar", "Guitarra", "Guitar"],
        {
            "Fender": ["Stratocaster", "Telecaster", "Jazzmaster", "Mustang"],
            "Gibson": ["Les Paul Standard", "SG Special", "ES-335", "Flying V"],
            "Squier": ["Stratocaster Affinity", "Telecaster Classic Vibe", "Bullet Strat"],
            "Ibanez": ["RG550", "GRG170DX", "AZ2402", "S521"],
            "Epiphone": ["Les Paul Custom", "SG G-400", "Casino"],
            "PRS": ["SE Custom 24", "SE Standard"],
        },
        (90, 3500),
    ),
    "Guitarras clásicas": (
        ["Guitarra clásica", "Guitarra española", "Classical guitar", "Guitarra flamenca"],
        {
            "Alhambra": ["1C", "4P", "7P", "Z-Nature"],
            "Yamaha": ["C40", "CG122", "CG182"],
            "Admira": ["Alba", "Malaga", "Sombra"],
            "Ramírez": ["4NE", "2NCWE"],
            "Cuenca": ["10", "30", "40R"],
        },
        (40, 2500),
    ),
    "Bajos": (
        ["Bajo eléctrico", "Bass guitar", "Bajo"],
        {
            "Fender": ["Precision Bass", "Jazz Bass"],
            "Ibanez": ["SR300", "GSR200"],
            "Squier": ["Precision Bass Affinity", "Jazz Bass Vintage"],
            "Music Man": ["StingRay"],
        },
        (80, 2500),
    ),
    "Amplificadores": (
        ["Amplificador", "Amplifier", "Combo", "Cabezal"],
        {
            "Marshall": ["DSL40CR", "JCM800", "MG15"],
            "Fender": ["Blues Junior", "Frontman 10G", "Twin Reverb"],
            "Boss": ["Katana 50", "Katana 100"],
            "Vox": ["AC30", "AC15", "Pathfinder 10"],
            "Orange": ["Crush 20", "Rocker 32"],
        },
        (40, 1800),
    ),
    "Pianos y teclados": (
        ["Piano digital", "Teclado", "Digital piano", "Keyboard", "Piano de pared"],
        {
            "Yamaha": ["P-45", "P-125", "Clavinova CLP-735", "PSR-E373", "U1"],
            "Roland": ["FP-30X", "RD-88", "Juno-DS61"],
            "Casio": ["CDP-S110", "Privia PX-S1100", "CT-S300"],
            "Korg": ["B2", "Kross 2", "microKORG"],
            "Kawai": ["ES120", "K-300"],
        },
        (60, 6000),
    ),
    "Baterías y percusión": (
        ["Batería", "Drum kit", "Batería electrónica", "Cajón flamenco", "Caja"],
        {
            "Pearl": ["Export", "Roadshow", "Decade Maple"],
            "Roland": ["TD-1K", "TD-07KV", "TD-17KVX"],
            "Tama": ["Imperialstar", "Superstar Classic"],
            "Alesis": ["Nitro Mesh", "Surge"],
            "Schlagwerk": ["CP404", "2inOne"],
        },
        (50, 2500),
    ),
    "Cuerda frotada": (
        ["Violín", "Violin", "Viola", "Violonchelo", "Cello", "Contrabajo"],
        {
            "Stentor": ["Student II", "Conservatoire", "Graduate"],
            "Yamaha": ["V5SC", "SV-130"],
            "Gliga": ["Gems 1", "Genial 2"],
            "Hidalgo": ["Estudio", "Conservatorio"],
        },
        (60, 4000),
    ),
    "Viento": (
        [
            "Saxofón alto",
            "Saxofón tenor",
            "Trompeta",
            "Clarinete",
            "Flauta travesera",
            "Alto saxophone",
            "Trumpet",
            "Trombón",
        ],
        {
            "Yamaha": ["YAS-280", "YTR-2330", "YCL-255", "YFL-222"],
            "Selmer": ["Mark VI", "Serie II"],
            "Jupiter": ["JAS500", "JTR500"],
            "Buffet": ["E11", "Prodige"],
        },
        (90, 5000),
    ),
    "Ukeleles": (
        ["Ukelele", "Ukulele", "Ukelele soprano", "Ukelele concierto"],
        {"Kala": ["KA-15S", "KA-C"], "Ortega": ["RU5", "Bonfire"], "Mahalo": ["MR1"]},
        (20, 300),
    ),
    "Efectos y pedales": (
        ["Pedal", "Pedal de efectos", "Pedalera", "Multiefectos"],
        {
            "Boss": ["DS-1", "BD-2", "RC-30", "GT-1000", "ME-80"],
            "Electro-Harmonix": ["Big Muff", "Small Stone"],
            "TC Electronic": ["Hall of Fame", "Flashback"],
            "Line 6": ["HX Stomp", "POD Go"],
        },
        (25, 900),
    ),
}
CONDITIONS = [
    "",
    "",
    "",
    "usada",
    "como nueva",
    "seminueva",
    "con funda",
    "with case",
    "vintage",
    "poco uso",
    "perfecto estado",
    "good condition",
    "mint",
    "para reparar",
    "con estuche",
    "made in Japan",
    "made in USA",
    "zurdo",
    "left handed",
    "negra",
    "sunburst",
    "blanca",
]
CITIES = [
    "Madrid",
    "Barcelona",
    "Valencia",
    "Sevilla",
    "Zaragoza",
    "Málaga",
    "Murcia",
    "Palma",
    "Bilbao",
    "Alicante",
    "Córdoba",
    "Valladolid",
    "Vigo",
    "Gijón",
    "A Coruña",
    "Granada",
    "Vitoria-Gasteiz",
    "Elche",
    "Oviedo",
    "Badalona",
    "Cartagena",
    "Jerez de la Frontera",
    "Sabadell",
    "Móstoles",
    "Santa Cruz de Tenerife",
    "Pamplona",
    "Almería",
    "San Sebastián",
    "Burgos",
    "Salamanca",
    "Cádiz",
    "León",
    "Logroño",
    "Huelva",
    "Tarragona",
    "Lleida",
]
WEBSITES = ["wallapop.com", "milanuncios.com", "todocoleccion.net", "ebay.es", "reverb.com"]
TODAY = date(2026, 12, 1)


def slug(text: str) -> str:
    keep = "".join(char.lower() if char.isalnum() else "-" for char in text)
    return "-".join(part for part in keep.split("-") if part)[:80]


def listing(number: int, rng: random.Random) -> dict[str, Any]:
    category = rng.choice(list(CATALOGUE))
    kinds, brands, (low, high) = CATALOGUE[category]
    brand = rng.choice(list(brands))
    model = rng.choice(brands[brand])
    condition = rng.choice(CONDITIONS)
    name = " ".join(part for part in (rng.choice(kinds), brand, model, condition) if part)
    website = rng.choice(WEBSITES)
    price = None if rng.random() < 0.03 else round(rng.uniform(low, high) * 20) / 20
    published = TODAY - timedelta(days=rng.randrange(0, 400))
    # About one listing in ten has expired already (by TODAY); a few never expire.
    if rng.random() < 0.05:
        expiration = None
    else:
        expiration = max(published, TODAY) + timedelta(days=rng.randrange(-40, 400))
    return {
        "name": name,
        "price": None if price is None else f"{price:.2f}",
        "link": f"https://www.{website}/anuncio/{slug(name)}-{number}",
        "image": None if rng.random() < 0.1 else f"https://cdn.{website}/img/{number}.jpg",
        "location": None if rng.random() < 0.05 else rng.choice(CITIES),
        "category": category,
        "expiration": None if expiration is None else expiration.isoformat(),
        "publish": published.isoformat(),
        "website": website,
    }


def write(count: int, out: IO[str], fmt: str, seed: int) -> None:
    rng = random.Random(seed)
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FIELDS)
        for number in range(1, count + 1):
            row = listing(number, rng)
            writer.writerow(["" if row[key] is None else row[key] for key in FIELDS])
    else:
        for number in range(1, count + 1):
            out.write(json.dumps(listing(number, rng), ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="how many listings")
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--output", help="file to write (default: standard output)")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("count must not be negative")
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            write(args.count, out, args.format, args.seed)
    else:
        write(args.count, sys.stdout, args.format, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())

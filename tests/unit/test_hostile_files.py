"""Hostile and odd product files: each one ends in a clear outcome and loses nothing.

One table: a case id, a builder of the file (name and bytes), and the expected outcome,
either the whole file refused with a message, or what was parsed (products, per-row
warnings and row errors, and the text encoding it was read in).
"""

from __future__ import annotations

import gzip
import io
import json
import random
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from workers.parsers import FileRejected, ProductRecord, RowError, parse_products

ACCEPTED = "Jobboard reads CSV, TSV or TXT files, Shopify CSV exports and JSON"


@dataclass(frozen=True)
class Rejected:
    """The whole file is refused; the message contains every one of these."""

    says: tuple[str, ...]


@dataclass(frozen=True)
class Parsed:
    """The file is read: products as (key, title, price) in order, plus row messages."""

    products: list[tuple[str, str, float | None]]
    encoding: str = "UTF-8"
    warnings: dict[int, list[str]] = field(default_factory=dict)  # row -> exact messages
    errors: dict[int, str] = field(default_factory=dict)  # row -> exact reason
    check: Callable[[list[ProductRecord]], None] | None = None  # anything more to look at


Builder = Callable[[], tuple[str, bytes]]


def csv_file(rows: list[tuple[str, ...]], encoding: str, sep: str = ",") -> bytes:
    return "".join(sep.join(row) + "\r\n" for row in rows).encode(encoding)


# Real product names, several rows: encoding detection reads the text like a person would.
JAPANESE = [
    ("JP-001", "緑茶 ティーバッグ 50袋", "1200"),
    ("JP-002", "抹茶ラテの素", "980"),
    ("JP-003", "日本製 陶器 マグカップ", "2500"),
    ("JP-004", "有機栽培 ほうじ茶", "750"),
]
SIMPLIFIED = [
    ("CN-001", "绿茶 铁观音 礼盒装", "128"),
    ("CN-002", "景德镇 陶瓷 茶杯", "56"),
    ("CN-003", "丝绸 围巾 女士", "199"),
    ("CN-004", "云南 普洱茶 饼", "88"),
]
TRADITIONAL = [
    ("TW-001", "高山烏龍茶 禮盒", "680"),
    ("TW-002", "手工 陶瓷 茶壺", "1200"),
    ("TW-003", "鳳梨酥 十入", "350"),
    ("TW-004", "台灣 竹編 籃子", "450"),
]
CZECH = [
    ("CZ-1", "Dřevěná židle", "1299"),
    ("CZ-2", "Žlutý kůň úpěl ďábelské ódy", "350"),
    ("CZ-3", "Stůl z dubového dřeva", "4500"),
    ("CZ-4", "Květináč keramický šedý", "250"),
]
FRENCH = [
    ("FR-1", "Café crème", "2,50"),
    ("FR-2", "Crème brûlée à l'ancienne", "4,90"),
    ("FR-3", "Thé glacé pêche", "3,20"),
    ("FR-4", "Pâté de campagne", "6,00"),
]


def expect(rows: list[tuple[str, str, str]]) -> list[tuple[str, str, float | None]]:
    return [(sku, title, float(price.replace(",", "."))) for sku, title, price in rows]


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def garbage(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def undeterminable() -> bytes:
    """Not UTF-8, and every reading of its high bytes is letter soup from many alphabets."""
    soup = random.Random(7).choices(range(0x80, 0x100), k=3000)
    body = bytes(soup)
    lines = [b"sku,title"] + [
        b"S-%d," % i + body[i * 30 : i * 30 + 30].replace(b"\x85", b"") for i in range(100)
    ]
    return b"\n".join(lines) + b"\n"


NEVER_CLOSED = 'has a quote (") that is never closed'

# fmt: off
CASES: list[tuple[str, Builder, Rejected | Parsed]] = [
    # --- encodings -------------------------------------------------------------------
    ("utf8-japanese-native-headers",
     lambda: ("jp.csv", csv_file([("商品コード", "商品名", "価格"), *JAPANESE], "utf-8")),
     Parsed(expect(JAPANESE))),
    ("utf8-bom-chinese",
     lambda: ("cn.csv", csv_file([("货号", "商品名称", "价格"), *SIMPLIFIED], "utf-8-sig")),
     Parsed(expect(SIMPLIFIED))),
    ("utf16-le-bom-tsv",
     lambda: ("jp.txt", b"\xff\xfe" + csv_file(
         [("SKU", "Title", "Price"), *JAPANESE], "utf-16-le", "\t")),
     Parsed(expect(JAPANESE), encoding="UTF-16")),
    ("utf16-be-bom",
     lambda: ("cz.csv", b"\xfe\xff" + csv_file([("SKU", "Name", "Price"), *CZECH], "utf-16-be")),
     Parsed(expect(CZECH), encoding="UTF-16")),
    ("windows-1252-french",
     lambda: ("fr.csv", csv_file([("SKU", "Nom", "Prix"), *FRENCH], "cp1252", ";")),
     Parsed(expect(FRENCH), encoding="Windows-1252")),
    ("windows-1250-czech-native-headers",
     lambda: ("cz.csv", csv_file([("Kód", "Název", "Cena"), *CZECH], "cp1250", ";")),
     Parsed(expect(CZECH), encoding="Windows-1250")),
    ("iso-8859-2-czech-native-headers",
     lambda: ("cz.csv", csv_file([("Kód", "Název", "Cena"), *CZECH], "iso-8859-2", ";")),
     Parsed(expect(CZECH), encoding="ISO-8859-2")),
    ("shift-jis-ascii-headers",
     lambda: ("jp.csv", csv_file([("sku", "title", "price"), *JAPANESE], "shift_jis")),
     Parsed(expect(JAPANESE), encoding="Shift-JIS")),
    ("shift-jis-native-headers",
     lambda: ("jp.csv", csv_file([("商品コード", "商品名", "価格"), *JAPANESE], "shift_jis")),
     Parsed(expect(JAPANESE), encoding="Shift-JIS")),
    ("gbk-native-headers",
     lambda: ("cn.csv", csv_file([("货号", "商品名称", "价格"), *SIMPLIFIED], "gbk")),
     Parsed(expect(SIMPLIFIED), encoding="GB18030")),
    ("gb18030-ascii-headers",
     lambda: ("cn.csv", csv_file([("SKU", "Title", "Price"), *SIMPLIFIED], "gb18030")),
     Parsed(expect(SIMPLIFIED), encoding="GB18030")),
    ("big5-native-headers",
     lambda: ("tw.csv", csv_file([("貨號", "商品名稱", "價格"), *TRADITIONAL], "big5")),
     Parsed(expect(TRADITIONAL), encoding="Big5")),
    ("shift-jis-json",
     lambda: ("jp.json", json.dumps(
         [{"sku": s, "title": t, "price": int(p)} for s, t, p in JAPANESE], ensure_ascii=False
     ).encode("shift_jis")),
     Parsed(expect(JAPANESE), encoding="Shift-JIS")),
    ("encoding-cannot-be-determined",
     lambda: ("soup.csv", undeterminable()),
     Rejected(("soup.csv is not UTF-8 and its text encoding could not be determined",
               "save it as CSV UTF-8"))),
    ("utf8-bom-but-not-utf8",
     lambda: ("bad.csv", b"\xef\xbb\xbfsku,title\nA,Caf\xe9\n"),
     Rejected(("bad.csv starts with a UTF-8 marker but is not valid UTF-8 text",))),

    # --- not product files -------------------------------------------------------------
    ("empty", lambda: ("empty.csv", b""), Rejected(("empty.csv is empty",))),
    ("blank-lines-only", lambda: ("blank.csv", b"\r\n  \r\n\t\n"),
     Rejected(("blank.csv is empty",))),
    ("header-only", lambda: ("head.csv", b"sku,title,price\r\n"),
     Rejected(("head.csv has a header but no rows",))),
    ("binary-garbage", lambda: ("data.csv", garbage(1, 4096)),
     Rejected(("data.csv is not a text file (it holds binary data)", ACCEPTED))),
    ("png-renamed-csv",
     lambda: ("products.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + garbage(2, 500)),
     Rejected(("products.csv is a PNG image, which Jobboard cannot import", ACCEPTED))),
    ("jpeg-renamed-csv",
     lambda: ("products.csv", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + garbage(3, 500)),
     Rejected(("products.csv is a JPEG image, which Jobboard cannot import", ACCEPTED))),
    ("xlsx",
     lambda: ("prices.xlsx", zip_of({"[Content_Types].xml": b"<Types/>",
                                      "xl/workbook.xml": b"<workbook/>"})),
     Rejected(("prices.xlsx is an Excel workbook, which Jobboard cannot import",
               "save it as CSV UTF-8", ACCEPTED))),
    ("xls-97-2003",
     lambda: ("prices.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
     Rejected(("prices.xls is an Excel 97-2003 workbook", "save it as CSV UTF-8", ACCEPTED))),
    ("zip-with-a-csv",
     lambda: ("products.zip", zip_of({"products.csv": b"sku,title\nA,One\n"})),
     Rejected(("products.zip is a ZIP archive", "unzip it and upload the product file inside"))),
    ("gzip",
     lambda: ("products.csv.gz", gzip.compress(b"sku,title\nA,One\n")),
     Rejected(("products.csv.gz is a gzip-compressed file", "decompress it", ACCEPTED))),
    # 64 MB of zeros in 64 KB: refused from its first bytes, nothing is decompressed.
    ("gzip-bomb",
     lambda: ("bomb.csv", gzip.compress(bytes(64 * 1024 * 1024), compresslevel=1)),
     Rejected(("bomb.csv is a gzip-compressed file",))),
    ("zip-bomb",
     lambda: ("bomb.zip", zip_of({f"part{i}.csv": bytes(16 * 1024 * 1024) for i in range(4)})),
     Rejected(("bomb.zip is a ZIP archive",))),

    # --- odd shapes ----------------------------------------------------------------------
    ("ten-thousand-columns",
     lambda: ("wide.csv", ("sku,title," + ",".join(f"extra{i}" for i in range(9998)) + "\n"
                           + "".join(f"W-{r},Wide {r}," + "," * 9997 + "\n" for r in range(3))
                           ).encode()),
     Parsed([("W-0", "Wide 0", None), ("W-1", "Wide 1", None), ("W-2", "Wide 2", None)])),
    ("one-20-mb-line",
     lambda: ("long.csv", b"sku,title,description\nL-1,Long one," + b"x" * (20 * 1024 * 1024)
              + b"\nL-2,Short one,fine\n"),
     Parsed([("L-1", "Long one", None), ("L-2", "Short one", None)],
            warnings={2: ["description is 20,971,520 characters long; "
                          "only its first 65,536 were kept"]},
            check=lambda recs: _assert(len(recs[0].description) == 65536))),
    ("header-is-one-20-mb-line",
     lambda: ("junk.csv", b"y" * (20 * 1024 * 1024)),
     Rejected(("junk.csv has a header but no rows",))),
    ("unbalanced-quotes",
     lambda: ("quotes.csv", b'sku,title\nA,One\nB,"Two\nC,Three\n'),
     Rejected(("quotes.csv " + NEVER_CLOSED + ", in row 3",))),
    ("json-object-not-array",
     lambda: ("shop.json", b'{"shop": "Acme", "currency": "EUR"}'),
     Rejected(("shop.json does not hold a list of products",))),
    ("json-100k-nesting",
     lambda: ("deep.json", b"[" * 100_000 + b"]" * 100_000),
     Rejected(("deep.json nests brackets too deeply to be a product list",))),
    ("json-100k-nesting-unclosed",
     lambda: ("deep.json", b"[" * 100_000),
     Rejected(("deep.json nests brackets too deeply",))),
    ("json-huge-number",
     lambda: ("big.json", b'[{"sku": "A", "title": "A", "price": 1' + b"0" * 5000 + b"}]"),
     Rejected(("big.json holds a number too long to be read",))),

    # --- rows: repeats, long values --------------------------------------------------------
    ("duplicate-skus-last-wins",
     lambda: ("dup.csv", b"sku,title,price\nA,First,1\nB,Other,2\nA,Second,3\n"),
     Parsed([("A", "First", 1.0), ("B", "Other", 2.0), ("A", "Second", 3.0)],
            warnings={4: ["SKU 'A' is also in row 2; this row replaced it"]})),
    ("duplicate-skus-json",
     lambda: ("dup.json", b'[{"sku": "A", "title": "First"}, {"sku": "A", "title": "Second"}]'),
     Parsed([("A", "First", None), ("A", "Second", None)],
            warnings={2: ["SKU 'A' is also in row 1; this row replaced it"]})),
    ("100k-character-fields",
     lambda: ("long.csv", ("sku,title,vendor,type,tags\nT-1," + "t" * 100_000 + ","
                           + "v" * 300 + ',Mugs,"short,' + "g" * 1000 + '"\n').encode()),
     Parsed([("T-1", "t" * 500, None)],
            warnings={2: ["title is 100,000 characters long; only its first 500 were kept",
                          "vendor is 300 characters long; only its first 255 were kept",
                          "a tag is 1,000 characters long; only its first 255 were kept"]},
            check=lambda recs: _assert(recs[0].vendor == "v" * 255
                                       and recs[0].tags == ["short", "g" * 255]))),
    ("long-sku-is-cut-and-still-the-key",
     lambda: ("sku.json", json.dumps([{"sku": "S" * 300, "title": "Long SKU"}]).encode()),
     Parsed([("S" * 255, "Long SKU", None)],
            warnings={1: ["SKU is 300 characters long; only its first 255 were kept"]})),
    ("shopify-long-option-value",
     lambda: ("shopify.csv", (
         "Handle,Title,Option1 Name,Option1 Value,Variant SKU,Variant Price\n"
         "mug,Mug,Size," + "L" * 400 + ",MUG-L,12.50\n").encode()),
     Parsed([("mug", "Mug", 12.5)],
            warnings={2: ["option value is 400 characters long; only its first 255 were kept"]},
            check=lambda recs: _assert(recs[0].options[0]["values"] == ["L" * 255]))),

    # --- prices -----------------------------------------------------------------------------
    ("local-price-formats",
     lambda: ("prices.csv", "SKU;Name;Price\nP-1;Sofa;1.234,56\nP-2;Lamp;€12\n"
                            "P-3;Mug;12,50 Kč\nP-4;Desk;CHF 1'299.50\n".encode()),
     Parsed([("P-1", "Sofa", 1234.56), ("P-2", "Lamp", 12.0), ("P-3", "Mug", 12.5),
             ("P-4", "Desk", 1299.5)])),
    ("bad-prices-skip-their-rows",
     lambda: ("prices.csv", b"sku,title,price\nA,Negative,-5\nB,Word,cheap\nC,Huge,1e308\n"
                            b"D,Inf,inf\nE,Nan,nan\nF,Fine,9.99\n"),
     Parsed([("F", "Fine", 9.99)], errors={
         2: "price '-5' is negative",
         3: "price 'cheap' is not a number",
         4: "price '1e308' is too large (the most a price can be is 1,000,000,000,000)",
         5: "price 'inf' is too large (the most a price can be is 1,000,000,000,000)",
         6: "price 'nan' is not a number",
     })),
    ("json-absurd-number-prices",
     lambda: ("p.json", b'[{"sku": "A", "title": "A", "price": 1e308},'
                        b' {"sku": "B", "title": "B", "price": NaN},'
                        b' {"sku": "C", "title": "C", "price": -1}]'),
     Parsed([], errors={
         1: "price '1e+308' is too large (the most a price can be is 1,000,000,000,000)",
         2: "price 'nan' is not a number",
         3: "price '-1' is negative",
     })),
    ("ambiguous-price-in-decimal-comma-file",
     lambda: ("eu.csv", b"SKU;Name;Preis\nA;Fahrrad;1.299\nB;Klingel;12,50\nC;Helm;49,90\n"),
     Parsed([("A", "Fahrrad", 1299.0), ("B", "Klingel", 12.5), ("C", "Helm", 49.9)])),
    ("ambiguous-price-in-decimal-point-file",
     lambda: ("us.csv", b"sku,title,price\nA,Fuel,1.299\nB,Bell,12.50\n"),
     Parsed([("A", "Fuel", 1.299), ("B", "Bell", 12.5)])),
    ("ambiguous-price-without-a-hint",
     lambda: ("nohint.csv", b"sku,title,price\nA,Bike,1.299\nB,Bell,15\nC,Car,\"12,500\"\n"),
     Parsed([("A", "Bike", 1299.0), ("B", "Bell", 15.0), ("C", "Car", 12500.0)], warnings={
         2: ["price '1.299' was read as 1299: no other price in the file shows "
             "whether '.' separates thousands or decimals"],
         4: ["price '12,500' was read as 12500: no other price in the file shows "
             "whether ',' separates thousands or decimals"],
     })),
]
# fmt: on


def _assert(condition: bool) -> None:
    assert condition


@pytest.mark.parametrize(("build", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_file(build: Builder, expected: Rejected | Parsed) -> None:
    name, data = build()
    started = time.perf_counter()
    if isinstance(expected, Rejected):
        with pytest.raises(FileRejected) as info:
            list(parse_products(data, name).items)
        message = str(info.value)
        for part in expected.says:
            assert part in message
        # User-facing: short, no exception names, no server paths.
        assert len(message) < 400
        assert "Error" not in message and "/" not in message.replace("CSV/TSV", "")
    else:
        parsed = parse_products(data, name)
        items = list(parsed.items)
        # Nothing is lost: every data row is accounted for by exactly one item.
        assert sum(item.rows for item in items) == parsed.total_rows
        records = [i for i in items if isinstance(i, ProductRecord)]
        assert [(r.key, r.title, r.price) for r in records] == expected.products
        assert {r.first_row: r.warnings for r in records if r.warnings} == expected.warnings
        assert {i.row: i.reason for i in items if isinstance(i, RowError)} == expected.errors
        assert parsed.encoding == expected.encoding
        if expected.check is not None:
            expected.check(records)
    assert time.perf_counter() - started < 3.0, "hostile files must fail or pass quickly"

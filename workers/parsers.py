"""Parse an uploaded product file into product records and row errors.

Three formats are understood, detected by content rather than by extension:

* **Shopify product CSV** (headers include ``Handle``, ``Title`` and a ``Variant ...``
  column): rows are grouped by handle into one record per product with its options
  and variants.
* **Generic CSV** with ``,`` ``;`` tab or ``|`` between cells and headers in any
  language: headers are mapped through a normalised synonym table; each row is one
  product keyed by SKU.
* **JSON**: an array of objects, or an object wrapping one such array
  (``{"products": [...]}``); keys are mapped like CSV headers.

Whole-file problems raise :class:`FileRejected` eagerly from :func:`parse_products`;
per-row problems come out of ``ParsedFile.items`` as :class:`RowError` interleaved
with the :class:`ProductRecord` objects, lazily and in file order. A record imported
with a caveat carries it in ``ProductRecord.warnings`` (the job lists these per row).

Decisions worth knowing:

* Row accounting: every data row is accounted to exactly one yielded item, so
  ``sum(item.rows for item in items) == total_rows`` (the upload job's progress).
  Blank rows are not items; they are counted into the preceding item (or into the
  first item when they come before it). A row is either imported (a record, maybe
  with warnings) or skipped (a RowError with its reason); never both, never neither.
* Shopify rows of one handle that are not consecutive are merged into one product,
  which is yielded when its last row has been read (so records come in the order
  their last rows appear). Shopify's "Title: Default Title" option means "no
  options" and gives ``options == []``.
* A SKU seen again in the same file: the last row wins. Every row is yielded (and
  upserted in order), the later one with a warning naming the row it replaced.
* Values longer than the catalog holds (``FIELD_LIMITS`` in jobboard.core.models:
  title 500, SKU/handle/vendor/type 255, description 64 KB, each tag and option 255
  characters) are cut, with a warning; a cut SKU is still the key.
* Prices: "19.99", "19,99", "1.234,56", "€12", "12,50 Kč", "CHF 1'299.50". Negative,
  non-numeric, infinite and absurd (over MAX_PRICE) prices skip the row with the reason.
  A lone separator before three digits ("1.299", "1,299") follows the decimal mark the
  file's other prices prove (first 10,000 price cells); with no proof it is a thousands
  separator and the row says so in a warning.
* A file without a SKU column, or without a title column, is rejected as a whole
  rather than producing one identical error per row.
* Size: over ``max_upload_bytes`` (``JOBBOARD_MAX_UPLOAD_MB``) is refused, limit named.
* Not text: images, PDFs, Excel workbooks (xlsx/xls), ZIP, gzip and other archives are
  recognised by their first bytes and refused with what they are and how to fix it;
  archives are never decompressed, so a decompression bomb costs nothing. NUL bytes
  or many control characters mean binary.
* Text encodings: a BOM (UTF-8, UTF-16, UTF-32), else valid UTF-8, else the best
  plausible reading among charset-normalizer's candidates (Windows-125x, ISO-8859-x,
  Shift-JIS, GBK/GB18030, Big5, ...): the one whose non-ASCII characters best look like
  one script or language (mojibake mixes alphabets). If no reading is plausible the
  file is refused saying its encoding could not be determined; mojibake is never
  imported silently. ``ParsedFile.encoding`` names what was used.
* JSON nested deeper than the interpreter's recursion limit is refused with a message.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import unicodedata
import zipfile
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import charset_normalizer

from jobboard.core.models import FIELD_LIMITS
from jobboard.core.settings import get_settings

# Shopify bodies can embed whole HTML pages (even base64 images) in one cell, far
# beyond csv's 128 KiB default. The limit is process-wide; raising it is harmless.
_FIELD_SIZE_LIMIT = 64 * 1024 * 1024
if csv.field_size_limit() < _FIELD_SIZE_LIMIT:
    csv.field_size_limit(_FIELD_SIZE_LIMIT)


class FileRejected(Exception):
    """The whole file is unusable; str(exc) is a clear, user-facing message."""


@dataclass(slots=True)
class ProductRecord:
    """One product to upsert."""

    key: str  # upsert key: the Shopify Handle for Shopify files, else the SKU
    handle: str | None
    sku: str | None  # for Shopify: the first variant SKU that is set (or None)
    title: str
    description: str  # "" when absent
    vendor: str
    product_type: str
    tags: list[str]  # split on commas, stripped, empties and duplicates dropped
    price: float | None  # Shopify: lowest variant price; else the row's price
    options: list[dict[str, Any]]  # Shopify: [{"name": "Color", "values": [...]}]
    variants: list[dict[str, Any]]  # Shopify: [{"sku", "price", "options"}]
    first_row: int  # row number of the product's first row
    rows: int  # how many file rows this record consumed
    # Imported, but with a caveat the user should see: a value cut to the catalog's limit,
    # an ambiguous price and how it was read, a SKU that replaced an earlier row's.
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RowError:
    """A row (or group of rows) that could not be imported."""

    row: int  # spreadsheet row number (header = 1) or 1-based JSON array index
    reason: str  # readable, e.g. "price 'abc' is not a number"
    rows: int = 1  # file rows consumed


@dataclass
class ParsedFile:
    """What :func:`parse_products` found; ``items`` is consumed lazily, once."""

    format: str  # "shopify" | "csv" | "json"
    total_rows: int  # data rows (CSV records after the header / JSON array items)
    columns: dict[str, str]  # field name -> original header/key it came from
    items: Iterator[ProductRecord | RowError] = field(repr=False)
    encoding: str = "UTF-8"  # the text encoding the file was read in, as people name it


Item = ProductRecord | RowError

# --------------------------------------------------------------------------- #
# Header synonyms
# --------------------------------------------------------------------------- #


def _norm(name: str) -> str:
    """Normalise a header for matching: casefold, strip accents, keep letters/digits."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    # Combining accents are not alphanumeric, so this also strips them.
    return "".join(ch for ch in decomposed if ch.isalnum())


# fmt: off
# Earlier synonyms win when several columns map to the same field ("SKU" beats
# "Code", "Title" beats "Product"), so the order inside each list matters.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "sku": (
        "sku", "variant sku", "sku number", "item sku", "product sku", "sku code",
        "artikelnummer", "artikel-nr", "art.-nr.", "artnr", "article number",
        "article no", "item number", "item no", "item #", "item code", "item id",
        "référence", "réf", "ref", "referencia", "riferimento", "codice articolo",
        "código", "codice", "code article", "product code", "product number",
        "product id", "part number", "part no", "mpn", "model number", "stock code",
        "style number", "kód", "kód produktu", "kod produktu", "katalogové číslo",
        "货号", "商品编号", "貨號", "商品編號", "商品コード", "品番", "code", "id",
    ),
    "title": (
        "title", "product title", "name", "product name", "item name", "item title",
        "produktname", "produkttitel", "artikelname", "artikelbezeichnung",
        "bezeichnung", "titel", "nom", "nom du produit", "titre", "libellé",
        "désignation", "nombre", "nombre del producto", "título", "nome",
        "nome prodotto", "titolo", "naam", "productnaam", "název", "název produktu",
        "nazwa", "nazwa produktu", "商品名", "商品名称", "产品名称", "商品名稱", "產品名稱",
        "品名", "名称", "名稱", "タイトル", "product",
    ),
    "description": (
        "description", "body (html)", "body", "body html", "html description",
        "product description", "long description", "desc", "details",
        "beschreibung", "produktbeschreibung", "descriptif", "descripción",
        "descrizione", "descrição", "omschrijving", "beschrijving", "popis", "opis",
        "描述", "说明", "說明",
        "商品説明", "説明",
    ),
    "price": (
        "price", "variant price", "unit price", "sale price", "selling price",
        "retail price", "list price", "preis", "verkaufspreis", "vk-preis",
        "einzelpreis", "prix", "prix unitaire", "prix de vente", "precio",
        "precio de venta", "prezzo", "preço", "prijs", "cena", "价格", "售价", "单价", "價格",
        "售價", "單價", "価格",
    ),
    "vendor": (
        "vendor", "brand", "marke", "hersteller", "marque", "fabricant",
        "manufacturer", "maker", "marca", "fabricante", "produttore", "merk", "výrobce",
        "značka", "producent",
        "品牌", "ブランド", "メーカー",
    ),
    "product_type": (
        "type", "product type", "category", "product category", "produkttyp", "typ",
        "kategorie", "produktkategorie", "catégorie", "type de produit", "categoría",
        "tipo", "categoria", "categorie", "类别", "分类", "カテゴリ", "カテゴリー",
    ),
    "tags": (
        "tags", "tag", "keywords", "keyword", "labels", "schlagwörter", "schlagworte",
        "stichwörter", "mots-clés", "mots clés", "étiquettes", "etiquetas",
        "palabras clave", "etichette", "parole chiave", "标签", "タグ",
    ),
    "handle": ("handle", "url handle", "slug"),
}
# fmt: on

# normalised header -> (field, rank); the first field to claim a spelling keeps it.
_HEADER_FIELDS: dict[str, tuple[str, int]] = {}
for _field, _names in _SYNONYMS.items():
    for _rank, _name in enumerate(_names):
        _HEADER_FIELDS.setdefault(_norm(_name), (_field, _rank))

# "Price (EUR)", "Preis [€]", "Price USD", "Preis netto": the unit is not part of the name.
_BRACKETED_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]")
# fmt: off
_PRICE_SUFFIXES = frozenset(_norm(s) for s in (
    "eur", "usd", "gbp", "chf", "cad", "aud", "nzd", "jpy", "cny", "sek", "nok", "dkk", "pln",
    "czk", "huf", "in", "in eur", "in usd", "net", "netto", "gross", "brutto", "incl vat",
    "excl vat", "incl tax", "excl tax", "inkl mwst", "ttc", "ht",
))
# fmt: on
_PRICE_PREFIXES = tuple(
    sorted((n for n, (f, _) in _HEADER_FIELDS.items() if f == "price"), key=len, reverse=True)
)


def _field_for_header(header: str) -> tuple[str, int] | None:
    """Map one header (or JSON key) to ``(field, rank)``, or None if unknown."""
    key = _norm(header)
    hit = _HEADER_FIELDS.get(key)
    if hit is not None:
        return hit
    # Second chance, ranked below every exact spelling: drop units and currencies.
    key = _norm(_BRACKETED_RE.sub("", header))
    hit = _HEADER_FIELDS.get(key)
    if hit is None:
        for prefix in _PRICE_PREFIXES:
            if key.startswith(prefix) and key[len(prefix) :] in _PRICE_SUFFIXES:
                hit = ("price", 0)
                break
    if hit is None:
        return None
    return hit[0], hit[1] + 1000


def _map_headers(headers: Iterable[str]) -> dict[str, tuple[int, str]]:
    """Map field -> (column index, original header), best-ranked header winning."""
    best: dict[str, tuple[int, int, str]] = {}
    for index, header in enumerate(headers):
        hit = _field_for_header(header) if header else None
        if hit is None:
            continue
        name, rank = hit
        if name not in best or rank < best[name][0]:
            best[name] = (rank, index, header)
    return {name: (index, header) for name, (_, index, header) in best.items()}


def _found(headers: Iterable[str]) -> str:
    """List the headers we saw, for rejection messages."""
    names = [h if len(h) <= 40 else h[:37] + "..." for h in headers if h]
    shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
    return shown or "no column names"


def _check_key_columns(fields: dict[str, Any], headers: list[str], name: str) -> None:
    """Reject files that lack the SKU or title column every row needs."""
    if "sku" in fields and "title" in fields:
        return
    found = _found(headers)
    if "sku" not in fields and "title" not in fields:
        raise FileRejected(
            f"no recognisable columns in {name}: expected a SKU or Title column (found: {found})"
        )
    # Without one of the two required columns every row would fail the same way;
    # one clear message beats a hundred thousand identical row errors.
    if "sku" not in fields:
        raise FileRejected(
            f"{name} has no SKU column: expected a column such as SKU, Artikelnummer, "
            f"Item number or Product code (found: {found})"
        )
    raise FileRejected(
        f"{name} has no title column: expected a column such as Title, Name, "
        f"Product name or Produktname (found: {found})"
    )


# --------------------------------------------------------------------------- #
# Values
# --------------------------------------------------------------------------- #

# Above this a price is a typo or garbage ("1e308"), not a price in any currency.
MAX_PRICE = 1_000_000_000_000
_MAX_SHOWN = f"{MAX_PRICE:,}"
# "1.299", "-12,500": one separator, 1-3 leading digits (not 0), exactly three after it.
_LONE_GROUP_RE = re.compile(r"^\s*[-+]?[1-9]\d{0,2}[.,]\d{3}\s*$")
_AROUND_MARK_RE = re.compile(r"(\d*)[.,](\d*)")
_HINT_SAMPLE = 10_000  # price cells looked at to learn a file's decimal mark
_CURRENCY_WORD = r"(?:[A-Z]{3}|US|kr|zł|Kč|Ft|Fr\.?|Rs\.?|lei|R|RM)"
_PRICE_RE = re.compile(
    rf"^\s*(?:{_CURRENCY_WORD}\s*)?(?P<sign>[-+]?)\s*"
    rf"(?P<num>\d[\d.,' \u00a0\u202f\u2009\u2019]*|[.,]\d+)"
    rf"\s*(?:{_CURRENCY_WORD}\.?)?\s*$"
)
# Thousands groups: 1-3 leading digits then groups of exactly three ("1.299.000").
_GROUPED_RE = re.compile(r"^[1-9]\d{0,2}(?:X\d{3})+$")
_GROUP_MARKS = str.maketrans(" \u00a0\u202f\u2009\u2019", "'''''")


def _parse_price(raw: str, decimal: str | None = None) -> float:
    """The price in a cell (see :func:`_read_price`), without the note."""
    return _read_price(raw, decimal)[0]


def _read_price(raw: str, decimal: str | None = None) -> tuple[float, str | None]:
    """Parse a price cell into ``(value, note)``; raise ValueError with a row-error reason.

    Accepts "19.99", "19,99", "$19.99", "1,299.00", "1.299,00 €", "12,50 Kč", "CHF 1'299.50".
    A lone "." or "," before exactly three digits ("1.299") is ambiguous: ``decimal`` is the
    decimal mark the rest of the file uses (see :func:`_decimal_hint`); without one it is
    read as a thousands separator and the note says so.
    """
    note = None
    try:
        value = float(raw)  # fast path: the plain "19.99" most files use
    except ValueError:
        value, note = _parse_price_slow(raw, decimal)
    else:
        if raw[-4:-3] == "." and _LONE_GROUP_RE.match(raw):
            value, note = _lone_separator(raw, raw.strip(), decimal)
    if 0.0 <= value <= MAX_PRICE:
        return value, note
    if value < 0:
        raise ValueError(f"price {_clip(raw)} is negative")
    if value > MAX_PRICE:  # also inf
        raise ValueError(
            f"price {_clip(raw)} is too large (the most a price can be is {_MAX_SHOWN})"
        )
    raise ValueError(f"price {_clip(raw)} is not a number")


def _lone_separator(raw: str, num: str, decimal: str | None) -> tuple[float, str | None]:
    """Read "1.299" / "1,299" (sign included) as the file's convention says."""
    mark = "." if "." in num else ","
    whole, _, frac = num.partition(mark)
    if decimal == mark:
        return float(whole + "." + frac), None
    value = float(whole + frac)
    if decimal is None:
        return value, (
            f"price {_clip(raw)} was read as {_show(value)}: no other price in the file shows "
            f"whether {mark!r} separates thousands or decimals"
        )
    return value, None


def _show(value: float) -> str:
    return f"{value:.2f}".removesuffix(".00")  # no grouping: "1299" cannot be misread


def _decimal_evidence(raw: str) -> str | None:
    """The decimal mark a price cell proves, if it proves one ("12,50" -> ",")."""
    comma, dot = raw.rfind(","), raw.rfind(".")
    if comma < 0 and dot < 0:
        return None
    if comma >= 0 and dot >= 0:
        return "," if comma > dot else "."
    mark = "," if comma >= 0 else "."
    if raw.count(mark) > 1:  # "1.299.000": a thousands separator
        return "." if mark == "," else ","
    match = _AROUND_MARK_RE.search(raw)
    if match is None:
        return None
    before, after = match.groups()
    if len(after) != 3 or before in ("", "0"):  # "12,5", "12,50", "0,500": decimals
        return mark
    return None  # "1.299": could be either


def _decimal_hint(raws: Iterable[str]) -> str | None:
    """The decimal mark most of these price cells prove, or None if none proves one."""
    votes: Counter[str] = Counter()
    for raw in islice(raws, _HINT_SAMPLE):
        mark = _decimal_evidence(raw)
        if mark is not None:
            votes[mark] += 1
    return votes.most_common(1)[0][0] if votes else None


def _parse_price_slow(raw: str, decimal: str | None) -> tuple[float, str | None]:
    """Strip currency marks and locale separators, then parse."""
    # Quick path for the usual European "19,99" (not "1,299": see below).
    whole, sep, frac = raw.partition(",")
    if sep and len(frac) != 3 and whole.isdecimal() and frac.isdecimal():
        return float(whole + "." + frac), None
    bad = ValueError(f"price {_clip(raw)} is not a number")
    # Currency symbols are category Sc ($ € £ ¥ ₹ ...), wherever they sit.
    text = "".join(" " if unicodedata.category(ch) == "Sc" else ch for ch in raw)
    match = _PRICE_RE.match(text)
    if match is None:
        raise bad
    # Spaces and apostrophes can only be thousands separators ("1 299,00", "1'299.50").
    num = match["num"].strip().translate(_GROUP_MARKS).rstrip(".,")
    if _LONE_GROUP_RE.match(num):
        return _lone_separator(raw, match["sign"] + num, decimal)
    last = max(num.rfind(","), num.rfind("."))
    whole, frac = num, ""
    if last >= 0:
        mark, before, after = num[last], num[:last], num[last + 1 :]
        if mark not in before:  # "1,299,000" is a thousands separator, no decimals
            whole, frac = before, after
    group_marks = {c for c in whole if not c.isdecimal()}
    if len(group_marks) > 1 or (frac and not frac.isdecimal()):
        raise bad
    if group_marks:
        (group_mark,) = group_marks
        if not _GROUPED_RE.match(whole.replace(group_mark, "X")):
            raise bad
        whole = whole.replace(group_mark, "")
    try:
        return float(match["sign"] + (whole or "0") + "." + (frac or "0")), None
    except ValueError:
        raise bad from None


def _clip(raw: str) -> str:
    """Quote a cell value for a message, shortened if long."""
    return repr(raw if len(raw) <= 40 else raw[:37] + "...")


_LIMIT_KEY = FIELD_LIMITS["key"]
_LIMIT_SKU = FIELD_LIMITS["sku"]
_LIMIT_HANDLE = FIELD_LIMITS["handle"]
_LIMIT_TITLE = FIELD_LIMITS["title"]
_LIMIT_VENDOR = FIELD_LIMITS["vendor"]
_LIMIT_TYPE = FIELD_LIMITS["product_type"]
_LIMIT_DESCRIPTION = FIELD_LIMITS["description"]
_LIMIT_TAG = FIELD_LIMITS["tag"]
_LIMIT_OPTION = FIELD_LIMITS["option"]
_FIELD_LABELS = {
    "sku": "SKU",
    "handle": "handle",
    "title": "title",
    "vendor": "vendor",
    "product_type": "product type",
    "description": "description",
}


def _fit(rec: ProductRecord) -> ProductRecord:
    """Cut values longer than the catalog holds (FIELD_LIMITS), with a warning for each."""
    if (
        len(rec.title) <= _LIMIT_TITLE
        and len(rec.key) <= _LIMIT_KEY
        and len(rec.description) <= _LIMIT_DESCRIPTION
        and len(rec.vendor) <= _LIMIT_VENDOR
        and len(rec.product_type) <= _LIMIT_TYPE
        and (rec.sku is None or len(rec.sku) <= _LIMIT_SKU)
        and (rec.handle is None or len(rec.handle) <= _LIMIT_HANDLE)
        and (not rec.tags or max(map(len, rec.tags)) <= _LIMIT_TAG)
    ):
        return rec  # the hot path: nothing to cut
    key_field = "handle" if rec.handle is not None and rec.key == rec.handle else "sku"
    for name in ("sku", "handle", "title", "vendor", "product_type", "description"):
        value = getattr(rec, name)
        if value is not None and len(value) > FIELD_LIMITS[name]:
            setattr(rec, name, _cut(rec, _FIELD_LABELS[name], value, FIELD_LIMITS[name]))
    rec.key = getattr(rec, key_field) or rec.key[:_LIMIT_KEY]
    if rec.tags and max(map(len, rec.tags)) > _LIMIT_TAG:
        tags = (_cut(rec, "a tag", t, _LIMIT_TAG) if len(t) > _LIMIT_TAG else t for t in rec.tags)
        rec.tags = list(dict.fromkeys(tags))
    return rec


def _cut(rec: ProductRecord, label: str, value: str, limit: int) -> str:
    """`value` cut to `limit` characters, noting it on the record."""
    rec.warnings.append(
        f"{label} is {len(value):,} characters long; only its first {limit:,} were kept"
    )
    return value[:limit].rstrip()


def _split_tags(raw: str) -> list[str]:
    """Split a comma-separated tag cell, dropping blanks and repeats."""
    if not raw:
        return []
    # Runs once per row of large files: C-level calls, and dedupe only when needed.
    parts = list(map(str.strip, raw.split(",")))
    if "" in parts:
        parts = [p for p in parts if p]
    if len(parts) > 1 and len(set(parts)) != len(parts):
        parts = list(dict.fromkeys(parts))
    return parts


# --------------------------------------------------------------------------- #
# Entry point
# --------------------------------------------------------------------------- #

ACCEPTED = "Jobboard reads CSV, TSV or TXT files, Shopify CSV exports and JSON"
_SAVE_AS_CSV = "save it as CSV UTF-8 (File › Save As) and upload that file"

# Magic numbers of files people upload by mistake: what the file is, and how to fix it.
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook", _SAVE_AS_CSV),
    (b"\x89PNG", "a PNG image", ""),
    (b"\xff\xd8\xff", "a JPEG image", ""),
    (b"GIF8", "a GIF image", ""),
    (b"RIFF", "an image or media file", ""),
    (b"%PDF", "a PDF document", ""),
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it and upload the product file inside"),
    (b"BZh", "a bzip2-compressed file", "decompress it and upload the product file inside"),
    (b"\xfd7zXZ\x00", "an xz-compressed file", "decompress it and upload the product file inside"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "unpack it and upload the product file inside"),
    (b"Rar!", "a RAR archive", "unpack it and upload the product file inside"),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# C0 controls other than tab/newline/CR/FF/VT: text files have (almost) none. No byte in
# this range is part of a multi-byte character in Shift-JIS, GBK/GB18030 or Big5 either.
_CONTROL_RE = re.compile(r"[\x01-\x08\x0e-\x1f\x7f]")
_CONTROL_BYTES_RE = re.compile(rb"[\x01-\x08\x0e-\x1f\x7f]")
_NON_SPACE_RE = re.compile(r"\S")


def parse_products(data: bytes, filename: str, *, max_bytes: int | None = None) -> ParsedFile:
    """Detect the format of an uploaded file and parse it.

    Raises FileRejected for whole-file problems; row problems are yielded as RowError.
    ``max_bytes`` defaults to the upload limit (``JOBBOARD_MAX_UPLOAD_MB``).
    """
    name = filename.replace("\\", "/").rsplit("/", 1)[-1] or "the file"
    limit = get_settings().max_upload_bytes if max_bytes is None else max_bytes
    if len(data) > limit:
        raise FileRejected(size_message(name, len(data), limit))
    text, encoding = _decode(data, name)
    first = _NON_SPACE_RE.search(text)
    if first is None:
        raise FileRejected(f"{name} is empty")
    parsed = _parse_json(text, name) if text[first.start()] in "[{" else _parse_csv(text, name)
    parsed.encoding = encoding
    return parsed


def size_message(name: str, size: int, limit: int) -> str:
    """The user-facing message for a file over the upload limit."""
    shown, limit_shown = _human_size(size), _human_size(limit)
    if shown == limit_shown:  # 50 MB + a few bytes must not read "50 MB; the limit is 50 MB"
        shown = f"over {limit_shown}"
    return f"{name} is {shown}; the limit is {limit_shown}"


def _human_size(n: int) -> str:
    """Format a byte count the way the limit is stated (MB with one decimal)."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


# --------------------------------------------------------------------------- #
# Text encodings
# --------------------------------------------------------------------------- #

_BOMS: tuple[tuple[bytes, str, str], ...] = (
    # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (b"\xff\xfe\x00\x00", "utf-32", "UTF-32"),
    (b"\x00\x00\xfe\xff", "utf-32", "UTF-32"),
    (b"\xef\xbb\xbf", "utf-8-sig", "UTF-8"),
    (b"\xff\xfe", "utf-16", "UTF-16"),
    (b"\xfe\xff", "utf-16", "UTF-16"),
)
# Python codec name (as charset-normalizer reports it) -> the name people know.
_ENCODING_NAMES = {
    "ascii": "UTF-8",
    "utf_8": "UTF-8",
    "cp932": "Shift-JIS",
    "shift_jis": "Shift-JIS",
    "shift_jis_2004": "Shift-JIS",
    "shift_jisx0213": "Shift-JIS",
    "euc_jp": "EUC-JP",
    "gb2312": "GBK",
    "gbk": "GBK",
    "gb18030": "GB18030",
    "big5": "Big5",
    "big5hkscs": "Big5",
    "cp950": "Big5",
    "euc_kr": "EUC-KR",
    "cp949": "EUC-KR",
    "latin_1": "ISO-8859-1",
}
# Where two code pages read a sample equally well, the one more files are written in.
_PREFERRED = {"cp1252": 0, "cp1250": 1, "iso8859_2": 2, "iso8859_15": 3}
# Below this share of plausible characters, no reading is trusted.
_MIN_PLAUSIBLE = 0.6
# How many bytes of the file's non-ASCII lines the detector looks at.
_SAMPLE_BYTES = 256 * 1024
_NON_ASCII_LINE_RE = re.compile(rb"[^\n]*[\x80-\xff][^\n]*\n?")

# fmt: off
# Letters (lower case) of the languages the single-byte code pages serve. Text decoded with
# the right code page uses one or two of these sets; the wrong one mixes letters from many.
_LANGUAGE_LETTERS = tuple(frozenset(s) for s in (
    "àâæçéèêëîïôœùûüÿ",  # French
    "äöüß",  # German
    "áéíñóúü",  # Spanish
    "áâãàçéêíóôõú",  # Portuguese
    "àèéìíîòóùú",  # Italian
    "áéèëïóöü",  # Dutch
    "åäöæøéáíóúýðþ",  # Nordic
    "áčďéěíňóřšťúůýž",  # Czech
    "áäčďéíĺľňóôŕšťúýž",  # Slovak
    "ąćęłńóśźż",  # Polish
    "áéíóöőúüű",  # Hungarian
    "čćđšž",  # Croatian, Slovenian
    "ăâîșțşţ",  # Romanian
    "àçèéíïòóúü",  # Catalan
    "çğıöşü",  # Turkish
))
# fmt: on
_NEUTRAL_SYMBOLS = frozenset("©®°±µ€£¥§¶·«»–—‘’“”„…•™×÷¢")
_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "CYRILLIC", "GREEK", "ARABIC", "HEBREW")


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """Decode the upload as text; return it with the encoding's name, or reject it.

    Cheap certainties first: a byte-order mark, then valid UTF-8. Anything else is
    decoded by the best guess of charset-normalizer, checked against the letters it
    produces (see :func:`_plausibility`); a file no encoding reads plausibly is refused
    rather than imported as mojibake.
    """
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return _text_only(data.decode(codec), name), label
            except UnicodeDecodeError as exc:
                raise FileRejected(
                    f"{name} starts with a {label} marker but is not valid {label} text "
                    f"(byte {exc.start + 1:,}); {_SAVE_AS_CSV}"
                ) from None
    _reject_binary(data, name)
    try:
        return _text_only(data.decode("utf-8"), name), "UTF-8"
    except UnicodeDecodeError:
        pass
    text, label = _detect(data, name)
    return _text_only(text, name), label


def _text_only(text: str, name: str) -> str:
    """Reject decoded text that is mostly control characters (binary that happened to decode)."""
    sample = text[:65536]
    controls = len(_CONTROL_RE.findall(sample))
    if "\x00" in text or (controls > 2 and controls > len(sample) // 100):
        raise FileRejected(_binary_message(name))
    return text


def _not_a_product_file(name: str, what: str, fix: str = "") -> str:
    fix = f": {fix}" if fix else ""
    return f"{name} is {what}, which Jobboard cannot import{fix}. {ACCEPTED}."


def _binary_message(name: str) -> str:
    return f"{name} is not a text file (it holds binary data), so it has no products. {ACCEPTED}."


def _reject_binary(data: bytes, name: str) -> None:
    """Refuse images, archives, workbooks and other binary files with a helpful message."""
    for magic, what, fix in _SIGNATURES:
        if data.startswith(magic):
            raise FileRejected(_not_a_product_file(name, what, fix))
    if data.startswith(_ZIP_MAGIC):
        raise FileRejected(_not_a_product_file(name, *_zip_kind(data, name)))
    head = data[:65536]
    controls = len(_CONTROL_BYTES_RE.findall(head))
    if b"\x00" in data or (controls > 2 and controls > len(head) // 100):
        raise FileRejected(_binary_message(name))


def _zip_kind(data: bytes, name: str) -> tuple[str, str]:
    """What a ZIP container is, from its list of members (nothing is decompressed)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        names = []  # damaged or cut short: go by the file name
    if any(n.startswith("xl/") for n in names) or name.lower().endswith((".xlsx", ".xlsm")):
        return "an Excel workbook", _SAVE_AS_CSV
    if "content.xml" in names:
        return "an OpenDocument spreadsheet", f"{_SAVE_AS_CSV.replace('UTF-8 ', '')}"
    if any(n.startswith("word/") for n in names):
        return "a Word document", ""
    return "a ZIP archive", "unzip it and upload the product file inside"


def _detect(data: bytes, name: str) -> tuple[str, str]:
    """Decode non-UTF-8 text by charset-normalizer's candidates, most plausible first."""
    sample = _non_ascii_sample(data)
    ranked: list[tuple[float, int, float, int, str]] = []
    for order, match in enumerate(charset_normalizer.from_bytes(sample)):
        try:
            strict, loose = _plausibility(sample.decode(match.encoding))
        except (UnicodeDecodeError, LookupError):
            continue
        if loose >= _MIN_PLAUSIBLE:
            # Equally plausible readings: the more common code page, then less noise.
            preference = _PREFERRED.get(match.encoding, len(_PREFERRED))
            ranked.append((-round(strict, 2), preference, match.chaos, order, match.encoding))
    for *_, codec in sorted(ranked):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue  # the sample fitted, the rest of the file does not
        # Western European text reads the same in several code pages: name the usual one.
        decoded = sample.decode(codec)
        for common in _PREFERRED:
            if _same_decoding(sample, common, decoded):
                codec = common
                break
        return text, _ENCODING_NAMES.get(codec) or _encoding_name(codec)
    raise FileRejected(
        f"{name} is not UTF-8 and its text encoding could not be determined, so its "
        f"words would come out garbled; {_SAVE_AS_CSV}"
    )


def _same_decoding(data: bytes, codec: str, text: str) -> bool:
    try:
        return data.decode(codec) == text
    except UnicodeDecodeError:
        return False


def _encoding_name(codec: str) -> str:
    """ "cp1250" -> "Windows-1250", "iso8859_2" -> "ISO-8859-2"."""
    if codec.startswith("cp125"):
        return "Windows-" + codec[2:]
    if codec.startswith("iso8859_"):
        return "ISO-8859-" + codec[8:]
    return codec.upper().replace("_", "-")


def _non_ascii_sample(data: bytes) -> bytes:
    """The file's first lines that hold non-ASCII bytes, up to _SAMPLE_BYTES."""
    if len(data) <= _SAMPLE_BYTES:
        return data
    parts: list[bytes] = []
    size = 0
    for match in _NON_ASCII_LINE_RE.finditer(data):
        parts.append(match.group())
        size += len(parts[-1])
        if size >= _SAMPLE_BYTES:
            break
    sample = b"".join(parts)
    # A multi-byte character may straddle the cut: end at a line break.
    if size >= _SAMPLE_BYTES and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]
    return sample


def _plausibility(text: str) -> tuple[float, float]:
    """How much the text's non-ASCII characters look like real writing: (strict, loose), 0..1.

    Counted: letters of one script (CJK, Cyrillic, ...), or Latin letters of one language
    (strict) or of the best two (loose: a catalog in French and German). Symbols, stray
    controls and letters from other languages do not count, and that is what mojibake is
    made of: French "crème" read as Windows-1250 gives "crčme".
    """
    counts = Counter(ch for ch in text if ch > "\x7f")
    if not counts:
        return 1.0, 1.0
    total = sum(counts.values())
    scripts: Counter[str] = Counter()
    latin: Counter[str] = Counter()
    for ch, n in counts.items():
        if not ch.isalpha():
            # CJK punctuation and full-width forms belong to CJK text; "©", "€" are fine anywhere.
            if "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef":
                scripts["CJK"] += n
            elif ch in _NEUTRAL_SYMBOLS or unicodedata.category(ch) == "Zs":
                scripts["*"] += n
            continue
        uname = unicodedata.name(ch, "")
        script = next((s for s in _SCRIPTS if uname.startswith(s)), None)
        if script in ("HIRAGANA", "KATAKANA"):
            script = "CJK"  # Japanese mixes kana with kanji; Korean is (almost) all Hangul
        if script is not None:
            scripts[script] += n
        elif uname.startswith("LATIN"):
            latin[ch.lower()] += n
    neutral = scripts.pop("*", 0)
    best_script = max(scripts.values(), default=0)
    covered = [sum(n for ch, n in latin.items() if ch in letters) for letters in _LANGUAGE_LETTERS]
    best_pair = 0
    if latin:
        top = sorted(range(len(covered)), key=covered.__getitem__, reverse=True)[:4]
        best_pair = max(
            sum(n for ch, n in latin.items() if ch in _LANGUAGE_LETTERS[a] | _LANGUAGE_LETTERS[b])
            for a in top
            for b in top
        )
    strict = max(best_script, max(covered, default=0)) + neutral
    loose = max(best_script, best_pair) + neutral
    return strict / total, loose / total


# --------------------------------------------------------------------------- #
# CSV
# --------------------------------------------------------------------------- #

_SEP_LINE_RE = re.compile(r"\A\s*sep=([^\w\r\n\"])[ \t]*(?:\r\n|\r|\n)", re.IGNORECASE)
# Line breaks str.splitlines() honours but csv does not; if present, split by regex.
_EXOTIC_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_DELIMITERS = ",;\t|"


@dataclass(slots=True)
class _CsvSource:
    """A CSV file split into lines, with its header already read."""

    lines: list[str]
    delimiter: str
    header: list[str]
    header_row: int  # spreadsheet row number of the header
    data_start: int  # index in `lines` of the first data line
    total_rows: int

    def reader(self) -> Iterator[list[str]]:
        """A fresh csv reader over the data rows."""
        return csv.reader(islice(self.lines, self.data_start, None), delimiter=self.delimiter)


def _split_lines(text: str) -> list[str]:
    """Split into lines with their endings, breaking only where csv would."""
    # One `in` per character is a fast memchr scan; a regex class is ~10x slower.
    if not any(ch in text for ch in _EXOTIC_BREAKS):
        return text.splitlines(keepends=True)  # ~4x faster than the regex
    return _LINE_RE.findall(text)


def _open_csv(text: str, name: str) -> _CsvSource:
    """Find the delimiter and header, count data rows, reject header-only files."""
    sep = _SEP_LINE_RE.match(text)
    delimiter = sep.group(1) if sep else None
    if sep:  # Excel's "sep=;" hint line is not a spreadsheet row; drop it
        text = text[sep.end() :]
    lines = _split_lines(text)
    if delimiter is None:
        delimiter = _detect_delimiter(lines)
    reader = csv.reader(lines, delimiter=delimiter)
    header: list[str] = []
    records = 0
    try:
        for header in reader:
            records += 1
            if any(cell.strip() for cell in header):
                break
        else:
            raise FileRejected(f"{name} is empty")
    except csv.Error as exc:
        raise FileRejected(f"{name} could not be read as CSV: {exc}") from None
    header = [cell.replace("\ufeff", "").strip() for cell in header]
    while header and not header[-1]:  # "sku,title,,," from spreadsheets
        header.pop()
    data_start = reader.line_num
    if '"' not in text:
        total = len(lines) - data_start  # no quoting: one line is one record
    else:
        try:
            total = _count(csv.reader(islice(lines, data_start, None), delimiter=delimiter))
        except csv.Error as exc:
            raise FileRejected(f"{name} could not be read as CSV: {exc}") from None
    if total == 0 or not _has_content(lines, data_start, delimiter):
        raise FileRejected(f"{name} has a header but no rows")
    # Well-formed quoting pairs up; an odd count is worth a closer (slower) look.
    if text.count('"') % 2 and (bad := _unclosed_quote_row(lines, data_start, delimiter)):
        raise FileRejected(
            f'{name} has a quote (") that is never closed, in row {records + bad}: '
            "everything after it would be read as a single cell"
        )
    return _CsvSource(lines, delimiter, header, records, data_start, total)


def _count(iterable: Iterable[Any]) -> int:
    """Count items without storing them (enumerate and deque run in C)."""
    last = deque(enumerate(iterable, 1), maxlen=1)
    return last[0][0] if last else 0


def _has_content(lines: list[str], start: int, delimiter: str) -> bool:
    """True if any data line holds more than delimiters, quotes and whitespace."""
    pattern = re.compile(rf'[^\s"{re.escape(delimiter)}]')
    return any(pattern.search(line) for line in islice(lines, start, None))


def _detect_delimiter(lines: list[str]) -> str:
    """Pick `,`, `;`, tab or `|` by how well each one explains the first rows.

    Scores, in order: header cells we recognise, data rows as wide as the header,
    header width. This beats csv.Sniffer, which is fooled by decimal commas in
    `;` files ("19,99") and by commas inside header names ("Price, EUR").
    """
    start = next((i for i, line in enumerate(lines[:50]) if line.strip()), 0)
    header = lines[start] if lines else ""
    best, best_score = ",", (-1, -1, -1)
    for delimiter in _DELIMITERS:
        if delimiter not in header:
            continue
        try:
            rows = list(csv.reader(lines[start : start + 50], delimiter=delimiter))
        except csv.Error:
            continue
        head = rows[0] if rows else []
        if len(head) < 2:
            continue
        known = sum(1 for cell in head if _field_for_header(cell))
        consistent = sum(1 for row in rows[1:] if len(row) == len(head))
        score = (known, consistent, len(head))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _unclosed_quote_row(lines: list[str], start: int, delimiter: str) -> int | None:
    """Index (1-based) of the data record whose quote never closes, if any.

    csv silently reads everything after an unclosed quote as one cell, which would
    lose the rest of the file without a word; strict mode reports it at the end.
    """
    count = 0
    reader = csv.reader(islice(lines, start, None), delimiter=delimiter, strict=True)
    try:
        for _ in reader:
            count += 1
    except csv.Error as exc:
        # Strict mode also objects to sloppy but readable quoting ('"a"b'); only the
        # end-of-data error means a quote swallowed the rest of the file.
        if "unexpected end of data" in str(exc):
            return count + 1
    return None


def _parse_csv(text: str, name: str) -> ParsedFile:
    """Parse CSV text as a Shopify export or a generic product list."""
    source = _open_csv(text, name)
    norm = [_norm(h) for h in source.header]
    if "handle" in norm and "title" in norm and any(h.startswith("variant") for h in norm):
        return _parse_shopify(source, norm, name)
    fields = _map_headers(source.header)
    _check_key_columns(fields, source.header, name)
    columns = {f: header for f, (_, header) in fields.items()}
    items = _absorb_blanks(_generic_rows(source, fields, name))
    return ParsedFile("csv", source.total_rows, columns, items)


class _Blank:
    """Marker yielded for a blank row: it consumes a row but is not an item."""


_BLANK = _Blank()


def _absorb_blanks(items: Iterator[Item | _Blank]) -> Iterator[Item]:
    """Count blank rows into a neighbouring item so that rows add up to total_rows.

    Holds back one item so trailing blanks can still be added to the last one.
    """
    pending: Item | None = None
    leading = 0
    for item in items:
        if isinstance(item, _Blank):
            if pending is None:
                leading += 1
            else:
                pending.rows += 1
            continue
        if pending is not None:
            yield pending
        else:
            item.rows += leading
        pending = item
    if pending is not None:
        yield pending


def _blank(row: Iterable[str]) -> bool:
    """True if every cell is empty or whitespace."""
    return not "".join(row).strip()


def _check_repeat(record: ProductRecord, seen: dict[str, int]) -> None:
    """The last row of a SKU wins; it says which earlier row it replaces."""
    first = seen.get(record.key)
    if first is not None:
        record.warnings.append(
            f"SKU {_clip(record.key)} is also in row {first}; this row replaced it"
        )
    seen[record.key] = record.first_row


def _generic_rows(
    source: _CsvSource, fields: dict[str, tuple[int, str]], name: str
) -> Iterator[ProductRecord | RowError | _Blank]:
    """One record per row keyed by SKU; the hot loop of large uploads."""
    ncols = len(source.header)
    # Column indexes resolved once; -1 marks an absent optional column.
    i_sku = fields["sku"][0]
    i_title = fields["title"][0]
    i_desc, i_price, i_vendor, i_type, i_tags, i_handle = (
        fields[f][0] if f in fields else -1
        for f in ("description", "price", "vendor", "product_type", "tags", "handle")
    )
    seen: dict[str, int] = {}
    read_price = _read_price
    split_tags = _split_tags
    fit = _fit
    rownum = source.header_row
    try:
        decimal = None
        if i_price >= 0:
            decimal = _decimal_hint(row[i_price] for row in source.reader() if len(row) > i_price)
        for row in source.reader():
            rownum += 1
            n = len(row)
            if n != ncols:
                if _blank(row):
                    yield _BLANK
                    continue
                if n < ncols or not _blank(row[ncols:]):
                    yield RowError(rownum, f"row has {n} cells, header has {ncols}")
                    continue
            sku = row[i_sku].strip()
            title = row[i_title].strip()
            if not sku or not title:
                if not sku and not title and _blank(row):
                    yield _BLANK
                elif not sku:
                    yield RowError(rownum, "missing SKU" if title else "missing SKU and title")
                else:
                    yield RowError(rownum, "missing title")
                continue
            price = note = None
            if i_price >= 0:
                raw = row[i_price].strip()
                if raw:
                    try:
                        price, note = read_price(raw, decimal)
                    except ValueError as exc:
                        yield RowError(rownum, str(exc))
                        continue
            # Positional arguments: noticeably faster than keywords at 100k rows.
            record = fit(
                ProductRecord(
                    sku,  # key
                    (row[i_handle].strip() or None) if i_handle >= 0 else None,
                    sku,
                    title,
                    row[i_desc].strip() if i_desc >= 0 else "",
                    row[i_vendor].strip() if i_vendor >= 0 else "",
                    row[i_type].strip() if i_type >= 0 else "",
                    split_tags(row[i_tags]) if i_tags >= 0 else [],
                    price,
                    [],  # options
                    [],  # variants
                    rownum,  # first_row
                    1,  # rows
                )
            )
            if note is not None:
                record.warnings.append(note)
            _check_repeat(record, seen)
            yield record
    except csv.Error as exc:
        # Only reachable past the upfront count for unquoted files (huge fields).
        raise FileRejected(f"{name} could not be read as CSV at row {rownum + 1}: {exc}") from None


# --------------------------------------------------------------------------- #
# Shopify
# --------------------------------------------------------------------------- #

_SHOPIFY_COLUMNS: dict[str, tuple[str, ...]] = {
    # field -> normalised Shopify header names, preferred first
    "handle": ("handle",),
    "title": ("title",),
    "description": ("bodyhtml", "body", "description"),
    "vendor": ("vendor",),
    "product_type": ("type", "producttype"),
    "product_category": ("productcategory", "standardizedproducttype"),
    "tags": ("tags",),
    "sku": ("variantsku",),
    "price": ("variantprice",),
    "option1_name": ("option1name",),
    "option1_value": ("option1value",),
    "option2_name": ("option2name",),
    "option2_value": ("option2value",),
    "option3_name": ("option3name",),
    "option3_value": ("option3value",),
}


@dataclass(slots=True)
class _Group:
    """A Shopify product being assembled from its rows."""

    handle: str
    first_row: int
    title: str
    description: str
    vendor: str
    product_type: str
    tags: list[str]
    option_names: list[str]
    option_values: list[dict[str, None]]  # ordered sets of values per option
    variants: list[dict[str, Any]]
    rows: int = 0
    warnings: list[str] = field(default_factory=list)

    def finish(self) -> ProductRecord | RowError:
        """Turn the collected rows into a record (or the group's error)."""
        if not self.title:
            return RowError(self.first_row, "missing title", rows=self.rows)
        used = max(
            [i + 1 for i, n in enumerate(self.option_names) if n]
            + [i + 1 for i, v in enumerate(self.option_values) if v]
            + [0]
        )
        names = [self.option_names[i] or f"Option{i + 1}" for i in range(used)]
        values = [list(self.option_values[i]) for i in range(used)]
        variants = self.variants
        for v in variants:
            del v["options"][used:]
        # Shopify spells "no options" as a single Title option valued "Default Title".
        if names == ["Title"] and values in ([["Default Title"]], [[]]):
            names, values = [], []
            for v in variants:
                v["options"] = []
        prices = [v["price"] for v in variants if v["price"] is not None]
        names = [
            _cut_group(self, "option name", n, _LIMIT_OPTION) if len(n) > _LIMIT_OPTION else n
            for n in names
        ]
        record = ProductRecord(
            key=self.handle,
            handle=self.handle,
            sku=next((v["sku"] for v in variants if v["sku"]), None),
            title=self.title,
            description=self.description,
            vendor=self.vendor,
            product_type=self.product_type,
            tags=self.tags,
            price=min(prices) if prices else None,
            options=[{"name": n, "values": vals} for n, vals in zip(names, values, strict=True)],
            variants=variants,
            first_row=self.first_row,
            rows=self.rows,
            warnings=self.warnings,
        )
        return _fit(record)


def _cut_group(group: _Group, label: str, value: str, limit: int) -> str:
    """`value` cut to `limit` characters, noting it on the product being assembled."""
    group.warnings.append(
        f"{label} is {len(value):,} characters long; only its first {limit:,} were kept"
    )
    return value[:limit].rstrip()


def _parse_shopify(source: _CsvSource, norm: list[str], name: str) -> ParsedFile:
    """Parse a Shopify product export: one record per handle."""
    index: dict[str, int] = {}
    for fld, candidates in _SHOPIFY_COLUMNS.items():
        for cand in candidates:
            if cand in norm:
                index[fld] = norm.index(cand)
                break
    columns = {fld: source.header[i] for fld, i in index.items()}
    # Pre-pass over the handles: where each one's last row is, so a product whose
    # rows are not consecutive (a sorted export) is merged rather than split, while
    # the usual grouped file still streams one product at a time.
    i_handle = index["handle"]
    i_price = index.get("price", -1)
    last_row: dict[str, int] = {}
    prices: list[str] = []
    rownum = source.header_row
    try:
        for row in source.reader():
            rownum += 1
            if len(row) > i_handle and (handle := row[i_handle].strip()):
                last_row[handle] = rownum
            if 0 <= i_price < len(row) and row[i_price] and len(prices) < _HINT_SAMPLE:
                prices.append(row[i_price])
    except csv.Error as exc:
        raise FileRejected(f"{name} could not be read as CSV after row {rownum}: {exc}") from None
    items = _absorb_blanks(_shopify_rows(source, index, last_row, _decimal_hint(prices)))
    return ParsedFile("shopify", source.total_rows, columns, items)


@dataclass(slots=True, frozen=True)
class _ShopifyCols:
    """Column indexes of a Shopify file; absent columns point at an always-empty cell."""

    handle: int
    title: int
    description: int
    vendor: int
    product_type: int
    product_category: int
    tags: int
    sku: int
    price: int
    names: tuple[int, ...]
    values: tuple[int, ...]


def _shopify_rows(
    source: _CsvSource, index: dict[str, int], last_row: dict[str, int], decimal: str | None
) -> Iterator[ProductRecord | RowError | _Blank]:
    """Yield one item per handle when its last row is read, errors as they occur."""
    ncols = len(source.header)
    width = max(ncols, max(index.values()) + 1)
    # Cell `width` of a padded row is always "", so absent columns read as empty.
    singles = ("title", "description", "vendor", "product_type", "product_category")
    cols = _ShopifyCols(
        index["handle"],
        *(index.get(f, width) for f in singles),
        index.get("tags", width),
        index.get("sku", width),
        index.get("price", width),
        names=tuple(index.get(f"option{k}_name", width) for k in (1, 2, 3)),
        values=tuple(index.get(f"option{k}_value", width) for k in (1, 2, 3)),
    )
    groups: dict[str, _Group] = {}
    rownum = source.header_row
    for row in source.reader():
        rownum += 1
        n = len(row)
        # Shopify rows are often short (image rows); pad so every index is valid.
        cells = row[:width] + [""] * (width + 1 - min(n, width))
        handle = cells[cols.handle].strip()
        if n > ncols and not _blank(row[ncols:]):
            yield RowError(rownum, f"row has {n} cells, header has {ncols}")
        elif not handle:
            yield _BLANK if _blank(row) else RowError(rownum, "missing Handle")
        else:
            error = _shopify_row(groups, handle, cells, rownum, cols, decimal)
            if error is not None:
                yield RowError(rownum, error)
        # Checked for every row with a handle, even a rejected one: it may be the last.
        if handle and last_row[handle] == rownum and handle in groups:
            yield groups.pop(handle).finish()


def _shopify_row(
    groups: dict[str, _Group],
    handle: str,
    row: list[str],
    rownum: int,
    cols: _ShopifyCols,
    decimal: str | None,
) -> str | None:
    """Add one row to its handle's group; return an error reason if the row is bad."""
    group = groups.get(handle)
    if group is None:
        product_type = row[cols.product_type].strip()
        if not product_type:
            # "Apparel & Accessories > Clothing > T-Shirts": the leaf is the type.
            product_type = row[cols.product_category].rsplit(">", 1)[-1].strip()
        group = groups[handle] = _Group(
            handle=handle,
            first_row=rownum,
            title=row[cols.title].strip(),
            description=row[cols.description].strip(),
            vendor=row[cols.vendor].strip(),
            product_type=product_type,
            tags=_split_tags(row[cols.tags]),
            option_names=[row[i].strip() for i in cols.names],
            option_values=[{}, {}, {}],
            variants=[],
        )
    error = None
    if group.title:  # an untitled product is skipped whole; don't vet its rows
        error = _shopify_variant(group, row, cols, decimal)
    if error is None:
        group.rows += 1
    return error


def _shopify_variant(
    group: _Group, row: list[str], cols: _ShopifyCols, decimal: str | None
) -> str | None:
    """Add the row's variant to the group, if it has one; return an error reason."""
    sku = row[cols.sku].strip()
    raw_price = row[cols.price].strip()
    values = [row[i].strip() for i in cols.values]
    if not (sku or raw_price or any(values)):
        return None  # image-only row: part of the product, not a variant
    price = None
    if raw_price:
        try:
            price, note = _read_price(raw_price, decimal)
        except ValueError as exc:
            return str(exc)
        if note is not None:
            group.warnings.append(note)
    if len(sku) > _LIMIT_SKU:
        sku = _cut_group(group, "variant SKU", sku, _LIMIT_SKU)
    values = [
        _cut_group(group, "option value", v, _LIMIT_OPTION) if len(v) > _LIMIT_OPTION else v
        for v in values
    ]
    for seen, value in zip(group.option_values, values, strict=True):
        if value:
            seen[value] = None
    group.variants.append({"sku": sku or None, "price": price, "options": values})
    return None


# --------------------------------------------------------------------------- #
# JSON
# --------------------------------------------------------------------------- #

_WRAPPER_KEYS = ("products", "items", "data", "records", "rows", "results")


def _parse_json(text: str, name: str) -> ParsedFile:
    """Parse a JSON array of product objects (possibly wrapped in an object)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileRejected(f"{name} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    except RecursionError:
        raise FileRejected(
            f"{name} nests brackets too deeply to be a product list (more than "
            f"{sys.getrecursionlimit():,} levels); products are a flat list of objects"
        ) from None
    except ValueError:  # a number with thousands of digits
        raise FileRejected(f"{name} holds a number too long to be read") from None
    products = _product_list(doc, name)
    if not products:
        raise FileRejected(f"{name} contains no products")
    headers: list[str] = []
    key_fields: dict[str, tuple[str, int] | None] = {}
    for obj in products:
        if isinstance(obj, dict):
            for key in obj:
                if key not in key_fields:
                    key_fields[key] = _field_for_header(str(key))
                    headers.append(str(key))
    fields = _map_headers(headers)
    if not headers:
        raise FileRejected(f"{name} contains no product objects")
    _check_key_columns(fields, headers, name)
    if all(isinstance(obj, dict) and _blank_object(obj) for obj in products):
        raise FileRejected(f"{name} contains no products")
    columns = {f: header for f, (_, header) in fields.items()}
    price_key = fields["price"][1] if "price" in fields else None
    decimal = _decimal_hint(
        value
        for obj in products
        if isinstance(obj, dict) and isinstance(value := obj.get(price_key), str)
    )
    items = _absorb_blanks(_json_items(products, key_fields, decimal))
    return ParsedFile("json", len(products), columns, items)


def _product_list(doc: Any, name: str) -> list[Any]:
    """Find the array of products in a parsed JSON document."""
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for key in _WRAPPER_KEYS:
            value = doc.get(key)
            if isinstance(value, list):
                return value
        lists = [v for v in doc.values() if isinstance(v, list)]
        if len(lists) == 1 and any(isinstance(x, dict) for x in lists[0]):
            return lists[0]
        mapped = {f for f, _ in filter(None, (_field_for_header(str(k)) for k in doc))}
        if {"sku", "title"} & mapped:  # a single product object
            return [doc]
    raise FileRejected(
        f"{name} does not hold a list of products: expected a JSON array "
        f'or an object such as {{"products": [...]}}'
    )


def _blank_object(obj: dict[Any, Any]) -> bool:
    """True for {} or an object whose values are all null/empty."""
    return all(
        v is None or (isinstance(v, str) and not v.strip()) or v in ([], {}) for v in obj.values()
    )


class _BadValue(ValueError):
    """A JSON value of the wrong kind for its field."""


def _json_text(value: Any, fld: str) -> str:
    """Coerce a JSON scalar to text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    kind = "a list" if isinstance(value, list) else "an object"
    raise _BadValue(f"{fld.replace('_', ' ')} is {kind}, expected text")


def _json_price(value: Any, decimal: str | None) -> tuple[float | None, str | None]:
    """Coerce a JSON price (number or text) to float, with a note if it was ambiguous."""
    if value is None or value == "":
        return None, None
    if isinstance(value, str):
        return _read_price(value.strip(), decimal) if value.strip() else (None, None)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = {bool: "true/false", list: "a list", dict: "an object"}.get(type(value), "a value")
        raise _BadValue(f"price is {kind}, expected a number")
    if value < 0:
        raise _BadValue(f"price {_clip(str(value))} is negative")
    if value > MAX_PRICE:  # also Infinity, which json accepts
        raise _BadValue(
            f"price {_clip(str(value))} is too large (the most a price can be is {_MAX_SHOWN})"
        )
    if not value <= MAX_PRICE:  # NaN
        raise _BadValue(f"price {_clip(str(value))} is not a number")
    return float(value), None


def _json_tags(value: Any) -> list[str]:
    """Tags as a list (["a", "b"]) or a comma-separated string."""
    if isinstance(value, list):
        return _split_tags(",".join(_json_text(v, "tags") for v in value))
    return _split_tags(_json_text(value, "tags"))


def _json_items(
    products: list[Any], key_fields: dict[Any, tuple[str, int] | None], decimal: str | None
) -> Iterator[ProductRecord | RowError | _Blank]:
    """One record per object keyed by SKU."""
    seen: dict[str, int] = {}
    for rownum, obj in enumerate(products, start=1):
        if not isinstance(obj, dict):
            kind = {list: "a list", str: "text", type(None): "null", bool: "true/false"}.get(
                type(obj), "a number"
            )
            yield RowError(rownum, f"item is {kind}, not a product object")
            continue
        best: dict[str, tuple[int, Any]] = {}
        for key, value in obj.items():
            hit = key_fields.get(key)
            if hit is not None and (hit[0] not in best or hit[1] < best[hit[0]][0]):
                best[hit[0]] = (hit[1], value)
        vals = {f: v for f, (_, v) in best.items()}
        try:
            sku = _json_text(vals.get("sku"), "sku")
            title = _json_text(vals.get("title"), "title")
            if not sku or not title:
                if not sku and not title and _blank_object(obj):
                    yield _BLANK
                elif not sku:
                    yield RowError(rownum, "missing SKU" if title else "missing SKU and title")
                else:
                    yield RowError(rownum, "missing title")
                continue
            price, note = _json_price(vals.get("price"), decimal)
            record = ProductRecord(
                key=sku,
                handle=_json_text(vals.get("handle"), "handle") or None,
                sku=sku,
                title=title,
                description=_json_text(vals.get("description"), "description"),
                vendor=_json_text(vals.get("vendor"), "vendor"),
                product_type=_json_text(vals.get("product_type"), "product_type"),
                tags=_json_tags(vals.get("tags")),
                price=price,
                options=[],
                variants=[],
                first_row=rownum,
                rows=1,
            )
        except ValueError as exc:  # _BadValue, or _read_price's reason
            yield RowError(rownum, str(exc))
            continue
        record = _fit(record)
        if note is not None:
            record.warnings.append(note)
        _check_repeat(record, seen)
        yield record


# --------------------------------------------------------------------------- #
# Skipped rows, as they were in the file
# --------------------------------------------------------------------------- #

REASON_COLUMN = "Skipped because"
ROW_COLUMN = "Row in original file"


def skipped_rows(data: bytes, filename: str, reasons: dict[int, str]) -> list[list[str]]:
    """The file's header and its skipped rows as they were, each led by its reason and row.

    `reasons` maps a row number (as in `RowError.row`) to why it was skipped. The result is a
    table whose original columns are untouched, so it can be fixed and uploaded again (the two
    leading columns are not product fields, and the importer ignores them). In a Shopify file
    every row of a skipped row's product comes along: uploading one variant row alone would
    replace the product's other variants.
    """
    name = filename.replace("\\", "/").rsplit("/", 1)[-1] or "the file"
    text, _encoding = _decode(data, name)
    first = _NON_SPACE_RE.search(text)
    if first is not None and text[first.start()] in "[{":
        return _skipped_json(text, name, reasons)
    source = _open_csv(text, name)
    norm = [_norm(h) for h in source.header]
    shopify = "handle" in norm and "title" in norm and any(h.startswith("variant") for h in norm)
    i_handle = norm.index("handle") if shopify else -1
    handles: set[str] = set()
    if shopify:
        rownum = source.header_row
        for row in source.reader():
            rownum += 1
            if rownum in reasons and len(row) > i_handle and row[i_handle].strip():
                handles.add(row[i_handle].strip())
    out = [[REASON_COLUMN, ROW_COLUMN, *source.header]]
    rownum = source.header_row
    for row in source.reader():
        rownum += 1
        grouped = shopify and len(row) > i_handle and row[i_handle].strip() in handles
        if (rownum in reasons or grouped) and not _blank(row):
            out.append([reasons.get(rownum, ""), str(rownum), *row])
    return out


def _skipped_json(text: str, name: str, reasons: dict[int, str]) -> list[list[str]]:
    products = _product_list(json.loads(text), name)
    headers: dict[str, None] = {}
    for obj in products:
        if isinstance(obj, dict):
            headers.update(dict.fromkeys(str(k) for k in obj))
    out = [[REASON_COLUMN, ROW_COLUMN, *headers]]
    column = {h: i for i, h in enumerate(headers)}
    for rownum, obj in enumerate(products, start=1):
        if rownum not in reasons:
            continue
        cells = [""] * len(headers)
        if isinstance(obj, dict):
            for key, value in obj.items():
                cells[column[str(key)]] = _cell_text(value)
        out.append([reasons[rownum], str(rownum), *cells])
    return out


def _cell_text(value: Any) -> str:
    """A JSON value as a CSV cell the importer reads back: tag lists comma-separated."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    return "" if value is None else json.dumps(value, ensure_ascii=False)

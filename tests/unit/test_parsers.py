"""Unit tests for workers.parsers: formats, row errors, whole-file rejections."""

from __future__ import annotations

import json
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from jobboard.core.settings import get_settings
from workers import parsers
from workers.parsers import FileRejected, ParsedFile, ProductRecord, RowError, parse_products

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SHOPIFY_SAMPLE = FIXTURES / "shopify_product_template.csv"


def parse(
    data: bytes | str, filename: str = "shop.csv"
) -> tuple[ParsedFile, list[RowError | ProductRecord]]:
    """Parse and drain the items, checking the row accounting every caller relies on."""
    if isinstance(data, str):
        data = data.encode()
    parsed = parse_products(data, filename)
    items = list(parsed.items)
    # The upload job adds item.rows to its progress; it must end at total_rows.
    assert sum(item.rows for item in items) == parsed.total_rows
    return parsed, items


def records(items: list[RowError | ProductRecord]) -> list[ProductRecord]:
    return [i for i in items if isinstance(i, ProductRecord)]


def errors(items: list[RowError | ProductRecord]) -> list[tuple[int, str]]:
    return [(i.row, i.reason) for i in items if isinstance(i, RowError)]


def rejection(data: bytes | str, filename: str = "shop.csv") -> str:
    if isinstance(data, str):
        data = data.encode()
    with pytest.raises(FileRejected) as info:
        parse_products(data, filename)
    return str(info.value)


# --------------------------------------------------------------------------- #
# Shopify
# --------------------------------------------------------------------------- #


def test_shopify_sample_three_products_sixteen_variants_no_errors() -> None:
    parsed, items = parse(SHOPIFY_SAMPLE.read_bytes())
    assert parsed.format == "shopify"
    assert parsed.total_rows == 17
    assert errors(items) == []
    products = records(items)
    assert [p.key for p in products] == ["example-shirt", "example-pants", "example-hat"]
    assert [p.handle for p in products] == [p.key for p in products]
    assert sum(len(p.variants) for p in products) == 16
    assert [(p.first_row, p.rows) for p in products] == [(2, 12), (14, 4), (18, 1)]
    assert parsed.columns["sku"] == "Variant SKU"
    assert parsed.columns["description"] == "Body (HTML)"


def test_shopify_sample_options_prices_and_product_columns() -> None:
    _, items = parse(SHOPIFY_SAMPLE.read_bytes())
    shirt, pants, hat = records(items)

    assert shirt.title == "Example T-Shirt"
    assert shirt.vendor == "Acme" and shirt.product_type == "Shirts"
    assert shirt.tags == ["Made to Order", "Shirt Tag"]
    assert shirt.description.startswith("<p>This t-shirt is as simple")
    assert shirt.price == 25.0 and shirt.sku == "SRT_COT_111"
    assert shirt.options == [
        {"name": "Color", "values": ["Green", "Blue", "Gray", "Purple"]},
        {"name": "Size", "values": ["S", "M", "L"]},
    ]
    assert shirt.variants[0] == {"sku": "SRT_COT_111", "price": 25.0, "options": ["Green", "S"]}
    assert shirt.variants[-1] == {"sku": "SRT_COT_433", "price": 25.0, "options": ["Purple", "L"]}

    # The image-only 4th row belongs to the product but is not a variant.
    assert pants.price == 95.0 and pants.tags == ["Original", "Pants Tag"]
    assert pants.options == [{"name": "Size", "values": ["28", "30", "40"]}]
    assert [v["sku"] for v in pants.variants] == ["PNT_DEN_285", "PNT_DEN_305", "PNT_DEN_405"]

    # Shopify's "Title: Default Title" means "no options".
    assert hat.price == 17.99 and hat.title == "Example Beanie" and hat.tags == ["Hat Tag"]
    assert hat.options == []
    assert hat.variants == [{"sku": "HAT_GRY_275", "price": 17.99, "options": []}]


SHOPIFY_HEADER = (
    "Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,"
    "Option1 Name,Option1 Value,Variant SKU,Variant Price,Image Src\n"
)


def test_shopify_bad_variant_price_drops_only_that_variant() -> None:
    data = SHOPIFY_HEADER + (
        "mug,Mug,<b>Big</b>,Acme,Home > Kitchen > Mugs,,kitchen,Size,S,MUG-S,9.50,\n"
        "mug,,,,,,,,M,MUG-M,abc,\n"
        "mug,,,,,,,,L,MUG-L,8,\n"
    )
    _, items = parse(data)
    assert errors(items) == [(3, "price 'abc' is not a number")]
    (mug,) = records(items)
    assert [v["sku"] for v in mug.variants] == ["MUG-S", "MUG-L"]
    assert mug.price == 8.0
    assert mug.options == [{"name": "Size", "values": ["S", "L"]}]
    assert mug.product_type == "Mugs"  # leaf of Product Category when Type is empty
    assert mug.description == "<b>Big</b>"  # kept as given; escaped on display
    assert (mug.first_row, mug.rows) == (2, 2)


def test_shopify_untitled_product_is_one_error_for_its_whole_group() -> None:
    data = SHOPIFY_HEADER + (
        "ghost,,,,,,,Size,S,G-S,1,\nghost,,,,,,,,M,G-M,oops,\nok,Fine,,,,,,,,OK-1,2,\n"
    )
    _, items = parse(data)
    assert [(i.row, i.reason, i.rows) for i in items if isinstance(i, RowError)] == [
        (2, "missing title", 2)
    ]
    assert [p.key for p in records(items)] == ["ok"]


def test_shopify_missing_handle_and_merged_non_consecutive_handle() -> None:
    data = SHOPIFY_HEADER + (
        "cap,Cap,,,,,,Color,Red,CAP-R,5,\n"
        ",,,,,,,,Blue,CAP-X,5,\n"
        "bag,Bag,,,,,,,,BAG-1,20,\n"
        "cap,,,,,,,,Blue,CAP-B,4,\n"
    )
    _, items = parse(data)
    assert errors(items) == [(3, "missing Handle")]
    bag, cap = records(items)  # a record is complete (yielded) at its last row
    assert bag.key == "bag"
    assert cap.key == "cap" and (cap.first_row, cap.rows) == (2, 2)
    assert [v["sku"] for v in cap.variants] == ["CAP-R", "CAP-B"]
    assert cap.options == [{"name": "Color", "values": ["Red", "Blue"]}]
    assert cap.price == 4.0


# --------------------------------------------------------------------------- #
# Generic CSV
# --------------------------------------------------------------------------- #


def test_german_semicolon_csv_with_bom_quotes_newlines_and_unicode() -> None:
    parsed, items = parse((FIXTURES / "products_de.csv").read_bytes(), "produkte.csv")
    assert parsed.format == "csv"
    assert parsed.total_rows == 3
    assert parsed.columns == {
        "sku": "Artikelnummer",
        "title": "Produktname",
        "description": "Beschreibung",
        "price": "Preis",
        "vendor": "Marke",
        "product_type": "Kategorie",
        "tags": "Schlagwörter",
    }
    assert errors(items) == []
    mill, rocket, teapot = records(items)
    assert (mill.key, mill.sku, mill.handle) == ("DE-001", "DE-001", None)
    assert mill.title == 'Kaffeemühle "Classic"'
    assert mill.description == 'Mahlt fein.\r\nZweite Zeile mit "Zitat" und ; Semikolon'
    assert mill.price == 1299.0
    assert mill.vendor == "Müller" and mill.product_type == "Küche"
    assert mill.tags == ["Kaffee", "Küche"]
    assert mill.options == [] and mill.variants == []
    assert rocket.title == "🚀 Rakete 火箭 ロケット"
    assert rocket.price == 19.99 and rocket.tags == []
    assert teapot.title == 'Teekanne "Oolong"' and teapot.price == 5.0
    assert teapot.description == ""
    assert [(r.first_row, r.rows) for r in (mill, rocket, teapot)] == [(2, 1), (3, 1), (4, 1)]


def test_bad_rows_are_reported_with_spreadsheet_row_numbers() -> None:
    data = (
        "sku,title,price\n"
        "A1,Good,1.50\n"
        ",No sku,2\n"
        "A3,Bad price,abc\n"
        'A4,"Multi\nline",3\n'
        "A5,,4\n"
        'A6,Last,"1,299.00"\n'
    )
    parsed, items = parse(data)
    assert parsed.total_rows == 6
    assert errors(items) == [
        (3, "missing SKU"),
        (4, "price 'abc' is not a number"),
        (6, "missing title"),
    ]
    assert [(p.key, p.price, p.first_row) for p in records(items)] == [
        ("A1", 1.5, 2),
        ("A4", 3.0, 5),
        ("A6", 1299.0, 7),
    ]


def test_same_shape_as_the_upload_job_integration_test() -> None:
    data = (
        "\ufeffSKU,Name,Price,Description\n"
        'A-1,"Mug ""Classic""",9.90,"two\nlines"\n'
        ",No sku,1.00,\n"
        "A-2,Teapot,abc,\n"
        "A-3,Kettle,24,\n"
    )
    _, items = parse(data, "mixed.csv")
    assert {row for row, _ in errors(items)} == {3, 4}
    assert {p.title for p in records(items)} == {'Mug "Classic"', "Kettle"}


def test_cell_count_mismatch() -> None:
    data = "sku,title,price\nA,One,1,,\nB,Two,2,extra\nC,Three\nD,Four,4\n"
    _, items = parse(data)
    assert errors(items) == [
        (3, "row has 4 cells, header has 3"),
        (4, "row has 2 cells, header has 3"),
    ]
    assert [p.key for p in records(items)] == ["A", "D"]


def test_blank_rows_are_skipped_but_still_counted() -> None:
    data = "sku,title\n\n,\nA,One\n  ,  \n\nB,Two\n,\n"
    parsed, items = parse(data)
    assert parsed.total_rows == 7
    assert errors(items) == []
    a, b = records(items)
    assert (a.first_row, a.rows) == (4, 2 + 1 + 2)  # two leading, itself, two following
    assert (b.first_row, b.rows) == (7, 2)


def test_duplicate_sku_last_row_wins_with_a_warning() -> None:
    _, items = parse("sku,title\nA,First\nA,Second\nA,Third\n")
    assert errors(items) == []
    first, second, third = records(items)
    # All three rows are upserted in order, so the last one's values are what stays.
    assert [p.title for p in (first, second, third)] == ["First", "Second", "Third"]
    assert first.warnings == []
    assert second.warnings == ["SKU 'A' is also in row 2; this row replaced it"]
    assert third.warnings == ["SKU 'A' is also in row 3; this row replaced it"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "Référence;Nom;Prix;Marque;Catégorie",
            ["sku", "title", "price", "vendor", "product_type"],
        ),
        (
            "Item Number,Product Name,Unit Price (EUR),Brand,Product Type,Keywords,Notes",
            ["sku", "title", "price", "vendor", "product_type", "tags"],
        ),
        ("código\tnombre\tprecio\tdescripción", ["sku", "title", "price", "description"]),
        ("  SKU  ,  TITLE  ,Variant Price", ["sku", "title", "price"]),
    ],
)
def test_header_synonyms_in_other_words_languages_and_delimiters(
    header: str, expected: list[str]
) -> None:
    delimiter = next(d for d in ";\t," if d in header)
    row = delimiter.join(["X-1", "Thing", "10"] + [""] * (header.count(delimiter) - 2))
    parsed, items = parse(f"{header}\n{row}\n")
    assert sorted(parsed.columns) == sorted(expected)
    (record,) = records(items)
    assert (record.sku, record.title, record.price) == ("X-1", "Thing", 10.0)


def test_delimiter_chosen_by_recognised_headers_not_by_decimal_commas() -> None:
    parsed, items = parse("Name;Price, EUR;SKU\nMug;3,50;M1\nCup;2,00;C1\n")
    assert parsed.columns == {"title": "Name", "price": "Price, EUR", "sku": "SKU"}
    assert [(p.sku, p.price) for p in records(items)] == [("M1", 3.5), ("C1", 2.0)]


def test_unclosed_quote_is_rejected_instead_of_swallowing_the_rest() -> None:
    message = rejection('sku,title\nA,One\nB,"Two\nC,Three\nD,Four\n')
    assert message.startswith('shop.csv has a quote (") that is never closed, in row 3')
    # A stray inch mark in an unquoted cell is fine.
    _, items = parse('sku,title\nA,TV 55" screen\n')
    assert records(items)[0].title == 'TV 55" screen'


def test_excel_sep_line_and_windows_1252_is_detected() -> None:
    data = "sep=;\r\nSKU;Name;Preis\r\nC-1;Café crème;2,50\r\n".encode("cp1252")
    parsed, items = parse(data)
    (record,) = records(items)
    assert record.title == "Café crème" and record.price == 2.5 and record.first_row == 2
    assert parsed.encoding == "Windows-1252"


def test_utf16_with_bom_is_read() -> None:
    data = "SKU\tName\tPrice\r\nU-1\tÜber\t3\r\n".encode("utf-16")
    parsed, items = parse(data)
    assert [(p.sku, p.title, p.price) for p in records(items)] == [("U-1", "Über", 3.0)]
    assert parsed.encoding == "UTF-16"


def test_items_are_lazy() -> None:
    parsed = parse_products(b"sku,title\nA,One\nB,Two\n", "x.csv")
    assert iter(parsed.items) is parsed.items
    assert next(parsed.items).key == "A"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("19.99", 19.99),
        ("19,99", 19.99),
        ("$19.99", 19.99),
        ("1,299.00", 1299.0),
        ("1.299,00 €", 1299.0),
        ("1 299,00 €", 1299.0),
        ("CHF 1'299.50", 1299.5),
        ("1,299", 1299.0),
        ("0,500", 0.5),
        ("EUR 5", 5.0),
        ("1.234.567,89", 1234567.89),
    ],
)
def test_price_formats(raw: str, value: float) -> None:
    assert parsers._parse_price(raw) == pytest.approx(value)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("abc", "price 'abc' is not a number"),
        ("12abc", "price '12abc' is not a number"),
        ("1,2,3", "price '1,2,3' is not a number"),
        ("nan", "price 'nan' is not a number"),
        ("-5", "price '-5' is negative"),
    ],
)
def test_bad_prices(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parsers._parse_price(raw)


# --------------------------------------------------------------------------- #
# JSON
# --------------------------------------------------------------------------- #


def test_json_array() -> None:
    data = json.dumps(
        [
            {
                "sku": "P-1",
                "title": "Lamp",
                "price": 49,
                "tags": ["home", "light"],
                "vendor": "Lux",
            },
            {"sku": 1002, "title": "Desk", "price": "1.299,00", "description": "Oak"},
            {"sku": "P-3", "title": "Chair", "price": True},
            {},
        ]
    )
    parsed, items = parse(data, "products.json")
    assert parsed.format == "json" and parsed.total_rows == 4
    assert errors(items) == [(3, "price is true/false, expected a number")]
    lamp, desk = records(items)
    assert (lamp.key, lamp.price, lamp.tags, lamp.vendor) == ("P-1", 49.0, ["home", "light"], "Lux")
    assert (desk.key, desk.price, desk.description, desk.first_row) == ("1002", 1299.0, "Oak", 2)


def test_json_wrapped_in_products_object() -> None:
    parsed, items = parse((FIXTURES / "products_wrapped.json").read_bytes(), "products.json")
    assert parsed.format == "json" and parsed.total_rows == 5
    assert parsed.columns["sku"] == "SKU" and parsed.columns["title"] == "Name"
    assert errors(items) == [
        (3, "item is text, not a product object"),
        (4, "price 'cheap' is not a number"),
        (5, "missing SKU"),
    ]
    scarf, gloves = records(items)
    assert (scarf.sku, scarf.price, scarf.vendor, scarf.tags) == (
        "J-1",
        29.5,
        "Nordic",
        ["winter", "wool"],
    )
    assert (gloves.price, gloves.product_type, gloves.tags) == (
        12.0,
        "Accessories",
        ["winter", "hands"],
    )


# --------------------------------------------------------------------------- #
# Whole-file rejections
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("data", [b"", b"   \r\n\t\n"])
def test_empty_file(data: bytes) -> None:
    assert rejection(data) == "shop.csv is empty"


@pytest.mark.parametrize("data", ["sku,title,price\n", "sku,title,price", "sku;title\n\n;\n  \n"])
def test_header_only(data: str) -> None:
    assert rejection(data) == "shop.csv has a header but no rows"


def test_binary_png() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
    assert rejection(png, "logo.png") == (
        "logo.png is a PNG image, which Jobboard cannot import. "
        "Jobboard reads CSV, TSV or TXT files, Shopify CSV exports and JSON."
    )


def test_xlsx_zip() -> None:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    message = rejection(buffer.getvalue(), "uploads/prices.xlsx")
    assert message.startswith("prices.xlsx is an Excel workbook, which Jobboard cannot import")
    assert "save it as CSV UTF-8" in message
    assert message.endswith("Jobboard reads CSV, TSV or TXT files, Shopify CSV exports and JSON.")


def test_nul_bytes_are_binary() -> None:
    assert rejection(b"sku,title\nA,\x00\x01\x02\n", "prices.csv").startswith(
        "prices.csv is not a text file (it holds binary data)"
    )


def test_no_recognisable_columns() -> None:
    assert rejection("a,b,c\n1,2,3\n", "prices.csv") == (
        "no recognisable columns in prices.csv: expected a SKU or Title column (found: a, b, c)"
    )


def test_missing_sku_column_is_rejected_up_front() -> None:
    message = rejection("Name,Price\nMug,3\n", "prices.csv")
    assert message.startswith("prices.csv has no SKU column")
    assert "(found: Name, Price)" in message


def test_oversize() -> None:
    with pytest.raises(FileRejected, match=r"^shop.csv is 1.5 KB; the limit is 1 KB$"):
        parse_products(b"x" * 1536, "shop.csv", max_bytes=1024)


def test_oversize_message_in_megabytes() -> None:
    size = int(61.2 * 1024 * 1024)
    data = b" " * size
    assert rejection(data) == "shop.csv is 61.2 MB; the limit is 50 MB"


def test_size_limit_comes_from_the_upload_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBBOARD_MAX_UPLOAD_MB", "1")
    get_settings.cache_clear()
    try:
        assert rejection(b" " * (1024 * 1024 + 1)) == "shop.csv is over 1 MB; the limit is 1 MB"
        monkeypatch.setenv("JOBBOARD_MAX_UPLOAD_MB", "100")
        get_settings.cache_clear()
        # 60 MB is past the old hard-coded 50 MB but within this limit: parsed, not refused.
        data = b"sku,title\nA,One\n" + b" " * (60 * 1024 * 1024)
        (record,) = records(parse(data)[1])
        assert record.key == "A"
    finally:
        get_settings.cache_clear()


def test_invalid_json() -> None:
    message = rejection('[\n  {"sku": "x",\n  "title": }\n]', "products.json")
    assert message.startswith("products.json is not valid JSON: ")
    assert message.endswith("(line 3)")


def test_json_without_a_product_list() -> None:
    assert "does not hold a list of products" in rejection('{"a": 1}', "products.json")
    assert rejection("[]", "products.json") == "products.json contains no products"

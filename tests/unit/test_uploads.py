"""The upload policy: names on screen and on disk, the accepted types, the streaming store."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobboard.core import uploads
from jobboard.core.settings import get_settings
from jobboard.state.upload import rejection_message

LONG = "a" * 300 + ".csv"


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("JOBBOARD_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("JOBBOARD_MAX_UPLOAD_MB", "1")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("raw", "shown", "stored"),
    [
        ("shop.csv", "shop.csv", "shop.csv"),
        ("../../etc/passwd", "passwd", "passwd"),
        ("C:\\x\\y.csv", "y.csv", "y.csv"),
        ("/abs/dir/", "dir", "dir"),
        ("<img src=x onerror=alert(1)>.csv", "<img src=x onerror=alert(1)>.csv",
         "img src_x onerror_alert_1_.csv"),
        ("evil\u202egpj.csv", "evilgpj.csv", "evilgpj.csv"),
        ("a\u2066b\u2069c\u200b\u200d\ufeff.json", "abc.json", "abc.json"),
        ("two\t\n  lines\u2028here.csv", "two lines here.csv", "two lines here.csv"),
        ("Preisliste Müller ÄÖÜ.csv", "Preisliste Müller ÄÖÜ.csv", "Preisliste Müller ÄÖÜ.csv"),
        ("q\u0301\u0301\u0301\u0301\u0301.csv", "q\u0301\u0301.csv", None),
        (".hidden.csv", ".hidden.csv", "hidden.csv"),
        ("", "upload", "upload"),
        (None, "upload", "upload"),
        ("...", "upload", "upload"),
        (". . .", "upload", "upload"),
        ("\u202e\u200b", "upload", "upload"),
    ],
)  # fmt: skip
def test_display_and_storage_names(raw: str | None, shown: str, stored: str | None) -> None:
    assert uploads.display_name(raw) == shown
    if stored is not None:
        assert uploads.storage_name(raw) == stored


@pytest.mark.parametrize(
    "raw", [LONG, "../" * 200 + "x.csv", "\u202e" * 500 + "b" * 400, "é" * 1000 + ".json"]
)
def test_names_are_safe_and_bounded(raw: str) -> None:
    shown, stored = uploads.display_name(raw), uploads.storage_name(raw)
    assert 0 < len(shown) <= uploads.MAX_DISPLAY_CHARS
    assert 0 < len(stored) <= uploads.MAX_STORAGE_CHARS
    assert len(stored.encode()) < 255  # any Linux file system takes it
    for name in (shown, stored):
        assert "/" not in name and "\\" not in name
        assert not any(unicodedata.category(ch).startswith("C") for ch in name)
    assert not stored.startswith(".")


def test_a_long_name_is_cut_with_an_ellipsis_keeping_its_extension() -> None:
    shown = uploads.display_name(LONG)
    assert len(shown) == uploads.MAX_DISPLAY_CHARS
    assert shown.endswith("….csv") and shown.startswith("aaaa")
    assert uploads.storage_name(LONG).endswith("_.csv")


@pytest.mark.parametrize(
    ("name", "content_type", "accepted"),
    [
        ("shop.csv", "", True),
        ("SHOP.CSV", "", True),
        ("rows.tsv", "", True),
        ("rows.txt", "", True),
        ("items.json", "", True),
        ("shop.csv", "application/vnd.ms-excel", True),  # Windows calls CSV that
        ("export", "text/csv; charset=utf-8", True),
        ("prices.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", False),
        ("prices.xls", "application/vnd.ms-excel", False),
        ("run.exe", "application/octet-stream", False),
        ("noext", "", False),
        ("shop.csv.exe", "", False),
    ],
)
def test_accepted_types(name: str, content_type: str, accepted: bool) -> None:
    assert uploads.accepts(name, content_type) is accepted


def test_limit_and_types_in_words(var_dir: Path) -> None:
    assert uploads.max_bytes() == 1024 * 1024
    assert uploads.limit_text() == "1 MB"
    assert "up to 1 MB" in uploads.hint_text()
    assert "1 MB" in uploads.too_large_message("big.csv", 1024 * 1024 + 1024)
    assert uploads.too_large_message("big.csv", 3 * 1024 * 1024) == (
        "big.csv is 3 MB; the upload limit is 1 MB. Choose a smaller file."
    )
    message = uploads.wrong_type_message("evil\u202eslx.csv.xlsx")
    assert message.startswith("evilslx.csv.xlsx is not a file Jobboard can import")
    for kind in ("CSV", "TSV", "TXT", "JSON"):
        assert kind in message


class CountingReader(io.BytesIO):
    """A file object that records how much was read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


def test_store_upload_writes_the_file_in_its_own_folder(var_dir: Path) -> None:
    data = b"sku,title\n" + b"A-1,Shirt\n" * 1000
    first = uploads.store_upload(io.BytesIO(data), "../x/shop\u202e.csv", "text/csv")
    second = uploads.store_upload(io.BytesIO(data), "shop.csv")
    assert first.path.read_bytes() == data and first.size == len(data)
    assert first.name == "shop.csv" and first.path.name == "shop.csv"
    assert first.path.parent != second.path.parent
    assert first.path.parent.parent == get_settings().upload_dir


def test_store_upload_at_exactly_the_limit_is_accepted(var_dir: Path) -> None:
    stored = uploads.store_upload(io.BytesIO(b"x" * uploads.max_bytes()), "full.csv")
    assert stored.size == uploads.max_bytes()


def test_store_upload_stops_past_the_limit_and_leaves_nothing(var_dir: Path) -> None:
    limit = uploads.max_bytes()
    source = CountingReader(b"x" * (limit * 20))
    with pytest.raises(uploads.UploadTooLarge) as refused:
        uploads.store_upload(source, "huge.csv")
    assert str(refused.value) == (
        "huge.csv is larger than the 1 MB upload limit. Choose a smaller file."
    )
    assert source.taken <= limit + uploads.CHUNK_BYTES  # stopped at once, not at the end
    assert list(get_settings().upload_dir.iterdir()) == []


def test_store_upload_refuses_a_type_before_writing(var_dir: Path) -> None:
    with pytest.raises(uploads.UploadRefused, match="not a file Jobboard can import"):
        uploads.store_upload(io.BytesIO(b"PK\x03\x04"), "prices.xlsx")
    assert not get_settings().upload_dir.exists() or not any(get_settings().upload_dir.iterdir())


def test_store_upload_removes_the_partial_file_when_reading_fails(var_dir: Path) -> None:
    class Broken(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            if self.tell() > 0:
                raise OSError("connection lost")
            return super().read(size)

    with pytest.raises(OSError):
        uploads.store_upload(Broken(b"x" * (uploads.CHUNK_BYTES * 2)), "shop.csv")
    assert list(get_settings().upload_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ([{"name": "big.csv", "size": 3 * 1024 * 1024, "codes": ["file-too-large"]}],
         "big.csv is 3 MB; the upload limit is 1 MB. Choose a smaller file."),
        ([{"name": "p.xlsx", "size": 10, "codes": ["file-invalid-type"]}],
         "p.xlsx is not a file Jobboard can import. Choose a CSV, TSV, TXT or JSON file "
         "(save Excel workbooks as CSV UTF-8 first)."),
        ([{"name": "a.csv", "codes": ["too-many-files"]}, {"name": "b.csv"}],
         "Choose one file at a time."),
        ([{"name": "<script>x\u202e.csv", "size": "huge", "codes": ["file-too-large"]}],
         "<script>x.csv is larger than the 1 MB upload limit. Choose a smaller file."),
        ("not a list", "That file was not accepted: choose a CSV, TSV, TXT or JSON file."),
        ([b"bytes", 3], "That file was not accepted: choose a CSV, TSV, TXT or JSON file."),
    ],
)  # fmt: skip
def test_rejection_messages(var_dir: Path, payload: object, expected: str) -> None:
    assert rejection_message(payload) == expected

"""Failure details never hold absolute server paths; the public shape leaves them out."""

from __future__ import annotations

import re
import sysconfig

import pytest

from jobboard.core.errors import MAX_DETAILS, failure_details, relative_path, relative_paths
from jobboard.core.settings import ROOT

SITE = sysconfig.get_paths()["purelib"]
STDLIB = sysconfig.get_paths()["stdlib"]

# An absolute path: slashes then a name, at the start of a line or after a space, a quote or
# a bracket.
ABSOLUTE = re.compile(r"""(?:^|[\s"'(\[=])/+[^\s/]""", re.MULTILINE)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"{SITE}/rq/job.py", "rq/job.py"),
        ("/opt/other/venv/lib/python3.12/site-packages/rq/job.py", "rq/job.py"),
        ("/usr/lib/python3/dist-packages/redis/client.py", "redis/client.py"),
        (f"{STDLIB}/json/decoder.py", "json/decoder.py"),
        ("/usr/local/lib/python3.11/asyncio/events.py", "asyncio/events.py"),
        (f"{ROOT}/workers/product_upload.py", "workers/product_upload.py"),
        (f"{ROOT.resolve()}/jobboard/core/jobs.py", "jobboard/core/jobs.py"),
        (f"{ROOT}/var/uploads/abc.csv", "var/uploads/abc.csv"),
        ("/srv/elsewhere/workers/a.py", "workers/a.py"),
        ("/srv/jobboard/jobboard/core/jobs.py", "jobboard/core/jobs.py"),
        ("/etc/passwd", "…/passwd"),
        (f"{ROOT}/../../etc/shadow", "…/shadow"),  # traversal out of the project
        (f"{SITE}/../../../../../../root/.ssh/id_rsa", "…/id_rsa"),
        ("//srv///secret//key.pem", "…/key.pem"),
        ("/", "…"),
    ],
)
def test_relative_path(path: str, expected: str) -> None:
    assert relative_path(path) == expected


def test_a_traceback_keeps_its_shape_without_absolute_paths() -> None:
    text = (
        "Traceback (most recent call last):\n"
        f'  File "{ROOT}/jobboard/core/jobs.py", line 405, in run\n'
        "    result = func(job, reporter)\n"
        f'  File "{SITE}/rq/job.py", line 12, in perform\n'
        f'  File "/home/some user/secret project/workers/x y.py", line 3, in <module>\n'
        f"FileNotFoundError: [Errno 2] No such file or directory: '{ROOT}/var/uploads/a b.csv'\n"
        f"also bare /var/lib/private/thing.db, (/tmp/x.py) and [{STDLIB}/os.py]\n"
    )
    out = relative_paths(text)
    assert not ABSOLUTE.search(out), out
    assert 'File "jobboard/core/jobs.py", line 405, in run' in out
    assert 'File "rq/job.py", line 12' in out
    assert 'File "workers/x y.py", line 3' in out
    assert "'var/uploads/a b.csv'" in out
    assert "…/thing.db" in out and "(…/x.py)" in out and "[os.py]" in out
    assert "some user" not in out and "private" not in out


@pytest.mark.parametrize(
    "text",
    [
        "see https://example.com/a/b and http://localhost:3000/tasks",
        "a relative path: workers/a.py, and 3/4 done, 1 // 2",
        "C:/Windows is not ours",
        "",
    ],
)
def test_what_is_not_an_absolute_path_is_left_alone(text: str) -> None:
    assert relative_paths(text) == text


def test_hostile_text_stays_bounded_and_relative() -> None:
    hostile = "\n".join(
        [
            "/" * 5000,
            "/\x00/etc/passwd",
            '"/unterminated/quote',
            "'/a'/b'/c'",
            "/" + "a/" * 3000 + "z.py",
            "/ä/ö/ü.py /😀/x",
            "/work/../../../../etc/passwd",
        ]
    )
    out = relative_paths(hostile)
    assert not ABSOLUTE.search(out), out[:500]


def test_failure_details_of_a_real_exception() -> None:
    def inner() -> None:
        open(f"{ROOT}/var/does-not-exist/{'x' * 10}.csv")  # noqa: SIM115

    with pytest.raises(FileNotFoundError) as caught:
        inner()
    details = failure_details(caught.value)
    assert len(details) <= MAX_DETAILS
    assert "tests/unit/test_error_details.py" in details
    assert "var/does-not-exist/" in details
    assert str(ROOT) not in details and not ABSOLUTE.search(details)

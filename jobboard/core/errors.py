"""Technical details of a failure, fit to keep: tracebacks without absolute server paths.

A traceback names every file it passes through by its absolute path, which tells whoever reads
it where the server keeps its code, its virtualenv and its users' uploads. `relative_paths()`
rewrites each absolute path to what is worth knowing: the module inside site-packages
(`rq/job.py`), inside the standard library (`json/decoder.py`) or inside the project
(`workers/product_upload.py`, `var/uploads/…`); any other absolute path keeps only its file name
(`…/passwd`).
"""

from __future__ import annotations

import posixpath
import re
import sysconfig
import traceback
from functools import lru_cache

from jobboard.core.settings import ROOT

# A path inside quotes (`File "/a b/c.py"`, `'/x/y'`) may hold spaces; a bare one ends at the
# first space or punctuation that cannot end a file name, and names something (`1 // 2` does
# not). A slash right after a letter, a colon or another slash belongs to something else
# (`a/b`, `http://host/x`, `C:/x`).
_QUOTED = re.compile(r"""(?P<q>["'])(?P<path>/[^"'\n]*)(?P=q)""")
_BARE = re.compile(r"""(?<![\w:/.~\\…-])(?P<path>/+[^\s"'<>()\[\]{},;|`/][^\s"'<>()\[\]{},;|`]*)""")
_PACKAGES = re.compile(r"/(?:site|dist)-packages/")
_STDLIB = re.compile(r"/lib/python3(?:\.\d+)?t?/")
# The project's own packages, wherever another checkout of it lives.
_PROJECT = re.compile(r"/(?=(?:jobboard|workers)/)")
MAX_DETAILS = 4000


@lru_cache(maxsize=1)
def _prefixes() -> tuple[str, ...]:
    """The project's folders, as written and resolved, longest first."""
    dirs = {str(ROOT), str(ROOT.resolve())}
    for key in ("stdlib", "platstdlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            dirs.add(path)
    return tuple(sorted((d.rstrip("/") + "/" for d in dirs if d != "/"), key=len, reverse=True))


def relative_path(path: str) -> str:
    """One absolute path, relativised (see the module's docstring). Never starts with `/`."""
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    found = list(_PACKAGES.finditer(norm))
    if found:  # the innermost site-packages: `…/site-packages/rq/job.py` → `rq/job.py`
        return norm[found[-1].end() :] or "site-packages"
    for prefix in _prefixes():
        if norm.startswith(prefix):
            return norm[len(prefix) :] or "."
    found = list(_STDLIB.finditer(norm))
    if found:
        return norm[found[-1].end() :] or "stdlib"
    found = list(_PROJECT.finditer(norm))
    if found:
        return norm[found[-1].end() :]
    name = posixpath.basename(norm)
    return f"…/{name}" if name else "…"


def relative_paths(text: str) -> str:
    """`text` with every absolute path in it relativised."""
    text = _QUOTED.sub(lambda m: m["q"] + relative_path(m["path"]) + m["q"], text)
    return _BARE.sub(lambda m: relative_path(m["path"]), text)


def failure_details(exc: BaseException) -> str:
    """The traceback of `exc` for administrators: relative paths, at most MAX_DETAILS chars
    (its end, where the error is)."""
    return relative_paths("".join(traceback.format_exception(exc)))[-MAX_DETAILS:]

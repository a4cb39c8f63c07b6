"""Progress bars that never spam a log: drawn only when asked for and stderr is a terminal."""
from __future__ import annotations

import sys


def bar(total: int | None, desc: str, progress: bool = True, unit: str = "it", **kw):
    """A tqdm bar on stderr; disabled when ``progress`` is False or stderr is not a terminal
    (a pipe, a file, a CI log: tqdm's ``disable=None``), so redirected output stays clean."""
    from tqdm.auto import tqdm

    kw.setdefault("leave", False)
    kw.setdefault("dynamic_ncols", True)
    return tqdm(total=total, desc=desc, unit=unit, disable=None if progress else True, file=sys.stderr, **kw)

"""Download the reference data from its public sources, hash-checked, into the user cache.

Files are pinned to a commit of their source repository and checked by SHA-256 (pooch). The
official splits come upstream as a pickle of numpy arrays (``test_cv_idx.pkl``); it is read with
a restricted unpickler that admits numpy arrays only (never plain ``pickle.load``), checked
against the SHA-256 of its index content, and written as ``splits.json``.
"""
from __future__ import annotations

import hashlib
import io
import json
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chiscreen.errors import DownloadError
from chiscreen.paths import cache_dir

_MTL = "https://raw.githubusercontent.com/yoshida-lab/MTL_ChiParameter"
_POLYSOL = "https://raw.githubusercontent.com/cstubb/PolySol"


@dataclass(frozen=True)
class RemoteFile:
    relpath: str  # where it goes under the data folder
    url: str
    sha256: str
    kind: str = "file"  # "file" or "splits-pickle"


REMOTE_FILES: tuple[RemoteFile, ...] = (
    RemoteFile("mtl_chi/data_Chi.csv", f"{_MTL}/b3510ddedf169225d00dcbb826785417690a3c11/sample_data/data_Chi.csv",
               "cc8fbf4a100d3a5b2379c5bff5d495a68f61ffb4d04ce41d1f66650b1c80573d"),
    RemoteFile("mtl_chi/data_COSMO.csv", f"{_MTL}/bde58a382a2ed440dda0e653a3286592b2fd370a/sample_data/data_COSMO.csv",
               "6c303495159a3a15d342ef2b775b1e0312574a2a5dfc6ed1de55cb3cca629528"),
    # sha256 of the split indices (see splits_content_hash), not of the pickle's bytes
    RemoteFile("mtl_chi/splits.json", f"{_MTL}/4fa3de34ae1da268db15210a1f4fc138b98f01d7/sample_data/test_cv_idx.pkl",
               "", kind="splits-pickle"),
    RemoteFile("polysol/df_atactic_NOPE_nr_norad_nomol.csv",
               f"{_POLYSOL}/5c2863b637336ff21749424ca2498d54876c376b/data/csvs/df_atactic_NOPE_nr_norad_nomol.csv",
               "7c407e3990934957f2a044f9de6f82f1923d24928a9ac22186a242e92207b073"),
)


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that refuses every global except what numpy arrays need to rebuild."""

    _ALLOWED = {
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only numpy arrays are allowed")


def load_numpy_pickle(data: bytes):
    """Unpickle bytes that may contain only (lists/tuples/dicts of) numpy arrays."""
    try:
        return NumpyOnlyUnpickler(io.BytesIO(data)).load()
    except pickle.UnpicklingError as exc:
        raise DownloadError(f"unsafe or invalid pickle: {exc}") from exc


def splits_from_test_indices(obj, n_rows: int = 1190) -> dict:
    """Upstream pickle (sequence of test-index arrays) -> {"train": [...], "test": [...]}."""
    if isinstance(obj, dict):
        obj = list(obj.values())
    tests = [sorted(int(i) for i in np.asarray(a).ravel()) for a in obj]
    if not tests:
        raise DownloadError("splits pickle holds no index arrays")
    trains = [sorted(set(range(n_rows)) - set(t)) for t in tests]
    return {"description": "Five predefined train/test splits of data_Chi.csv (row index values).",
            "train": trains, "test": tests}


def splits_content_hash(splits: dict) -> str:
    """SHA-256 over each split's sorted indices as int64 bytes (independent of file format)."""
    h = hashlib.sha256()
    for part in ("train", "test"):
        for idx in splits[part]:
            h.update(np.sort(np.asarray(idx, dtype=np.int64)).tobytes())
            h.update(b"|")
    return h.hexdigest()


# content hash of the five official splits (identical to ../shared/data/mtl_chi/splits.json)
SPLITS_CONTENT_SHA256 = "553b0ceb06ef0e561755385c9f98b4dc9b547d2d6171d11b33db659abcf2256f"


def fetch(dest: str | Path | None = None, files: tuple[RemoteFile, ...] = REMOTE_FILES,
          splits_sha256: str | None = None, progress: bool = True) -> list[Path]:
    """Download every file in ``files`` into ``dest`` (default: the user cache data folder).

    Already-present files with the right hash are kept. Raises DownloadError on network failure
    or checksum mismatch (the bad file is not left behind).
    """
    import pooch

    dest = Path(dest) if dest is not None else cache_dir("data")
    out = []
    for rf in files:
        target = dest / rf.relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if rf.kind == "splits-pickle":
                raw = pooch.retrieve(rf.url, known_hash=None, path=target.parent / ".download",
                                     fname=Path(rf.url).name, progressbar=progress)
                splits = splits_from_test_indices(load_numpy_pickle(Path(raw).read_bytes()))
                want = splits_sha256 if splits_sha256 is not None else SPLITS_CONTENT_SHA256
                got = splits_content_hash(splits)
                if want and got != want:
                    Path(raw).unlink(missing_ok=True)
                    raise DownloadError(f"{rf.url}: split indices hash {got} != expected {want}")
                target.write_text(json.dumps(splits))
            else:
                pooch.retrieve(rf.url, known_hash=f"sha256:{rf.sha256}" if rf.sha256 else None,
                               path=target.parent, fname=target.name, progressbar=progress)
        except DownloadError:
            raise
        except Exception as exc:  # network, HTTP or hash errors from pooch
            raise DownloadError(f"cannot fetch {rf.relpath} from {rf.url}: {exc}") from exc
        out.append(target)
    return out

"""Profile store: one ``.npz`` file per molecule, keyed by (kind, canonical SMILES, engine,
method version), plus a JSON file for molecules that failed (so reruns do not retry them unless
asked). Files are written atomically (temp file + ``os.replace``) and read with
``allow_pickle=False``: nothing in the store is ever unpickled.

Layout: ``ROOT/<engine>/<method_version>/<kind>/<sha1(canonical)[:24]>.npz`` (or ``.failed.json``).
A store with ``root=None`` lives in memory only.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Iterator

import numpy as np

from chiscreen.errors import OracleError
from chiscreen.io import atomic_path
from chiscreen.qc.profile import ProfileRecord
from chiscreen.qc.sigma import SigmaProfile

StoreKey = tuple[str, str, str, str]  # (kind, canonical, engine, method_version)


def _digest(canonical: str) -> str:
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:24]


class ProfileStore:
    """Persistent (or in-memory) map from :data:`StoreKey` to :class:`ProfileRecord`."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else None
        self._mem: dict[StoreKey, ProfileRecord] = {}
        self._fail: dict[StoreKey, dict] = {}
        if self.root is not None:
            self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"ProfileStore({str(self.root) if self.root else 'memory'})"

    # ------------------------------------------------------------------ paths
    def _path(self, key: StoreKey, suffix: str) -> Path:
        kind, canonical, engine, version = key
        assert self.root is not None
        return self.root / engine / version / kind / f"{_digest(canonical)}{suffix}"

    @staticmethod
    def _atomic_write(path: Path, write) -> None:
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            write(fh)

    # ------------------------------------------------------------------ records
    def put(self, rec: ProfileRecord) -> None:
        """Store a record (replacing any earlier record or failure of the same key)."""
        key = (rec.kind, rec.canonical, rec.engine, rec.method_version)
        self._mem[key] = rec
        self._fail.pop(key, None)
        if self.root is None:
            return
        meta = {"kind": rec.kind, "canonical": rec.canonical, "engine": rec.engine,
                "method_version": rec.method_version, **rec.meta}
        arrays = {
            "conformer_p": np.stack([c.p for c in rec.conformers]),
            "conformer_area": np.array([c.area for c in rec.conformers]),
            "conformer_volume": np.array([c.volume for c in rec.conformers]),
            "energies": np.asarray(rec.energies, dtype=float),
            "weights": np.asarray(rec.weights, dtype=float),
            "profile_p": rec.profile.p,
            "profile_av": np.array([rec.profile.area, rec.profile.volume]),
            "meta_json": np.array(json.dumps(meta, default=float)),
        }
        for i, seg in enumerate(rec.segments or []):
            for name, arr in seg.items():
                arrays[f"seg{i}_{name}"] = np.asarray(arr)
        self._atomic_write(self._path(key, ".npz"), lambda fh: np.savez(fh, **arrays))
        failed = self._path(key, ".failed.json")
        if failed.exists():
            failed.unlink()

    def get(self, key: StoreKey) -> ProfileRecord | None:
        """The record for ``key``, or None if absent."""
        rec = self._mem.get(key)
        if rec is not None or self.root is None:
            return rec
        path = self._path(key, ".npz")
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta_json"]))
                if meta.get("canonical") != key[1]:  # digest collision guard
                    return None
                confs = [SigmaProfile(p, float(a), float(v)) for p, a, v in
                         zip(z["conformer_p"], z["conformer_area"], z["conformer_volume"])]
                av = z["profile_av"]
                segs: list[dict] | None = None
                if "seg0_sigma" in z.files:
                    segs = []
                    for i in range(len(confs)):
                        pre = f"seg{i}_"
                        segs.append({f[len(pre):]: np.array(z[f]) for f in z.files
                                     if f.startswith(pre)})
                rec = ProfileRecord(meta.pop("kind"), meta.pop("canonical"), meta.pop("engine"),
                                    meta.pop("method_version"), confs, np.array(z["energies"]),
                                    np.array(z["weights"]),
                                    SigmaProfile(np.array(z["profile_p"]), float(av[0]), float(av[1])),
                                    meta, segs)
        except (OSError, ValueError, KeyError) as exc:
            raise OracleError(f"corrupt profile file {path}: {exc}") from exc
        self._mem[key] = rec
        return rec

    def __contains__(self, key: StoreKey) -> bool:
        return self.get(key) is not None

    # ------------------------------------------------------------------ failures
    def put_failure(self, key: StoreKey, reason: str, message: str, smiles: str = "") -> None:
        """Remember that ``key`` failed (reason code + message)."""
        info = {"kind": key[0], "canonical": key[1], "engine": key[2], "method_version": key[3],
                "reason": reason, "message": message, "input_smiles": smiles}
        self._fail[key] = info
        if self.root is not None:
            data = json.dumps(info, indent=1).encode()
            self._atomic_write(self._path(key, ".failed.json"), lambda fh: fh.write(data))

    def get_failure(self, key: StoreKey) -> dict | None:
        """The failure record of ``key`` (reason, message), or None."""
        if key in self._fail or self.root is None:
            return self._fail.get(key)
        path = self._path(key, ".failed.json")
        if not path.exists():
            return None
        info = json.loads(path.read_text())
        if info.get("canonical") != key[1]:
            return None
        self._fail[key] = info
        return info

    def clear_failure(self, key: StoreKey) -> None:
        self._fail.pop(key, None)
        if self.root is not None:
            p = self._path(key, ".failed.json")
            if p.exists():
                p.unlink()

    # ------------------------------------------------------------------ listing
    def keys(self, engine: str | None = None, method_version: str | None = None) -> Iterator[StoreKey]:
        """Keys of the stored records (from disk when persistent, else memory)."""
        if self.root is None:
            for k in self._mem:
                if (engine is None or k[2] == engine) and (method_version is None or k[3] == method_version):
                    yield k
            return
        pattern = f"{engine or '*'}/{method_version or '*'}/*/*.npz"
        for path in sorted(self.root.glob(pattern)):
            try:
                with np.load(path, allow_pickle=False) as z:
                    meta = json.loads(str(z["meta_json"]))
                yield (meta["kind"], meta["canonical"], meta["engine"], meta["method_version"])
            except (OSError, ValueError, KeyError):
                continue

"""The screen's catalog path streams: Parquet datasets in record batches, a compact plan, the
descriptor cache read by position, polymers.parquet written batch by batch."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from chiscreen.catalogs import catalog as catmod
from chiscreen.catalogs.catalog import load_catalog, lookup, open_catalog
from chiscreen.errors import InvalidInputError
from chiscreen.features import cache as cachemod
from chiscreen.features.cache import DescriptorCache
from chiscreen.screen.featurize import PolymerRows

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def built():
    df, _ = load_catalog(ROOT / "catalogs" / "polymers.csv", "polymer")
    return df


def _write_parts(df: pd.DataFrame, folder: Path, n_parts: int = 3) -> Path:
    import pyarrow as pa

    folder.mkdir(parents=True, exist_ok=True)
    t = pa.Table.from_pandas(df, preserve_index=False)
    step = -(-len(df) // n_parts)
    for k in range(n_parts):
        pq.write_table(t.slice(k * step, step), folder / f"part-{k}.parquet")
    return folder


def test_cache_index_finds_entries_by_position_without_loading(tmp_path, monkeypatch):
    monkeypatch.setattr(cachemod, "ROW_GROUP", 3)  # several row groups per part
    c = DescriptorCache("rdkit2d", "1", "periodic", root=tmp_path)
    rows = [(f"K{i}", "ok", "", np.full(4, i, np.float32)) for i in range(10)]
    c.append(rows)
    c.append([("BAD", "failed", "timeout: exceeded 30 s", None), ("K7", "ok", "", np.full(4, 70, np.float32))])
    want = c.load()
    keys = ["K9", "nope", "K0", "BAD", "K7", "K4"]
    ix = DescriptorCache("rdkit2d", "1", "periodic", root=tmp_path).locate(keys)
    assert ix.found().tolist() == [True, False, True, True, True, True]
    assert ix.ok.tolist() == [True, False, True, False, True, True]
    sel = np.array([0, 2, 4, 5])
    got = ix.values(sel, 4)
    np.testing.assert_array_equal(got, np.stack([want[keys[j]][2] for j in sel]))  # K7: the part load() keeps
    assert ix.reasons([3]) == ["timeout: exceeded 30 s"]


def test_a_folder_dataset_is_planned_read_and_looked_up_in_batches(built, tmp_path):
    folder = _write_parts(built, tmp_path / "cat")
    src, rep = open_catalog(folder, "polymer", batch_rows=7)
    assert not src.in_memory and src.n_rows == len(built) and rep.n_ok == int((built["status"] == "ok").sum())
    plan = src.plan()
    np.testing.assert_array_equal(plan.ids, built["id"].to_numpy())
    np.testing.assert_array_equal(plan.ok, (built["status"] == "ok").to_numpy())
    assert plan.canonical.to_pylist() == [c if isinstance(c, str) else None for c in built["canonical"]]
    starts = [s for s, _ in src.frames()]
    assert starts[:3] == [0, 7, 14]
    whole = pd.concat([f for _, f in src.frames()], ignore_index=True)
    pd.testing.assert_frame_equal(whole, pd.read_parquet(folder))
    pd.testing.assert_frame_equal(src.take([40, 3, 17]), pd.read_parquet(folder).iloc[[40, 3, 17]].reset_index(drop=True))
    rows = PolymerRows(src)
    qs = ["PS", "polyethylene", str(int(built["id"].iat[20])), built["smiles"].iat[30]]
    assert rows.lookup(qs) == lookup(built, qs)
    with pytest.raises(InvalidInputError, match="'no-such-polymer' is not in the catalog"):
        rows.lookup(["no-such-polymer"])


@pytest.mark.parametrize("edit, words", [
    (lambda d: d.assign(status=d["status"].where(d.index != 5, "maybe")), "row 5: status 'maybe'"),
    (lambda d: d.assign(id=d["id"].where(d.index != 9, int(d["id"].iat[2]))), "is not unique"),
    (lambda d: d.assign(canonical=d["canonical"].where(d.index != 11, None)), "row 11 has status ok but no canonical"),
])
def test_a_bad_built_catalog_names_the_row(built, tmp_path, edit, words):
    folder = _write_parts(edit(built.copy()), tmp_path / "bad")
    with pytest.raises(InvalidInputError, match=words):
        open_catalog(folder, "polymer", batch_rows=4)


def test_a_screen_of_a_folder_in_small_batches_equals_the_one_file_screen(built, tmp_path, monkeypatch):
    """Real featurization (the shipped model), a row that fails the featurizer, a resume."""
    from chiscreen.model import load_ensemble
    from chiscreen.screen import EngineConfig, QueryConfig, ScreenConfig, run_screen

    pol = built.head(30).copy()
    pol.loc[4, "canonical"] = "not-a-smiles*"  # valid in the catalog, fails in the featurizer
    one = tmp_path / "one.parquet"
    pol.to_parquet(one, index=False)
    folder = _write_parts(pol, tmp_path / "parts")
    sol, _ = load_catalog(ROOT / "catalogs" / "solvents.csv", "solvent")
    sol.head(12).to_csv(tmp_path / "sol.csv", index=False)
    ens = load_ensemble(None)

    def cfg(p):
        return ScreenConfig(polymers=str(p), solvents=str(tmp_path / "sol.csv"), temperatures=["25C", "90C"],
                            query=QueryConfig(top_k_per_polymer=3, top_k_per_solvent=2),
                            engine=EngineConfig(kind="plain", shard_size=8))

    a = run_screen(cfg(one), out=str(tmp_path / "a"), ensemble=ens, progress=False)
    monkeypatch.setattr(catmod, "BATCH_ROWS", 4)  # every step of the folder's screen in many batches
    b = run_screen(cfg(folder), out=str(tmp_path / "b"), ensemble=ens, progress=False)
    for rel in ("polymers.parquet", "top_per_solvent.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / rel), pd.read_parquet(tmp_path / "b" / rel))
    key = ["polymer_id", "T_K", "solvent_id"]
    pa_, pb = (pd.read_parquet(tmp_path / d / "pairs").sort_values(key).reset_index(drop=True) for d in "ab")
    assert len(pa_) > 0
    pd.testing.assert_frame_equal(pa_, pb)
    got = pd.read_parquet(tmp_path / "b" / "polymers.parquet")
    assert got["feature_status"].iat[4] == "failed" and "cannot parse" in got["feature_reason"].iat[4]
    assert a.manifest.polymers_hash == b.manifest.polymers_hash and b.manifest.n_polymers == 29
    assert b.summary["polymers"]["not_scored"][0]["id"] == int(pol["id"].iat[4])
    again = run_screen(cfg(folder), out=str(tmp_path / "b"), ensemble=ens, progress=False)
    assert again.resumed and again.stats.skipped == again.manifest.n_shards and again.stats.written == 0


@pytest.mark.parametrize("name", ["cat.parquet", "cat"])
def test_a_catalog_written_frame_by_frame_reads_back_as_one(built, tmp_path, name):
    from chiscreen.catalogs.catalog import write_catalog, write_catalog_batches

    want = pd.read_parquet(write_catalog(built, tmp_path / "whole.parquet"))  # one frame, as before
    out = write_catalog_batches((built.iloc[s:s + 25] for s in range(0, len(built), 25)), tmp_path / name,
                                kind="polymer", part_rows=40)
    src, rep = open_catalog(out, "polymer")
    assert rep.n_rows == len(built)
    pd.testing.assert_frame_equal(pd.concat([f for _, f in src.frames()], ignore_index=True), want)
    if out.is_dir():
        assert len(list(out.glob("part-*.parquet"))) == 2  # frames of 25 rows: parts of 50 and 42 rows


import pandas as pd
import pytest

from chiscreen.errors import InvalidInputError, MissingColumnError
from chiscreen.paths import project_root
from chiscreen.catalogs.catalog import (
    build_catalog, builtin_catalog, join_greenness, load_catalog, lookup, write_catalog,
)

ROOT = project_root()
WELL_KNOWN = ["PE", "PP", "PS", "PVC", "PET", "PBT", "PMMA", "PC", "PA6", "PA66", "PLA", "PCL", "PVA", "PVAc",
              "PAN", "PEO", "PDMS", "PVDF", "PES"]


@pytest.fixture(scope="module")
def polymers():
    return load_catalog(ROOT / "catalogs" / "polymers.csv", "polymer")


@pytest.fixture(scope="module")
def solvents():
    return load_catalog(ROOT / "catalogs" / "solvents.csv", "solvent")


def test_starter_polymer_catalog_is_valid_and_unique(polymers):
    df, rep = polymers
    assert rep.n_rows >= 60 and rep.n_ok == rep.n_rows, df[df.status != "ok"][["name", "reason"]]
    assert all(s.count("*") == 2 for s in df.smiles)
    ident = df.canonical + " [" + df.tacticity.fillna("") + "]"
    assert ident.is_unique and df.abbreviation.is_unique and df.name.is_unique
    assert set(WELL_KNOWN) <= set(df.abbreviation)
    assert df["class"].notna().all()


def test_starter_solvent_catalog_is_valid_and_unique(solvents):
    df, rep = solvents
    assert rep.n_rows >= 150 and rep.n_ok == rep.n_rows, df[df.status != "ok"][["name", "reason"]]
    assert df.canonical.is_unique and df.name.is_unique
    cas = df.cas.dropna()
    assert cas.is_unique and cas.str.fullmatch(r"\d{2,7}-\d{2}-\d").all()
    assert df["class"].notna().all()
    assert (df.smiles.str.count(r"\*") == 0).all()


def test_invalid_rows_kept_with_reason_and_counted():
    src = pd.DataFrame({"smiles": ["*CC(*)c1ccccc1", "C1CC", "*CC*", "*CCCC*", "CCO", None],
                        "name": ["PS", "broken", "PE", "PE written twice", "ethanol", "missing"]})
    df, rep = build_catalog(src, "polymer")
    assert (rep.n_rows, rep.n_ok, rep.n_invalid, rep.n_duplicate) == (6, 2, 3, 1)
    assert str(rep) == "6 polymer rows: 2 ok, 3 invalid, 1 duplicate"
    assert list(df.status) == ["ok", "invalid", "ok", "duplicate", "invalid", "invalid"]
    assert "parse" in df.reason[1] and "attachment" in df.reason[4] and "row 2" in df.reason[3]
    assert list(df.columns[:6]) == ["id", "name", "smiles", "canonical", "status", "reason"]
    assert df.canonical[3] is None or df.canonical[3] == df.canonical[2]


def test_solvent_catalog_rejects_stars_and_mixtures():
    df, rep = build_catalog(pd.DataFrame({"smiles": ["CCO", "*CC*", "CCO.O", "OCC"]}), "solvent")
    assert list(df.status) == ["ok", "invalid", "invalid", "duplicate"]
    assert rep.n_invalid == 2 and df.name[0] == "solvent-0"


def test_missing_smiles_column_and_bad_ids():
    with pytest.raises(MissingColumnError, match="smiles"):
        build_catalog(pd.DataFrame({"x": ["C"]}), "solvent")
    with pytest.raises(InvalidInputError, match="unique integers"):
        build_catalog(pd.DataFrame({"smiles": ["C", "CC"], "id": [1, 1]}), "solvent")


def test_parallel_canonicalization_matches_serial():
    src = pd.DataFrame({"smiles": ["*CC(*)C", "*OCCOC(=O)c1ccc(C(*)=O)cc1", "*NCCCCCC(*)=O", "bad"] * 80})
    a, _ = build_catalog(src, "polymer", n_jobs=1)
    b, _ = build_catalog(src, "polymer", n_jobs=2)
    pd.testing.assert_frame_equal(a, b)


def test_smiles_list_and_roundtrip(tmp_path):
    p = tmp_path / "list.smi"
    p.write_text("# polymers\n*CC(*)C polypropylene\n*CC(*)Cl\n")
    df, rep = load_catalog(p, "polymer")
    assert list(df.name) == ["polypropylene", "polymer-1"] and rep.n_ok == 2
    out = write_catalog(df, tmp_path / "cat.parquet")
    again, rep2 = load_catalog(out, "polymer")
    assert again.canonical.tolist() == df.canonical.tolist() and rep2.n_ok == 2


def test_lookup_by_name_abbreviation_id_and_smiles(polymers):
    df, _ = polymers
    ps = lookup(df, ["PS"])[0]
    assert lookup(df, ["polystyrene", "*C(c1ccccc1)C*", str(int(df.id[ps]))]) == [ps, ps, ps]
    with pytest.raises(InvalidInputError, match="not in the catalog"):
        lookup(df, ["unobtainium"])


def test_builtin_paths():
    assert builtin_catalog("polymer").name == "polymers.csv"
    with pytest.raises(InvalidInputError):
        builtin_catalog("salt")


def test_greenness_joined_at_run_time(solvents, shared_data):
    df, _ = solvents
    g = join_greenness(df)
    scored = g.dropna(subset=["gsk_g_score"])
    assert len(scored) >= 80
    eth = g.loc[g.name == "ethanol", "gsk_g_score"].iat[0]
    ben = g.loc[g.name == "benzene", "gsk_g_score"].iat[0]
    assert eth > ben  # GSK: ethanol greener than benzene
    assert not (ROOT / "catalogs" / "gsk_solvent_guide.csv").exists()


def test_greenness_absent_data_gives_nan(solvents, monkeypatch, tmp_path):
    import chiscreen.data.locator as loc

    monkeypatch.setenv("CHISCREEN_DATA", str(tmp_path))
    monkeypatch.setattr(loc, "candidate_dirs", lambda: [("test", tmp_path)])
    g = join_greenness(solvents[0].head(5))
    assert g.gsk_g_score.isna().all()

import numpy as np
import pytest

from chiscreen.data import grouped_kfold, load_cosmo_chi, load_experimental_chi, load_official_splits, matched_rows


@pytest.fixture(scope="module")
def exp(shared_data):
    return load_experimental_chi()


def test_experimental_chi(exp):
    assert len(exp) == 1190
    assert exp.polymer_key.nunique() == 46 and exp.solvent_key.nunique() == 140
    assert exp.temperature_K.min() >= 273.15 and exp.temperature_K.max() == pytest.approx(229 + 273.15)
    assert exp.polymer_smiles.str.count(r"\*").eq(2).all()


def test_cosmo_join_and_matched_rows(exp):
    cosmo = load_cosmo_chi(exp=exp)
    assert len(cosmo) == 1206
    m = matched_rows(exp, cosmo)
    assert len(m) == 1178
    ss_res = np.sum((m.chi_exp - m.chi_cosmors) ** 2)
    ss_tot = np.sum((m.chi_exp - m.chi_exp.mean()) ** 2)
    assert 1 - ss_res / ss_tot == pytest.approx(0.48, abs=0.01)  # data README: COSMO-RS R2 0.48


def test_official_splits(exp):
    splits = load_official_splits()
    assert len(splits) == 5
    for tr, te in splits:
        assert len(tr) == 952 and len(te) == 238 and not set(tr) & set(te)
        assert set(tr) | set(te) == set(exp.row)


def test_leave_polymer_out(exp):
    seen = set()
    for tr, te in grouped_kfold(exp, by="polymer", n_splits=5, seed=0):
        assert not set(exp.polymer_key.iloc[tr]) & set(exp.polymer_key.iloc[te])
        seen |= set(te)
    assert seen == set(range(len(exp)))

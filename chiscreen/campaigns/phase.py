"""Flory-Huggins phase diagrams from the ensemble: binodal and spinodal over T, with every member.

    chiscreen phase --polymer PS --solvent C1CCCCC1 --mw 100000 --out runs/phase-ps-chx

N = (M / rho_polymer) / V1 with rho_polymer = repeat-unit mass / Vu from the catalog facts (1.0 g/cm3,
stated, when unknown) and V1 the solvent molar volume (reference value or estimate). chi(T) of each
ensemble member gives its own binodal and critical temperature; the spread of the members is the
uncertainty band (members are not rescaled by the model's std_scale calibration: the band is the raw
ensemble spread).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chiscreen.campaigns.common import abandon, finish_out, open_out, out_path, provenance, write_json, write_table
from chiscreen.errors import InvalidInputError


@dataclass
class PhaseResult:
    out: str
    table: pd.DataFrame
    summary: dict
    text: str
    files: dict


def _fit_chiT(T: np.ndarray, chi: np.ndarray, use_c: bool):
    from chiscreen.thermo import ChiT

    x = 1.0 / T
    if use_c:
        c, b, a = np.polyfit(x, chi, 2)
        return ChiT(float(a), float(b), float(c))
    b, a = np.polyfit(x, chi, 1)
    return ChiT(float(a), float(b))


def phase_diagram(polymer: str, solvent: str, mw: float = 1e5, t_min_K: float = 223.15, t_max_K: float = 523.15,
                  n_T: int = 121, out: str | None = None, overwrite: bool = False, model: str | None = None,
                  ensemble=None, take_over: bool = False) -> PhaseResult:
    """Binodal + spinodal of ``polymer`` (catalog name or SMILES) in ``solvent`` (SMILES) over T (K).

    With ``out``: phase.csv, phase.png, campaign.json and manifest.json in that folder, an OwnedDir
    of kind ``phase`` (see :func:`~chiscreen.campaigns.common.open_out`: foreign folders refused unless
    ``overwrite``, locked while written, ``take_over`` for a stale lock).
    Raises InvalidInputError (bad input, before anything is written), OutputDirError / OutputLockedError."""
    from chiscreen.catalogs.facts import polymer_facts, resolve_polymer, solvent_facts_for_smiles
    from chiscreen.chem import Solvent
    from chiscreen.model.predict import repeat_unit_mass
    from chiscreen.thermo import critical_point

    if not (math.isfinite(mw) and mw > 0):
        raise InvalidInputError(f"--mw {mw}: expected a positive molar mass in g/mol")
    if not (t_max_K > t_min_K > 0):
        raise InvalidInputError(f"temperature range {t_min_K:.2f}-{t_max_K:.2f} K is empty or reversed")
    row = resolve_polymer(polymer)
    Solvent.from_smiles(solvent)
    pf = polymer_facts(row)
    sf = solvent_facts_for_smiles(solvent)
    m_u = repeat_unit_mass(str(row["smiles"]))
    rho = m_u / pf.Vu_cm3_mol if math.isfinite(pf.Vu_cm3_mol) else 1.0
    rho_src = "catalog Vu" if math.isfinite(pf.Vu_cm3_mol) else "assumed 1.0 g/cm3 (Vu unknown)"
    N = (mw / rho) / sf.V1_cm3_mol
    phi_c, chi_c = critical_point(N, 1.0)
    od = open_out(out, "phase", overwrite=overwrite, take_over=take_over) if out else None
    try:
        return _phase(row, polymer, solvent, mw, t_min_K, t_max_K, n_T, od, model, ensemble, pf, sf, N, phi_c, chi_c,
                      rho, rho_src)
    except BaseException:
        if od is not None:
            abandon(od)
        raise
    finally:
        if od is not None:
            od.release()


def _phase(row, polymer, solvent, mw, t_min_K, t_max_K, n_T, od, model, ensemble, pf, sf, N, phi_c, chi_c, rho,
           rho_src) -> PhaseResult:
    from chiscreen.campaigns.adapter import calibrated_chi_std, member_chi_curves, pair_domain
    from chiscreen.thermo import binodal, critical_temperatures, spinodal

    odir = out_path(od) if od is not None else None
    if ensemble is None:
        from chiscreen.model import load_ensemble

        ensemble = load_ensemble(model)
    T = np.linspace(t_min_K, t_max_K, n_T)
    members = member_chi_curves(ensemble, str(row["smiles"]), solvent, T)         # (E, n_T)
    mean = members.mean(0)
    ad, ad_p, ad_s = pair_domain(ensemble, str(row["smiles"]), solvent)
    std = calibrated_chi_std(ensemble, members, ad_p, ad_s)
    use_c = "C_exp" in ensemble.outputs
    rec = []
    mb = []  # member binodals
    for e in range(len(members)):
        lo, hi = [], []
        prev = None
        for j in range(n_T):
            b = binodal(float(members[e, j]), N, 1.0, guess=prev)
            prev = b
            lo.append(b[0] if b else np.nan)
            hi.append(b[1] if b else np.nan)
        mb.append((np.array(lo), np.array(hi)))
    prev = None
    for j, t in enumerate(T):
        b = prev = binodal(float(mean[j]), N, 1.0, guess=prev)
        s = spinodal(float(mean[j]), N, 1.0)
        los = np.array([m[0][j] for m in mb])
        his = np.array([m[1][j] for m in mb])
        rec.append({"T_K": t, "T_C": t - 273.15, "chi_mean": mean[j], "chi_std": std[j], "ad_score": ad,
                    "binodal_lo": b[0] if b else np.nan, "binodal_hi": b[1] if b else np.nan,
                    "spinodal_lo": s[0] if s else np.nan, "spinodal_hi": s[1] if s else np.nan,
                    "members_two_phase": int(np.isfinite(los).sum()),
                    "binodal_hi_min": np.nanmin(his) if np.isfinite(his).any() else np.nan,
                    "binodal_hi_max": np.nanmax(his) if np.isfinite(his).any() else np.nan})
    table = pd.DataFrame(rec)
    # critical temperatures from chi(T) of the mean and of each member (wide range: report what it is)
    Tw = np.linspace(150.0, 800.0, 66)
    mw_curves = member_chi_curves(ensemble, str(row["smiles"]), solvent, Tw)
    fit_mean = _fit_chiT(Tw, mw_curves.mean(0), use_c)
    crit_mean = critical_temperatures(fit_mean, chi_c, 1.0, 1e5)
    crit_members = [critical_temperatures(_fit_chiT(Tw, c, use_c), chi_c, 1.0, 1e5) for c in mw_curves]
    ucst_m = [c[0][0] for c in crit_members if c and c[0][1] == "UCST"]
    summary = {
        "kind": "phase", "inputs": {"polymer": polymer, "polymer_smiles": str(row["smiles"]), "solvent": solvent,
                                    "solvent_name": sf.name, "mw": mw, "T_range_K": [t_min_K, t_max_K]},
        "N": N, "phi_c": phi_c, "chi_c": chi_c, "polymer_density": rho, "polymer_density_source": rho_src,
        "solvent_molar_volume": sf.V1_cm3_mol, "solvent_molar_volume_source": sf.V1_source,
        "chi_T_mean": {"A": fit_mean.A, "B_K": fit_mean.B, "C_K2": fit_mean.C},
        "critical_temperatures_mean": [{"T_K": t, "T_C": t - 273.15, "type": k} for t, k in crit_mean],
        "ucst_members_K": ucst_m, "n_members": int(len(members)),
        "ad_score": ad, "ad_polymer": ad_p, "ad_solvent": ad_s,
        "provenance": provenance(ensemble, {}),
    }
    lines = [f"phase diagram: {row.get('abbreviation', polymer)} (Mw {mw:,.0f} g/mol) in {sf.name}: N = {N:,.0f}, "
             f"phi_c = {phi_c:.4f}, chi_c = {chi_c:.4f}",
             f"  mean chi(T) = {fit_mean.A:.3f} + {fit_mean.B:.1f}/T" + (f" + {fit_mean.C:.0f}/T^2" if use_c else ""),
             f"  applicability-domain score {ad:.2f} (0 = training molecules, ~1 = typical distance)" if ad == ad
             else "  applicability-domain score n/a (model without domain statistics)"]
    if crit_mean:
        for t, k in crit_mean:
            lines.append(f"  predicted {k}: {t - 273.15:,.0f} C ({t:,.0f} K)")
    else:
        lines.append("  predicted: no critical temperature (chi(T) never crosses chi_c between 1 K and 1e5 K)")
    if ucst_m:
        q = np.percentile(ucst_m, [0, 50, 100]) - 273.15
        lines.append(f"  members' UCST: {len(ucst_m)}/{len(members)} have one; min {q[0]:,.0f} C, median {q[1]:,.0f} C, "
                     f"max {q[2]:,.0f} C")
    files = {}
    if odir is not None:
        files["table"] = write_table(table, odir / "phase.csv")
        files["plot"] = _plot(odir / "phase.png", table, mb, T, members, chi_c, summary)
        files["campaign"] = write_json({**summary, "files": dict(files)}, odir / "campaign.json")
        finish_out(od, "phase", summary, files)
        lines.append(f"wrote {odir}: phase.csv, phase.png, campaign.json")
    return PhaseResult(str(odir) if odir else "", table, summary, "\n".join(lines), files)


def _plot(path, table, mb, T, members, chi_c, summary) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from chiscreen.io import atomic_path

    Tc = T - 273.15
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for k, (lo, hi) in enumerate(mb):
        a1.plot(lo, Tc, color="0.7", lw=0.7, label="members' binodals" if k == 0 else None)
        a1.plot(hi, Tc, color="0.7", lw=0.7)
    a1.plot(table["binodal_lo"], Tc, "b-", lw=2, label="binodal (mean chi)")
    a1.plot(table["binodal_hi"], Tc, "b-", lw=2)
    a1.plot(table["spinodal_lo"], Tc, "r--", lw=1.5, label="spinodal (mean chi)")
    a1.plot(table["spinodal_hi"], Tc, "r--", lw=1.5)
    a1.axvline(summary["phi_c"], color="k", lw=0.6, ls=":")
    a1.set_xscale("log")
    a1.set_xlim(1e-12, 1)
    a1.set_xlabel("polymer volume fraction phi")
    a1.set_ylabel("T (C)")
    a1.set_title(f"two phases inside the curves (N = {summary['N']:,.0f})", fontsize=10)
    a1.legend(fontsize=7)
    for k, m in enumerate(members):
        a2.plot(Tc, m, color="0.7", lw=0.7, label="members" if k == 0 else None)
    a2.plot(Tc, table["chi_mean"], "b-", lw=2, label="mean")
    a2.fill_between(Tc, table["chi_mean"] - table["chi_std"], table["chi_mean"] + table["chi_std"], color="b",
                    alpha=0.15, label="+- calibrated std")
    a2.axhline(chi_c, color="k", ls=":", label=f"chi_c {chi_c:.3f}")
    a2.set_xlabel("T (C)")
    a2.set_ylabel("chi")
    a2.legend(fontsize=7)
    a2.set_title("chi(T)", fontsize=10)
    fig.suptitle(f"{summary['inputs']['polymer']} / {summary['inputs']['solvent_name']}", fontsize=11)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
    return str(path)

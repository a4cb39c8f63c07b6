"""Combinatorial polymer catalogs from monomer building blocks and polymerization rules.

Building blocks are CSV files (``name,smiles``) of real monomers in ``catalogs/building_blocks/``
(see catalogs/README.md). Each rule turns monomers into bivalent residues (SMILES with two
attachment points) by reacting their functional groups, then joins residues into a repeat unit:

==============  =========================================  ======================================
rule            building blocks                            repeat unit
==============  =========================================  ======================================
vinyl           vinyl_alpha x (vinyl_substituents +        ``*CC(*)(alpha)R``; R direct or built
                side_groups through 8 linkers)              from a side group g: C(=O)Og, Og,
                                                            OC(=O)g, C(=O)Ng, C(=O)OCCOg, COg,
                                                            4-g-phenyl, 4-gO-phenyl
polyester       diacids x diols                            ``*C(=O)-R-C(=O)O-R'-O*``
polyamide       diacids x diamines                         ``*C(=O)-R-C(=O)N-R'-N*``
polycarbonate   diols                                      ``*C(=O)O-R'-O*``
polyurethane    diisocyanates x diols                      ``*C(=O)NH-R-NHC(=O)O-R'-O*``
polyurea        diisocyanates x diamines                   ``*C(=O)NH-R-NHC(=O)N-R'-N*``
polyimide       dianhydrides x diamines (primary)          imide rings on both ends of R
==============  =========================================  ======================================

Functional groups are found with SMARTS (carboxylic acid, alcohol or phenol OH, primary or
secondary amine N-H, isocyanate, cyclic anhydride); a monomer without exactly two of its group
is rejected with a reason (reported, never silently dropped). Units are joined with RDKit's
``molzip`` (each residue parsed once; :mod:`chiscreen.chem.assemble`) and deduplicated by
:func:`chiscreen.chem.canonical_repeat_unit` identity; both run in worker processes that import
only RDKit and chiscreen.chem, over small chunks, with a progress bar (``chiscreen catalog
enumerate``: 10,505 units, 10,369 unique; ``python bench/enumerate_speed.py`` times it).

The shipped blocks give ~1.3 x 10^4 unique units; longer block lists scale as the products above.
"""
from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pandas as pd
from rdkit import Chem, rdBase

from chiscreen.catalogs.catalog import CORE_COLUMNS
from chiscreen.chem.assemble import build, build_chunk, join_smiles, vinyl_unit
from chiscreen.errors import InvalidInputError
from chiscreen.paths import project_root
from chiscreen.schema import CANONICAL, ID, NAME, REASON, SMILES, STATUS

RULES = ("vinyl", "polyester", "polyamide", "polycarbonate", "polyurethane", "polyurea", "polyimide")

BLOCK_FILES = {
    "diacids": "diacids.csv", "diols": "diols.csv", "diamines": "diamines.csv",
    "diisocyanates": "diisocyanates.csv", "dianhydrides": "dianhydrides.csv",
    "vinyl_substituents": "vinyl_substituents.csv", "vinyl_alpha": "vinyl_alpha.csv",
    "side_groups": "side_groups.csv",
}

# vinyl substituent families built from a side group g ([*:3] is g's attachment)
VINYL_LINKERS = {
    "ester": "[*:2]C(=O)O[*:3]",        # acrylates / methacrylates
    "ether": "[*:2]O[*:3]",             # vinyl ethers
    "vinyl ester": "[*:2]OC(=O)[*:3]",  # vinyl esters
    "amide": "[*:2]C(=O)N[*:3]",        # N-substituted acrylamides
    "glycol ester": "[*:2]C(=O)OCCO[*:3]",
    "allyl ether": "[*:2]CO[*:3]",
    "4-styryl": "[*:2]c1ccc([*:3])cc1",
    "4-alkoxystyryl": "[*:2]c1ccc(O[*:3])cc1",
}

_SMARTS = {
    "acid": "[CX3](=O)[OX2H1]",
    "hydroxyl": "[OX2H1][#6;!$([CX3]=[O,S,N])]",
    "amine": "[NX3;H2,H1;!$(N[C,S,P]=[O,S,N]);!$(N-[N,O])]",
    "primary_amine": "[NX3;H2;!$(N[C,S,P]=[O,S,N])]",
    "isocyanate": "[NX2]=[CX2]=[OX1]",
    "anhydride": "[#6X3;R](=O)[#8X2;R][#6X3;R](=O)",
}
_PATTERNS: dict[str, Chem.Mol] = {}


def _pattern(name: str) -> Chem.Mol:
    if name not in _PATTERNS:
        _PATTERNS[name] = Chem.MolFromSmarts(_SMARTS[name])
    return _PATTERNS[name]


@dataclass
class Residue:
    """A bivalent fragment: SMILES with two dummy atoms, the first and second attachment."""

    name: str
    smiles: str


@dataclass
class EnumerationReport:
    generated: int = 0
    invalid: int = 0
    duplicate: int = 0
    unique: int = 0
    per_rule: dict[str, int] = field(default_factory=dict)
    rejected_blocks: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        rules = ", ".join(f"{k} {v}" for k, v in self.per_rule.items())
        s = (f"{self.generated} units generated: {self.unique} unique valid, {self.duplicate} duplicates, "
             f"{self.invalid} invalid ({rules})")
        if self.rejected_blocks:
            s += f"; {len(self.rejected_blocks)} building block(s) rejected"
        return s

    def to_dict(self) -> dict:
        return {"generated": self.generated, "unique": self.unique, "duplicate": self.duplicate,
                "invalid": self.invalid, "per_rule": self.per_rule, "rejected_blocks": self.rejected_blocks}


# ------------------------------------------------------------------ residues
def _mol(smiles: str, what: str) -> Chem.Mol:
    with rdBase.BlockLogs():
        m = Chem.MolFromSmiles(smiles)
    if m is None:
        raise InvalidInputError(f"{what}: invalid SMILES {smiles!r}")
    Chem.Kekulize(m, clearAromaticFlags=True)  # edits below must not break aromatic flags
    return m


def _finish(rw: Chem.RWMol, what: str) -> str:
    m = rw.GetMol()
    try:
        with rdBase.BlockLogs():
            Chem.SanitizeMol(m)
    except Exception as exc:
        raise InvalidInputError(f"{what}: cannot form residue ({exc})") from None
    return Chem.MolToSmiles(m)


def _two(mol: Chem.Mol, group: str, what: str) -> list[tuple[int, ...]]:
    hits = mol.GetSubstructMatches(_pattern(group), uniquify=True)
    if len(hits) != 2:
        raise InvalidInputError(f"{what}: found {len(hits)} {group} group(s), expected exactly 2")
    return sorted(hits)


def _add_dummy(rw: Chem.RWMol, atom: int) -> None:
    a = rw.GetAtomWithIdx(atom)
    d = rw.AddAtom(Chem.Atom(0))
    rw.AddBond(atom, d, Chem.BondType.SINGLE)
    if a.GetNumExplicitHs():
        a.SetNumExplicitHs(a.GetNumExplicitHs() - 1)
    a.SetNoImplicit(False)


def acyl_residue(name: str, smiles: str) -> Residue:
    """Diacid -> ``*C(=O)-R-C(=O)*`` (the acid OH becomes the attachment)."""
    what = f"diacid {name!r}"
    m = _mol(smiles, what)
    rw = Chem.RWMol(m)
    for _, _, oh in _two(m, "acid", what):
        a = rw.GetAtomWithIdx(oh)
        a.SetAtomicNum(0)
        a.SetNoImplicit(True)
        a.SetNumExplicitHs(0)
    return Residue(name, _finish(rw, what))


def _xh_residue(name: str, smiles: str, group: str, kind: str) -> Residue:
    what = f"{kind} {name!r}"
    m = _mol(smiles, what)
    rw = Chem.RWMol(m)
    for hit in _two(m, group, what):
        _add_dummy(rw, hit[0])
    return Residue(name, _finish(rw, what))


def oxy_residue(name: str, smiles: str) -> Residue:
    """Diol or bisphenol -> ``*O-R-O*``."""
    return _xh_residue(name, smiles, "hydroxyl", "diol")


def amino_residue(name: str, smiles: str) -> Residue:
    """Diamine (primary or secondary N-H) -> ``*N-R-N*``."""
    return _xh_residue(name, smiles, "amine", "diamine")


def carbamoyl_residue(name: str, smiles: str) -> Residue:
    """Diisocyanate -> ``*C(=O)NH-R-NHC(=O)*``."""
    what = f"diisocyanate {name!r}"
    m = _mol(smiles, what)
    rw = Chem.RWMol(m)
    for n, c, _ in _two(m, "isocyanate", what):
        rw.GetBondBetweenAtoms(n, c).SetBondType(Chem.BondType.SINGLE)
        rw.GetAtomWithIdx(n).SetNoImplicit(False)
        rw.GetAtomWithIdx(c).SetNoImplicit(False)
        _add_dummy(rw, c)
    return Residue(name, _finish(rw, what))


def imide_residue(name: str, smiles: str) -> Residue:
    """Dianhydride -> bis-imide with the imide N atoms as attachments."""
    what = f"dianhydride {name!r}"
    m = _mol(smiles, what)
    rw = Chem.RWMol(m)
    for _, _, o, _, _ in _two(m, "anhydride", what):
        a = rw.GetAtomWithIdx(o)
        a.SetAtomicNum(7)
        a.SetNoImplicit(False)
        _add_dummy(rw, o)
    return Residue(name, _finish(rw, what))


def amine_core_residue(name: str, smiles: str) -> Residue:
    """Primary diamine -> ``*-R-*`` (the N atoms go into imide rings)."""
    what = f"diamine {name!r}"
    m = _mol(smiles, what)
    rw = Chem.RWMol(m)
    for (n,) in _two(m, "primary_amine", what + " (polyimides need primary amines)"):
        a = rw.GetAtomWithIdx(n)
        a.SetAtomicNum(0)
        a.SetNoImplicit(True)
        a.SetNumExplicitHs(0)
    return Residue(name, _finish(rw, what))


CARBONYL = Residue("carbonate", "*C(*)=O")


def join(a: Residue, b: Residue) -> str:
    """Repeat unit a-b: a's second attachment bonded to b's first; the other two stay '*'."""
    return join_smiles(a.smiles, b.smiles)


_build_chunk = build_chunk  # the worker (in the chem layer: workers import no pandas)


def linked_substituent(linker: str, group: str) -> str:
    """A substituent ``*-linker-group`` from a linker with [*:2]/[*:3] and a group with one '*'."""
    with rdBase.BlockLogs():
        z = Chem.molzip(Chem.MolFromSmiles(linker), Chem.MolFromSmiles(group.replace("*", "[*:3]", 1)))
    s = Chem.MolToSmiles(z)
    return s.replace("[*:2]", "*")


# ------------------------------------------------------------------ building blocks
def default_blocks_dir() -> Path:
    for base in (Path.cwd(), project_root()):
        if base is not None and (base / "catalogs" / "building_blocks").is_dir():
            return base / "catalogs" / "building_blocks"
    raise InvalidInputError("catalogs/building_blocks not found beside the working directory or the project")


def read_blocks(directory: str | Path | None = None) -> dict[str, list[tuple[str, str]]]:
    """name -> [(monomer name, SMILES)] for every building-block file present."""
    d = Path(directory) if directory is not None else default_blocks_dir()
    if not d.is_dir():
        raise InvalidInputError(f"building-block folder {d} does not exist")
    out: dict[str, list[tuple[str, str]]] = {}
    for key, fname in BLOCK_FILES.items():
        p = d / fname
        if not p.is_file():
            out[key] = []
            continue
        df = pd.read_csv(p)
        if not {"name", "smiles"} <= set(df.columns):
            raise InvalidInputError(f"{p}: expected columns name,smiles; got {list(df.columns)}")
        out[key] = [(str(n), str(s)) for n, s in zip(df["name"], df["smiles"])]
    return out


def _residues(items, fn, report: EnumerationReport) -> list[Residue]:
    res = []
    for name, smi in items:
        try:
            res.append(fn(name, smi))
        except InvalidInputError as exc:
            report.rejected_blocks.append(str(exc))
    return res


def plan(blocks: dict[str, list[tuple[str, str]]], rules: tuple[str, ...] = RULES,
         report: EnumerationReport | None = None) -> Iterator[tuple[str, str, str, str, str]]:
    """Yield (rule, name, op, a, b) for every combination, in generation order, without
    building any unit: ``op`` is "join" (a, b: residue SMILES, see :func:`join_smiles`) or
    "vinyl" (a: alpha fragment, b: substituent, see :func:`vinyl_unit`); :func:`build` makes
    the SMILES. Rejected building blocks are listed in ``report``."""
    report = report if report is not None else EnumerationReport()
    unknown = [r for r in rules if r not in RULES]
    if unknown:
        raise InvalidInputError(f"unknown polymerization rule(s) {unknown}; expected some of {list(RULES)}")
    need = set(rules)
    acyl = _residues(blocks["diacids"], acyl_residue, report) if need & {"polyester", "polyamide"} else []
    oxy = _residues(blocks["diols"], oxy_residue, report) if need & {"polyester", "polycarbonate", "polyurethane"} else []
    amino = _residues(blocks["diamines"], amino_residue, report) if need & {"polyamide", "polyurea"} else []
    carb = _residues(blocks["diisocyanates"], carbamoyl_residue, report) if need & {"polyurethane", "polyurea"} else []
    imide = _residues(blocks["dianhydrides"], imide_residue, report) if "polyimide" in need else []
    core = _residues(blocks["diamines"], amine_core_residue, report) if "polyimide" in need else []
    if "vinyl" in rules:
        subs = [(n, s) for n, s in blocks["vinyl_substituents"]]
        for (gn, gs), (ln, lk) in itertools.product(blocks["side_groups"], VINYL_LINKERS.items()):
            subs.append((f"{gn} {ln}", linked_substituent(lk, gs)))
        for (an, a), (sn, s) in itertools.product(blocks["vinyl_alpha"], subs):
            label = f"poly(vinyl {sn})" if an == "hydrogen" else f"poly(alpha-{an} vinyl {sn})"
            yield "vinyl", label, "vinyl", a, s
    pairs = [
        ("polyester", acyl, oxy, "poly({b}-{a})"),
        ("polyamide", acyl, amino, "polyamide({b}-{a})"),
        ("polyurethane", carb, oxy, "polyurethane({a}-{b})"),
        ("polyurea", carb, amino, "polyurea({a}-{b})"),
        ("polyimide", imide, core, "polyimide({a}-{b})"),
    ]
    for rule, A, B, fmt in pairs:
        if rule not in rules:
            continue
        for a, b in itertools.product(A, B):
            yield rule, fmt.format(a=a.name, b=b.name), "join", a.smiles, b.smiles
    if "polycarbonate" in rules:
        for b in oxy:
            yield "polycarbonate", f"poly({b.name} carbonate)", "join", CARBONYL.smiles, b.smiles


def generate(blocks: dict[str, list[tuple[str, str]]], rules: tuple[str, ...] = RULES,
             report: EnumerationReport | None = None) -> Iterator[tuple[str, str, str]]:
    """Yield (rule, name, SMILES) for every combination (before canonicalization)."""
    for rule, name, op, a, b in plan(blocks, rules, report):
        yield rule, name, build(op, a, b)


def _build_all(items: list[tuple[str, str, str]], n_jobs: int, progress: bool,
               chunk: int = 64, timeout_s: float | None = 600.0) -> list[tuple[str, str | None]]:
    """Build and canonicalise every item, in order: ``n_jobs`` workers of the runtime's supervised
    pool share the chunks (a chunk is ~0.1-0.5 s of work, so a slow rule at the end does not leave
    a core idle); a chunk whose worker crashes or passes ``timeout_s`` gives its units no identity
    (counted invalid), the others carry on."""
    from chiscreen.runtime import SupervisedPool, bar as progress_bar

    chunks = [items[i:i + chunk] for i in range(0, len(items), chunk)]
    bar = progress_bar(len(items), "enumerate units", progress, unit="unit")
    res: list[list[tuple[str, str | None]] | None] = [None] * len(chunks)
    try:
        if n_jobs > 1 and len(chunks) > 1:
            pool = SupervisedPool("chiscreen.chem.assemble:build_chunk", workers=min(n_jobs, len(chunks)), timeout_s=timeout_s)
            for o in pool.imap_unordered(chunks):
                c = chunks[o.index]
                res[o.index] = o.value if o.ok else [(f"!{o.kind}: {o.reason}", None)] * len(c)
                bar.update(len(c))
        else:
            for k, c in enumerate(chunks):
                res[k] = build_chunk(c)
                bar.update(len(c))
    finally:
        bar.close()
    return [r for part in res for r in part]  # type: ignore[union-attr]


def enumerate_polymers(blocks_dir: str | Path | None = None, rules: tuple[str, ...] = RULES, n_jobs: int = 2,
                       limit: int | None = None, progress: bool = True) -> tuple[pd.DataFrame, EnumerationReport]:
    """Enumerate, canonicalize (in ``n_jobs`` processes) and deduplicate repeat units.

    Units are built and canonicalised in the worker processes (building is ~0.1 ms, the
    canonical identity ~2-3 ms per unit). Returns a catalog (id, name, smiles, canonical,
    status="ok", reason="", rule) of unique valid units, in generation order (the first of
    several units with one identity is kept), and an :class:`EnumerationReport` with the counts.
    """
    report = EnumerationReport()
    blocks = read_blocks(blocks_dir)
    rows = list(itertools.islice(plan(blocks, tuple(rules), report), limit))
    report.generated = len(rows)
    built = _build_all([(op, a, b) for _, _, op, a, b in rows], n_jobs=n_jobs, progress=progress)
    seen: set[str] = set()
    out = []
    for (rule, name, *_), (smi, can) in zip(rows, built):
        if can is None:
            report.invalid += 1
            continue
        if can in seen:
            report.duplicate += 1
            continue
        seen.add(can)
        out.append((name, smi, can, rule))
        report.per_rule[rule] = report.per_rule.get(rule, 0) + 1
    report.unique = len(out)
    df = pd.DataFrame(out, columns=[NAME, SMILES, CANONICAL, "rule"])
    df.insert(0, ID, range(len(df)))
    df[STATUS] = "ok"
    df[REASON] = ""
    df = df[CORE_COLUMNS + ["rule"]]
    if progress:
        print(f"enumerate: {report}", file=sys.stderr)
    return df, report

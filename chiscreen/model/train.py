"""Training the multitask deep ensemble.

    cfg = load_config("configs/train-default.yaml", TrainConfig)
    result = train_ensemble(cfg)              # featurizes (cached) and trains
    result.ensemble.save("runs/default")

All members train together in one stacked network (see :mod:`chiscreen.model.network`); each
member has its own initialisation, its own mini-batch stream and its own validation split
(grouped by polymer-solvent pair, per task), and early-stops on its own validation loss (the
best weights per member are kept). Deterministic for a seed on a given device.

Loss per member: a1 * BCE(soluble) + (1 - a1) * (a2 * MSE(chi_comp) + (1 - a2) * MSE(chi_exp)),
MSEs on standardised targets; chi_scaled = a + b (T_ref / T) (+ c (T_ref / T)^2).
"""
from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.model_selection import GroupShuffleSplit

from chiscreen.errors import InvalidInputError
from chiscreen.model.config import TrainConfig
from chiscreen.model.data import TaskRows, TrainingData, load_training_data
from chiscreen.model.ensemble import ChiEnsemble, output_names, resolve_device
from chiscreen.model.network import StackedChiNet, seeds_for
from chiscreen.model.scaling import DescriptorScaler


@dataclass
class TrainResult:
    """What :func:`train_ensemble` returns.

    Attributes:
        ensemble: the trained ChiEnsemble.
        history: per evaluation: step, mean validation loss over members.
        best_steps: per member, the step of its best validation loss.
        seconds: training wall time (featurization excluded).
        val_predictions: per task, out-of-member validation predictions (row, member, pred).
    """

    ensemble: ChiEnsemble
    history: list[dict] = field(default_factory=list)
    best_steps: list[int] = field(default_factory=list)
    seconds: float = 0.0
    val_loss: list[float] = field(default_factory=list)


def _task_weights(cfg: TrainConfig, present: list[str]) -> dict[str, float]:
    a1, a2 = cfg.loss.a1, cfg.loss.a2
    w = {"soluble": a1, "chi_comp": (1 - a1) * a2, "chi_exp": (1 - a1) * (1 - a2)}
    return {t: w[t] for t in present if w[t] > 0}


def _member_splits(rows: TaskRows, n_members: int, seeds: list[int], frac: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    tr, va = [], []
    n_groups = len(np.unique(rows.groups))
    for e in range(n_members):
        if n_groups < 5:
            tr.append(np.arange(len(rows)))
            va.append(np.arange(len(rows)))
            continue
        gss = GroupShuffleSplit(n_splits=1, test_size=frac, random_state=seeds[e] % (2**31 - 1))
        a, b = next(gss.split(np.zeros(len(rows)), groups=rows.groups))
        tr.append(a)
        va.append(b)
    return tr, va


def _padded(idx_list: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    n = max(len(i) for i in idx_list)
    pad = np.zeros((len(idx_list), n), dtype=np.int64)
    for e, i in enumerate(idx_list):
        pad[e, : len(i)] = i
    return torch.from_numpy(pad), torch.tensor([len(i) for i in idx_list], dtype=torch.float64)


def train_ensemble(cfg: TrainConfig, data: TrainingData | None = None, log: Callable[[str], None] | None = None,
                   progress: bool = True) -> TrainResult:
    """Train an ensemble as ``cfg`` says. ``data`` defaults to :func:`load_training_data` of ``cfg.data``."""
    log = log or (lambda m: print(m, file=sys.stderr))
    if data is None:
        data = load_training_data(cfg.data, progress=progress)
    torch.set_num_threads(max(1, cfg.threads))
    device = resolve_device(cfg.device)
    E = cfg.n_members
    mc = cfg.model
    outs = output_names(mc.use_c_term)
    seeds = seeds_for(cfg.seed, E)
    t0 = time.perf_counter()

    tasks = {t: r for t, r in data.tasks.items() if t in cfg.data.tasks and len(r)}
    weights = _task_weights(cfg, list(tasks))
    tasks = {t: r for t, r in tasks.items() if t in weights}
    if not tasks:
        raise InvalidInputError(f"nothing to train: tasks {list(data.tasks)} with loss weights a1={cfg.loss.a1}, a2={cfg.loss.a2}")

    # molecules used by the training rows -> scalers
    used_p = np.unique(np.concatenate([r.pi for r in tasks.values()]))
    used_s = np.unique(np.concatenate([r.si for r in tasks.values()]))
    sp = DescriptorScaler.fit(data.Xp[used_p], clip=mc.clip)
    ss = DescriptorScaler.fit(data.Xs[used_s], clip=mc.clip)
    Xp = torch.from_numpy(sp.transform(data.Xp)).to(device)
    Xs = torch.from_numpy(ss.transform(data.Xs)).to(device)

    # target scaling
    target_scaling = {}
    for t in ("chi_exp", "chi_comp"):
        if t in tasks:
            y = tasks[t].y
            target_scaling[t] = {"mean": float(np.mean(y)), "std": float(np.std(y) if np.std(y) > 1e-8 else 1.0)}

    net = StackedChiNet(E, sp.n_out, ss.n_out, mc.d, len(outs), mc.n_hidden, mc.hidden_widths, mc.activation)
    net.reset(seeds)
    net.to(device)

    # per-task tensors, member splits
    T_ref = mc.t_ref_K
    tt = {}
    for t, r in tasks.items():
        tr, va = _member_splits(r, E, [s + 17 * (i + 1) for i, s in enumerate(seeds)], cfg.optim.val_fraction)
        y = r.y.astype(np.float64)
        if t in target_scaling:
            y = (y - target_scaling[t]["mean"]) / target_scaling[t]["std"]
        pad, cnt = _padded(tr)
        vmask = np.zeros((E, len(r)), dtype=bool)
        for e, v in enumerate(va):
            vmask[e, v] = True
        tt[t] = {
            "pi": torch.from_numpy(r.pi.astype(np.int64)).to(device),
            "si": torch.from_numpy(r.si.astype(np.int64)).to(device),
            "tr": torch.from_numpy(T_ref / r.T).float().to(device),
            "y": torch.from_numpy(y).float().to(device),
            "pad": pad.to(device), "cnt": cnt.to(device),
            "vmask": torch.from_numpy(vmask).to(device),
            "B": int(cfg.optim.batch_sizes.get(t, 32)),
        }
    kA = {t: (outs.index("A_exp" if t == "chi_exp" else "A_comp"), outs.index("B_exp" if t == "chi_exp" else "B_comp"),
              outs.index("C_exp" if t == "chi_exp" else "C_comp") if mc.use_c_term else None) for t in ("chi_exp", "chi_comp")}

    def task_loss(t: str, raw: torch.Tensor, d: dict, idx: torch.Tensor | None) -> torch.Tensor:
        """Per-member, per-row loss (E, N)."""
        y = d["y"] if idx is None else d["y"][idx]
        if t == "soluble":
            return F.binary_cross_entropy_with_logits(raw[..., 0], y.expand_as(raw[..., 0]), reduction="none")
        a, b, c = kA[t]
        r = d["tr"] if idx is None else d["tr"][idx]
        pred = raw[..., a] + raw[..., b] * r
        if c is not None:
            pred = pred + raw[..., c] * r * r
        return (pred - y) ** 2

    opt = torch.optim.Adam(net.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay, amsgrad=cfg.optim.amsgrad)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, cfg.optim.lr_step), gamma=cfg.optim.lr_gamma)
    gen = torch.Generator(device="cpu").manual_seed(int(cfg.seed) + 12345)

    params = dict(net.named_parameters())
    best = {k: v.detach().clone() for k, v in params.items()}
    best_loss = torch.full((E,), float("inf"), dtype=torch.float64)
    best_step = [0] * E
    bad = torch.zeros(E, dtype=torch.int64)
    history = []

    @torch.no_grad()
    def validate() -> torch.Tensor:
        net.eval()
        Up = net.tower_p(Xp)
        Us = net.tower_s(Xs)
        tot = torch.zeros(E, dtype=torch.float64, device=device)
        for t, d in tt.items():
            raw = net.raw_head(Up[:, d["pi"]], Us[:, d["si"]])
            l = task_loss(t, raw, d, None).double()
            m = d["vmask"]
            tot += weights[t] * (l * m).sum(1) / m.sum(1).clamp(min=1)
        net.train()
        return tot.cpu()

    names = list(tt)
    net.train()
    step = 0
    for step in range(1, cfg.optim.max_steps + 1):
        idxs = []
        for t in names:
            d = tt[t]
            u = torch.rand(E, d["B"], generator=gen, dtype=torch.float64).to(device)
            pos = (u * d["cnt"][:, None]).long()
            idxs.append(torch.gather(d["pad"], 1, pos))          # (E, B)
        pis = torch.cat([tt[t]["pi"][i] for t, i in zip(names, idxs)], 1)
        sis = torch.cat([tt[t]["si"][i] for t, i in zip(names, idxs)], 1)
        Up = net.tower_p(Xp[pis])
        Us = net.tower_s(Xs[sis])
        raw = net.raw_head(Up, Us)
        loss = 0.0
        off = 0
        for t, i in zip(names, idxs):
            B = i.shape[1]
            loss = loss + weights[t] * task_loss(t, raw[:, off:off + B], tt[t], i).mean(1).sum()
            off += B
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % cfg.optim.eval_every == 0 or step == cfg.optim.max_steps:
            vl = validate()
            improved = vl < best_loss - 1e-6
            if improved.any():
                with torch.no_grad():
                    for k, v in params.items():
                        best[k][improved.to(device)] = v.detach()[improved.to(device)]
                for e in torch.nonzero(improved).flatten().tolist():
                    best_step[e] = step
            best_loss = torch.where(improved, vl, best_loss)
            bad = torch.where(improved, torch.zeros_like(bad), bad + 1)
            history.append({"step": step, "val_loss": float(vl.mean()), "lr": float(sched.get_last_lr()[0])})
            if bool((bad >= cfg.optim.patience).all()):
                break
    with torch.no_grad():
        for k, v in params.items():
            v.copy_(best[k])
    # physical output units
    scale = torch.ones(len(outs), dtype=torch.float32)
    shift = torch.zeros(len(outs), dtype=torch.float32)
    for t, ts in target_scaling.items():
        a, b, c = kA[t]
        scale[a], shift[a] = ts["std"], ts["mean"]
        scale[b] = ts["std"] * T_ref
        if c is not None:
            scale[c] = ts["std"] * T_ref ** 2
    net.out_scale.copy_(scale.to(device))
    net.out_shift.copy_(shift.to(device))
    net.eval()
    seconds = time.perf_counter() - t0
    ens = ChiEnsemble(
        net.cpu(), sp, ss, data.featurizer, data.featurizer_version, data.representation, mc,
        target_scaling=target_scaling, training_data_hash=data.hash(), train_config=asdict(cfg),
        feature_names_polymer=list(data.feature_names), feature_names_solvent=list(data.feature_names),
    )
    ens.to(device if cfg.device != "auto" else "cpu")
    log(f"trained {E} members in {seconds:.1f} s ({step} steps; best steps {min(best_step)}-{max(best_step)}; "
        f"rows {data.counts()}; device {device}, {torch.get_num_threads()} thread(s))")
    return TrainResult(ens, history, best_step, seconds, best_loss.tolist())


@dataclass
class TrainAndSaveResult:
    ensemble: ChiEnsemble
    seconds: float
    featurize_seconds: float
    calibration: dict
    path: str


def calibrate_std(cfg: TrainConfig, data: TrainingData, log: Callable[[str], None]) -> dict:
    """Fit std_scale on grouped held-out folds (see CalibrationConfig). Returns a dict with
    'std_scale' and the raw held-out uncertainty metrics."""
    from chiscreen.data.splits import grouped_kfold
    from chiscreen.model.evaluate import ensemble_predict_rows, uncertainty_metrics

    cal = cfg.calibration
    if cal.by == "none":
        return {"std_scale": {"chi_exp": 1.0, "chi_comp": 1.0}, "by": "none"}
    t = data.table
    key_all = (t["polymer_key"] if cal.by == "polymer" else t["polymer_key"] + "_" + t["solvent_key"]).to_numpy()
    out = {"by": cal.by, "n_splits": cal.n_splits, "use_folds": cal.use_folds, "std_scale": {}}
    preds = {task: [] for task in ("chi_exp", "chi_comp") if task in data.tasks}
    lab = t[t["chi"].notna() | t["chi_computed"].notna()].reset_index()
    folds = list(grouped_kfold(lab, by="polymer" if cal.by == "polymer" else "pair", n_splits=cal.n_splits, seed=cfg.seed))
    for k, (_, te) in enumerate(folds[: cal.use_folds]):
        held = set(key_all[lab["index"].to_numpy()[te]])
        keep = ~np.isin(key_all, list(held))
        res = train_ensemble(cfg, data.subset_rows(keep), log=log, progress=False)
        for task in preds:
            r = data.tasks[task]
            rows = r.row[~keep[r.row]]
            if len(rows):
                preds[task].append(ensemble_predict_rows(res.ensemble, data, rows, task))
    for task, ps in preds.items():
        if not ps:
            continue
        p = pd.concat(ps, ignore_index=True)
        um = uncertainty_metrics(p["y"], p["pred"], p["std"])
        out[f"{task}_heldout_raw"] = um
        out["std_scale"][task] = float(max(um.get("scale_68", 1.0), 1e-3))
        log(f"calibration ({cal.by}-grouped, {len(p)} held-out {task} rows): raw coverage 1sd {um.get('coverage_1sd', float('nan')):.2f}, "
            f"2sd {um.get('coverage_2sd', float('nan')):.2f} -> std_scale {out['std_scale'][task]:.2f}")
    return out


def train_and_save(cfg: TrainConfig, out, progress: bool = True, log: Callable[[str], None] | None = None) -> TrainAndSaveResult:
    """Featurize, calibrate (optional), train on all rows and write the artifact to ``out``."""
    from pathlib import Path

    log = log or (lambda m: print(m, file=sys.stderr))
    t0 = time.perf_counter()
    data = load_training_data(cfg.data, progress=progress)
    tf = time.perf_counter() - t0
    log(f"training data: {data.counts()} rows, {len(data.polymer_keys)} polymers, {len(data.solvent_keys)} solvents "
        f"({data.featurizer} v{data.featurizer_version}, {data.representation}); featurized in {tf:.1f} s")
    tc = time.perf_counter()
    cal = calibrate_std(cfg, data, log)
    cal["seconds"] = time.perf_counter() - tc
    res = train_ensemble(cfg, data, log=log, progress=progress)
    ens = res.ensemble
    ens.std_scale = {"chi_exp": 1.0, "chi_comp": 1.0, **cal.get("std_scale", {})}
    ens.invalidate_hash()
    metrics = {"train_seconds": res.seconds, "featurize_seconds": tf, "best_steps": res.best_steps,
               "val_loss_per_member": res.val_loss, "rows": data.counts(), "calibration": cal,
               "n_polymers": len(data.polymer_keys), "n_solvents": len(data.solvent_keys),
               "dropped_rows": 0 if data.dropped is None else int(len(data.dropped))}
    ens.save(Path(out), metrics=metrics)
    ens.source = str(out)
    return TrainAndSaveResult(ens, res.seconds, tf, cal, str(out))

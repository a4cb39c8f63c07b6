"""Training the multitask deep ensemble, in steps that a retraining loop can reuse.

    cfg = load_config("configs/train-default.yaml", TrainConfig)
    result = train_ensemble(cfg)                              # featurizes (cached) and trains
    save_artifact(result.ensemble, "runs/default")            # chiscreen.model.artifact

    # retrain: in-memory labels, warm start from an artifact, descriptor scalers kept
    old = load_ensemble("runs/default")
    result = train_ensemble(cfg, labels=label_df, init=old, scalers="keep")

Steps (each a function): :func:`fit_scalers` (descriptor scalers on the molecules of the
training rows, or the init model's), :func:`fit_target_scaling`, :func:`pack_tasks` (per-task
tensors and per-member validation splits), :func:`warm_start` (copy an existing ensemble's
weights; head rows of new outputs keep their fresh initialisation), :func:`fit` (the loop with
:class:`EarlyStopping` per member), :func:`to_physical_units` (head in physical units).

All members train together in one stacked network (see :mod:`chiscreen.model.network`); each
member has its own initialisation, its own mini-batch stream and its own validation split
(grouped by polymer-solvent pair, per task), and early-stops on its own validation loss (the
best weights per member are kept). Deterministic for a seed on a given device.

Loss per member: sum over tasks of weight[task] * loss[task] (``LossConfig.task_weights``;
BCE for binary tasks, MSE on standardised targets for chi tasks, chi_scaled = a + b (T_ref / T)
(+ c (T_ref / T)^2)). Std calibration: :mod:`chiscreen.model.calibration`.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Literal

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.model_selection import GroupShuffleSplit

import chiscreen.model.tasks as _tasks
from chiscreen.errors import InvalidInputError
from chiscreen.model.config import TrainConfig
from chiscreen.model.data import TaskRows, TrainingData, load_training_data, training_data_from_table
from chiscreen.model.ensemble import ChiEnsemble, resolve_device
from chiscreen.model.network import StackedChiNet, seeds_for
from chiscreen.model.scaling import DescriptorScaler

log = logging.getLogger("chiscreen.model")


@dataclass
class TrainResult:
    """What :func:`train_ensemble` returns.

    Attributes:
        ensemble: the trained ChiEnsemble.
        history: per evaluation: step, mean validation loss over members, learning rate.
        best_steps: per member, the step of its best validation loss.
        seconds: training wall time (featurization excluded).
        val_loss: per member, its best validation loss.
        initial_val_loss: per member, the validation loss before the first step (a warm start
            begins lower than a cold one).
        initial_task_loss: per task, the unweighted validation loss before the first step
            (mean over members).
    """

    ensemble: ChiEnsemble
    history: list[dict] = field(default_factory=list)
    best_steps: list[int] = field(default_factory=list)
    seconds: float = 0.0
    val_loss: list[float] = field(default_factory=list)
    initial_val_loss: list[float] = field(default_factory=list)
    initial_task_loss: dict[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------ steps
def select_tasks(cfg: TrainConfig, data: TrainingData) -> tuple[dict[str, TaskRows], dict[str, float]]:
    """Tasks to train (listed in ``cfg.data.tasks``, with rows, weight > 0) and their weights."""
    tasks = {t: r for t, r in data.tasks.items() if t in cfg.data.tasks and len(r)}
    w = cfg.loss.task_weights(list(tasks))
    weights = {t: v for t, v in w.items() if v > 0}
    tasks = {t: r for t, r in tasks.items() if t in weights}
    if not tasks:
        raise InvalidInputError(f"nothing to train: tasks {list(data.tasks)} with loss weights {w}")
    return tasks, weights


def fit_scalers(data: TrainingData, tasks: dict[str, TaskRows], clip: float) -> tuple[DescriptorScaler, DescriptorScaler]:
    """Descriptor scalers fitted on the molecules the training rows use."""
    used_p = np.unique(np.concatenate([r.pi for r in tasks.values()]))
    used_s = np.unique(np.concatenate([r.si for r in tasks.values()]))
    return DescriptorScaler.fit(data.Xp[used_p], clip=clip), DescriptorScaler.fit(data.Xs[used_s], clip=clip)


def fit_target_scaling(tasks: dict[str, TaskRows], keep: dict[str, dict[str, float]] | None = None) -> dict[str, dict[str, float]]:
    """Mean and std of every chi task's training targets; tasks in ``keep`` (a warm start's
    scaling, which its copied head weights are in) keep theirs."""
    out = {}
    for t, r in tasks.items():
        if not _tasks.get_task(t).is_chi:
            continue
        if keep and t in keep:
            out[t] = dict(keep[t])
            continue
        y = r.y
        out[t] = {"mean": float(np.mean(y)), "std": float(np.std(y) if np.std(y) > 1e-8 else 1.0)}
    return out


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


@dataclass
class PackedTask:
    """One task's rows as tensors on the training device.

    pi, si: (N,) molecule rows; tr: (N,) T_ref / T; y: (N,) (standardised for chi tasks);
    pad, cnt: per-member training row indices (E, n_max) and counts (E,); vmask: (E, N)
    validation rows per member; B: mini-batch size; cols: head columns (a, b, c|None) of a chi
    task or (logit,) of a binary one."""

    spec: _tasks.TaskSpec
    pi: torch.Tensor
    si: torch.Tensor
    tr: torch.Tensor
    y: torch.Tensor
    pad: torch.Tensor
    cnt: torch.Tensor
    vmask: torch.Tensor
    B: int
    cols: tuple
    x: torch.Tensor | None = None


def pack_tasks(cfg: TrainConfig, tasks: dict[str, TaskRows], target_scaling: dict, outputs: list[str],
               seeds: list[int], device: torch.device, pair_x: np.ndarray | None = None) -> dict[str, PackedTask]:
    """Per-task tensors and per-member (grouped by pair) validation splits; ``pair_x``
    (len(table), m): per-row pair inputs, gathered per task (opt-in)."""
    E = cfg.n_members
    T_ref = cfg.model.t_ref_K
    out = {}
    for t, r in tasks.items():
        spec = _tasks.get_task(t)
        tr, va = _member_splits(r, E, [s + 17 * (i + 1) for i, s in enumerate(seeds)], cfg.optim.val_fraction)
        y = r.y.astype(np.float64)
        if t in target_scaling:
            y = (y - target_scaling[t]["mean"]) / target_scaling[t]["std"]
        pad, cnt = _padded(tr)
        vmask = np.zeros((E, len(r)), dtype=bool)
        for e, v in enumerate(va):
            vmask[e, v] = True
        if spec.is_chi:
            a, b, c = spec.chi_outputs(cfg.model.use_c_term)
            cols = (outputs.index(a), outputs.index(b), outputs.index(c) if c is not None else None)
        else:
            cols = (outputs.index(spec.outputs[0]),)
        out[t] = PackedTask(
            spec=spec,
            pi=torch.from_numpy(r.pi.astype(np.int64)).to(device),
            si=torch.from_numpy(r.si.astype(np.int64)).to(device),
            tr=torch.from_numpy(T_ref / r.T).float().to(device),
            y=torch.from_numpy(y).float().to(device),
            pad=pad.to(device), cnt=cnt.to(device),
            vmask=torch.from_numpy(vmask).to(device),
            B=cfg.optim.batch_size(t), cols=cols,
            x=None if pair_x is None else torch.from_numpy(np.asarray(pair_x, np.float32)[r.row]).to(device),
        )
    return out


def task_loss(d: PackedTask, raw: torch.Tensor, idx: torch.Tensor | None) -> torch.Tensor:
    """Per-member, per-row loss (E, N) of raw head outputs (E, N, K) on rows ``idx`` (None: all)."""
    y = d.y if idx is None else d.y[idx]
    if d.spec.loss == "bce":
        z = raw[..., d.cols[0]]
        return F.binary_cross_entropy_with_logits(z, y.expand_as(z), reduction="none")
    a, b, c = d.cols
    r = d.tr if idx is None else d.tr[idx]
    pred = raw[..., a] + raw[..., b] * r
    if c is not None:
        pred = pred + raw[..., c] * r * r
    return (pred - y) ** 2


def warm_start(net: StackedChiNet, init: ChiEnsemble, outputs: list[str], same_scalers: bool) -> dict:
    """Copy ``init``'s weights into ``net`` (freshly initialised): towers whole, head columns by
    output name. Head columns of outputs ``init`` lacks start at zero weight and bias (a new chi
    head predicts its training mean, a new logit 0.5, until trained; random columns on trained
    latents start far off). Member e starts from init member e mod E_init. Returns what was
    copied (for the log)."""
    old = init.net
    old_out = init.outputs
    for name, tower in (("polymer", "tower_p"), ("solvent", "tower_s")):
        a, b = getattr(net, tower).widths, getattr(old, tower).widths
        if a != b:
            hint = (" (refitted descriptor scalers keep other columns: use scalers='keep')" if not same_scalers
                    and a[1:] == b[1:] else "")
            raise InvalidInputError(f"warm start: {name} tower widths {a} differ from the init model's {b}{hint}")
    if not same_scalers:
        log.warning("warm start with refitted descriptor scalers: the copied towers see rescaled inputs "
                    "(scalers='keep' keeps them consistent)")
    if net.d != old.d:
        raise InvalidInputError(f"warm start: latent size d={net.d} differs from the init model's d={old.d}")
    E, E0 = net.n_members, old.n_members
    src = torch.tensor([e % E0 for e in range(E)])
    shared = [o for o in outputs if o in old_out]
    new = [o for o in outputs if o not in old_out]
    with torch.no_grad():
        for tower in ("tower_p", "tower_s"):
            for la, lb in zip(getattr(net, tower).layers, getattr(old, tower).layers):
                la.weight.copy_(lb.weight.detach().to(la.weight.device)[src])
                la.bias.copy_(lb.bias.detach().to(la.bias.device)[src])
        ki = [outputs.index(o) for o in shared]
        ko = [old_out.index(o) for o in shared]
        net.head.weight[:, :, ki] = old.head.weight.detach().to(net.head.weight.device)[src][:, :, ko]
        net.head.bias[:, :, ki] = old.head.bias.detach().to(net.head.bias.device)[src][:, :, ko]
        kn = [outputs.index(o) for o in new]
        net.head.weight[:, :, kn] = 0.0
        net.head.bias[:, :, kn] = 0.0
    info = {"copied_outputs": shared, "new_outputs": new, "members_from": E0, "members_to": E}
    log.info("warm start from %s: towers and head outputs %s copied%s%s", init.source or "an in-memory ensemble",
             shared, f"; new head outputs {new} initialised at zero" if new else "",
             f"; {E} members from {E0} (member e <- e mod {E0})" if E != E0 else "")
    return info


class EarlyStopping:
    """Per-member early stopping on the validation loss: keeps each member's best weights.

    ``update(vl, step)`` with vl (E,) -> True when every member has gone ``patience``
    evaluations without improving by more than ``min_delta``."""

    def __init__(self, net: torch.nn.Module, n_members: int, patience: int, min_delta: float = 1e-6) -> None:
        self.params = dict(net.named_parameters())
        self.best = {k: v.detach().clone() for k, v in self.params.items()}
        self.best_loss = torch.full((n_members,), float("inf"), dtype=torch.float64)
        self.best_step = [0] * n_members
        self.bad = torch.zeros(n_members, dtype=torch.int64)
        self.patience, self.min_delta = patience, min_delta

    def update(self, vl: torch.Tensor, step: int) -> bool:
        improved = vl < self.best_loss - self.min_delta
        if improved.any():
            with torch.no_grad():
                for k, v in self.params.items():
                    m = improved.to(v.device)
                    self.best[k][m] = v.detach()[m]
            for e in torch.nonzero(improved).flatten().tolist():
                self.best_step[e] = step
        self.best_loss = torch.where(improved, vl, self.best_loss)
        self.bad = torch.where(improved, torch.zeros_like(self.bad), self.bad + 1)
        return bool((self.bad >= self.patience).all())

    def restore(self) -> None:
        with torch.no_grad():
            for k, v in self.params.items():
                v.copy_(self.best[k])


def fit(net: StackedChiNet, packed: dict[str, PackedTask], weights: dict[str, float], Xp: torch.Tensor,
        Xs: torch.Tensor, cfg: TrainConfig, device: torch.device) -> tuple[list[dict], EarlyStopping, int, list[float], dict]:
    """The training loop (Adam, step LR, per-member early stopping). Leaves each member's best
    weights in ``net``. Returns (history, early stopping state, last step, initial val loss per
    member, initial val loss per task)."""
    E = cfg.n_members
    opt = torch.optim.Adam(net.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay, amsgrad=cfg.optim.amsgrad)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, cfg.optim.lr_step), gamma=cfg.optim.lr_gamma)
    gen = torch.Generator(device="cpu").manual_seed(int(cfg.seed) + 12345)
    stop = EarlyStopping(net, E, cfg.optim.patience)
    history = []

    per_task: dict[str, float] = {}

    @torch.no_grad()
    def validate() -> torch.Tensor:
        net.eval()
        Up = net.tower_p(Xp)
        Us = net.tower_s(Xs)
        tot = torch.zeros(E, dtype=torch.float64, device=device)
        for t, d in packed.items():
            raw = net.raw_head(Up[:, d.pi], Us[:, d.si], d.x)
            l = task_loss(d, raw, None).double()
            m = d.vmask
            lt = (l * m).sum(1) / m.sum(1).clamp(min=1)
            per_task[t] = float(lt.mean())
            tot += weights[t] * lt
        net.train()
        return tot.cpu()

    initial = validate().tolist()
    initial_tasks = dict(per_task)
    names = list(packed)
    net.train()
    step = 0
    for step in range(1, cfg.optim.max_steps + 1):
        idxs = []
        for t in names:
            d = packed[t]
            u = torch.rand(E, d.B, generator=gen, dtype=torch.float64).to(device)
            pos = (u * d.cnt[:, None]).long()
            idxs.append(torch.gather(d.pad, 1, pos))          # (E, B)
        pis = torch.cat([packed[t].pi[i] for t, i in zip(names, idxs)], 1)
        sis = torch.cat([packed[t].si[i] for t, i in zip(names, idxs)], 1)
        xs = torch.cat([packed[t].x[i] for t, i in zip(names, idxs)], 1) if net.n_pair else None
        raw = net.raw_head(net.tower_p(Xp[pis]), net.tower_s(Xs[sis]), xs)
        loss = 0.0
        off = 0
        for t, i in zip(names, idxs):
            B = i.shape[1]
            loss = loss + weights[t] * task_loss(packed[t], raw[:, off:off + B], i).mean(1).sum()
            off += B
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % cfg.optim.eval_every == 0 or step == cfg.optim.max_steps:
            vl = validate()
            done = stop.update(vl, step)
            history.append({"step": step, "val_loss": float(vl.mean()), "lr": float(sched.get_last_lr()[0])})
            if done:
                break
    stop.restore()
    return history, stop, step, initial, initial_tasks


def to_physical_units(net: StackedChiNet, target_scaling: dict, outputs: list[str], use_c_term: bool, T_ref: float) -> None:
    """Set the head's output scale/shift so head outputs are physical: A (dimensionless),
    B (Kelvin), C (Kelvin^2) of every chi task with a target scaling; logits unchanged."""
    scale = torch.ones(len(outputs), dtype=torch.float32)
    shift = torch.zeros(len(outputs), dtype=torch.float32)
    for t, ts in target_scaling.items():
        a, b, c = _tasks.get_task(t).chi_outputs(use_c_term)
        ka, kb = outputs.index(a), outputs.index(b)
        scale[ka], shift[ka] = ts["std"], ts["mean"]
        scale[kb] = ts["std"] * T_ref
        if c is not None:
            scale[outputs.index(c)] = ts["std"] * T_ref ** 2
    dev = net.out_scale.device
    net.out_scale.copy_(scale.to(dev))
    net.out_shift.copy_(shift.to(dev))


# ------------------------------------------------------------------ the whole run
def train_ensemble(cfg: TrainConfig, data: TrainingData | None = None, log: Callable[[str], None] | None = None,
                   progress: bool = True, labels: pd.DataFrame | None = None, init: ChiEnsemble | None = None,
                   scalers: Literal["auto", "keep", "refit"] = "auto") -> TrainResult:
    """Train an ensemble as ``cfg`` says.

    Args:
        data: featurized training data; default: ``labels`` if given, else the files of ``cfg.data``.
        labels: an in-memory label table (columns as for ``data.extra_tables``), featurized here.
        init: warm start from this ensemble (towers and head outputs of the same name copied;
            its target scaling kept for its tasks). The new model may have more tasks/outputs.
        scalers: "keep" the init model's descriptor scalers, "refit" on the training rows;
            "auto": keep with ``init``, refit without. A warm start with "refit" works when the
            refitted scalers keep as many columns (the towers then see rescaled inputs; logged).
            A warm-started model carries the init model's std_scale until recalibrated
            (:func:`chiscreen.model.calibration.calibrate_std`); a cold one has 1.0.
        log: one-line messages (default: the "chiscreen.model" logger at INFO).
    Raises:
        InvalidInputError: nothing to train, or a warm start that does not fit the config.
    """
    say = log or _info
    if data is None:
        if labels is not None:
            data = training_data_from_table(labels, cfg.data, progress=progress)
        else:
            data = load_training_data(cfg.data, progress=progress)
    if scalers == "auto":
        scalers = "keep" if init is not None else "refit"
    if scalers == "keep" and init is None:
        raise InvalidInputError("scalers='keep' needs an init model to keep them from")
    torch.set_num_threads(max(1, cfg.threads))
    device = resolve_device(cfg.device)
    E = cfg.n_members
    mc = cfg.model
    seeds = seeds_for(cfg.seed, E)
    t0 = time.perf_counter()

    tasks, weights = select_tasks(cfg, data)
    model_tasks = _tasks.model_tasks([*tasks, *(init.tasks if init is not None else [])])
    outs = _tasks.output_names(model_tasks, mc.use_c_term)
    if scalers == "keep":
        sp, ss = init.scaler_polymer, init.scaler_solvent
        if sp.n_in != data.Xp.shape[1] or ss.n_in != data.Xs.shape[1]:
            raise InvalidInputError(f"kept scalers expect {sp.n_in}/{ss.n_in} descriptors, the data has "
                                    f"{data.Xp.shape[1]}/{data.Xs.shape[1]}")
    else:
        sp, ss = fit_scalers(data, tasks, mc.clip)
    Xp = torch.from_numpy(sp.transform(data.Xp)).to(device)
    Xs = torch.from_numpy(ss.transform(data.Xs)).to(device)
    target_scaling = fit_target_scaling(tasks, keep=init.target_scaling if init is not None else None)

    n_pair = 0 if data.pair_x is None else int(data.pair_x.shape[1])
    if n_pair and init is not None:
        raise InvalidInputError("a warm start with pair inputs is not supported")
    net = StackedChiNet(E, sp.n_out, ss.n_out, mc.d, len(outs), mc.n_hidden, mc.hidden_widths, mc.activation,
                        n_pair=n_pair)
    net.reset(seeds)
    if init is not None:
        warm_start(net, init, outs, same_scalers=scalers == "keep")
        # the init model's target scaling holds for its tasks even if this run has no rows for them
        target_scaling = {**{t: v for t, v in init.target_scaling.items() if t in model_tasks}, **target_scaling}
    net.to(device)
    packed = pack_tasks(cfg, tasks, target_scaling, outs, seeds, device, data.pair_x)
    history, stop, step, initial, initial_tasks = fit(net, packed, weights, Xp, Xs, cfg, device)
    to_physical_units(net, target_scaling, outs, mc.use_c_term, mc.t_ref_K)
    net.eval()
    seconds = time.perf_counter() - t0
    ens = ChiEnsemble(
        net.cpu(), sp, ss, data.featurizer, data.featurizer_version, data.representation, mc,
        target_scaling=target_scaling, training_data_hash=data.hash(), train_config=asdict(cfg),
        feature_names_polymer=list(data.feature_names), feature_names_solvent=list(data.feature_names),
        tasks=model_tasks, std_scale=dict(init.std_scale) if init is not None else None,
    )
    ens.to(device if cfg.device != "auto" else "cpu")
    say(f"trained {E} members in {seconds:.1f} s ({step} steps; best steps {min(stop.best_step)}-{max(stop.best_step)}; "
        f"rows {data.counts()}; weights {weights}; device {device}, {torch.get_num_threads()} thread(s)"
        + ("; warm start" if init is not None else "")
        + (f"; pair inputs {data.pair_x_names} (opt-in: predictions need them per row)" if n_pair else "") + ")")
    return TrainResult(ens, history, stop.best_step, seconds, stop.best_loss.tolist(), initial, initial_tasks)


def _info(msg: str) -> None:
    log.info(msg)

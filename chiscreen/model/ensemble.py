"""The deep ensemble: E two-tower networks sharing descriptor scalers, with physical-unit heads.

    from chiscreen.model import load_ensemble
    ens = load_ensemble()                           # shipped default (chiscreen/assets/default_model)
    Up = ens.encode_polymers(Xp)                     # (E, P, 2d) from raw descriptors (P, F_p)
    Us = ens.encode_solvents(Xs)                     # (E, S, 2d)
    W, b = ens.head_params()                         # (E, K, d), (E, K)
    # output_k of member e for pair (p, s): z0 @ W[e, k] + b[e, k],
    # z0 = (s_p - s_s)^2 - r_p^2 - r_s^2;  chi_exp(T) = A_exp + B_exp / T  (T in Kelvin)

Head outputs (``ens.outputs``) derive from the model's tasks (``ens.tasks``, see
:mod:`chiscreen.model.tasks`): for the reference tasks "logit" (solubility logit), "A_comp",
"B_comp" (computed, COSMO-RS chi), "A_exp", "B_exp" (experimental chi); "C_comp", "C_exp"
appended when the C/T^2 term is on. A is dimensionless, B in Kelvin, C in Kelvin^2.

Predictions with statistics: :meth:`ChiEnsemble.posterior` (raw descriptors),
:meth:`ChiEnsemble.posterior_latents` (aligned latents) and :meth:`ChiEnsemble.posterior_pool`
(indexed rows of latents computed once per molecule) return an
:class:`~chiscreen.model.posterior.EnsemblePrediction`; uncertainty is the raw ensemble
standard deviation times ``std_scale[task]`` (a factor fitted on held-out rows at training
time; 1.0 when not calibrated) and, when the artifact has domain statistics (``ens.domain``,
:mod:`chiscreen.model.domain`), by an inflation that grows with the applicability-domain score
of each row -- applied only there.

Saving / loading / hashing live in :mod:`chiscreen.model.artifact`, DataFrame predictions in
:mod:`chiscreen.model.predict`.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from chiscreen.errors import InvalidInputError
import chiscreen.model.tasks as _tasks
from chiscreen.model.config import ModelConfig
from chiscreen.model.network import StackedChiNet, seeds_for
from chiscreen.model.posterior import EnsemblePrediction
from chiscreen.model.scaling import DescriptorScaler


# set by chiscreen.model.artifact when it is imported (always, via chiscreen.model), so that this
# module never imports the artifact format
_hash_fn = None


def output_names(use_c_term: bool, tasks: Sequence[str] = _tasks.V1_TASKS) -> list[str]:
    """Head outputs of a model with ``tasks`` (default: the three reference tasks)."""
    return _tasks.output_names(tasks, use_c_term)


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class ChiEnsemble:
    """A trained (or random) ensemble plus everything needed to use it on raw descriptors.

    Attributes:
        net: the stacked network (parameters with a leading member axis).
        scaler_polymer, scaler_solvent: fitted descriptor scalers (raw -> scaled).
        featurizer, featurizer_version: what produced the raw descriptors.
        polymer_representation: e.g. "cyclic:3".
        model_config: the network shape.
        tasks: the model's tasks (registry order); the head outputs derive from them.
        std_scale: multiply raw ensemble std by this; one key per chi task ("chi_exp", "chi_comp").
        target_scaling: {"chi_exp": {"mean", "std"}, "chi_comp": ...} of the training targets.
        training_data_hash, metrics, train_config, feature_names_*: provenance.
        domain: applicability-domain statistics (:class:`~chiscreen.model.domain.DomainStats`)
            or None (older artifacts, untrained ensembles): then every AD score is NaN.
    """

    def __init__(
        self,
        net: StackedChiNet,
        scaler_polymer: DescriptorScaler,
        scaler_solvent: DescriptorScaler,
        featurizer: str,
        featurizer_version: str,
        polymer_representation: str,
        model_config: ModelConfig,
        std_scale: dict[str, float] | None = None,
        target_scaling: dict[str, dict[str, float]] | None = None,
        training_data_hash: str = "",
        metrics: dict[str, Any] | None = None,
        train_config: dict[str, Any] | None = None,
        feature_names_polymer: list[str] | None = None,
        feature_names_solvent: list[str] | None = None,
        rdkit_version: str = "",
        tasks: Sequence[str] | None = None,
        domain=None,
    ) -> None:
        self.net = net.eval()
        self.scaler_polymer = scaler_polymer
        self.scaler_solvent = scaler_solvent
        self.featurizer = featurizer
        self.featurizer_version = featurizer_version
        self.polymer_representation = polymer_representation
        self.model_config = model_config
        self.tasks = _tasks.ordered(tasks if tasks is not None else _tasks.V1_TASKS)
        if len(self.outputs) != net.n_out:
            raise InvalidInputError(f"network has {net.n_out} head outputs, tasks {self.tasks} need {len(self.outputs)}")
        self.std_scale = {**{t: 1.0 for t in _tasks.chi_tasks(self.tasks)}, **(std_scale or {})}
        self.target_scaling = target_scaling or {}
        self.training_data_hash = training_data_hash
        self.metrics = metrics or {}
        self.train_config = train_config or {}
        self.feature_names_polymer = feature_names_polymer or []
        self.feature_names_solvent = feature_names_solvent or []
        self.rdkit_version = rdkit_version
        self.domain = domain
        self.source: str = ""

    # ------------------------------------------------------------------ basic properties
    @property
    def n_members(self) -> int:
        return self.net.n_members

    @property
    def d(self) -> int:
        return self.net.d

    @property
    def outputs(self) -> list[str]:
        return _tasks.output_names(self.tasks, self.model_config.use_c_term)

    @property
    def device(self) -> torch.device:
        return self.net.out_scale.device

    @property
    def n_features_polymer(self) -> int:
        return self.scaler_polymer.n_in

    @property
    def n_features_solvent(self) -> int:
        return self.scaler_solvent.n_in

    def to(self, device: str | torch.device) -> "ChiEnsemble":
        """Move the network to ``device`` ("cpu", "cuda", "auto"); returns self."""
        self.net.to(resolve_device(device))
        return self

    def __repr__(self) -> str:
        return (f"ChiEnsemble(n_members={self.n_members}, d={self.d}, featurizer={self.featurizer!r} "
                f"v{self.featurizer_version}, representation={self.polymer_representation!r}, "
                f"tasks={self.tasks}, outputs={self.outputs}, std_scale={self.std_scale})")

    # ------------------------------------------------------------------ construction
    @classmethod
    def random(cls, n_features_polymer: int, n_features_solvent: int, n_members: int = 10, d: int = 34,
               seed: int = 0, featurizer: str = "rdkit2d", polymer_representation: str = "cyclic:3",
               tasks: Sequence[str] | None = None, **model_kwargs) -> "ChiEnsemble":
        """An untrained ensemble with identity descriptor scaling (for tests and benchmarks on
        synthetic descriptors). ``tasks``: default the reference three. ``model_kwargs`` go to
        :class:`ModelConfig`."""
        from chiscreen.features import get_featurizer
        from chiscreen.errors import RegistryError

        mc = ModelConfig(d=d, **model_kwargs)
        tasks = _tasks.ordered(tasks if tasks is not None else _tasks.V1_TASKS)
        net = StackedChiNet(n_members, n_features_polymer, n_features_solvent, d, len(_tasks.output_names(tasks, mc.use_c_term)),
                            mc.n_hidden, mc.hidden_widths, mc.activation)
        net.reset(seeds_for(seed, n_members))
        try:
            version = get_featurizer(featurizer).version
        except RegistryError:
            version = "0"
        return cls(net, identity_scaler(n_features_polymer, mc.clip), identity_scaler(n_features_solvent, mc.clip),
                   featurizer, version, polymer_representation, mc, tasks=tasks)

    # ------------------------------------------------------------------ contract used by screening
    def _scaled(self, X: np.ndarray, scaler: DescriptorScaler) -> torch.Tensor:
        return torch.from_numpy(scaler.transform(X)).to(self.device)

    @torch.no_grad()
    def encode_polymers(self, X: np.ndarray) -> torch.Tensor:
        """Raw polymer descriptors (P, F_p) float32 (NaN allowed) -> latents (E, P, 2d) float32.

        ``[..., :d]`` is s, ``[..., d:]`` is r. No gradient."""
        return self.net.tower_p(self._scaled(X, self.scaler_polymer))

    @torch.no_grad()
    def encode_solvents(self, X: np.ndarray) -> torch.Tensor:
        """Raw solvent descriptors (S, F_s) -> latents (E, S, 2d) float32."""
        return self.net.tower_s(self._scaled(X, self.scaler_solvent))

    @torch.no_grad()
    def head_params(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Physical-unit head: W (E, K, d), b (E, K); output_k = z0 @ W[e, k] + b[e, k]."""
        W, b = self.net.effective_head()
        return W.detach().clone(), b.detach().clone()

    # ------------------------------------------------------------------ pairwise outputs
    @torch.no_grad()
    def pair_outputs(self, Up: torch.Tensor, Us: torch.Tensor) -> torch.Tensor:
        """Aligned latents (E, N, 2d) x2 -> physical head outputs (E, N, K)."""
        W, b = self.net.effective_head()
        z = (Up[..., : self.d] - Us[..., : self.d]) ** 2 - Up[..., self.d:] ** 2 - Us[..., self.d:] ** 2
        return torch.bmm(z, W.transpose(1, 2)) + b[:, None, :]

    def chi_from_outputs(self, Y: torch.Tensor | np.ndarray, T_K, task: str = "chi_exp"):
        """chi(T) = A + B/T (+ C/T^2) from outputs (..., K); T in Kelvin, broadcast on the last-but-one axis."""
        spec = _tasks.TASKS.get(task)
        if spec is None or not spec.is_chi or task not in self.tasks:
            raise InvalidInputError(f"unknown chi task {task!r}, expected one of {_tasks.chi_tasks(self.tasks)}")
        a, b, c = spec.chi_outputs(self.model_config.use_c_term)
        outs = self.outputs
        T = T_K
        chi = Y[..., outs.index(a)] + Y[..., outs.index(b)] / T
        if c is not None:
            chi = chi + Y[..., outs.index(c)] / T ** 2
        return chi

    def quantity_names(self) -> list[str]:
        """Names of the posterior quantities: head outputs, chi(T) per chi task, probability per binary task."""
        return [*self.outputs, *_tasks.chi_tasks(self.tasks),
                *(_tasks.TASKS[t].prediction_key for t in _tasks.binary_tasks(self.tasks))]

    def _quantities(self, Y: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Head outputs (E, N, K) float64 + T (N,) Kelvin -> every quantity (E, N, m)."""
        cols = [Y[..., k] for k in range(Y.shape[-1])]
        for t in _tasks.chi_tasks(self.tasks):
            cols.append(self.chi_from_outputs(Y, T[None, :], t))
        for t in _tasks.binary_tasks(self.tasks):
            logit = Y[..., self.outputs.index(_tasks.TASKS[t].outputs[0])]
            cols.append(1.0 / (1.0 + np.exp(-np.clip(logit, -60, 60))))
        return np.stack(cols, -1) if cols else np.zeros((*Y.shape[:2], 0))

    @torch.no_grad()
    def posterior_latents(self, Up: torch.Tensor, Us: torch.Tensor, T_K, batch: int = 65536) -> EnsemblePrediction:
        """Aligned latents (E, N, 2d) x2 and T (N,) Kelvin -> :class:`EnsemblePrediction`."""
        T = np.asarray(T_K, dtype=np.float64)
        Y = [self.pair_outputs(Up[:, i:i + batch], Us[:, i:i + batch]).double().cpu().numpy()
             for i in range(0, len(T), batch)]
        ap, as_ = self.domain_scores(Up, Us)
        return self._prediction(Y, T, ap, as_)

    @torch.no_grad()
    def posterior_pool(self, Up: torch.Tensor, Us: torch.Tensor, pi, si, T_K, batch: int = 65536) -> EnsemblePrediction:
        """Candidate pool: rows (pi[n], si[n], T_K[n]) of latents encoded once per molecule.

        Args:
            Up: (E, P, 2d) polymer latents; Us: (E, S, 2d) solvent latents (``encode_*``).
            pi, si: (N,) integer rows into Up / Us; T_K: (N,) or scalar, Kelvin.
        Returns:
            an EnsemblePrediction of N rows; only ``batch`` gathered pairs exist at a time.
        """
        pi = torch.as_tensor(np.asarray(pi, dtype=np.int64), device=Up.device)
        si = torch.as_tensor(np.asarray(si, dtype=np.int64), device=Us.device)
        if pi.shape != si.shape or pi.dim() != 1:
            raise InvalidInputError(f"pi {tuple(pi.shape)} and si {tuple(si.shape)}: expected two (N,) index vectors")
        T = np.broadcast_to(np.asarray(T_K, dtype=np.float64), (len(pi),)).copy()
        Y = [self.pair_outputs(Up.index_select(1, pi[i:i + batch]), Us.index_select(1, si[i:i + batch])).double().cpu().numpy()
             for i in range(0, len(T), batch)]
        ap, as_ = self.domain_scores(Up, Us)   # once per molecule, then indexed
        if ap is not None:
            ap, as_ = ap[pi.cpu().numpy()], as_[si.cpu().numpy()]
        return self._prediction(Y, T, ap, as_)

    @torch.no_grad()
    def posterior(self, Xp: np.ndarray, Xs: np.ndarray, T_K, batch: int = 65536) -> EnsemblePrediction:
        """Aligned raw descriptors (N, F_p), (N, F_s) and T (N,) Kelvin -> EnsemblePrediction."""
        T = np.asarray(T_K, dtype=np.float64)
        Y, AP, AS = [], [], []
        for i in range(0, len(T), batch):
            Up = self.encode_polymers(Xp[i:i + batch])
            Us = self.encode_solvents(Xs[i:i + batch])
            Y.append(self.pair_outputs(Up, Us).double().cpu().numpy())
            ap, as_ = self.domain_scores(Up, Us)
            AP.append(ap)
            AS.append(as_)
        if self.domain is None or not Y:
            return self._prediction(Y, T)
        return self._prediction(Y, T, np.concatenate(AP), np.concatenate(AS))

    def domain_scores(self, Up: torch.Tensor, Us: torch.Tensor) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Applicability-domain scores (ad_polymer (P,), ad_solvent (S,)) of polymer latents
        (E, P, 2d) and solvent latents (E, S, 2d); (None, None) without domain statistics."""
        if self.domain is None:
            return None, None
        return self.domain.polymer_scores(self, Up), self.domain.solvent_scores(self, Us)

    def _prediction(self, Ys: list[np.ndarray], T: np.ndarray, ad_polymer=None, ad_solvent=None) -> EnsemblePrediction:
        Y = np.concatenate(Ys, axis=1) if Ys else np.zeros((self.n_members, 0, len(self.outputs)))
        return EnsemblePrediction.from_members(self.quantity_names(), self._quantities(Y, T), self.std_scale,
                                               domain=self.domain, ad_polymer=ad_polymer, ad_solvent=ad_solvent)

    def predict_arrays(self, Xp: np.ndarray, Xs: np.ndarray, T_K: np.ndarray, batch: int = 65536) -> dict[str, np.ndarray]:
        """Per-member predictions for aligned pairs of raw descriptors.

        Args:
            Xp: (N, F_p), Xs: (N, F_s) raw descriptors per pair; T_K: (N,) Kelvin.
        Returns:
            dict of (E, N) float64 arrays: every head output, every chi task ("chi_exp",
            "chi_comp"), every binary task's probability ("p_soluble"). Statistics:
            :meth:`posterior`.
        """
        return self.posterior(Xp, Xs, T_K, batch=batch).members()

    @property
    def artifact_hash(self) -> str:
        """Alias of :func:`chiscreen.model.artifact.artifact_hash` (computed afresh on every call;
        kept so that code reading ``ens.artifact_hash`` keeps working)."""
        if _hash_fn is None:  # pragma: no cover - chiscreen.model imports artifact
            import importlib

            importlib.import_module("chiscreen.model")
        return _hash_fn(self)

    def scaler_arrays(self) -> dict[str, np.ndarray]:
        return {**self.scaler_polymer.to_arrays("polymer"), **self.scaler_solvent.to_arrays("solvent")}


def identity_scaler(n: int, clip: float = 8.0) -> DescriptorScaler:
    """A scaler that leaves values unchanged (lambda 1 is the identity Yeo-Johnson transform)."""
    return DescriptorScaler(keep=np.ones(n, dtype=bool), median=np.zeros(n), lambdas=np.ones(n),
                            mean=np.zeros(n), scale=np.ones(n), clip=float(clip))

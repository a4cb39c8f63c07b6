"""The deep ensemble: E two-tower networks sharing descriptor scalers, with physical-unit heads.

    from chiscreen.model import load_ensemble
    ens = load_ensemble()                           # shipped default (chiscreen/assets/default_model)
    Up = ens.encode_polymers(Xp)                     # (E, P, 2d) from raw descriptors (P, F_p)
    Us = ens.encode_solvents(Xs)                     # (E, S, 2d)
    W, b = ens.head_params()                         # (E, K, d), (E, K)
    # output_k of member e for pair (p, s): z0 @ W[e, k] + b[e, k],
    # z0 = (s_p - s_s)^2 - r_p^2 - r_s^2;  chi_exp(T) = A_exp + B_exp / T  (T in Kelvin)

Head outputs (``ens.outputs``): "logit" (solubility logit), "A_comp", "B_comp" (computed,
COSMO-RS chi), "A_exp", "B_exp" (experimental chi); "C_comp", "C_exp" appended when the
C/T^2 term is on. A is dimensionless, B in Kelvin, C in Kelvin^2.

Uncertainty: the raw ensemble standard deviation times ``std_scale[task]`` (a factor fitted on
held-out rows at training time; 1.0 when not calibrated).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from chiscreen.errors import InvalidInputError
from chiscreen.model.config import ModelConfig
from chiscreen.model.network import StackedChiNet, seeds_for
from chiscreen.model.scaling import DescriptorScaler

BASE_OUTPUTS = ["logit", "A_comp", "B_comp", "A_exp", "B_exp"]
C_OUTPUTS = ["C_comp", "C_exp"]
CHI_TASKS = {"chi_exp": ("A_exp", "B_exp", "C_exp"), "chi_comp": ("A_comp", "B_comp", "C_comp")}


def output_names(use_c_term: bool) -> list[str]:
    return BASE_OUTPUTS + (C_OUTPUTS if use_c_term else [])


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
        std_scale: multiply raw ensemble std by this; keys "chi_exp", "chi_comp".
        target_scaling: {"chi_exp": {"mean", "std"}, "chi_comp": ...} of the training targets.
        training_data_hash, metrics, train_config, feature_names_*: provenance.
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
    ) -> None:
        self.net = net.eval()
        self.scaler_polymer = scaler_polymer
        self.scaler_solvent = scaler_solvent
        self.featurizer = featurizer
        self.featurizer_version = featurizer_version
        self.polymer_representation = polymer_representation
        self.model_config = model_config
        self.std_scale = {"chi_exp": 1.0, "chi_comp": 1.0, **(std_scale or {})}
        self.target_scaling = target_scaling or {}
        self.training_data_hash = training_data_hash
        self.metrics = metrics or {}
        self.train_config = train_config or {}
        self.feature_names_polymer = feature_names_polymer or []
        self.feature_names_solvent = feature_names_solvent or []
        self.rdkit_version = rdkit_version
        self.source: str = ""
        self._hash: str | None = None

    # ------------------------------------------------------------------ basic properties
    @property
    def n_members(self) -> int:
        return self.net.n_members

    @property
    def d(self) -> int:
        return self.net.d

    @property
    def outputs(self) -> list[str]:
        return output_names(self.model_config.use_c_term)

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
                f"outputs={self.outputs}, std_scale={self.std_scale})")

    # ------------------------------------------------------------------ construction
    @classmethod
    def random(cls, n_features_polymer: int, n_features_solvent: int, n_members: int = 10, d: int = 34,
               seed: int = 0, featurizer: str = "rdkit2d", polymer_representation: str = "cyclic:3",
               **model_kwargs) -> "ChiEnsemble":
        """An untrained ensemble with identity descriptor scaling (for tests and benchmarks on
        synthetic descriptors). ``model_kwargs`` go to :class:`ModelConfig`."""
        from chiscreen.features import get_featurizer
        from chiscreen.errors import RegistryError

        mc = ModelConfig(d=d, **model_kwargs)
        net = StackedChiNet(n_members, n_features_polymer, n_features_solvent, d, len(output_names(mc.use_c_term)),
                            mc.n_hidden, mc.hidden_widths, mc.activation)
        net.reset(seeds_for(seed, n_members))
        try:
            version = get_featurizer(featurizer).version
        except RegistryError:
            version = "0"
        return cls(net, identity_scaler(n_features_polymer, mc.clip), identity_scaler(n_features_solvent, mc.clip),
                   featurizer, version, polymer_representation, mc)

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
        if task not in CHI_TASKS:
            raise InvalidInputError(f"unknown chi task {task!r}, expected one of {list(CHI_TASKS)}")
        a, b, c = CHI_TASKS[task]
        outs = self.outputs
        T = T_K
        chi = Y[..., outs.index(a)] + Y[..., outs.index(b)] / T
        if self.model_config.use_c_term:
            chi = chi + Y[..., outs.index(c)] / T ** 2
        return chi

    @torch.no_grad()
    def predict_arrays(self, Xp: np.ndarray, Xs: np.ndarray, T_K: np.ndarray, batch: int = 65536) -> dict[str, np.ndarray]:
        """Per-member predictions for aligned pairs of raw descriptors.

        Args:
            Xp: (N, F_p), Xs: (N, F_s) raw descriptors per pair; T_K: (N,) Kelvin.
        Returns:
            dict of (E, N) float64 arrays: every head output, "chi_exp", "chi_comp", "p_soluble".
        """
        T = np.asarray(T_K, dtype=np.float64)
        Yall = []
        for i in range(0, len(T), batch):
            Up = self.encode_polymers(Xp[i:i + batch])
            Us = self.encode_solvents(Xs[i:i + batch])
            Yall.append(self.pair_outputs(Up, Us).double().cpu().numpy())
        Y = np.concatenate(Yall, axis=1) if Yall else np.zeros((self.n_members, 0, len(self.outputs)))
        out = {name: Y[..., k] for k, name in enumerate(self.outputs)}
        out["chi_exp"] = self.chi_from_outputs(Y, T[None, :], "chi_exp")
        out["chi_comp"] = self.chi_from_outputs(Y, T[None, :], "chi_comp")
        out["p_soluble"] = 1.0 / (1.0 + np.exp(-np.clip(out["logit"], -60, 60)))
        return out

    def predict(self, polymers, solvents, temperatures_K, **kwargs):
        """Predict for aligned lists of polymer repeat units, solvents and temperatures (Kelvin).

        Returns a DataFrame (see :func:`chiscreen.model.predict.predict_pairs`)."""
        from chiscreen.model.predict import predict_pairs

        return predict_pairs(self, polymers, solvents, temperatures_K, **kwargs)

    # ------------------------------------------------------------------ provenance
    def config_dict(self) -> dict[str, Any]:
        """The JSON-able description stored in ``config.json`` (without file checksums)."""
        import rdkit

        return {
            "format": "chiscreen-chi-ensemble",
            "format_version": 1,
            "outputs": self.outputs,
            "n_members": self.n_members,
            "d": self.d,
            "model": asdict(self.model_config),
            "featurizer": {"name": self.featurizer, "version": self.featurizer_version,
                           "rdkit_version": self.rdkit_version or rdkit.__version__},
            "polymer_representation": self.polymer_representation,
            "solvent_representation": "molecule",
            "n_features_polymer": self.n_features_polymer,
            "n_features_solvent": self.n_features_solvent,
            "feature_names_polymer": self.feature_names_polymer,
            "feature_names_solvent": self.feature_names_solvent,
            "std_scale": {k: float(v) for k, v in self.std_scale.items()},
            "target_scaling": self.target_scaling,
            "training_data_hash": self.training_data_hash,
            "train_config": self.train_config,
        }

    def scaler_arrays(self) -> dict[str, np.ndarray]:
        return {**self.scaler_polymer.to_arrays("polymer"), **self.scaler_solvent.to_arrays("solvent")}

    @property
    def artifact_hash(self) -> str:
        """sha256 (hex, first 16 chars) of the config, the weights and the scalers; stable across save/load."""
        if self._hash is None:
            self._hash = compute_hash(self)
        return self._hash

    def invalidate_hash(self) -> None:
        self._hash = None

    def save(self, path, metrics: dict[str, Any] | None = None):
        """Write the artifact directory (see :mod:`chiscreen.model.artifact`)."""
        from chiscreen.model.artifact import save_artifact

        return save_artifact(self, path, metrics=metrics)


def identity_scaler(n: int, clip: float = 8.0) -> DescriptorScaler:
    """A scaler that leaves values unchanged (lambda 1 is the identity Yeo-Johnson transform)."""
    return DescriptorScaler(keep=np.ones(n, dtype=bool), median=np.zeros(n), lambdas=np.ones(n),
                            mean=np.zeros(n), scale=np.ones(n), clip=float(clip))


def compute_hash(ens: ChiEnsemble) -> str:
    h = hashlib.sha256()
    cfg = ens.config_dict()
    cfg.pop("train_config", None)
    h.update(json.dumps(cfg, sort_keys=True).encode())
    sd = ens.net.state_dict()
    for k in sorted(sd):
        h.update(k.encode())
        h.update(sd[k].detach().cpu().contiguous().numpy().tobytes())
    arrs = ens.scaler_arrays()
    for k in sorted(arrs):
        h.update(k.encode())
        h.update(np.ascontiguousarray(arrs[k]).tobytes())
    return h.hexdigest()[:16]

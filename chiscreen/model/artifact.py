"""Model artifacts: a directory, never a pickle.

Layout::

    DIR/config.json    what the model is: outputs, shapes, model config, featurizer name and
                       version (+ RDKit version), polymer representation, std_scale, target
                       scaling, training-data hash, resolved training config, file checksums,
                       artifact hash
    DIR/weights.pt     torch.save(state_dict) -- loaded with torch.load(weights_only=True)
    DIR/scalers.npz    descriptor scaler arrays -- loaded with np.load(allow_pickle=False)
    DIR/metrics.json   training / validation metrics (informative; not part of the hash)

Loading checks the checksums (a truncated or edited file is an ArtifactError naming it) and that
the featurizer this install provides has the version the model was trained with.
"""
from __future__ import annotations

import hashlib
import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from chiscreen.errors import ArtifactError, ChiscreenError
from chiscreen.io import atomic_write_bytes
from chiscreen.model.config import ModelConfig
from chiscreen.model.ensemble import ChiEnsemble, output_names
from chiscreen.model.network import StackedChiNet
from chiscreen.model.scaling import DescriptorScaler

FORMAT = "chiscreen-chi-ensemble"
FORMAT_VERSION = 1
FILES = ("weights.pt", "scalers.npz")


def default_model_dir() -> Path:
    """The shipped default artifact: ``chiscreen/assets/default_model``."""
    return Path(__file__).resolve().parent.parent / "assets" / "default_model"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_atomic_write = atomic_write_bytes


def save_artifact(ens: ChiEnsemble, path: str | Path, metrics: dict[str, Any] | None = None) -> Path:
    """Write ``ens`` to directory ``path`` (created; existing artifact files are replaced)."""
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    sd = {k: v.detach().cpu().contiguous() for k, v in ens.net.state_dict().items()}
    torch.save(sd, buf)
    weights = buf.getvalue()
    buf = io.BytesIO()
    np.savez(buf, **ens.scaler_arrays())
    scalers = buf.getvalue()
    cfg = ens.config_dict()
    cfg["files"] = {"weights.pt": _sha256(weights), "scalers.npz": _sha256(scalers)}
    cfg["artifact_hash"] = ens.artifact_hash
    _atomic_write(p / "weights.pt", weights)
    _atomic_write(p / "scalers.npz", scalers)
    if metrics is not None:
        ens.metrics = metrics
    _atomic_write(p / "metrics.json", json.dumps(_jsonable(ens.metrics), indent=2, sort_keys=True).encode())
    _atomic_write(p / "config.json", json.dumps(_jsonable(cfg), indent=2).encode())
    return p


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def load_ensemble(path: str | Path | None = None, device: str | torch.device = "cpu",
                  check_featurizer: bool = True) -> ChiEnsemble:
    """Load an artifact directory (``None``: the shipped default model).

    Raises ArtifactError when the directory or a file is missing, a checksum does not match
    (corrupt file), the format is unknown, or the artifact was made with another featurizer
    version than this install provides (``check_featurizer=False`` skips that check).
    """
    from chiscreen.model.ensemble import resolve_device

    p = Path(path) if path is not None else default_model_dir()
    where = f"model artifact {p}"
    if not p.is_dir():
        hint = " (the shipped default model is missing: reinstall chiscreen or run `chiscreen train`)" if path is None else ""
        raise ArtifactError(f"{where}: not a directory{hint}")
    cfg_path = p / "config.json"
    if not cfg_path.is_file():
        raise ArtifactError(f"{where}: config.json missing; expected a directory written by `chiscreen train`")
    try:
        cfg = json.loads(cfg_path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{cfg_path}: corrupt (not valid JSON: {exc})") from None
    if not isinstance(cfg, dict) or cfg.get("format") != FORMAT:
        raise ArtifactError(f"{cfg_path}: not a chiscreen chi-ensemble artifact (format {cfg.get('format') if isinstance(cfg, dict) else None!r})")
    if cfg.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(f"{cfg_path}: artifact format version {cfg.get('format_version')!r}, this chiscreen reads {FORMAT_VERSION}")
    blobs = {}
    for name in FILES:
        fp = p / name
        if not fp.is_file():
            raise ArtifactError(f"{fp}: missing from the artifact")
        data = fp.read_bytes()
        want = cfg.get("files", {}).get(name)
        if want != _sha256(data):
            raise ArtifactError(f"{fp}: corrupt (sha256 does not match the checksum in config.json)")
        blobs[name] = data
    try:
        fz = cfg["featurizer"]
        fz_name, fz_version = str(fz["name"]), str(fz["version"])
        model_cfg = ModelConfig(**cfg["model"])
        n_members, d = int(cfg["n_members"]), int(cfg["d"])
        npf, nsf = int(cfg["n_features_polymer"]), int(cfg["n_features_solvent"])
        rep = str(cfg["polymer_representation"])
    except (KeyError, TypeError, ValueError, ChiscreenError) as exc:
        raise ArtifactError(f"{cfg_path}: corrupt or incomplete ({type(exc).__name__}: {exc})") from None
    if check_featurizer:
        _check_featurizer(fz_name, fz_version, npf, where)
        try:
            import rdkit

            if fz.get("rdkit_version") and fz["rdkit_version"] != rdkit.__version__:
                warnings.warn(f"{where} was trained with RDKit {fz['rdkit_version']}, this is RDKit "
                              f"{rdkit.__version__}: descriptors may differ slightly", stacklevel=2)
        except ImportError:  # pragma: no cover
            pass
    if cfg.get("outputs") != output_names(model_cfg.use_c_term):
        raise ArtifactError(f"{cfg_path}: outputs {cfg.get('outputs')} do not match the model config")
    try:
        sd = torch.load(io.BytesIO(blobs["weights.pt"]), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ArtifactError(f"{p / 'weights.pt'}: cannot be read as a weights-only state dict ({exc})") from None
    try:
        with np.load(io.BytesIO(blobs["scalers.npz"]), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as exc:
        raise ArtifactError(f"{p / 'scalers.npz'}: cannot be read ({exc})") from None
    sp = DescriptorScaler.from_arrays(arrays, "polymer", str(p / "scalers.npz"))
    ss = DescriptorScaler.from_arrays(arrays, "solvent", str(p / "scalers.npz"))
    net = StackedChiNet(n_members, sp.n_out, ss.n_out, d, len(output_names(model_cfg.use_c_term)),
                        model_cfg.n_hidden, model_cfg.hidden_widths, model_cfg.activation)
    try:
        net.load_state_dict(sd, strict=True)
    except (RuntimeError, KeyError) as exc:
        raise ArtifactError(f"{p / 'weights.pt'}: does not match config.json ({str(exc).splitlines()[0]})") from None
    if sp.n_in != npf or ss.n_in != nsf:
        raise ArtifactError(f"{p / 'scalers.npz'}: feature counts {sp.n_in}/{ss.n_in} differ from config.json {npf}/{nsf}")
    metrics = {}
    mp = p / "metrics.json"
    if mp.is_file():
        try:
            metrics = json.loads(mp.read_text())
        except ValueError:
            warnings.warn(f"{mp}: not valid JSON; metrics ignored", stacklevel=2)
    ens = ChiEnsemble(
        net, sp, ss, fz_name, fz_version, rep, model_cfg,
        std_scale=cfg.get("std_scale"), target_scaling=cfg.get("target_scaling"),
        training_data_hash=cfg.get("training_data_hash", ""), metrics=metrics,
        train_config=cfg.get("train_config"), feature_names_polymer=cfg.get("feature_names_polymer"),
        feature_names_solvent=cfg.get("feature_names_solvent"), rdkit_version=fz.get("rdkit_version", ""),
    )
    ens.source = str(p)
    if cfg.get("artifact_hash") and cfg["artifact_hash"] != ens.artifact_hash:
        raise ArtifactError(f"{cfg_path}: artifact hash {cfg['artifact_hash']} does not match its contents "
                            f"({ens.artifact_hash}); the artifact was edited or is corrupt")
    return ens.to(resolve_device(device))


def _check_featurizer(name: str, version: str, n_features: int, where: str) -> None:
    from chiscreen.errors import RegistryError
    from chiscreen.features import get_featurizer

    try:
        fz = get_featurizer(name)
    except RegistryError:
        raise ArtifactError(f"{where} needs featurizer {name!r}, which this install does not provide") from None
    if str(fz.version) != version:
        raise ArtifactError(
            f"{where} was trained with featurizer {name} v{version}, but this install provides "
            f"{name} v{fz.version}: its descriptors would not match. Retrain with `chiscreen train` "
            "or install the chiscreen version that made the artifact"
        )
    if len(fz) != n_features:
        raise ArtifactError(f"{where}: featurizer {name} v{version} gives {len(fz)} descriptors here, "
                            f"the artifact expects {n_features}")

"""Model artifacts: a directory, never a pickle.

Layout::

    DIR/config.json    what the model is: outputs, shapes, model config, featurizer name and
                       version (+ RDKit version), polymer representation, std_scale, target
                       scaling, training-data hash, resolved training config, file checksums,
                       artifact hash
    DIR/weights.pt     torch.save(state_dict) -- loaded with torch.load(weights_only=True)
    DIR/scalers.npz    descriptor scaler arrays -- loaded with np.load(allow_pickle=False)
    DIR/domain.npz     (format 3) raw descriptors of the training polymers and solvents, the
                       reference of the applicability-domain score -- np.load(allow_pickle=False)
    DIR/metrics.json   training / validation metrics (informative; not part of the hash)

Integrity: ``artifact_hash`` (sha256, 16 hex) covers every field that changes a prediction --
tasks, outputs, model config (activation, C term, ...), featurizer name/version, polymer
representation, feature counts and names, std_scale, target scaling, training-data hash -- and
every weight, buffer and scaler array. Loading recomputes it from what was loaded: an edited
field or file is an ArtifactError; an artifact without a hash (or without file checksums) is
an ArtifactError too unless the caller passes ``trust_unsigned=True`` (CLI ``--trust-unsigned``).
It also checks that this install's featurizer has the version the model was trained with.

Formats: version 3 (written for a model with applicability-domain statistics, as
``chiscreen train`` makes) adds ``domain`` to config.json (distance units, std inflation and 95 %
interval scale per chi task; hashed) and ``domain.npz`` (hashed, checksummed); version 2 stores
the model's ``tasks`` (and is still written for a model without domain statistics); version 1
artifacts (no task list: the three reference tasks) keep loading and keep their hash (the hash
of a model with the reference tasks is computed exactly as in version 1). Version 1 and 2
artifacts have no domain statistics: they load and predict with NaN domain scores, std_scale
alone and no calibrated interval (a note is logged).
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

import chiscreen.model.ensemble as _ensemble_module
import chiscreen.model.tasks as _tasks
from chiscreen.errors import ArtifactError, ChiscreenError, RegistryError
from chiscreen.io import atomic_write_bytes
from chiscreen.model.config import ModelConfig
from chiscreen.model.ensemble import ChiEnsemble, resolve_device
from chiscreen.model.network import StackedChiNet
from chiscreen.model.scaling import DescriptorScaler

log = logging.getLogger("chiscreen.model")

FORMAT = "chiscreen-chi-ensemble"
FORMAT_VERSION = 3          # with domain statistics; 2 without (see the module docstring)
READ_VERSIONS = (1, 2, 3)
FILES = ("weights.pt", "scalers.npz")
DOMAIN_FILE = "domain.npz"  # optional (format 3)
# config.json keys outside the hash: provenance / bookkeeping that never changes a prediction
UNHASHED_KEYS = ("train_config", "files", "artifact_hash", "format_version")


def config_dict(ens: ChiEnsemble) -> dict[str, Any]:
    """The JSON-able description stored in ``config.json`` (without file checksums and hash)."""
    import rdkit

    out = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION if ens.domain is not None else 2,
        "tasks": list(ens.tasks),
        "outputs": ens.outputs,
        "n_members": ens.n_members,
        "d": ens.d,
        "model": asdict(ens.model_config),
        "featurizer": {"name": ens.featurizer, "version": ens.featurizer_version,
                       "rdkit_version": ens.rdkit_version or rdkit.__version__},
        "polymer_representation": ens.polymer_representation,
        "solvent_representation": "molecule",
        "n_features_polymer": ens.n_features_polymer,
        "n_features_solvent": ens.n_features_solvent,
        "feature_names_polymer": ens.feature_names_polymer,
        "feature_names_solvent": ens.feature_names_solvent,
        "std_scale": {k: float(v) for k, v in ens.std_scale.items()},
        "target_scaling": ens.target_scaling,
        "training_data_hash": ens.training_data_hash,
        "train_config": ens.train_config,
    }
    if ens.domain is not None:   # absent for older models, so that their hash is unchanged
        out["domain"] = ens.domain.to_config()
    return out


def _hashed_dict(ens: ChiEnsemble) -> dict[str, Any]:
    cfg = {k: v for k, v in config_dict(ens).items() if k not in UNHASHED_KEYS}
    cfg["format_version"] = 1           # the hash schema of version 1, so reference-task models keep their hash
    if tuple(ens.tasks) == _tasks.V1_TASKS:
        cfg.pop("tasks")
    return _jsonable(cfg)


def artifact_hash(ens: ChiEnsemble) -> str:
    """sha256 (hex, first 16 chars) of every prediction-relevant field, the weights and buffers
    and the scalers; stable across save/load. Computed afresh on every call (editing std_scale
    or a weight in memory changes it)."""
    h = hashlib.sha256()
    h.update(json.dumps(_hashed_dict(ens), sort_keys=True).encode())
    sd = ens.net.state_dict()
    for k in sorted(sd):
        h.update(k.encode())
        h.update(sd[k].detach().cpu().contiguous().numpy().tobytes())
    arrs = ens.scaler_arrays()
    if ens.domain is not None:
        arrs = {**arrs, **{f"domain/{k}": v for k, v in ens.domain.to_arrays().items()}}
    for k in sorted(arrs):
        h.update(k.encode())
        h.update(np.ascontiguousarray(arrs[k]).tobytes())
    return h.hexdigest()[:16]


_ensemble_module._hash_fn = artifact_hash


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
    cfg = config_dict(ens)
    cfg["files"] = {"weights.pt": _sha256(weights), "scalers.npz": _sha256(scalers)}
    domain = None
    if ens.domain is not None:
        buf = io.BytesIO()
        np.savez(buf, **ens.domain.to_arrays())
        domain = buf.getvalue()
        cfg["files"][DOMAIN_FILE] = _sha256(domain)
    cfg["artifact_hash"] = artifact_hash(ens)
    _atomic_write(p / "weights.pt", weights)
    _atomic_write(p / "scalers.npz", scalers)
    if domain is not None:
        _atomic_write(p / DOMAIN_FILE, domain)
    elif (p / DOMAIN_FILE).exists():
        (p / DOMAIN_FILE).unlink()   # a stale reference from an earlier model in this directory
    if metrics is not None:
        ens.metrics = metrics
    _atomic_write(p / "metrics.json", json.dumps(_jsonable(ens.metrics), indent=2, sort_keys=True).encode())
    _atomic_write(p / "config.json", json.dumps(_jsonable(cfg), indent=2).encode())
    log.info("wrote model artifact %s (hash %s, tasks %s)", p, cfg["artifact_hash"], list(ens.tasks))
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
                  check_featurizer: bool = True, trust_unsigned: bool = False) -> ChiEnsemble:
    """Load an artifact directory (``None``: the shipped default model).

    Raises ArtifactError when the directory or a file is missing, a checksum does not match
    (corrupt file), the artifact hash does not match its contents (an edited field), the
    artifact carries no hash or checksums (unless ``trust_unsigned``), the format is unknown,
    or the artifact was made with another featurizer version than this install provides
    (``check_featurizer=False`` skips that check).
    """
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
    version = cfg.get("format_version")
    if version not in READ_VERSIONS:
        raise ArtifactError(f"{cfg_path}: artifact format version {version!r}, this chiscreen reads {list(READ_VERSIONS)}")
    unsigned = _unsigned_hint(cfg_path)
    if not cfg.get("artifact_hash"):
        if not trust_unsigned:
            raise ArtifactError(f"{cfg_path}: no artifact_hash, so its contents cannot be verified{unsigned}")
        log.warning("%s: no artifact_hash; loading it unverified (--trust-unsigned)", cfg_path)
    files = cfg.get("files") if isinstance(cfg.get("files"), dict) else {}
    blobs = {}
    for name in FILES:
        fp = p / name
        if not fp.is_file():
            raise ArtifactError(f"{fp}: missing from the artifact")
        data = fp.read_bytes()
        want = files.get(name)
        if want is None and trust_unsigned:
            log.warning("%s: no checksum in config.json; loaded unverified (--trust-unsigned)", fp)
        elif want is None:
            raise ArtifactError(f"{fp}: no checksum in config.json, so it cannot be verified{unsigned}")
        elif want != _sha256(data):
            raise ArtifactError(f"{fp}: corrupt (sha256 does not match the checksum in config.json)")
        blobs[name] = data
    domain_cfg = cfg.get("domain")
    if domain_cfg is not None:
        fp = p / DOMAIN_FILE
        if not fp.is_file():
            raise ArtifactError(f"{fp}: missing from the artifact (config.json has domain statistics)")
        data = fp.read_bytes()
        want = files.get(DOMAIN_FILE)
        if want is None and not trust_unsigned:
            raise ArtifactError(f"{fp}: no checksum in config.json, so it cannot be verified{unsigned}")
        if want is not None and want != _sha256(data):
            raise ArtifactError(f"{fp}: corrupt (sha256 does not match the checksum in config.json)")
        blobs[DOMAIN_FILE] = data
    try:
        fz = cfg["featurizer"]
        fz_name, fz_version = str(fz["name"]), str(fz["version"])
        model_cfg = ModelConfig(**cfg["model"])
        n_members, d = int(cfg["n_members"]), int(cfg["d"])
        npf, nsf = int(cfg["n_features_polymer"]), int(cfg["n_features_solvent"])
        rep = str(cfg["polymer_representation"])
        tasks = _tasks.V1_TASKS if version == 1 else tuple(cfg["tasks"])
        if list(tasks) != _tasks.ordered(tasks):
            raise ValueError(f"tasks {list(tasks)} are not in registry order {_tasks.ordered(tasks)}")
        outputs = _tasks.output_names(tasks, model_cfg.use_c_term)
    except RegistryError as exc:
        raise ArtifactError(f"{cfg_path}: {exc} (a task this chiscreen does not know)") from None
    except (KeyError, TypeError, ValueError, ChiscreenError) as exc:
        raise ArtifactError(f"{cfg_path}: corrupt or incomplete ({type(exc).__name__}: {exc})") from None
    if check_featurizer:
        _check_featurizer(fz_name, fz_version, npf, where)
        try:
            import rdkit

            if fz.get("rdkit_version") and fz["rdkit_version"] != rdkit.__version__:
                log.warning("%s was trained with RDKit %s, this is RDKit %s: descriptors may differ slightly",
                            where, fz["rdkit_version"], rdkit.__version__)
        except ImportError:  # pragma: no cover
            pass
    if cfg.get("outputs") != outputs:
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
    net = StackedChiNet(n_members, sp.n_out, ss.n_out, d, len(outputs),
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
            log.warning("%s: not valid JSON; metrics ignored", mp)
    ens = ChiEnsemble(
        net, sp, ss, fz_name, fz_version, rep, model_cfg,
        std_scale=cfg.get("std_scale"), target_scaling=cfg.get("target_scaling"),
        training_data_hash=cfg.get("training_data_hash", ""), metrics=metrics,
        train_config=cfg.get("train_config"), feature_names_polymer=cfg.get("feature_names_polymer"),
        feature_names_solvent=cfg.get("feature_names_solvent"), rdkit_version=fz.get("rdkit_version", ""),
        tasks=tasks,
    )
    if domain_cfg is not None:
        from chiscreen.model.domain import DomainStats

        try:
            with np.load(io.BytesIO(blobs[DOMAIN_FILE]), allow_pickle=False) as z:
                darr = {k: z[k] for k in z.files}
            ens.domain = DomainStats.from_stored(domain_cfg, darr)
        except Exception as exc:
            raise ArtifactError(f"{p / DOMAIN_FILE}: cannot be read as domain statistics ({type(exc).__name__}: {exc})") from None
        if ens.domain.Xp_ref.shape[1:] != (npf,) or ens.domain.Xs_ref.shape[1:] != (nsf,):
            raise ArtifactError(f"{p / DOMAIN_FILE}: descriptor counts {ens.domain.Xp_ref.shape[1:]}/"
                                f"{ens.domain.Xs_ref.shape[1:]} differ from config.json {npf}/{nsf}")
    else:
        log.info("%s: no applicability-domain statistics (format %s artifact): predictions carry NaN "
                 "domain scores, std_scale alone and no calibrated 95 %% interval; retrain with `chiscreen train` "
                 "to add them", where, version)
    ens.source = str(p)
    if cfg.get("artifact_hash"):
        got = artifact_hash(ens)
        if cfg["artifact_hash"] != got:
            raise ArtifactError(f"{cfg_path}: artifact hash {cfg['artifact_hash']} does not match its contents "
                                f"({got}); the artifact was edited or is corrupt")
    log.debug("loaded model artifact %s (format %s, tasks %s)", p, version, list(tasks))
    return ens.to(resolve_device(device))


def _unsigned_hint(cfg_path: Path) -> str:
    return ("; retrain it with `chiscreen train`, or pass --trust-unsigned (trust_unsigned=True) to load it "
            "anyway if you know where it came from")


def _check_featurizer(name: str, version: str, n_features: int, where: str) -> None:
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


def write_json(obj, path: str | Path) -> Path:
    """Write ``obj`` as indented JSON (NaN -> null, numpy scalars -> numbers); creates parents."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(p, json.dumps(_jsonable(obj), indent=2).encode())
    return p

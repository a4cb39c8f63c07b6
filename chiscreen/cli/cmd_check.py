"""``chiscreen check [--json]``: versions of the scientific stack, engines and GPUs seen."""
from __future__ import annotations

import importlib
import json
import platform
import sys

import chiscreen

# import name -> distribution name
_PACKAGES = {"rdkit": "rdkit", "torch": "torch", "ray": "ray", "botorch": "botorch", "tblite": "tblite",
             "xtb": "xtb", "numpy": "numpy", "pandas": "pandas", "pyarrow": "pyarrow", "sklearn": "scikit-learn"}


def register(sub) -> None:
    p = sub.add_parser("check", help="versions of rdkit, torch, ray, botorch, tblite, xtb; GPUs seen")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def collect() -> dict:
    out: dict = {"chiscreen": chiscreen.__version__, "python": sys.version.split()[0], "platform": platform.platform(),
                 "packages": {}}
    from importlib.metadata import PackageNotFoundError, version

    for name, dist in _PACKAGES.items():
        try:
            mod = importlib.import_module(name)
            try:
                ver = version(dist)
            except PackageNotFoundError:
                ver = getattr(mod, "__version__", "unknown")
            out["packages"][name] = str(ver)
        except Exception as exc:  # absent or broken: say so, do not fail
            out["packages"][name] = None
            out.setdefault("problems", {})[name] = f"{type(exc).__name__}: {exc}"[:200]
    gpus = []
    try:
        import torch

        if torch.cuda.is_available():
            gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:
        pass
    out["gpus"] = gpus
    try:
        from chiscreen.qc import engines_available  # the oracle's engines, when that layer is present

        out["xtb_engines"] = engines_available()
    except ImportError:
        out["xtb_engines"] = {}
    return out


def run(args) -> int:
    info = collect()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"chiscreen {info['chiscreen']} on Python {info['python']} ({info['platform']})")
    for k, v in info["packages"].items():
        print(f"  {k:10s} {v if v else 'NOT FOUND'}")
    for k, v in info.get("xtb_engines", {}).items():
        print(f"  xtb engine {k:10s} {v if v else 'not available'}")
    print(f"  GPUs: {', '.join(info['gpus']) if info['gpus'] else 'none (CPU only)'}")
    return 0

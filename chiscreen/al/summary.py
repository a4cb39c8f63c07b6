"""Run report: ``report/metrics.json`` (every cycle's metrics) and ``report/metrics.png``
(held-out RMSE and cumulative oracle compute over cycles), and the ``al status`` table."""
from __future__ import annotations

import json
import math
from pathlib import Path

from chiscreen.io import atomic_path, atomic_write_text


def _g(d: dict, *keys, default=float("nan")):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return default
        d = d[k]
    return d


def write_report(folder: Path, history: list[dict], manifest: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    cum = 0.0
    rows = []
    for m in history:
        cum += float(m.get("compute_s", 0.0))
        rows.append({**m, "cumulative_compute_s": cum})
    atomic_write_text(folder / "metrics.json", json.dumps(
        {"eval_polymers": manifest.get("eval_polymers", []),
         "eval_polymers_in_training": manifest.get("eval_in_training", False),
         "method_version": manifest.get("method_version"), "oracle_head": manifest.get("oracle_head"),
         "cycles": rows}, indent=2, default=float))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = [m["cycle"] for m in rows]
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
    ax[0].plot(c, [_g(m, "exp_eval", "rmse") for m in rows], "o-", label="experimental chi, held-out polymers")
    ax[0].plot(c, [_g(m, "oracle_eval", "rmse") for m in rows], "s-", label="oracle chi, held-out oracle rows")
    ax[0].set_xlabel("cycle")
    ax[0].set_ylabel("RMSE")
    ax[0].legend(fontsize=8)
    ax[1].bar(c, [float(m.get("compute_s", 0.0)) for m in rows], label="per cycle")
    ax[1].plot(c, [m["cumulative_compute_s"] for m in rows], "k.-", label="cumulative")
    ax[1].set_xlabel("cycle")
    ax[1].set_ylabel("oracle compute, s")
    ax[1].legend(fontsize=8)
    fig.suptitle(f"AL run: eval polymers {'in' if manifest.get('eval_in_training') else 'excluded from'} training")
    fig.tight_layout()
    with atomic_path(folder / "metrics.png") as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def status_table(history: list[dict]) -> str:
    """Plain-text table of the cycles of a run."""
    head = ["cycle", "acquisition", "selected", "ok", "failed", "new_poly", "new_solv", "compute_s", "exp_rmse",
            "oracle_rmse", "oracle_n", "retrain"]
    lines = [head]
    def f(x, nd=3):
        return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else (f"{x:.{nd}f}" if isinstance(x, float) else str(x))
    for m in history:
        lines.append([str(m["cycle"]), m.get("acquisition", "(initial)"), f(m.get("n_selected", 0)), f(m.get("oracle_ok", 0)),
                      f(m.get("oracle_failed", 0)), f(m.get("new_polymers", 0)), f(m.get("new_solvents", 0)),
                      f(float(m.get("compute_s", 0.0)), 1), f(_g(m, "exp_eval", "rmse")), f(_g(m, "oracle_eval", "rmse")),
                      f(_g(m, "oracle_eval", "n", default=0)), m.get("retrain", "")])
    w = [max(len(r[i]) for r in lines) for i in range(len(head))]
    return "\n".join("  ".join(x.ljust(w[i]) for i, x in enumerate(r)) for r in lines)

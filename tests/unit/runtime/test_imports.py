"""Ray and BoTorch are imported only where the layer rules allow; importing chiscreen starts neither."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
#: the runtime, the Ray-facing engine/runner modules, al/ and jobs/ (botorch: al/ only)
RAY_ALLOWED = ("chiscreen/runtime/", "chiscreen/screen/engine.py", "chiscreen/al/", "jobs/")
BOTORCH_ALLOWED = ("chiscreen/al/",)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_ray_and_botorch_only_where_allowed():
    files = [p for d in ("chiscreen", "jobs", "bench") for p in (ROOT / d).rglob("*.py")]
    assert len(files) > 50
    bad = []
    for p in files:
        rel = p.relative_to(ROOT).as_posix()
        mods = _imports(p)
        if "ray" in mods and not rel.startswith(RAY_ALLOWED):
            bad.append(f"{rel}: ray")
        if "botorch" in mods and not rel.startswith(BOTORCH_ALLOWED):
            bad.append(f"{rel}: botorch")
    assert not bad, "imported outside the allowed modules: " + ", ".join(bad)


def test_importing_the_library_starts_nothing():
    code = ("import sys, chiscreen, chiscreen.runtime, chiscreen.features, chiscreen.qc, chiscreen.screen, "
            "chiscreen.screen.job, chiscreen.cli.main; print(sorted(m for m in ('ray', 'botorch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"

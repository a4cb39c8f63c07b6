"""The HTML report renders in headless Chromium without console errors and every image decodes.

Chromium is a Debian package (``apt-get install -y chromium``); .ci/run installs it when missing and
sets CHISCREEN_REQUIRE_BROWSER=1, so in CI a missing browser fails instead of skipping."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chiscreen.campaigns.common import CampaignResult, plot_chi_curves
from chiscreen.report.html import write_campaign_report, write_folder_report

PROBE = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message || e.type)), true);
window.addEventListener('load', () => {
  const imgs = Array.from(document.images);
  const bad = imgs.filter(i => !(i.complete && i.naturalWidth > 0 && i.naturalHeight > 0)).length;
  const ext = Array.from(document.querySelectorAll('[src],[href]')).map(e => e.getAttribute('src') || e.getAttribute('href'))
      .filter(u => u && !u.startsWith('data:') && !u.startsWith('#')).length;
  const m = document.createElement('div');
  m.id = 'probe-result';
  m.textContent = `PROBE images=${imgs.length} bad=${bad} external=${ext} errors=${window.__errors.length}`;
  document.body.appendChild(m);
});
</script>"""


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


@pytest.fixture()
def browser():
    exe = _chromium()
    if exe is None:
        if os.environ.get("CHISCREEN_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium not found but CHISCREEN_REQUIRE_BROWSER=1 (.ci/run installs it: apt-get install -y chromium)")
        pytest.skip("chromium not installed (apt-get install -y chromium); .ci/run installs it so CI runs this test")
    return exe


def _run(exe: str, args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    base = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            f"--user-data-dir={tmp / 'profile'}", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000"]
    return subprocess.run(base + args, capture_output=True, text=True, timeout=120)


def _campaign(tmp_path: Path) -> CampaignResult:
    T = np.linspace(298.15, 473.15, 20)
    png = plot_chi_curves(tmp_path / "chi_T.png", [{"title": "toluene", "T_K": T, "chi_c": 0.5, "mark_K": 363.15,
                                                    "curves": [("PS (target)", 0.3 + 30 / T, np.full(20, 0.05), "-"),
                                                               ("PE", 0.6 - 20 / T, np.full(20, 0.08), "--")]}],
                          "test plot")
    table = pd.DataFrame({"rank": [1, 2], "solvent": ["toluene", "decalin <b>&"], "status": ["works", "unknown"],
                          "T_work_C": [90.0, np.nan], "margin": [0.05, -0.1]})
    summary = {"inputs": {"mixture": ["PS", "PE"], "target": "PS"}, "counts": {"works": 1, "unknown": 1},
               "failures": {"solvents_without_boiling_point": ["pinacolone"]},
               "provenance": {"model": {"artifact_hash": "abc123"}, "versions": {"chiscreen": "0.1.0"}}}
    return CampaignResult("recycle", tmp_path, table, "answer text", summary, {"chi_T": png}, {"solvents": table})


@pytest.mark.slow
def test_report_renders_in_chromium_without_errors(tmp_path, browser):
    res = _campaign(tmp_path)
    report = Path(write_campaign_report(res, tmp_path / "report.html"))
    page = report.read_text()
    assert "data:image/png;base64," in page and "<script" not in page
    assert not re.search(r"(src|href)=\"(https?:|//)", page)          # nothing from the network
    assert "decalin &lt;b&gt;&amp;" in page                            # cells are escaped
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"))
    r = _run(browser, ["--dump-dom", probe.as_uri()], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    m = re.search(r"PROBE images=(\d+) bad=(\d+) external=(\d+) errors=(\d+)", r.stdout)
    assert m, r.stdout[-2000:]
    images, bad, external, errors = map(int, m.groups())
    assert images == 1 and bad == 0 and external == 0 and errors == 0
    console = [l for l in r.stderr.splitlines() if "CONSOLE" in l]
    assert not console, console
    # the report itself (no probe): no console messages, and a screenshot to look at
    shot = tmp_path / "shot.png"
    r2 = _run(browser, [f"--screenshot={shot}", "--window-size=1200,1800", report.as_uri()], tmp_path)
    assert r2.returncode == 0 and shot.is_file() and shot.stat().st_size > 10_000
    assert not [l for l in r2.stderr.splitlines() if "CONSOLE" in l]
    if os.environ.get("CHISCREEN_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["CHISCREEN_KEEP_SCREENSHOT"])


def test_folder_report_embeds_tables_json_and_plots(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    pd.DataFrame({"a": [1, 2], "b": [0.5, np.nan]}).to_csv(d / "t.csv", index=False)
    (d / "summary.json").write_text('{"counts": {"ok": 2}, "provenance": {"model": {"artifact_hash": "h"}}}')
    _campaign(d)
    out = Path(write_folder_report(d))
    page = out.read_text()
    assert "t.csv" in page and "artifact_hash" in page and page.count("data:image/png;base64,") == 1

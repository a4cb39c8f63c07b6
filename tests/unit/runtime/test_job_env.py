"""job_runtime_env (the runtime_env of `ray job submit`) passes the driver's data folder; no Ray needed."""
import importlib.util

import pytest

from chiscreen.paths import project_root
from chiscreen.runtime import job_runtime_env


@pytest.fixture
def clean_env(monkeypatch):
    for k in ("CHISCREEN_DATA", "CHISCREEN_CACHE", "PYTHONPATH"):
        monkeypatch.delenv(k, raising=False)
    return monkeypatch


def test_data_dir_passed_as_chiscreen_data_when_unset(tmp_path, clean_env):
    data = tmp_path / "data"
    data.mkdir()
    renv = job_runtime_env(data_dir=data, working_dir=".")
    assert renv == {"env_vars": {"CHISCREEN_DATA": str(data.resolve())}, "working_dir": "."}


def test_user_setting_wins_and_missing_folder_is_not_sent(tmp_path, clean_env):
    data = tmp_path / "data"
    data.mkdir()
    assert job_runtime_env(data_dir=tmp_path / "absent")["env_vars"] == {}
    assert job_runtime_env(data_dir=None)["env_vars"] == {}
    assert job_runtime_env(data_dir=data, extra_env={"CHISCREEN_DATA": "/x"})["env_vars"]["CHISCREEN_DATA"] == "/x"
    clean_env.setenv("CHISCREEN_DATA", "/mine")
    assert job_runtime_env(data_dir=data)["env_vars"]["CHISCREEN_DATA"] == "/mine"


def test_submit_sends_the_data_folder_the_driver_finds(tmp_path, clean_env):
    spec = importlib.util.spec_from_file_location("submit_under_test", project_root() / "jobs" / "submit.py")
    submit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(submit)
    data = tmp_path / "data"
    data.mkdir()
    clean_env.setenv("CHISCREEN_DATA", str(data))
    assert submit._driver_data_dir() == data
    clean_env.delenv("CHISCREEN_DATA")
    clean_env.setenv("CHISCREEN_CACHE", str(tmp_path / "cache"))
    clean_env.chdir(tmp_path)  # nothing beside the working dir
    found = submit._driver_data_dir()
    shared = project_root().parent / "shared" / "data"
    if not shared.is_dir():
        pytest.skip(f"reference data not found at {shared} (../shared/data beside the project)")
    assert found == shared

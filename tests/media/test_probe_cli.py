"""``cinestudio probe``: JSON on stdout; bad input is one ``error:`` line on stderr and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cinestudio.cli import app

BAD = ["missing", "folder", "empty", "text_mp4", "image", "image_as_mp4", "no_moov"]


def run_cli(*args: str):
    runner = CliRunner()
    return runner.invoke(app, list(args))


def test_probe_json_keys(bad_files):
    result = run_cli("probe", str(bad_files["non_ascii"]), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"frames", "fps", "width", "height", "duration", "codec"} <= set(data)
    assert (data["frames"], data["width"], data["height"], data["codec"]) == (12, 64, 48, "h264")
    assert data["fps"] == pytest.approx(10)
    assert data["duration"] == pytest.approx(1.2)


def test_probe_reports_what_decodes(bad_files):
    data = json.loads(run_cli("probe", str(bad_files["lying_avi"]), "--json").stdout)
    assert data["frames"] == 28 and data["header_frames"] == 40
    human = run_cli("probe", str(bad_files["lying_avi"]))
    assert human.exit_code == 0
    assert "28" in human.stdout and "claims 40" in human.stdout


@pytest.mark.parametrize("name", BAD)
def test_bad_input_one_error_line_exit_2(bad_files, name):
    result = run_cli("probe", str(bad_files[name]), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {bad_files[name]}: ")


def test_real_process_no_traceback(bad_files):
    """In a real process (ffmpeg's own logging included): one line on stderr, exit 2."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    for name in ("truncated_tail", "no_moov", "text_mp4"):
        proc = subprocess.run([sys.executable, "-m", "cinestudio", "probe", str(bad_files[name]), "--json"],
                              capture_output=True, text=True, encoding="utf-8", env=env, timeout=60)
        if name == "truncated_tail":
            assert proc.returncode == 0, proc.stderr
            assert json.loads(proc.stdout)["frames"] < 20
            assert proc.stderr == ""
        else:
            assert proc.returncode == 2
            assert proc.stdout == ""
            assert len(proc.stderr.splitlines()) == 1, proc.stderr
            assert proc.stderr.startswith(f"error: {bad_files[name]}: ")
            assert "Traceback" not in proc.stderr

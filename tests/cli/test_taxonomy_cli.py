import json
import subprocess
import sys


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "cinestudio", *args], capture_output=True,
                          text=True, encoding="utf-8", cwd=cwd, timeout=120)


def test_taxonomy_json_shape():
    result = run_cli("taxonomy", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["scheme"] == "cinematic2k"
    assert set(data["axes"]) == {"framing", "angle", "movement"}
    first = data["axes"]["framing"][0]
    assert set(first) == {"key", "label", "definition", "prompts"} and len(first["prompts"]) >= 2
    assert sum(len(v) for v in data["axes"].values()) == 20


def test_unknown_class_key_is_one_error_line_and_exit_2():
    result = run_cli("taxonomy", "--key", "moonwalk", "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: moonwalk: ")

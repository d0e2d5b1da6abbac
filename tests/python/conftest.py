"""The chacra Python module's tests: the module built by CMake (build/python, $CHACRA_PYTHON_DIR), the chacra
executable beside it ($CHACRA_BINARY) to check that both give the same bits, and a small scenario."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.environ.get("CHACRA_PYTHON_DIR", os.path.join(ROOT, "build", "python")))
sys.path.insert(0, os.path.join(ROOT, "analysis"))

SCENARIO = """name: py
population: {households: 400, districts: 4, seed: 3}
run: {start_year: 2017, years: 3, replicates: 2, seed: 9, reference_arm: none}
output: {frequency: yearly}
arms:
  - name: none
    set: {juntos.enabled: false, haku_winay.enabled: false}
  - name: juntos
    set: {haku_winay.enabled: false}
  - name: both
"""


@pytest.fixture(scope="session")
def chacra_binary():
    exe = os.environ.get("CHACRA_BINARY") or os.path.join(ROOT, "build", "chacra")
    if not os.access(exe, os.X_OK):
        pytest.fail("no chacra executable: set CHACRA_BINARY (ctest does)")
    return exe


@pytest.fixture(scope="session")
def scenario_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("scenario") / "py.yaml"
    path.write_text(SCENARIO)
    return str(path)

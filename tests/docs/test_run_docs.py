"""tests/docs/run_docs.py, the docs test, fails on a broken example and only then: each rule of the harness on a
small Markdown document of its own."""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import run_docs  # noqa: E402


@pytest.fixture(scope="module")
def chacra():
    exe = os.environ.get("CHACRA_BINARY") or os.path.join(ROOT, "build", "chacra")
    if not os.access(exe, os.X_OK):
        pytest.skip("no chacra executable: set CHACRA_BINARY (ctest does)")
    return exe


def run(chacra, tmp_path, text, *extra):
    doc = tmp_path / "page.md"
    doc.write_text(text)
    res = subprocess.run([sys.executable, os.path.join(HERE, "run_docs.py"), "--chacra", chacra, "--workdir",
                          str(tmp_path / "work"), str(doc), *extra], capture_output=True, text=True)
    return res.returncode, res.stdout + res.stderr


def expect(chacra, tmp_path, text, code, *phrases):
    """Runs a document and checks its exit status and that the report holds every phrase."""
    got, out = run(chacra, tmp_path, text)
    assert got == code and all(p in out for p in phrases), out
    return out


def test_working_examples_pass_and_share_their_files(chacra, tmp_path):
    code, out = run(chacra, tmp_path, """# Page

```yaml
# small.yaml: a scenario the next block runs
name: small
arms: [{name: a}, {name: b, set: {juntos.transfer_pen: 300}}]
```

```sh
build/chacra run small.yaml -o small.h5 --replicates 4
chacra compare small.h5 --format json > cmp.json
```

```python
import json
rows = json.load(open("cmp.json"))
```

```python
assert rows and rows[0]["arm"] == "b"      # the namespace carries over from the block above
```

```text
whatever output
```
""")
    assert code == 0, out
    assert "4 example(s) run, 0 skipped, 0 failed, 1 text block(s)" in out
    # The run was shrunk, and the effective command is shown.
    assert "shrunk to: chacra run small.yaml -o small.h5 --replicates 2 --set population.households=1200" in out


def test_broken_command_fails_and_names_its_line(chacra, tmp_path):
    expect(chacra, tmp_path, "text\n\n```sh\nbuild/chacra run --set run.years=0\n```\n", 1, "page.md:3 (sh",
           "exit status 2", "run.years")


def test_every_line_of_a_block_must_succeed(chacra, tmp_path):
    expect(chacra, tmp_path, "```sh\nfalse\ntrue\n```\n", 1)
    expect(chacra, tmp_path, "```sh\nfalse | true\n```\n", 1)  # pipefail


def test_invalid_yaml_example_fails(chacra, tmp_path):
    expect(chacra, tmp_path, "```yaml\nname: x\npopulation: {households: 0}\n```\n", 1, "chacra validate",
           "population.households")


def test_python_exception_fails_with_the_document_line(chacra, tmp_path):
    expect(chacra, tmp_path, "intro\n\n```python\nx = 1\nraise ValueError('broken example')\n```\n", 1,
           "broken example", "page.md:3")


def test_unlabelled_or_unknown_blocks_fail(chacra, tmp_path):
    expect(chacra, tmp_path, "```\nchacra run\n```\n", 1, "must name its language")
    expect(chacra, tmp_path, "```fortran\nprint *, 1\n```\n", 1, "unknown block language")


def test_skip_marker_is_listed_with_its_reason(chacra, tmp_path):
    code, out = run(chacra, tmp_path, """```sh
# not run by the docs test: needs a cluster
mpirun -np 64 build/chacra run huge.yaml
```

```bash
#!/bin/bash
# not run by the docs test: a Slurm batch script
srun build/chacra run
```

```stata
use "panel.dta", clear
```
""")
    assert code == 0, out
    assert "skipped" in out and "needs a cluster" in out and "a Slurm batch script" in out and "(stata)" in out
    assert "0 example(s) run, 3 skipped, 0 failed" in out


def test_r_blocks_run_with_rscript_and_see_earlier_files(chacra, tmp_path):
    text = """```sh
build/chacra run -o small.h5 --quiet
```

```r
library(hdf5r)
f <- H5File$new("small.h5", mode = "r")
stopifnot(length(f[["arm_names"]][]) > 1)
f$close_all()
```

```r
stop("a broken R example")
```
"""
    if not run_docs.r_available():
        expect(chacra, tmp_path, text, 0, "skipped", run_docs.R_MISSING)
        pytest.skip("Rscript or hdf5r is not installed: r blocks are skipped, as checked")
    out = expect(chacra, tmp_path, text, 1, "a broken R example", "3 example(s) run, 0 skipped, 1 failed")
    lines = out.splitlines()
    assert any(l.startswith("ok") and "page.md:5 (r, " in l for l in lines), out
    assert any(l.startswith("FAILED") and "page.md:12 (r, " in l for l in lines), out


def test_full_size_blocks_see_the_real_executable(chacra, tmp_path):
    code, out = run(chacra, tmp_path, """```sh
# run at full size by the docs test: the path must be the executable itself
test "$(readlink -f build/chacra)" = "$(readlink -f "$(command -v chacra)")"
test "$(readlink -f build/chacra)" = "$(readlink -f "$CHACRA_BINARY")"
cmp build/chacra "$CHACRA_BINARY"
```

```sh
head -c 2 build/chacra | grep -q '#!'     # the wrapper again
```
""")
    assert code == 0, out
    assert "at full size: the path must be the executable itself" in out


def test_generated_section_must_be_current(chacra, tmp_path):
    text = "top\n<!-- generated by: echo one; echo two -->\none\nthree\n<!-- end generated -->\nbottom\n"
    expect(chacra, tmp_path, text, 1, "out of date", "+two")
    code, out = run(chacra, tmp_path, text, "--update")
    assert code == 0, out
    assert (tmp_path / "page.md").read_text() == text.replace("one\nthree\n", "one\ntwo\n")
    expect(chacra, tmp_path, (tmp_path / "page.md").read_text(), 0, "generated section is current")


def test_links_stay_inside_the_repository_and_sources_are_cited(chacra, tmp_path):
    expect(chacra, tmp_path, "See [the brief](../shared/MODEL.md).\n", 1, "outside the repository",
           "cites MODEL.md")


def test_inline_commands_name_real_commands_and_options(chacra, tmp_path):
    expect(chacra, tmp_path, "Use `chacra compare OUT.h5 --reference ARM --format csv|json`.\n", 0,
           "1 inline chacra command(s)")
    expect(chacra, tmp_path, "Use `chacra compare OUT.h5 --baseline ARM`.\n", 1, "has no option --baseline")
    expect(chacra, tmp_path, "Use `build/chacra simulate`.\n", 1, "no command 'simulate'")


def test_shrink_rules():
    assert run_docs.shrink(["run", "s.yaml", "--replicates", "20", "-o", "x.h5"]) == [
        "run", "s.yaml", "--replicates", "2", "-o", "x.h5", "--set", "population.households=1200", "--set",
        "run.years=3"]
    assert run_docs.shrink(["run", "-r", "9"])[:3] == ["run", "-r", "2"]
    assert run_docs.shrink(["run", "--replicates=9"])[:2] == ["run", "--replicates=2"]
    assert run_docs.shrink(["evaluate", "--format", "json"]) == ["evaluate", "--format", "json", "--replicates", "2"]
    assert run_docs.shrink(["bench", "--scaling", "10,20", "-n", "100000"]) == [
        "bench", "--scaling", "2000,4000", "-n", "2000", "--years", "1", "--repeats", "1"]
    for untouched in (["compare", "x.h5", "-r", "a"], ["export", "x.h5", "--csv", "d"], ["--help"], []):
        assert run_docs.shrink(untouched) == untouched

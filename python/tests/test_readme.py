"""The README's Python example runs as printed."""
import os
import re
import subprocess
import sys

from conftest import ROOT


def test_readme_example(tmp):
    text = open(os.path.join(ROOT, "README.md")).read()
    section = text.split("## From Python", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp, capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("<lincomp.Model 10-64-64-3")
    # what the README says it prints (one thread: the same model every run)
    printed = re.search(r"```python\n.*?```\n\nprints\n\n```\n(.*?)```", section, re.S).group(1)
    assert r.stdout == printed
    size = float(re.search(r"size ([0-9.e-]+)", lines[1]).group(1))
    assert 0 < size <= 0.5
    assert (tmp / "small.onnx").stat().st_size > 0

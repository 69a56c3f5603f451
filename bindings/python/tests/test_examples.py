"""The examples under examples/python run, on SQLite and PostgreSQL, with the installed wheel."""

import pathlib
import subprocess
import sys

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "examples" / "python"


def test_the_quick_start_runs(store_url):
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart.py"), store_url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "ingested 2 files" in out
    assert "planned 1 files" in out
    assert "stubbed 1 files, 262144 bytes moved" in out
    assert "rehydrated 262144 bytes" in out
    assert "resume after ac2" in out


def test_the_readme_shows_the_quick_start():
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = readme.split("```python\n")[1].split("\n```")[0]
    # The README's lines (imports aside) are the example's, in order, indentation aside.
    shown = [l.strip() for l in block.splitlines() if l.strip() and not l.startswith("import")]
    example = iter(l.strip() for l in (EXAMPLES / "quickstart.py").read_text().splitlines())
    assert len(shown) >= 8
    missing = [l for l in shown if not any(l == e for e in example)]
    assert missing == [], "README lines not in examples/python/quickstart.py (in order)"

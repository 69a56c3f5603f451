"""Workers that poll for more (`once=False`) stop on Ctrl-C: the KeyboardInterrupt reaches
Python while the GIL is released, and the workers are cancelled before it is raised."""

import signal
import subprocess
import sys
import time

SCRIPT = """
import sys, alto
store = alto.connect(sys.argv[1])
store.create_tenant("acme")
print("ready", flush=True)
try:
    store.run_workers(once=False)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_ctrl_c_stops_polling_workers(tmp_path):
    p = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, f"sqlite://{tmp_path / 'a.db'}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert p.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        assert p.poll() is None  # still polling
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=10)
    finally:
        p.kill()
    assert out.strip() == "interrupted"
    assert p.returncode == 0

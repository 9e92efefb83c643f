"""Starts this round's faulty app exactly as oracle/serve.py starts the oracle (same flags, same `listening on http://HOST:PORT` line).

    ORACLE_FAULT=r1-07 target/oracle-venv/bin/python oracle/faults/round1/serve.py --port 0

oracle/serve.py does `from app import app`; with this directory first on sys.path that import
finds the faulty copy beside this file instead of oracle/app.py. ORACLE_FAULT unset serves the
copy with no fault active, which answers as the original oracle does.
"""

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORACLE = HERE.parents[1]

if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.argv[0] = str(ORACLE / "serve.py")
    runpy.run_path(str(ORACLE / "serve.py"), run_name="__main__")

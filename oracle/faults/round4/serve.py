"""Starts oracle/faults/round4/app.py exactly as oracle/serve.py starts oracle/app.py (same flags, same `listening on` line); ORACLE_FAULT picks the fault."""

import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.dirname(os.path.dirname(HERE))

# serve.py does `from app import app`: this directory first, so that import finds the faulty copy.
sys.path.insert(0, HERE)
runpy.run_path(os.path.join(ORACLE, "serve.py"), run_name="__main__")

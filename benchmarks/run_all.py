"""Run every benchmark in this folder (each as its own process, ``--json``) and print the results.

The figures go into docs/performance.md by hand, with the date and the machine: a benchmark
is a measurement to read, not a test to pass.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"== {script.name}", flush=True)
        result = subprocess.run([sys.executable, str(script), "--json"], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            failed += 1
            print(result.stderr.strip() or f"exit {result.returncode}")
        for line in result.stdout.splitlines():
            try:
                print(json.dumps(json.loads(line), indent=2))
            except json.JSONDecodeError:
                print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Peak memory of reading one input, measured in a fresh Python process (the test process has its own heap)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

_HWM = """
def hwm():  # this process's own peak in KiB (ru_maxrss keeps the forking test worker's peak across exec)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
"""
_PROGRAM = _HWM + """
import json, sys
from kratomref.readers import read
baseline = hwm()
document = read(sys.argv[1])
print(json.dumps({"baseline_kib": baseline, "peak_kib": hwm(),
                  "problems": [[p.code, p.message] for p in document.problems],
                  "references": len(document.references), "lines": len(document.body)}))
"""
_CHECK_PROGRAM = _HWM + """
import datetime, json, sys
from kratomref.check import check
from kratomref.options import Options
baseline = hwm()
report = check(Options(paths=(sys.argv[1],), offline=True, use_cache=False, archive=False,
                       today=datetime.date(2026, 11, 27)))
print(json.dumps({"baseline_kib": baseline, "peak_kib": hwm(),
                  "problems": [[p.code, p.message] for d in report.documents for p in d.problems],
                  "findings": [f.rule.code for f in report.findings],
                  "references": sum(len(d.references) for d in report.documents)}))
"""


def peak(path: str, *, whole_check: bool = False, limit_mib: int = 2048, timeout: float = 300) -> dict[str, Any]:
    """What reading (or checking, offline) path gave, with the process's peak resident memory in KiB. The child's
    address space is capped at limit_mib so that a regression fails the test instead of exhausting the machine."""
    program = _CHECK_PROGRAM if whole_check else _PROGRAM
    cap = f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({limit_mib} * 2**20, {limit_mib} * 2**20))\n"
    done = subprocess.run([sys.executable, "-c", cap + program, path], capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result

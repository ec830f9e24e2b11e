"""Baselines: record today's findings, then fail only on findings that are new.

Findings are matched on rule, key and content fingerprint, never on line numbers, so editing a file
above an old finding does not make it new.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from kratomref.model import Finding
from kratomref.readers import InputError
from kratomref.selection import with_fingerprint

BASELINE_VERSION = 1

Identity = tuple[str, str, str]  # (code, key, fingerprint)


class BaselineError(InputError):
    """A baseline file that is missing or not a kratomref baseline (the CLI exits 2)."""


def _identity(finding: Finding) -> Identity:
    finding = with_fingerprint(finding)
    return (finding.rule.code, finding.location.key or "", finding.fingerprint)


def write_baseline(path: str | Path, findings: Iterable[Finding]) -> None:
    entries = [
        {"code": f.rule.code, "key": f.location.key, "file": f.location.file, "fingerprint": f.fingerprint}
        for f in (with_fingerprint(f) for f in findings)
    ]
    entries.sort(key=lambda e: (str(e["file"]), str(e["key"] or ""), str(e["code"]), str(e["fingerprint"])))
    document = {"tool": "kratomref", "version": BASELINE_VERSION, "findings": entries}
    Path(path).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_baseline(path: str | Path) -> Counter[Identity]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline not found (create it with --write-baseline)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION or not isinstance(
        data.get("findings"), list
    ):
        raise BaselineError(f"{path}: not a kratomref baseline of version {BASELINE_VERSION}")
    known: Counter[Identity] = Counter()
    for entry in data["findings"]:
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("code", "fingerprint")):
            raise BaselineError(f"{path}: malformed entry {entry!r}")
        known[(entry["code"], entry.get("key") or "", entry["fingerprint"])] += 1
    return known


def filter_new(findings: Iterable[Finding], baseline_path: str | Path) -> list[Finding]:
    """The findings not in the baseline. Counted, so a second identical finding is still new."""
    remaining = read_baseline(baseline_path)
    new = []
    for finding in findings:
        identity = _identity(finding)
        if remaining[identity] > 0:
            remaining[identity] -= 1
        else:
            new.append(finding)
    return new

"""Helpers of the trust tests: run the CLI, write a file, read the warnings, and the user's own dirs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner, Result

from kratomref.cli import main


@dataclass
class User:
    """The user's side of the machine: their config file and their cache, outside every repository."""

    config_file: Path
    cache_dir: Path

    def configure(self, text: str) -> Path:
        return write(self.config_file, text)


@dataclass
class Site:
    """A web server on 127.0.0.1 that answers 200 with a title, and remembers every request."""

    url: str = ""
    paths: list[str] = field(default_factory=list)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def warnings_of(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("kratomref: warning:")]

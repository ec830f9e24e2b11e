"""Fixtures of the trust tests: the user's own config and cache dirs kept apart from a repository made by
each test, and a loopback web server that counts what reaches it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import local_server
import pytest
from trust_kit import Site, User

from kratomref import config
from kratomref.services import cache


@pytest.fixture
def user(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> User:
    home = tmp_path_factory.mktemp("home")
    mine = User(home / "config" / "kratomref" / "kratomref.toml", home / "cache" / "kratomref")
    monkeypatch.setattr(config, "user_config_file", lambda: mine.config_file)
    monkeypatch.setattr(cache, "user_cache_dir", lambda: mine.cache_dir)
    monkeypatch.delenv("KRATOMREF_CACHE_DIR", raising=False)  # the user cache dir, unless a test sets it
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    return mine


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user: User) -> Path:
    """A checked-out repository (a .git directory marks its root), the working directory of the run."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def site() -> Iterator[Site]:
    seen = Site()

    class Handler(local_server.Handler):
        def do_GET(self) -> None:
            seen.paths.append(self.path)
            body = b"<html><head><title>Internal report</title></head><body><h1>Internal report</h1></body></html>"
            local_server.send_body(self, body, "text/html")

        do_HEAD = do_GET

    server = local_server.Server(("127.0.0.1", 0), Handler)
    seen.url = f"http://127.0.0.1:{server.server_address[1]}"
    local_server.serve(server)
    try:
        yield seen
    finally:
        local_server.stop(server)

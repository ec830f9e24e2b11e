"""Red-team attack on the user's cache that the first trust tests did not try: the cache path is a symbolic
link another user made (in a shared directory), pointing at a directory of the victim's own."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from kratomref.services.cache import Cache, untrusted


@pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "lchown"), reason="no POSIX owners")
@pytest.mark.skipif(getattr(os, "geteuid", lambda: 0)() != 0, reason="giving a link to another user needs root")
def test_a_cache_dir_that_is_another_users_symbolic_link_is_not_trusted(tmp_path: Path) -> None:
    """The directory the link points at is the victim's own, so only the link's owner tells."""
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o700)
    store = Cache(mine, services={})
    store.put("ns", "k", {"planted": True}, 3600)
    store.close()
    link = tmp_path / "shared-cache"
    link.symlink_to(mine)
    assert untrusted(link) is None, "the user's own link is trusted (the test can fail)"
    assert Cache(link, services={}).get("ns", "k") == {"planted": True}
    os.lchown(link, 65534, 65534)
    assert "symbolic link made by another user" in (untrusted(link) or "")
    with pytest.warns(UserWarning, match="symbolic link made by another user"):
        assert Cache(link, services={}).get("ns", "k") is None

"""A pull request writes the repository's kratomref.toml: each attack of issue 17 on the configuration, in a
repository made by the test, run through the CLI. The user's own config, the environment and the command line
still set anything."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from trust_kit import Site, User, run, warnings_of, write

DOI = "10.5555/invented.2024.001"
SECRET = "S3CRET-RUNNER-TOKEN-4711"


def loopback(site: Site) -> str:
    """The site's address spelt as one number (127.0.0.1 is 2130706433): not a placeholder host, still loopback."""
    return site.url.replace("127.0.0.1", "2130706433")


def bib_with_link(url: str) -> str:
    return f"@online{{report,\n  author = {{Lindqvist, Maren}},\n  title = {{Internal report}},\n" \
           f"  year = {{2024}},\n  url = {{{url}}},\n}}\n"


# --- allow-private ----------------------------------------------------------------------------------------


def test_a_repository_config_cannot_switch_off_the_private_address_guard(
    repo: Path, site: Site, crossref: object
) -> None:
    write(repo / "kratomref.toml", "allow-private = true\n")
    write(repo / "refs.bib", bib_with_link(f"{loopback(site)}/internal"))
    env = {"KRATOMREF_CROSSREF_URL": crossref.url}  # type: ignore[attr-defined]
    result = run("check", "--format", "json", "refs.bib", env=env)
    assert site.paths == [], "no request may reach a loopback address the repository asked for"
    assert "private address" in result.stdout
    [warning] = [w for w in warnings_of(result) if "allow-private" in w]
    assert "kratomref.toml" in warning and "ignoring allow-private = true" in warning

    shown = run("check", "--show-config")
    assert "allow-private = false  # default (kratomref.toml sets allow-private = true: ignored)" in shown.stdout

    # the command line is the user's: --allow-private reaches the server (the test can fail)
    allowed = run("check", "--allow-private", "refs.bib", env=env)
    assert site.paths == ["/internal"], allowed.output


def test_no_allow_private_wins_over_the_users_own_config(repo: Path, user: User, site: Site, crossref: object) -> None:
    user.configure("allow-private = true\n")
    write(repo / "refs.bib", bib_with_link(f"{loopback(site)}/internal"))
    env = {"KRATOMREF_CROSSREF_URL": crossref.url}  # type: ignore[attr-defined]
    shown = run("check", "--show-config")
    assert f"allow-private = true  # user config {user.config_file}" in shown.stdout, "the user's config is trusted"
    run("check", "--no-allow-private", "refs.bib", env=env)
    assert site.paths == []
    assert "allow-private = false  # command line" in run("check", "--show-config", "--no-allow-private").stdout


# --- --config /dev/null and --isolated ----------------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists(os.devnull), reason="no null device")
def test_config_dev_null_reads_no_configuration(repo: Path, user: User) -> None:
    write(repo / "kratomref.toml", 'fail-on = "never"\nallow-private = true\n')
    user.configure("max-age-web = 2\n")
    result = run("check", "--show-config", "--config", os.devnull)
    assert result.exit_code == 0, result.output
    assert 'fail-on = "error"  # default' in result.stdout
    assert "max-age-web = 2  # user config" in result.stdout, "the user's own config still applies"
    assert warnings_of(result) == [], "the repository's file was not read, so nothing was ignored"


def test_isolated_ignores_every_configuration_file(repo: Path, user: User) -> None:
    write(repo / "kratomref.toml", 'fail-on = "never"\n')
    user.configure("max-age-web = 2\n")
    result = run("check", "--show-config", "--isolated", "--timeout", "3")
    assert result.exit_code == 0, result.output
    assert 'fail-on = "error"  # default' in result.stdout and "max-age-web = 5  # default" in result.stdout
    assert "timeout = 3.0  # command line" in result.stdout
    both = run("check", "--isolated", "--config", "kratomref.toml")
    assert both.exit_code == 2 and "--isolated" in both.stderr


# --- files a repository config names -------------------------------------------------------------------------


@pytest.fixture
def secret(repo: Path) -> Path:
    """A file of the runner beside the checkout, that a pull request would like to see in its report."""
    return write(repo.parent / "secret.bib", f"@misc{{{SECRET}, title = {{{SECRET}}}, url = {{https://x.org/?t={SECRET}}}}}\n")


@pytest.mark.parametrize("paths", [
    pytest.param('["../secret.bib"]', id="climbing out"),
    pytest.param("ABSOLUTE", id="an absolute path outside"),
    pytest.param('["refs.bib", "sub/../../secret.bib"]', id="climbing out after a good one"),
])
def test_a_repository_config_cannot_name_inputs_outside_the_repository(repo: Path, secret: Path, paths: str) -> None:
    write(repo / "refs.bib", "@misc{a, title = {A}, year = {2024}}\n")
    paths = paths.replace("ABSOLUTE", f'["{secret.as_posix()}"]')
    write(repo / "kratomref.toml", f"paths = {paths}\n")
    result = run("check", "--offline", "--format", "json")
    assert result.exit_code == 2
    assert "outside the repository" in result.stderr and "'paths'" in result.stderr
    assert SECRET not in result.stdout and SECRET not in result.stderr.replace("secret.bib", "")
    # the same file on the command line is the user's choice
    assert SECRET in run("check", "--offline", "--format", "json", str(secret)).stdout


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_a_symbolic_link_out_of_the_repository_is_outside(repo: Path, secret: Path) -> None:
    try:
        (repo / "refs.bib").symlink_to(secret)
    except OSError:
        pytest.skip("cannot create a symbolic link here")
    write(repo / "kratomref.toml", 'paths = ["refs.bib"]\n')
    result = run("check", "--offline", "--format", "json")
    assert result.exit_code == 2 and "outside the repository" in result.stderr
    assert SECRET not in result.stdout


def test_a_repository_config_cannot_name_a_baseline_outside_the_repository(repo: Path) -> None:
    write(repo / "refs.bib", "@misc{a, title = {A}, year = {2024}}\n")
    write(repo.parent / "passwd.json", f'{{"tool": "kratomref", "version": 1, "findings": [["{SECRET}"]]}}\n')
    write(repo / "kratomref.toml", 'baseline = "../passwd.json"\n')
    result = run("check", "--offline", "refs.bib")
    assert result.exit_code == 2 and "'baseline'" in result.stderr and "outside the repository" in result.stderr
    assert SECRET not in result.output
    # a baseline inside the repository is read as before
    (repo / "kratomref.toml").unlink()
    assert run("check", "--offline", "--write-baseline", "baseline.json", "refs.bib").exit_code == 0
    write(repo / "kratomref.toml", 'baseline = "baseline.json"\nfail-on = "info"\n')
    assert run("check", "--offline", "--allow-unverified", "refs.bib").exit_code == 0
    (repo / "baseline.json").unlink()
    assert run("check", "--offline", "--allow-unverified", "refs.bib").exit_code == 2, "the baseline was not read"


# --- service URLs, timeouts, TTLs ----------------------------------------------------------------------------


def test_a_repository_config_cannot_choose_where_answers_come_from(repo: Path, crossref: object) -> None:
    chosen: Any = type(crossref)()  # the pull request's own server, on loopback
    server = sys.modules[type(crossref).__module__].serve(chosen)
    try:
        write(repo / "kratomref.toml", f'crossref-url = "{chosen.url}"\ndoi-url = "{chosen.url}"\n')
        write(repo / "refs.bib", f"@article{{a, author = {{Lindqvist, Maren}}, title = {{T}}, year = {{2024}}, "
                                 f"doi = {{{DOI}}}}}\n")
        url = crossref.url  # type: ignore[attr-defined]
        result = run("check", "--doi-url", url, "refs.bib", env={"KRATOMREF_CROSSREF_URL": url})
    finally:
        server.shutdown()
        server.server_close()
    assert chosen.count() == 0, "the repository's service was asked"
    assert crossref.count() > 0  # type: ignore[attr-defined]
    assert "KR202" in result.stdout, result.output
    assert {w.split(" = ")[0] for w in warnings_of(result)} == {
        "kratomref: warning: kratomref.toml: ignoring crossref-url",
        "kratomref: warning: kratomref.toml: ignoring doi-url",
    }


@pytest.mark.parametrize(("line", "kept"), [
    pytest.param("timeout = 600", False, id="a long timeout is ignored"),
    pytest.param("timeout = 20", True, id="a timeout up to 30 s is the project's to choose"),
    pytest.param("max-retries = 50", False, id="many retries are ignored"),
    pytest.param("ttl-found = 1e12", False, id="a longer TTL is ignored"),
    pytest.param("ttl-links = 60", True, id="a shorter TTL tightens"),
    pytest.param("max-concurrency = 5000", False, id="more concurrency is ignored"),
    pytest.param("host-interval = 0", False, id="a shorter pause between requests is ignored"),
    pytest.param("use-cache = false", True, id="turning the cache off tightens"),
    pytest.param("offline = true", True, id="going offline tightens"),
    pytest.param("allow-private = false", True, id="forbidding private addresses tightens"),
    pytest.param('fail-on = "warning"', True, id="policy is the project's"),
])
def test_a_repository_config_can_only_tighten(repo: Path, line: str, kept: bool) -> None:
    write(repo / "kratomref.toml", line + "\n")
    result = run("check", "--show-config")
    assert result.exit_code == 0, result.output
    key = line.split(" = ")[0]
    [shown] = [row for row in result.stdout.splitlines() if row.startswith(f"{key} = ")]
    warned = [w for w in warnings_of(result) if f"ignoring {key} = " in w]
    if kept:
        assert shown.endswith("# kratomref.toml") and warned == []
    else:
        assert shown.endswith("ignored)") and len(warned) == 1 and "kratomref.toml" in warned[0]


def test_the_users_own_config_may_loosen_within_the_bounds(repo: Path, user: User) -> None:
    user.configure("timeout = 600\nttl-found = 7776000\n")  # 90 days: the bound
    result = run("check", "--show-config")
    assert result.exit_code == 0, result.output
    assert "timeout = 600.0  # user config" in result.stdout and "ttl-found = 7776000.0  # user config" in result.stdout
    user.configure("ttl-found = 1e12\n")
    result = run("check", "--show-config")
    assert result.exit_code == 2 and "ttl-found" in result.stderr and "90 days" in result.stderr


# --- the cache's place ---------------------------------------------------------------------------------------


def test_a_repository_config_cannot_choose_the_cache(repo: Path, user: User) -> None:
    write(repo / "kratomref.toml", 'cache-dir = ".kr-cache"\n')
    write(repo / "refs.bib", f"@article{{a, title = {{T}}, year = {{2024}}, doi = {{{DOI}}}}}\n")
    result = run("check", "--offline", "refs.bib")
    assert [w for w in warnings_of(result) if "cache-dir" in w and "kratomref.toml" in w]
    assert not (repo / ".kr-cache").exists(), "the run wrote its cache into the repository"


@pytest.mark.parametrize("source", ["environment", "user config"])
def test_a_cache_inside_the_checked_tree_is_refused_from_the_environment_or_the_users_config(
    repo: Path, user: User, source: str
) -> None:
    inside = repo / ".cache" / "kratomref"
    env = {"KRATOMREF_CACHE_DIR": str(inside)} if source == "environment" else {}
    if source == "user config":
        user.configure(f'cache-dir = "{inside.as_posix()}"\n')
    write(repo / "refs.bib", f"@article{{a, title = {{T}}, year = {{2024}}, doi = {{{DOI}}}}}\n")
    result = run("check", "--offline", "refs.bib", env=env)
    [warning] = [w for w in warnings_of(result) if "cache-dir" in w]
    assert "inside the checked tree" in warning
    assert not inside.exists() and user.cache_dir.exists(), "the user's own cache dir is used instead"


def test_cache_dir_inside_the_tree_on_the_command_line_is_allowed_with_a_warning(repo: Path) -> None:
    write(repo / "refs.bib", f"@article{{a, title = {{T}}, year = {{2024}}, doi = {{{DOI}}}}}\n")
    result = run("check", "--offline", "--cache-dir", ".kr-cache", "refs.bib")
    [warning] = warnings_of(result)
    assert "inside the checked tree" in warning and "command line" in warning
    assert (repo / ".kr-cache").is_dir()


def test_the_users_own_cache_dir_and_a_config_named_on_the_command_line_are_trusted(repo: Path, user: User) -> None:
    mine = repo.parent / "my-cache"
    user.configure(f'cache-dir = "{mine.as_posix()}"\n')
    write(repo / "refs.bib", f"@article{{a, title = {{T}}, year = {{2024}}, doi = {{{DOI}}}}}\n")
    result = run("check", "--offline", "refs.bib")
    assert warnings_of(result) == [] and (mine / "cache.sqlite3").is_file()
    # the same loosening values the repository may not set, in a file the user names with --config
    write(repo / "ci" / "kratomref.toml", "allow-private = true\ntimeout = 120\n")
    shown = run("check", "--show-config", "--config", "ci/kratomref.toml")
    assert warnings_of(shown) == []
    assert "allow-private = true  # ci/kratomref.toml" in shown.stdout and "timeout = 120.0  # ci" in shown.stdout


def test_a_value_the_repository_wrote_reaches_the_terminal_escaped(repo: Path) -> None:
    write(repo / "kratomref.toml", 'cache-dir = "x\\u001b]0;owned\\u0007\\u202e"\n')
    result = run("check", "--show-config")
    [warning] = warnings_of(result)
    assert "\x1b" not in result.output and "\x07" not in result.output and "\u202e" not in result.output
    assert "\\u001B]0;owned\\u0007\\u202E" in warning

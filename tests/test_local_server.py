"""The tests' HTTP server says nothing when a client hangs up, and still reports a handler's real error."""

from __future__ import annotations

import http.client

import local_server
import pytest


def _ask(handler: type[local_server.Handler]) -> None:
    """One GET to a Server answering with `handler`; returns once the server has dealt with the error (it hangs
    up only after handle_error)."""
    with local_server.running(handler) as url:
        connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=5)
        try:
            connection.request("GET", "/")
            with pytest.raises(http.client.RemoteDisconnected):
                connection.getresponse()
        finally:
            connection.close()


@pytest.mark.parametrize("error", [BrokenPipeError, ConnectionResetError, ConnectionAbortedError])
def test_a_client_that_hung_up_is_not_reported(
    error: type[ConnectionError], capsys: pytest.CaptureFixture[str]
) -> None:
    class HungUp(local_server.Handler):
        def do_GET(self) -> None:
            raise error  # what writing to a client that has gone raises

    _ask(HungUp)
    assert capsys.readouterr().err == ""


def test_a_handler_that_fails_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    class Failing(local_server.Handler):
        def do_GET(self) -> None:
            raise ValueError("a bug in the test's handler")

    _ask(Failing)
    err = capsys.readouterr().err
    assert "Exception occurred during processing of request" in err and "ValueError: a bug in the test's handler" in err

"""core.postgres: a kept connection is checked without a round trip, and one the server
closed is still replaced before a request uses it."""

from __future__ import annotations

import time

import pytest
from django.db import connections

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_connection(django_db_blocker):
    """A connection of the app's backend outside the test's transaction, as a worker has."""
    with django_db_blocker.unblock():
        wrapper = connections.create_connection("default")
        try:
            yield wrapper
        finally:
            wrapper.close()


def backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def end_of_request(wrapper) -> None:
    wrapper.close_if_unusable_or_obsolete()  # what request_finished does: check again next time


def test_a_quiet_connection_is_kept_without_asking_the_server(own_connection, monkeypatch):
    assert own_connection.health_check_enabled is False  # set when it connects
    pid = backend_pid(own_connection)
    assert own_connection.health_check_enabled is True
    end_of_request(own_connection)
    monkeypatch.setattr(type(own_connection), "is_usable",
                        lambda self: pytest.fail("SELECT 1 sent for a quiet connection"))
    assert backend_pid(own_connection) == pid


def test_a_connection_the_server_ended_is_replaced_before_it_fails(own_connection):
    pid = backend_pid(own_connection)
    end_of_request(own_connection)
    with connections["default"].cursor() as cursor:  # an administrator ends that backend
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0] is True
    deadline = time.monotonic() + 5
    while own_connection.quiet() and time.monotonic() < deadline:
        time.sleep(0.01)  # the server's goodbye reaches the socket
    assert not own_connection.quiet()
    assert backend_pid(own_connection) != pid  # a new connection, and no error

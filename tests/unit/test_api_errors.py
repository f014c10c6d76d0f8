"""How the API answers when something below it fails: words and a status, never a traceback."""

from __future__ import annotations

import redis
from fastapi.testclient import TestClient

from jobboard.api import create_api


def _client_with(route_raising: Exception) -> TestClient:
    api = create_api()

    @api.get("/api/v1/_test-failure")
    def failing() -> None:
        raise route_raising

    return TestClient(api, raise_server_exceptions=False)


def test_redis_away_is_a_503_to_retry() -> None:
    client = _client_with(redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379."))
    response = client.get("/api/v1/_test-failure")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == {
        "detail": "the job queue is not answering right now; try again in a few seconds"
    }
    assert "6379" not in response.text


def test_anything_else_is_a_500_without_details() -> None:
    client = _client_with(RuntimeError("/srv/secret/path exploded"))
    response = client.get("/api/v1/_test-failure")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}

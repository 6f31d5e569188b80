"""How API failures read: the message inside each service's error body, the request id header, one line."""

from __future__ import annotations

import pytest

from stackwatch.openstack.api import ApiError, error_message, request_id_of


@pytest.mark.parametrize("body, message", [
    (b'{"itemNotFound": {"code": 404, "message": "Instance x could not be found."}}', "Instance x could not be found."),
    (b'{"NeutronError": {"type": "HTTPNotFound", "message": "The resource could not be found.", "detail": ""}}',
     "The resource could not be found."),
    (b'{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "x"}}',
     "The request you have made requires authentication."),
    (b'{"message": "quota exceeded"}', "quota exceeded"),
    (b"<html><body><h1>503 Service Unavailable</h1>\nNo server is available</body></html>",
     "503 Service Unavailable No server is available"),
    (b"", "(empty body)"),
    (b"\xff\xfe garbage", "\ufffd\ufffd garbage"),
])
def test_error_messages(body, message):
    assert error_message(body) == message


def test_request_id_headers_in_order_of_preference():
    assert request_id_of({"x-compute-request-id": "req-c", "x-openstack-request-id": "req-o"}) == "req-o"
    assert request_id_of({"x-trans-id": "tx1"}) == "tx1"
    assert request_id_of({}) is None


def test_an_api_error_is_one_line():
    exc = ApiError("image", "PUT /images/x/file", "Service\nUnavailable  now", 503, "req-1")
    assert str(exc) == "image PUT /images/x/file: HTTP 503: Service Unavailable now (request req-1)"
    assert str(ApiError("compute", "GET /servers", "refused")) == "compute GET /servers: no answer: refused"
    assert "no endpoint" in str(ApiError("volume", "GET /volumes", "none", missing_endpoint=True))

"""A small HTTP client for the API and the pages: JSON in and out, bearer tokens, a session cookie."""

from __future__ import annotations

import http.client
import json
import re
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from bench.scenario import DEMO_PASSWORD


class HttpError(RuntimeError):
    """The server answered with an unexpected status."""


class Client:
    """Requests to one server as one user; a fresh connection per request (gunicorn's sync workers close it)."""

    def __init__(self, port: int, token: str = "") -> None:
        self.port = port
        self.token = token
        self.cookie = ""

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str = "",
                expect: tuple[int, ...] = (200, 201)) -> tuple[int, bytes]:
        """Send one request and return (status, body); raise HttpError on an unexpected status."""
        headers = {"Connection": "close"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.cookie:
            headers["Cookie"] = self.cookie
        if content_type:
            headers["Content-Type"] = content_type
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            cookie = response.getheader("Set-Cookie")
        finally:
            conn.close()
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        if response.status not in expect:
            raise HttpError(f"{method} {path}: {response.status} {data[:300].decode(errors='replace')}")
        return response.status, data

    def json(self, method: str, path: str, payload: Any = None, expect: tuple[int, ...] = (200, 201)) -> Any:
        """Send JSON (or nothing) to the API and decode the answer."""
        body = json.dumps(payload).encode() if payload is not None else None
        _, data = self.request(method, f"/api/v1{path}", body, "application/json" if body else "", expect)
        return json.loads(data)

    def upload(self, instance_id: int, kind: str, filename: str, content: bytes) -> Any:
        """Attach a file to an instance (multipart, as a browser or script would)."""
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n{kind}\r\n'.encode(),
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: application/pdf\r\n\r\n".encode() + content + b"\r\n",
            f"--{boundary}--\r\n".encode(),
        ]
        _, data = self.request("POST", f"/api/v1/instances/{instance_id}/attachments", b"".join(parts),
                               f"multipart/form-data; boundary={boundary}")
        return json.loads(data)

    def sign_in_page(self, username: str) -> None:
        """Sign in through the login form (CSRF token included), keeping the session cookie."""
        _, page = self.request("GET", "/login")
        match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        if match is None:
            raise HttpError("no CSRF token on the login page")
        form = urlencode({"csrf_token": match.group(1).decode(), "username": username, "password": DEMO_PASSWORD})
        self.request("POST", "/login", form.encode(), "application/x-www-form-urlencoded", expect=(302, 303))


def api_client(port: int, username: str) -> Client:
    """A client holding a bearer token for a demo user."""
    client = Client(port)
    client.token = client.json("POST", "/auth/token", {"username": username, "password": DEMO_PASSWORD})["token"]
    return client


def timed(call: Any, *args: Any) -> tuple[Any, float]:
    """Call and return (result, milliseconds)."""
    started = time.perf_counter()
    result = call(*args)
    return result, (time.perf_counter() - started) * 1000

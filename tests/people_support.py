"""Console people for the tests: users added as `clarion user create` adds them, and browsers
signed in to the console, each a client of its own that keeps its session cookie and sends the
CSRF token on every change, as the console page does."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient

from clarion.database.clock import utcnow
from clarion.people import service
from clarion.people.roles import Role
from clarion.people.service import NewUser

PASSWORD = "correct horse battery staple"
SESSION_COOKIE = "clarion_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

_numbers = itertools.count(1)


@dataclass(frozen=True)
class Person:
    """A console user and the password they sign in with."""

    user_id: int
    email: str
    password: str
    role: str


def add_person(
    app: Any,
    organization_id: int,
    role: str,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    must_change_password: bool = False,
) -> Person:
    """A user of the organization, stored as the command line stores one (the app's own
    password hasher, at the tests' light cost)."""
    services = app.state.services
    email = email or f"{role}{next(_numbers)}@northside.example"
    user = NewUser(email, Role(role), services.passwords.hash(password), must_change_password)
    with services.database.unit(write=True) as unit:
        shown = service.add_user(unit, organization_id, user)
    return Person(shown["user_id"], email, password, role)


class Browser:
    """A browser signed in to the console."""

    def __init__(self, client: TestClient | httpx.Client, session: dict[str, Any]) -> None:
        self.client = client
        self.session = session

    @property
    def user_id(self) -> int:
        user_id: int = self.session["user_id"]
        return user_id

    @property
    def csrf_token(self) -> str:
        token: str = self.session["csrf_token"]
        return token

    @property
    def cookie(self) -> str:
        """The session token its cookie holds."""
        token = self.client.cookies.get(SESSION_COOKIE)
        assert token, "the browser holds no session cookie"
        return token

    def request(self, method: str, path: str, *, csrf: bool = True, **kwargs: Any) -> Any:
        """A request from the page: with the session's CSRF token when it changes something
        (unless ``csrf`` is false)."""
        headers = dict(kwargs.pop("headers", {}))
        if csrf and method.upper() not in SAFE_METHODS:
            headers.setdefault(CSRF_HEADER, self.csrf_token)
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)


def browser(app: Any, **options: Any) -> TestClient:
    """A client of ``app`` as a browser of its own: its own cookies, and with ``client=`` its
    own address."""
    return TestClient(app, raise_server_exceptions=False, **options)


def sign_in(app: Any, person: Person, password: str | None = None, **options: Any) -> Browser:
    """A new browser, signed in as ``person``."""
    return signed_in(browser(app, **options), person, password)


def signed_in(
    client: TestClient | httpx.Client, person: Person, password: str | None = None
) -> Browser:
    """``client`` signed in as ``person``."""
    response = client.post(
        "/v1/session", json={"email": person.email, "password": password or person.password}
    )
    assert response.status_code == 201, response.text
    return Browser(client, response.json())


class MovableClock:
    """Now, moved forward by the test: stands in for the sign-in module's clock."""

    def __init__(self) -> None:
        self.offset = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return utcnow() + self.offset

    def forward(self, **delta: float) -> None:
        self.offset += dt.timedelta(**delta)

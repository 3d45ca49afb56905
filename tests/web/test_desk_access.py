"""Who reaches the editor's desk: loopback only without a password, basic auth with DIGEST_DESK_PASSWORD."""

from __future__ import annotations

import base64

import pytest
from starlette.testclient import TestClient

from digest.web import create_app
from tests.support.render import Edition, edition_fixture  # noqa: F401

SECRET = "correct horse battery staple"


def basic(password: str, user: str = "editor") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_with_a_password_every_desk_request_needs_it(edition: Edition) -> None:
    with TestClient(create_app(edition.config, preview=True, password=SECRET)) as c:
        for path in ("/", "/preview/email.html", "/preview/state", "/preview/desk.js"):
            refused = c.get(path)
            assert refused.status_code == 401, path
            assert refused.headers["www-authenticate"].startswith('Basic realm="digest desk"')
            assert "frame-ancestors" in refused.headers["content-security-policy"]  # security headers on a refusal
            assert refused.headers["x-content-type-options"] == "nosniff"
            assert c.get(path, headers=basic("wrong")).status_code == 401
        assert c.get("/", headers={"Authorization": "Bearer " + SECRET}).status_code == 401
        assert c.get("/", headers={"Authorization": "Basic %%%"}).status_code == 401
        assert c.get("/", headers=basic(SECRET)).status_code == 200
        assert c.get("/", headers=basic(SECRET, user="")).status_code == 200  # any user name


def test_without_a_password_the_desk_answers_loopback_host_names_only(edition: Edition) -> None:
    app = create_app(edition.config, preview=True, loopback_only=True)
    with TestClient(app, base_url="http://127.0.0.1:8001") as c:
        assert c.get("/").status_code == 200
        for host in ("localhost:8001", "[::1]:8001", "127.0.0.1"):
            assert c.get("/", headers={"Host": host}).status_code == 200, host
        # DNS rebinding: a page of evil.example resolving to 127.0.0.1 still names its own host
        for host in ("evil.example", "evil.example:8001", "127.0.0.1.evil.example", ""):
            assert c.get("/", headers={"Host": host}).status_code == 421, host


def test_the_desk_runs_no_inline_script(edition: Edition) -> None:
    with TestClient(create_app(edition.config, preview=True)) as c:
        page = c.get("/")
        policy = page.headers["content-security-policy"]
        script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
        assert script_src.split() == ["script-src", "'self'"]
        assert "<script>" not in page.text and '<script src="/preview/desk.js"' in page.text
        js = c.get("/preview/desk.js")
        assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")


def test_preview_off_loopback_without_a_password_refuses_in_one_line(
    edition: Edition,
    cli,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import digest.web

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the desk must not start")

    monkeypatch.setattr(digest.web, "create_app", never)
    got = cli("preview", "--host", "0.0.0.0", "--port", "0", code=1)
    lines = got.stderr.strip().splitlines()
    assert len(lines) == 1 and "DIGEST_DESK_PASSWORD" in lines[0] and "Traceback" not in got.stderr


def test_preview_off_loopback_with_a_password_serves_with_basic_auth_and_never_prints_it(
    edition: Edition,
    cli,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import digest.web

    made: list[dict[str, object]] = []

    def fake_create_app(config, **kwargs):  # type: ignore[no-untyped-def]
        made.append(kwargs)
        raise SystemExit(0)  # stop before uvicorn: what the app was made with is what counts

    monkeypatch.setattr(digest.web, "create_app", fake_create_app)
    monkeypatch.setenv("DIGEST_DESK_PASSWORD", SECRET)
    got = cli("preview", "--host", "0.0.0.0", "--port", "0", code=None)
    assert made == [{"preview": True, "password": SECRET, "loopback_only": False}]
    assert SECRET not in got.stdout and SECRET not in got.stderr
    monkeypatch.delenv("DIGEST_DESK_PASSWORD")
    cli("preview", "--port", "0", code=None)
    assert made[-1] == {"preview": True, "password": None, "loopback_only": True}


def test_with_a_password_an_action_needs_it_as_well_as_the_csrf_token(edition: Edition) -> None:
    with TestClient(create_app(edition.config, preview=True, password=SECRET)) as c:
        page = c.get("/", headers=basic(SECRET))
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        form = {"csrf": token, "edition": str(edition.edition_id), "action": "approve", "by": "x"}
        assert c.post("/preview/act", data=form).status_code == 401  # the cookie alone does not do
        assert c.post("/preview/act", data=form | {"csrf": "0" * 32}, headers=basic(SECRET)).status_code == 403
        done = c.post("/preview/act", data=form, headers=basic(SECRET, user="Ada"), follow_redirects=False)
        assert done.status_code == 303
        approved = c.get("/", headers=basic(SECRET, user="Ada")).text
        assert "Approved by x" in approved and 'name="by" value="Ada"' in approved  # the user name approves

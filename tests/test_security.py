"""CSRF on cookie-authenticated requests, safe rendering of untrusted text, headers."""

from __future__ import annotations

import re

import pytest

from coach.web.markdown import render_markdown


def _browser_session(client) -> str:
    """Start as a guest through the landing page, as a browser does; return the CSRF token."""
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/start", data={"csrf_token": token})
    assert response.status_code == 303
    chat_page = client.get(response.headers["Location"]).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', chat_page).group(1)


def test_start_without_a_csrf_token_is_refused(client):
    client.get("/")
    response = client.post("/start", data={})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "csrf_failed"


def test_cookie_requests_need_the_csrf_header(client):
    token = _browser_session(client)
    session_id = client.get("/api/v1/sessions").json["items"][0]["id"]
    url = f"/api/v1/sessions/{session_id}/messages"
    refused = client.post(url, json={"content": "I feel let down"})
    assert refused.status_code == 403
    wrong = client.post(url, json={"content": "hi"}, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    accepted = client.post(url, json={"content": "hi"}, headers={"X-CSRF-Token": token})
    assert accepted.status_code == 201
    # Reading needs no token.
    assert client.get(f"/api/v1/sessions/{session_id}").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("patch", ""), ("delete", ""), ("post", "/retry")],
)
def test_every_unsafe_cookie_request_is_checked(client, method, path):
    _browser_session(client)
    session_id = client.get("/api/v1/sessions").json["items"][0]["id"]
    response = getattr(client, method)(f"/api/v1/sessions/{session_id}{path}", json={})
    assert response.status_code == 403


def test_bearer_requests_need_no_csrf_token(client, api):
    token = api.guest()
    session_id = api.new_session(token)
    assert api.send(token, session_id, "hello").status_code == 201


@pytest.mark.parametrize(
    ("markdown", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ("<img src=x onerror=alert(1)>", "<img"),
        ("![pic](https://example.org/a.png)", "<img"),
        ("[click](javascript:alert(1))", 'href="javascript'),
        ("[site](http://example.org)", 'href="http:'),
        ('<a href="https://x.org" onclick="evil()">x</a>', "<a "),
    ],
)
def test_untrusted_markdown_is_rendered_safely(markdown, forbidden):
    assert forbidden not in render_markdown(markdown)


def test_markdown_formatting_survives_sanitising():
    html = render_markdown("**Bold** and a [link](https://example.org)\n\n- one\n- two")
    assert "<strong>Bold</strong>" in html
    assert '<a href="https://example.org"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert "<li>one</li>" in html


def test_pages_carry_security_headers(client):
    response = client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_users_html_is_escaped_in_the_page(client):
    token = _browser_session(client)
    session_id = client.get("/api/v1/sessions").json["items"][0]["id"]
    client.post(
        f"/api/v1/sessions/{session_id}/messages",
        json={"content": "<script>alert('x')</script> I feel numb"},
        headers={"X-CSRF-Token": token},
    )
    page = client.get(f"/chat/{session_id}").get_data(as_text=True)
    assert "<script>alert('x')</script>" not in page
    assert "&lt;script&gt;" in page


def test_another_users_chat_page_is_a_404(app):
    first, second = app.test_client(), app.test_client()
    _browser_session(first)
    _browser_session(second)
    session_id = first.get("/api/v1/sessions").json["items"][0]["id"]
    assert second.get(f"/chat/{session_id}").status_code == 404


def test_a_non_ascii_csrf_token_is_a_403_not_a_crash(client):
    _browser_session(client)
    session_id = client.get("/api/v1/sessions").json["items"][0]["id"]
    response = client.post(
        f"/api/v1/sessions/{session_id}/messages",
        json={"content": "hi"},
        headers={"X-CSRF-Token": "tök\u00e9n"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(("hops", "separate"), [(0, False), (1, True)])
def test_rate_limits_see_clients_behind_a_trusted_proxy(app_factory, hops, separate):
    app = app_factory(RATELIMIT_ENABLED=True, COACH_PROXY_HOPS=hops)
    client = app.test_client()
    statuses = [
        client.post("/api/v1/auth/guest", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(21)
    ]
    # 20 guests an hour per client: behind one untrusted proxy they all count as one.
    assert (statuses[-1] == 201) is separate

# SPDX-License-Identifier: Apache-2.0
"""HTTP helpers for the module tests: browser-like and API-like requests
(each on a new connection, never following redirects) and Set-Cookie parsing."""
import email.utils
import time
import urllib.parse

import requests

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
           "Sec-Fetch-Mode": "navigate", "User-Agent": "Mozilla/5.0 (wos-integration)"}
API = {"Accept": "application/json", "User-Agent": "wos-integration-api"}


def request(site, method, path, session=None, headers=None, cookie=None, **kw):
    """One request on a fresh connection; session: a harness Session (its cookie)."""
    h = dict(headers or {})
    cookies = []
    if session is not None:
        cookies.append(f"wos-session={session.cookie}")
    if cookie:
        cookies.append(cookie)
    if cookies:
        h["Cookie"] = "; ".join(cookies)
    h.setdefault("Connection", "close")
    return requests.request(method, site.url + path, headers=h, allow_redirects=False,
                            timeout=kw.pop("timeout", 30), **kw)


def get(site, path, session=None, headers=None, **kw):
    return request(site, "GET", path, session=session, headers=headers, **kw)


def browser(site, path, session=None, headers=None, **kw):
    return get(site, path, session=session, headers=dict(BROWSER, **(headers or {})), **kw)


def api(site, path, session=None, headers=None, method="GET", **kw):
    return request(site, method, path, session=session, headers=dict(API, **(headers or {})),
                   **kw)


def set_cookies(resp):
    """Every Set-Cookie header of a response, parsed: [(name, value, {attr: value})]."""
    out = []
    for line in resp.raw.headers.getlist("Set-Cookie"):
        parts = [p.strip() for p in line.split(";")]
        name, _, value = parts[0].partition("=")
        attrs = {}
        for p in parts[1:]:
            k, eq, v = p.partition("=")
            attrs[k.strip().lower()] = v.strip() if eq else True
        out.append((name, value, attrs))
    return out


def is_deletion(attrs):
    """A Set-Cookie that removes the cookie: Max-Age <= 0 or Expires in the past."""
    if "max-age" in attrs:
        return int(attrs["max-age"]) <= 0
    if "expires" in attrs:
        when = email.utils.parsedate_to_datetime(attrs["expires"]).timestamp()
        return when < time.time()
    return False


def cleared(resp, name="wos-session"):
    """The attributes of the Set-Cookie that deletes `name`, or None."""
    for n, _, attrs in set_cookies(resp):
        if n == name and is_deletion(attrs):
            return attrs
    return None


def location_query(resp):
    """(URL without query, {param: value}) of a redirect's Location; repeated params fail."""
    loc = resp.headers["Location"]
    parts = urllib.parse.urlsplit(loc)
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    params = dict(pairs)
    assert len(params) == len(pairs), f"repeated query parameter in {loc}"
    return urllib.parse.urlunsplit(parts._replace(query="")), params


def cgi_env(resp):
    assert resp.status_code == 200, f"{resp.status_code}: {resp.text[:300]}"
    return resp.json()["env"]

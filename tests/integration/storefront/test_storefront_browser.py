"""The published storefront in a real headless chromium (DevTools protocol over a pipe).

A visitor sees every app of the signed catalog, narrows the list by typing,
opens an app and finds the exact install command, and reads the repository's
trust facts; no page logs an error or asks anything of a host but its own.
Screenshots of the index and one app page are kept under the test output
directory (``dist/test-output/storefront/`` unless $ARCHY_TEST_OUTPUT says).
"""

from __future__ import annotations

from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest

from catalog.address import blake3_hex
from pipeline.storefront.site import CONTENT_SECURITY_POLICY
from tests.integration.storefront.conftest import PublishedStore, screenshot_dir
from tests.integration.storefront.devtools import Browser, Page
from tests.realparts.required import require_tool


@pytest.fixture(scope="module", autouse=True)
def _chromium_present() -> None:
    require_tool("chromium", "chromium-browser")  # a missing browser fails, never skips


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with Browser.start(tmp_path_factory.mktemp("chromium-profile")) as running:
        yield running


def visit(browser: Browser, url: str) -> Page:
    page = browser.new_page()
    page.goto(url)
    return page


def assert_clean(page: Page, store: PublishedStore) -> None:
    """No console error, no failed load, no request outside the store's own files."""
    assert page.console_errors == []
    assert page.failed_requests == []
    assert page.requested_urls, "the page made no request at all (did it load?)"
    outside = [url for url in page.requested_urls if not url.startswith(store.base_url)]
    assert outside == []


def card_ids(page: Page, visible_only: bool = False) -> list[str]:
    hidden = ":not([hidden])" if visible_only else ""
    return page.evaluate(
        f"[...document.querySelectorAll('#app-list li{hidden} a')]"
        ".map(a => a.getAttribute('href').split('/').pop().replace('.html', ''))"
    )


def test_the_index_lists_every_app_and_search_narrows_it(
    browser: Browser, published_store: PublishedStore
) -> None:
    page = visit(browser, published_store.base_url + "index.html")
    assert sorted(card_ids(page)) == sorted(published_store.catalog.apps)
    assert page.evaluate("document.getElementById('search-box').hidden") is False

    page.type_into("#search", "lightning wallet")
    page.wait_until("document.getElementById('result-count').textContent !== ''")
    shown = card_ids(page, visible_only=True)
    expected = sorted(
        app_id
        for app_id, app in published_store.catalog.apps.items()
        if all(
            word in " ".join((app_id, app.manifest.name, app.manifest.summary,
                              app.manifest.category)).lower()
            for word in ("lightning", "wallet")
        )
    )  # fmt: skip
    assert expected, "the search words must match some app for this test to mean anything"
    assert sorted(shown) == expected
    assert len(shown) < len(published_store.catalog.apps)
    total = len(published_store.catalog.apps)
    assert page.evaluate("document.getElementById('result-count').textContent") == (
        f"{len(expected)} of {total} apps match"
    )
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(screenshot_dir() / "index-search.png")
    assert_clean(page, published_store)


def test_the_index_screenshot_is_kept(browser: Browser, published_store: PublishedStore) -> None:
    page = visit(browser, published_store.base_url + "index.html")
    path = page.screenshot(screenshot_dir() / "index.png")
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert_clean(page, published_store)


def test_a_category_page_lists_only_that_category(
    browser: Browser, published_store: PublishedStore
) -> None:
    page = visit(browser, published_store.base_url + "store/category/bitcoin.html")
    expected = sorted(
        app_id
        for app_id, app in published_store.catalog.apps.items()
        if app.manifest.category == "bitcoin"
    )
    assert sorted(card_ids(page)) == expected
    assert_clean(page, published_store)


def test_an_app_page_shows_its_install_command_and_what_it_needs(
    browser: Browser, published_store: PublishedStore
) -> None:
    app = published_store.catalog.apps["electrs"]
    page = visit(browser, published_store.base_url + "store/apps/electrs.html")
    assert page.evaluate("document.getElementById('install-command').textContent") == (
        "archy-node install electrs"
    )
    assert page.evaluate("document.querySelector('h1').textContent") == app.manifest.name
    text = page.evaluate("document.querySelector('main').innerText")
    assert f"{app.version}-r{app.revision}" in text
    for requirement in app.manifest.requires:
        assert requirement.app in text
    for name in app.manifest.requires[0].settings:
        assert name in text
    for member in app.manifest.containers:
        for port in member.ports:
            assert f"{port.host_port}/{port.protocol}" in text
    assert app.manifest_blake3 in text
    icon_alt = page.evaluate("document.querySelector('.app-head img').alt")
    assert icon_alt == f"{app.manifest.name} icon"
    assert page.evaluate("document.querySelector('.app-head img').naturalWidth") > 0
    page.screenshot(screenshot_dir() / "app-electrs.png")
    assert_clean(page, published_store)


def test_the_trust_page_shows_the_facts_a_node_checks(
    browser: Browser, published_store: PublishedStore
) -> None:
    page = visit(browser, published_store.base_url + "store/trust.html")
    blake3 = page.evaluate("document.getElementById('catalog-blake3').textContent")
    assert blake3 == blake3_hex(published_store.catalog_bytes)
    rows = page.evaluate(
        "[...document.querySelectorAll('#roles tbody tr')].map(r => r.innerText.split('\\t'))"
    )
    by_role = {row[0]: row for row in rows}
    assert by_role["root"][1:3] == ["v1", "2 of 3"]
    assert by_role["targets"][1:3] == ["v1", "2 of 3"]
    assert by_role["timestamp"][1:3] == ["v1", "1 of 1"]
    signed = page.evaluate(
        "[...document.querySelectorAll('#signers tbody tr')].map(r => r.innerText.split('\\t'))"
    )
    assert sorted(answer for _keyid, answer in signed) == ["no", "yes", "yes"]
    expires = page.evaluate("document.getElementById('timestamp-expires').textContent")
    assert expires.endswith("Z")
    page.screenshot(screenshot_dir() / "trust.png")
    assert_clean(page, published_store)


def test_every_page_reads_without_javascript(
    browser: Browser, published_store: PublishedStore
) -> None:
    page = browser.new_page()
    page.send("Emulation.setScriptExecutionDisabled", {"value": True})
    page.goto(published_store.base_url + "index.html")
    names = page.send(
        "Runtime.evaluate",
        {"expression": "document.querySelectorAll('#app-list li').length", "returnByValue": True},
    )  # evaluation from the protocol still runs with page scripts disabled
    assert names["result"]["value"] == len(published_store.catalog.apps)
    assert page.evaluate("document.getElementById('search-box').hidden") is True
    assert_clean(page, published_store)


def test_every_page_has_a_strict_policy_and_landmarks(published_store: PublishedStore) -> None:
    pages = sorted(Path(published_store.repo).rglob("*.html"))
    assert len(pages) >= len(published_store.catalog.apps) + 2
    for path in pages:
        html = path.read_text(encoding="utf-8")
        assert f'content="{CONTENT_SECURITY_POLICY}"' in unescape(html), path
        assert '<main id="main"' in html and "<nav aria-label=" in html, path
        assert "<script>" not in html and " style=" not in html, path
        assert "http://" not in html, path


def test_the_policy_blocks_a_request_to_another_origin(
    browser: Browser, published_store: PublishedStore
) -> None:
    """If a manifest ever smuggled markup in, the page could still not reach another host:
    an image from another loopback origin is refused by the policy, not fetched."""
    page = visit(browser, published_store.base_url + "index.html")
    start = len(browser.events)
    page.evaluate(
        "(() => { const img = document.createElement('img');"
        " img.src = 'http://127.0.0.2:9/probe.png'; document.body.append(img); })()"
    )
    blocked = browser.wait_for_event(
        lambda e: e.get("sessionId") == page.session and e["method"] == "Network.loadingFailed",
        "the blocked probe request",
        start,
    )
    assert blocked["params"].get("blockedReason") == "csp"
    assert any("Content Security Policy" in error for error in page.console_errors)


def press_tab(page: Page) -> str:
    for kind in ("keyDown", "keyUp"):
        page.send(
            "Input.dispatchKeyEvent",
            {"type": kind, "key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9},
        )
    focused: str = page.evaluate(
        "(e => e.id || e.className || e.getAttribute('href') || e.tagName)(document.activeElement)"
    )
    return focused


def test_the_keyboard_reaches_the_skip_link_then_the_search_and_every_app(
    browser: Browser, published_store: PublishedStore
) -> None:
    page = visit(browser, published_store.base_url + "index.html")
    assert press_tab(page) == "skip"
    focusable = page.evaluate("document.querySelectorAll('a[href], input').length")
    order = [press_tab(page) for _ in range(focusable - 1)]
    assert "search" in order
    app_links = [item for item in order if item.startswith("store/apps/")]
    assert sorted(app_links) == sorted(f"store/apps/{a}.html" for a in published_store.catalog.apps)

"""Public pages: what Bloomwell does, privacy, the not-a-diagnosis notice; responsive and keyboard usable."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import shot

pytestmark = pytest.mark.browser


def test_home_explains_the_service_privacy_and_the_notice(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_title("Bloomwell")
    expect(page.get_by_role("heading", level=1)).to_contain_text("expressions")
    expect(page.get_by_role("heading", name="How it works")).to_be_visible()
    for step in ("Record or upload", "Analysis", "Your report"):
        expect(page.get_by_role("heading", name=step, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Your privacy")).to_be_visible()
    expect(page.get_by_text("Your video is deleted as soon as it has been analysed.")).to_be_visible()
    notice = page.get_by_test_id("disclaimer")
    expect(notice).to_contain_text("not a diagnosis")
    expect(notice).to_contain_text("If you are struggling")
    expect(notice).to_contain_text("health professional")
    shot(page, "01-home")


def test_about_and_contact_pages(page: Page) -> None:
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="About").click()
    expect(page).to_have_url(re.compile(r"/about$"))
    expect(page.get_by_role("heading", name="About Bloomwell")).to_be_visible()
    expect(page.get_by_role("heading", name="What it is not")).to_be_visible()
    resources = page.get_by_test_id("crisis-resources").get_by_role("link")
    hrefs = [resources.nth(i).get_attribute("href") for i in range(resources.count())]
    assert "https://findahelpline.com" in hrefs and "https://www.iasp.info/crisis-centres-helplines/" in hrefs, hrefs
    assert any(h.startswith("https://www.who.int/") for h in hrefs), hrefs
    shot(page, "02-about")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contact").click()
    expect(page.get_by_role("heading", name="Contact", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="hello@bloomwell.example")).to_have_attribute(
        "href", "mailto:hello@bloomwell.example"
    )
    shot(page, "03-contact")


def test_deep_links_are_served_by_the_app(page: Page) -> None:
    page.goto("/about")
    expect(page.get_by_role("heading", name="About Bloomwell")).to_be_visible()
    page.goto("/no-such-page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    # Protected pages send visitors to the login form.
    page.goto("/history")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_phone_layout_and_keyboard_menu(browser, stack) -> None:
    context = browser.new_context(
        base_url=stack.base_url,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        page.goto("/")
        toggle = page.locator("button[aria-controls=site-nav]")
        expect(toggle).to_have_accessible_name("Open menu")
        expect(toggle).to_be_visible()
        expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")).to_be_hidden()
        # No horizontal scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        shot(page, "04-home-phone")
        toggle.focus()
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")).to_be_visible()
        shot(page, "05-menu-phone", full_page=False)
    finally:
        context.close()


def test_scripts_and_styles_arrive_compressed(page: Page) -> None:
    """Chromium accepts br: the gateway answers with the build's precompressed files."""
    assets: dict[str, dict[str, str]] = {}
    page.on("response", lambda r: assets.update({r.url: r.all_headers()}) if "/assets/" in r.url else None)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    scripts = {url: h for url, h in assets.items() if url.endswith(".js")}
    styles = {url: h for url, h in assets.items() if url.endswith(".css")}
    assert scripts and styles, assets
    for url, headers in {**scripts, **styles}.items():
        assert headers.get("content-encoding") == "br", (url, headers)
        assert "accept-encoding" in headers.get("vary", "").lower(), (url, headers)
    # and the API's JSON is gzipped (the schema is well over the 1 KB minimum)
    response = page.request.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("content-encoding") == "gzip"


def test_every_route_has_its_own_title(page: Page) -> None:
    """Public and sign-in-guarded routes (the latter redirect to Log in) each name themselves in the tab title."""
    for path, title in [
        ("/", "Bloomwell"),
        ("/about", "About — Bloomwell"),
        ("/contact", "Contact — Bloomwell"),
        ("/login", "Log in — Bloomwell"),
        ("/signup", "Create your account — Bloomwell"),
        ("/no-such-page", "Page not found — Bloomwell"),
    ]:
        page.goto(path)
        expect(page).to_have_title(title)

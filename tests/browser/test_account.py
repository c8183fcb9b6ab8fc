"""Account: profile, log out, and deleting the account with everything in it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import PASSWORD, shot, sign_up, unique_email

pytestmark = pytest.mark.browser


def test_duplicate_signup_is_reported_inline(page: Page) -> None:
    email = unique_email("dup")
    sign_up(page, email)
    page.get_by_role("button", name="Log out").click()
    page.goto("/signup")
    page.get_by_label("First name").fill("Robin")
    page.get_by_label("Last name").fill("Again")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("checkbox", name=re.compile("not a medical diagnosis")).check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("An account with this e-mail already exists. Try logging in instead.")).to_be_visible()
    shot(page, "30-signup-duplicate")


def test_delete_account_with_confirmation(page: Page) -> None:
    email = unique_email("bye")
    sign_up(page, email, first="Sam", last="Leaving")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    expect(page.get_by_text(email)).to_be_visible()
    expect(page.get_by_text("Sam Leaving")).to_be_visible()
    shot(page, "31-account")

    page.get_by_role("button", name="Delete my account…").click()
    dialog = page.get_by_role("dialog", name="Delete your account?")
    confirm = dialog.get_by_role("button", name="Delete everything")
    expect(confirm).to_be_disabled()
    dialog.get_by_label("Type DELETE to confirm").fill("DELETE")
    expect(confirm).to_be_enabled()
    shot(page, "32-account-delete-confirm", full_page=False)
    confirm.click()

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_test_id("home-notice")).to_contain_text("deleted")
    assert page.evaluate("sessionStorage.length") == 0

    # The account is really gone.
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("form-error")).to_be_visible()


def test_session_survives_reload_rotates_and_ends_when_a_spent_token_is_replayed(page: Page) -> None:
    sign_up(page, unique_email("rotate"))
    first = page.evaluate("sessionStorage.getItem('bloomwell.refresh')")
    assert first
    # The access token lives only in memory: nothing but the refresh token is stored.
    assert page.evaluate("sessionStorage.length") == 1
    assert page.evaluate("localStorage.length") == 0

    page.reload()
    expect(page.get_by_role("heading", name="New analysis")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    second = page.evaluate("sessionStorage.getItem('bloomwell.refresh')")
    assert second and second != first  # rotated on refresh

    # Someone replays the spent token: the server revokes the whole family...
    replay = page.request.post("/auth/refresh", data={"refresh_token": first})
    assert replay.status == 401
    # ...so the next refresh fails and the app signs out with an explanation.
    page.reload()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status").filter(has_text="Your session has ended")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('bloomwell.refresh')") is None
    shot(page, "33-session-ended")


def test_keyboard_only_login_and_tabs(page: Page) -> None:
    email = unique_email("keys")
    sign_up(page, email)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")).to_be_visible()

    page.goto("/login")
    expect(page.get_by_label("E-mail")).to_be_visible()
    # start from the top of the document, whatever the page focused while rendering
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.get_by_label("E-mail").focus()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your analyses")).to_be_visible()

    page.goto("/new")
    record_tab = page.get_by_role("tab", name="Record with webcam")
    record_tab.focus()
    page.keyboard.press("ArrowRight")
    upload_tab = page.get_by_role("tab", name="Upload a video")
    expect(upload_tab).to_be_focused()
    expect(upload_tab).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("dropzone")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("file-input")).to_be_focused()

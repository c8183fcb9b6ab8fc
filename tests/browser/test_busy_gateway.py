"""A saturated gateway (load shedding: 503 + Retry-After) is waited out by the web app, not shown as an error."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.helpers import sign_up, unique_email

pytestmark = pytest.mark.browser


def test_a_read_the_gateway_shed_is_sent_again_and_the_page_shows_no_error(page: Page) -> None:
    sign_up(page, unique_email("busy"))
    sent: list[str] = []

    def shed_twice(route: Route) -> None:
        sent.append(route.request.url)
        if len(sent) <= 2:
            route.fulfill(status=503, headers={"Retry-After": "1", "Content-Type": "application/json"},
                          body=json.dumps({"detail": "Bloomwell is busy right now; please try again in 1 s."}))
        else:
            route.continue_()

    page.route(re.compile(r"/v1/analyses\?"), shed_twice)
    page.goto("/history")
    expect(page.get_by_test_id("history-empty")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Something went wrong")).to_have_count(0)
    assert len(sent) == 3  # shed twice, then answered

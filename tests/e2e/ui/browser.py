"""Driving the seller's web UI in Debian's headless Chromium, through Playwright's sync API.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium`` (``apt-get
install chromium``; ``scripts/test`` does it when missing). axe-core comes from
``node_modules`` (``npm ci``). Neither missing tool skips a test: the fixtures fail with the
command that installs it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    StorageState,
    ViewportSize,
    expect,
)

from tests.e2e.service_process import ApiKey

REPO_ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_SCRIPT = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / "test-output" / "ui-screenshots"

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 740}
ACTION_TIMEOUT_MS = 5_000
"""How long a step may wait for the page; a working page answers well within it."""
LIVE_TIMEOUT_MS = 10_000
"""How long a live page may take to show what the API received."""

SERIOUS_IMPACTS = frozenset({"serious", "critical"})


@dataclass(slots=True)
class Browsing:
    """Opens pages on the service in fresh browser contexts, and closes them all at the end.

    ``page_errors`` collects the uncaught JavaScript errors of every page it opened, and
    ``csp_violations`` what the browser refused to load or run under the UI's own CSP.
    """

    browser: Browser
    base_url: str
    contexts: list[BrowserContext] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def page(
        self,
        viewport: ViewportSize = DESKTOP,
        *,
        bypass_csp: bool = False,
        signed_in: StorageState | None = None,
    ) -> Page:
        """A new page in a context of its own (its own cookies); ``bypass_csp`` is for axe;
        ``signed_in`` starts it with the cookies of a session signed in before."""
        context = self.browser.new_context(
            base_url=self.base_url,
            viewport=viewport,
            bypass_csp=bypass_csp,
            accept_downloads=True,
            storage_state=signed_in,
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))
        page.on("console", lambda message: self._console(page, message))
        return page

    def _console(self, page: Page, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.csp_violations.append(f"{page.url}: {message.text}")

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


@dataclass(slots=True)
class Screens:
    """Full-page screenshots of one test, named ``<test>--<label>--<width>.png``."""

    directory: Path
    test_name: str
    taken: list[Path] = field(default_factory=list)

    def take(self, page: Page, label: str) -> Path:
        width = page.viewport_size["width"] if page.viewport_size else 0
        name = _file_name(f"{self.test_name}--{label}--{width}")
        path = self.directory / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


def _file_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:150]


def sign_in(page: Page, account: str, key: ApiKey) -> None:
    """Sign in through the sign-in form and land on the offer list."""
    page.goto("/signin")
    page.get_by_label("Account").fill(account)
    page.get_by_label("App key").fill(key.app_key)
    page.get_by_label("App token").fill(key.app_token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/offers(\?.*)?$"))


def signed_in_session(browser: Browser, base_url: str, account: str, key: ApiKey) -> StorageState:
    """The cookies of a session signed in through the form, for other pages to start with."""
    context = browser.new_context(base_url=base_url)
    try:
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        sign_in(context.new_page(), account, key)
        return context.storage_state()
    finally:
        context.close()


def document_overflow(page: Page) -> int:
    """How many CSS pixels the document is wider than the viewport (0 when it fits)."""
    overflow = page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )
    return int(overflow)


def assert_no_horizontal_scroll(page: Page, screenshot: Path) -> None:
    overflow = document_overflow(page)
    if overflow > 0:
        culprits = page.evaluate(
            """() => {
                const width = document.documentElement.clientWidth;
                return [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > width + 1)
                    .slice(0, 8)
                    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                        + (e.className && typeof e.className === 'string'
                           ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
                        + ' right=' + Math.round(e.getBoundingClientRect().right));
            }"""
        )
        raise AssertionError(
            f"{page.url} scrolls sideways at {page.viewport_size}: the document is {overflow}px "
            f"wider than the viewport; widest elements: {culprits}; screenshot {screenshot}"
        )


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations of the page as it is now.

    The page must be in a context made with ``bypass_csp=True``: the UI's CSP (rightly)
    blocks the inline script axe is injected as.
    """
    page.add_script_tag(content=AXE_SCRIPT.read_text(encoding="utf-8"))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results["violations"] if v.get("impact") in SERIOUS_IMPACTS]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']}")
        lines.append(f"    {violation['helpUrl']}")
        for node in violation["nodes"][:10]:
            lines.append(f"    - {json.dumps(node['target'])}: {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page: Page, screenshot: Path) -> None:
    violations = axe_violations(page)
    if violations:
        raise AssertionError(
            f"axe found {len(violations)} serious or critical violation(s) on {page.url} "
            f"(screenshot {screenshot}):\n{describe_violations(violations)}"
        )


def described(scope: Locator | Page, term: str) -> Locator:
    """The ``<dd>`` right after the ``<dt>`` that says ``term``."""
    return scope.locator("dt", has_text=re.compile(rf"^\s*{re.escape(term)}\s*$")).locator(
        "xpath=following-sibling::dd[1]"
    )


def section(page: Page, heading: str) -> Locator:
    """The ``<section>`` that the h2 ``heading`` opens."""
    return page.locator("section").filter(
        has=page.get_by_role("heading", level=2, name=heading, exact=True)
    )


def headed_by_badge(heading: str, label: str) -> re.Pattern[str]:
    """A section whose h2 ``heading`` is followed at once by the badge ``label``.

    Matching the text right after the heading keeps words in the section's explanations
    (which name other statuses) from passing for the badge.
    """
    return re.compile(rf"^\s*{re.escape(heading)}\s+{re.escape(label)}\b")


def open_details(page: Page, summary: str | re.Pattern[str]) -> Locator:
    """Open the one ``<details>`` whose summary holds ``summary`` by clicking its summary."""
    details = page.locator("details").filter(has=page.locator("summary", has_text=summary))
    expect(details).to_have_count(1)
    details.locator("summary").first.click()
    expect(details).to_have_attribute("open", "")
    return details

"""``sentoffers demo`` as a newcomer runs it: a command in a process group of its own.

Each demo runs ``python -m sentoffers demo`` (the test's own interpreter) in a session of its
own, from a directory standing for the checkout, its output in a file. It must stop whole
(the service, the sandbox and the connector) when its group gets SIGINT, as Ctrl-C sends it,
also when it started with SIGINT ignored (a background job of a shell without a terminal);
two demos from one checkout must both finish, each writing in a data directory of its own;
and its UI must show the sandbox's images, and the price change it suggests must show on the
offer page it names.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

import pytest
from playwright.sync_api import expect, sync_playwright

from sentoffers.sandbox.demo import claim_data_dir, new_data_dir
from tests.e2e.service_process import ApiKey
from tests.e2e.ui.browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, Browsing, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

SKUS = 20
START_TIMEOUT_S = 120.0
STOP_WITHIN_S = 10.0
"""A few seconds: each part is asked to stop at once (it stops in about 1.5 s here)."""
LIVE_TIMEOUT_MS = 15_000
RUNNING = "Running until Ctrl-C"


class Demo:
    """``sentoffers demo`` in a new session (its own process group), output to a file."""

    def __init__(self, checkout: Path, log: Path, *args: str, sigint_ignored: bool = False):
        self.log = log
        command = [sys.executable, "-m", "sentoffers", "demo", "--skus", str(SKUS),
                   "--port", "0", *args]  # fmt: skip
        if sigint_ignored:
            # What a background job of a shell without a terminal inherits.
            command = ["/bin/sh", "-c", 'trap "" INT; exec "$@"', "sh", *command]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "100"}
        env.pop("SENTOFFERS_DATABASE_URL", None)
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=checkout, stdout=out, stderr=subprocess.STDOUT, env=env,
                start_new_session=True,
            )  # fmt: skip
        self.group = self.process.pid

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, text: str, timeout: float = START_TIMEOUT_S) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            output = self.output
            if text in output:
                return output
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"the demo did not print {text!r}; its output:\n{self.output}")

    def summary(self) -> dict[str, Any]:
        line = next(line for line in self.output.splitlines() if line.startswith("{"))
        summary: dict[str, Any] = json.loads(line)
        return summary

    def group_alive(self) -> bool:
        try:
            os.killpg(self.group, 0)
        except ProcessLookupError:
            return False
        return True

    def interrupt_group(self) -> float:
        """SIGINT to the whole group, as Ctrl-C; the seconds until no process of it is left."""
        started = time.monotonic()
        os.killpg(self.group, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_WITHIN_S * 3)
        while self.group_alive() and time.monotonic() - started < STOP_WITHIN_S * 3:
            time.sleep(0.02)
        return time.monotonic() - started

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.group, signal.SIGKILL)
        self.process.wait(timeout=10)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        if self.group_alive():
            self.kill()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """Where the demo runs from (its data/ goes here); the tests' logs stay outside."""
    path = tmp_path / "checkout"
    path.mkdir()
    return path


def test_sigint_to_the_demos_group_stops_it_whole_even_when_it_started_with_sigint_ignored(
    checkout: Path, tmp_path: Path
) -> None:
    # Started from a terminal, SIGINT is not ignored: `running_demo` stops that case.
    with Demo(checkout, tmp_path / "demo.log", sigint_ignored=True) as demo:
        demo.wait_for(RUNNING)
        assert_stops_whole_on_sigint(demo)


def assert_stops_whole_on_sigint(demo: Demo) -> None:
    """SIGINT to the group leaves none of its processes (the service is one) within seconds."""
    assert _service_command(demo.group), "the service is not running in the demo's group"
    seconds = demo.interrupt_group()
    assert not demo.group_alive(), f"processes of the demo are left:\n{demo.output}"
    assert seconds < STOP_WITHIN_S, f"the demo took {seconds:.1f} s to stop"
    assert demo.process.returncode == 0, demo.output
    assert "stopping the connector, the sandbox and the service" in demo.output
    print(f"\ndemo stopped {seconds:.2f} s after SIGINT to its group")


def _service_command(group: int) -> str:
    """The command line of the ``sentoffers serve`` process in ``group``, or ''."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if os.getpgid(int(entry.name)) == group:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                if " serve " in command:
                    return command
    return ""


def test_two_demos_from_one_checkout_both_finish_each_in_a_data_directory_of_its_own(
    checkout: Path, tmp_path: Path
) -> None:
    with (
        Demo(checkout, tmp_path / "first.log", "--exit-when-done") as first,
        Demo(checkout, tmp_path / "second.log", "--exit-when-done") as second,
    ):
        for demo in (first, second):
            demo.process.wait(timeout=START_TIMEOUT_S)
            assert demo.process.returncode == 0, demo.output
            assert demo.summary()["settled"] == SKUS
    directories = {Path(demo.summary()["dataDir"]) for demo in (first, second)}
    assert len(directories) == 2
    for directory in directories:
        assert directory.parent == Path("data")
        written = {path.name for path in (checkout / directory).iterdir()}
        assert {"sentoffers.db", "connector.db", "service.log"} <= written
    roots = [checkout / directory for directory in directories]
    outside = [
        path
        for path in checkout.rglob("*")
        if path.is_file() and not any(path.is_relative_to(root) for root in roots)
    ]
    assert not outside, f"written outside the demos' data directories: {outside}"


def test_a_data_directory_is_held_by_one_demo_at_a_time(tmp_path: Path) -> None:
    fresh = {new_data_dir(tmp_path / "data") for _ in range(3)}
    assert len(fresh) == 3
    chosen = tmp_path / "mine"
    with claim_data_dir(chosen), pytest.raises(RuntimeError, match="another demo is running"):
        claim_data_dir(chosen).__enter__()
    with claim_data_dir(chosen) as again:  # let go once the first demo is done
        assert again == chosen


@pytest.fixture
def running_demo(checkout: Path, tmp_path: Path) -> Iterator[Demo]:
    """A demo started as from a terminal; it must stop whole on SIGINT at the end."""
    with Demo(checkout, tmp_path / "demo.log") as demo:
        demo.wait_for("Then see its offer page")
        yield demo
        assert_stops_whole_on_sigint(demo)


def test_the_demo_ui_shows_the_sandbox_images_and_the_price_change_it_suggests(
    running_demo: Demo, request: pytest.FixtureRequest
) -> None:
    output, summary = running_demo.output, running_demo.summary()
    sandbox = re.search(r"sandbox\s+VTEX (http://\S+),", output)
    curl = next(line.strip() for line in output.splitlines() if line.strip().startswith("curl "))
    offer = re.search(r"Then see its offer page, (http://\S+/offers/\S+):", output)
    new_price = re.search(r"new price ([\d.]+), Success", output)
    assert sandbox, output
    assert offer, output
    assert new_price, output
    viewer = summary["viewer"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, "--headless=new"]
        )
        browsing = Browsing(browser, summary["ui"].rstrip("/"))
        try:
            page = browsing.page()
            sign_in(page, viewer["account"], ApiKey(viewer["appKey"], viewer["appToken"]))
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}--offers.png"))
            images = page.eval_on_selector_all(
                "img.thumb", "all => all.map(i => [i.currentSrc, i.complete, i.naturalWidth])"
            )
            assert images, "the offer list shows no product image"
            assert all(src.startswith(f"{sandbox[1]}/arquivos/") for src, _, _ in images)
            assert all(done and width > 0 for _, done, width in images), images

            page.goto(offer[1])
            expect(page.locator(".product-image")).to_have_js_property("complete", True)
            assert page.eval_on_selector(".product-image", "i => i.naturalWidth") > 0
            expect(page.locator(".badge", has_text="Synced").first).to_be_visible()
            changed = subprocess.run(shlex.split(curl), capture_output=True, text=True, check=False)
            assert '"changes":1' in changed.stdout, changed.stdout + changed.stderr
            first_row = page.locator("#interactions tbody tr").first
            expect(first_row).to_contain_text("Price", timeout=LIVE_TIMEOUT_MS)
            expect(first_row).to_contain_text(f"Price {new_price[1]}", timeout=LIVE_TIMEOUT_MS)
            expect(first_row).to_contain_text("Success", timeout=LIVE_TIMEOUT_MS)
            page.screenshot(
                path=str(SCREENSHOTS / f"{request.node.name}--offer.png"), full_page=True
            )
            assert not browsing.csp_violations, browsing.csp_violations
            assert not browsing.page_errors, browsing.page_errors
        finally:
            browsing.close()
            browser.close()

"""Browser tests: Debian's Chromium driven by Playwright (never a downloaded browser) against the
consoles of a real three-province deployment, with the walking skeleton run once so that there
are classes, students, rounds, transfers and certificates to look at (WEB.md).

Each test signs in as people do (``sign_in``), and may open its own browser with a fake camera
fed from a face photo (``camera_browser``) and a fake position (context ``geolocation``).
Data a test needs is set up through the services' APIs with ``Stack.api`` (and a new student
with ``Stack.register_student``), as the accounts people use.
"""

from __future__ import annotations

import json
import os
import queue
import random
import subprocess
import threading
import time
from collections.abc import Callable, Container, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserType, Page, Playwright, sync_playwright

from deploy.local.layout import Deployment
from deploy.local.scenario import Scenario
from deploy.local.stack import demo_deployment
from deploy.local.three_provinces import three_provinces
from deploy.local.transfer_steps import number_on_papers
from shared.idnumber import make_resident_id

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
FACES = REPO.parent / "shared" / "data" / "faces"
AXE = REPO / "services" / "console" / "node_modules" / "axe-core" / "axe.min.js"
# Without the background-networking flags Chromium keeps trying Google's hosts, which this
# machine's closed network refuses (python-svc.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Identity's access tokens live 15 minutes (shared/settings.py) and the suite runs longer: a
# token is reused for less than that. (The Scenario keeps the tokens of its run for good, so
# its ``token``/``call`` would fail a test that runs late.)
TOKEN_REUSE_SECONDS = 600.0
SUCCESS = range(200, 300)


@dataclass(frozen=True)
class Registered:
    """A student a test registered (``Stack.register_student``)."""

    id: str
    name: str
    id_number: str
    number: str  # the student number in full, as on the student's papers
    province: str
    school: str


@dataclass
class Stack:
    deployment: Deployment
    accounts: list[dict[str, str]]
    report: dict[str, Any]
    scenario: Scenario
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30.0))
    _tokens: dict[tuple[str, str], tuple[float, str]] = field(default_factory=dict)

    def console(self, province: str = "41") -> str:
        # A console run by hand against the demo (deploy/local/dev_console.py) may stand in.
        return os.environ.get(f"XUEJI_BROWSER_CONSOLE_{province}") or self.deployment.console_url(province)

    def account(self, province: str, role: str, org: str | None = None) -> dict[str, str]:
        return self.scenario.account(province, role, org)

    def token(self, province: str, account: Mapping[str, str]) -> str:
        """An access token of the account (staff, or a student with the password they chose)."""
        key = (province, account["username"])
        held = self._tokens.get(key)
        if held is None or time.monotonic() - held[0] > TOKEN_REUSE_SECONDS:
            credentials = {"username": account["username"], "password": account["password"]}
            answer = self.api("POST", province, "identity", "/api/v1/auth/token", data=credentials)
            held = (time.monotonic(), str(answer.json()["access_token"]))
            self._tokens[key] = held
        return held[1]

    def api(
        self,
        method: str,
        province: str,
        service: str,
        path: str,
        *,
        role: str | None = None,
        org: str | None = None,
        account: Mapping[str, str] | None = None,
        expect: int | Container[int] | None = SUCCESS,
        **request: Any,
    ) -> httpx.Response:
        """A request to a service of the province as its ``role`` account (of ``org``), or as
        ``account``, or signed out when neither is given; ``request`` is httpx's (json, params,
        data, files...). The answer's status must be ``expect`` (one, several, or None: any)."""
        if role is not None:
            account = self.account(province, role, org)
        headers = {"Authorization": f"Bearer {self.token(province, account)}"} if account else {}
        url = f"{self.deployment.base_url(province, service)}{path}"
        response = self.client.request(method, url, headers=headers, **request)
        wanted = (expect,) if isinstance(expect, int) else expect
        assert wanted is None or response.status_code in wanted, (
            f"{method} {url} → {response.status_code}: {response.text[:500]}"
        )
        return response

    def register_student(
        self, name: str, *, province: str = "41", school: str | None = None, intake: int = 2025
    ) -> Registered:
        """A new student of ``school`` (the province's first registrar's unless told) in its class
        ``class-<school>-<intake>-1``, registered by the school's registrar through enrollment's
        single entry with a random resident ID number (another one if an earlier run took it)."""
        school = school or self.account(province, "school_registrar")["organisation"]
        county = self.scenario.county_of(province, school)
        rng = random.SystemRandom()
        for _ in range(20):
            id_number = make_resident_id(
                county, date(intake - 15, rng.randint(1, 12), rng.randint(1, 28)), rng.randint(0, 999)
            )
            body = {
                "name": name,
                "id_type": "resident_id",
                "id_number": id_number,
                "class_id": f"class-{school}-{intake}-1",
            }
            answer = self.api(
                "POST",
                province,
                "enrollment",
                "/api/v1/students",
                role="school_registrar",
                org=school,
                json=body,
                expect=(201, 409),
            )
            if answer.status_code == 201:
                made = answer.json()
                number = number_on_papers(made["student_number"], id_number)
                return Registered(str(made["id"]), name, id_number, number, province, school)
        raise AssertionError(f"no free ID number for a student of {school} in twenty tries")


def running_demo() -> Stack:
    """``XUEJI_BROWSER_ON_DEMO=1``: the stack ``make demo`` left running, for quick runs while
    working on a page (the suite itself always makes its own)."""
    deployment = demo_deployment()
    accounts = json.loads((deployment.home / "accounts.json").read_text())
    report = json.loads((deployment.home / "report.json").read_text())
    return Stack(deployment, accounts, report, Scenario(deployment, accounts, log=lambda line: None))


@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    """Set up and torn down in a thread of its own: Playwright's sync API keeps an event loop
    running on the test thread, where the deployment's ``asyncio.run`` calls would fail."""
    if os.environ.get("XUEJI_BROWSER_ON_DEMO") == "1":
        demo = running_demo()
        yield demo
        demo.client.close()
        return
    ready: queue.Queue[Stack | BaseException] = queue.Queue()
    done = threading.Event()

    failed: list[BaseException] = []

    def hold() -> None:
        try:
            with three_provinces("w") as (deployment, accounts):
                scenario = Scenario(deployment, accounts, log=lambda line: None)
                ready.put(Stack(deployment, accounts, scenario.run(), scenario))
                done.wait()
        except BaseException as exc:  # set-up's goes to the test thread; tear-down's too, below
            failed.append(exc)
            ready.put(exc)

    holder = threading.Thread(target=hold, name="browser-test-stack")
    holder.start()
    got = ready.get()
    try:
        if isinstance(got, BaseException):
            raise got
        yield got
        got.client.close()
    finally:
        done.set()
        holder.join()
    if failed and not isinstance(got, BaseException):
        raise failed[0]  # tearing the deployment down failed: say so instead of leaving it


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """pytest-playwright's, narrowed from the session to this package: while the sync API lives
    it keeps an event loop running on the test thread, and the suites after this one (tests/e2e,
    tests/integration …) call ``asyncio.run`` there."""
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="package")
def browser_type(playwright: Playwright) -> BrowserType:
    return playwright.chromium


@pytest.fixture(scope="package")
def browser(browser_type: BrowserType, browser_type_launch_args: dict[str, Any]) -> Iterator[Browser]:
    launched = browser_type.launch(**browser_type_launch_args)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    # Not built on pytest-playwright's: Debian's Chromium, headless, and none of its options.
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args() -> dict[str, Any]:
    # Not built on pytest-playwright's, which needs its session-wide Playwright (see above).
    return {"locale": "zh-CN", "viewport": {"width": 1366, "height": 900}}


def sign_in(page: Page, console: str, account: dict[str, str], *, student: bool = False) -> None:
    """Sign in through the form, as a person does."""
    page.goto(f"{console}/m/signin" if student else f"{console}/signin")
    page.get_by_label("账号").fill(account["username"])
    page.get_by_label("密码").fill(account["password"])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/signin" not in url)


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now. Evaluated over the
    DevTools protocol, which the page's Content-Security-Policy does not govern."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    results: dict[str, Any] = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def assert_accessible(page: Page) -> None:
    found = serious_violations(page)
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


SCREENSHOTS = REPO / "docs" / "console"


def screenshot(page: Page, name: str) -> None:
    """With ``XUEJI_SCREENSHOTS=1`` the page is saved as ``docs/console/<name>-<lang>.png`` (the
    committed pictures of the main pages are made this way); otherwise nothing."""
    if os.environ.get("XUEJI_SCREENSHOTS") != "1":
        return
    language = "en" if page.locator("html").get_attribute("lang") == "en" else "zh"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{language}.png"), full_page=True)


def in_both_languages(page: Page, check: Callable[[], None]) -> None:
    """Run ``check`` on the page in Chinese, then switch to English, reload and run it again, then
    switch back. For accessibility and screenshots of each language."""
    check()
    page.get_by_role("link", name="English").first.click()
    page.wait_for_load_state()
    try:
        check()
    finally:
        page.get_by_role("link", name="中文").first.click()
        page.wait_for_load_state()


def accessible_in_both_languages(page: Page, picture: str | None = None) -> None:
    """axe finds no serious or critical violation on the page in either language; with a
    ``picture`` name and ``XUEJI_SCREENSHOTS=1`` each language's screenshot is saved too."""

    def check() -> None:
        assert_accessible(page)
        if picture is not None:
            screenshot(page, picture)

    in_both_languages(page, check)


def fake_camera_file(photo: Path, into: Path) -> Path:
    """The photo as the y4m video Chromium's fake camera plays (WEB.md "Faking the phone")."""
    target = into / f"{photo.parent.name}-{photo.stem}.y4m"
    if not target.exists():
        subprocess.run(
            [
                "ffmpeg", "-v", "error", "-y", "-loop", "1", "-i", str(photo),
                "-vf", "scale=-2:480,pad=640:480:(ow-iw)/2:0,format=yuv420p",
                "-r", "5", "-frames:v", "5", str(target),
            ],
            check=True,
        )  # fmt: skip
    return target


@pytest.fixture
def camera_browser(
    playwright: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Browser]]:
    """``camera_browser("obama/obama1.jpg")``: a Chromium whose camera shows that photo (the file is
    fixed per launch, so one browser per face)."""
    launched: list[Browser] = []
    videos = tmp_path_factory.mktemp("camera")

    def launch(relative_photo: str) -> Browser:
        video = fake_camera_file(FACES / relative_photo, videos)
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        launched.append(browser)
        return browser

    yield launch
    for browser in launched:
        browser.close()

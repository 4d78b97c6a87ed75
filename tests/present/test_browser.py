"""What users see, in a real browser (headless Chromium through Selenium): optuna-dashboard's
pages of a regsearch study, and the HTML report.

Skipped, with the reason, where Chromium or its driver is missing (``.ci/run`` installs
Debian's ``chromium`` and ``chromium-driver``). ``REGSEARCH_SCREENSHOTS=DIR`` keeps the
screenshots there, to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from regsearch import StudyConfig, TrainSettings, run_study
from regsearch.testing import FakeBackend, synthetic_dataset
from tests.present.test_dashboard import free_port, get_json

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium")
    if CHROMIUM is None or DRIVER is None:
        pytest.skip(
            "no headless browser: install Debian's chromium and chromium-driver "
            "(apt-get install chromium chromium-driver; .ci/run does)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,2400"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    yield driver
    driver.quit()


def wait_for(driver, condition, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not (found := condition(driver)):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not appear within {timeout:.0f} s")
        time.sleep(0.3)
    return found


def loaded_images(driver) -> list[dict]:
    return driver.execute_script(
        "return Array.from(document.images).map(i => ({src: i.src, alt: i.alt, "
        "ok: i.complete && i.naturalWidth > 0}));"
    )


def keep_screenshot(driver, name: str) -> None:
    folder = os.environ.get("REGSEARCH_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / name))


@pytest.fixture(scope="module")
def finished_study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    config = StudyConfig(
        backend="torch",
        folds=3,
        trials=6,
        storage=f"sqlite:///{folder / 'study.db'}",
        study_name="browser",
        artifact_dir=folder / "artifacts",
        train=TrainSettings(epochs=4),
    )
    run_study(config, backend=FakeBackend(), dataset=synthetic_dataset())
    return config


def test_the_dashboard_shows_the_answer_the_note_and_the_figures(browser, finished_study):
    config = finished_study
    port = free_port()
    server = subprocess.Popen(
        [
            "optuna-dashboard", config.storage, "--artifact-dir", str(config.artifact_dir),
            "--host", "127.0.0.1", "--port", str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        studies = get_json(f"{base}/api/studies")["study_summaries"]
        study_id = next(s["study_id"] for s in studies if s["study_name"] == "browser")

        browser.get(f"{base}/dashboard/studies/{study_id}/note")
        wait_for(browser, lambda d: "Answer:" in d.find_element("tag name", "body").text, "note")
        text = browser.find_element("tag name", "body").text
        assert "Reading this page" in text and "python -m regsearch.study" in text
        figures = wait_for(
            browser,
            lambda d: [i for i in loaded_images(d) if "/artifacts/" in i["src"] and i["ok"]],
            "the note's figures",
        )
        assert len(figures) >= 5, loaded_images(browser)
        keep_screenshot(browser, "dashboard-note.png")

        browser.get(f"{base}/dashboard/studies/{study_id}")
        wait_for(browser, lambda d: "Study Artifacts" in d.find_element("tag name", "body").text,
                 "the study page")  # fmt: skip
        artifacts = wait_for(
            browser,
            lambda d: [i for i in loaded_images(d) if "/artifacts/" in i["src"] and i["ok"]],
            "the study's figure artifacts",
        )
        assert artifacts
        body = browser.find_element("tag name", "body").text
        assert "CV accuracy" in body  # the metric's name, not "Objective 0"
        assert "answer" in body and "Chosen:" in body  # the first study attribute
        keep_screenshot(browser, "dashboard-study.png")

        browser.get(f"{base}/dashboard/studies/{study_id}/trials")
        wait_for(
            browser,
            lambda d: "split0_test_accuracy" in d.find_element("tag name", "body").text,
            "a trial's user attributes",
        )
        width = browser.execute_script("return document.documentElement.scrollWidth;")
        assert width <= browser.get_window_size()["width"], width  # no page wider than the window
        body = browser.find_element("tag name", "body").text
        assert "_history" not in body and "worker" not in body
        keep_screenshot(browser, "dashboard-trial.png")
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_every_figure_of_the_html_report_loads(browser, finished_study, tmp_path):
    import optuna

    from regsearch.present.figures import write_report

    study = optuna.load_study(study_name="browser", storage=finished_study.storage)
    page = write_report(study, tmp_path / "report")
    browser.get(page.as_uri())
    images = wait_for(browser, loaded_images, "the report's images")
    assert len(images) == page.read_text().count("<img ")
    assert len(images) >= 5 and all(image["ok"] for image in images), images
    keep_screenshot(browser, "report.png")

"""The report in a real browser: headless Debian Chromium driven by Selenium.

Built from a tiny review on mnist-mini (three real runs). Screenshots are kept as test
artefacts in ``$MNISTMAX_ARTIFACTS`` (default ``tests/report/artifacts/``, git-ignored).
Skipped where Chromium or its driver is missing, unless ``CI=true``: CI must run it.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from report_helpers import MiniReview

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(os.environ.get("MNISTMAX_ARTIFACTS", Path(__file__).parent / "artifacts"))

# Counts canvas pixels of exactly each palette colour (circle centres are drawn opaque).
COUNT_COLOURS = """
const c = document.getElementById('ex-canvas');
const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
const pal = window.mnistmaxExplorer.palette.slice(0, 10).map(h => [1, 3, 5].map(i => parseInt(h.substr(i, 2), 16)));
const counts = pal.map(() => 0);
for (let i = 0; i < d.length; i += 4) {
  for (let k = 0; k < pal.length; k++) {
    if (d[i] === pal[k][0] && d[i + 1] === pal[k][1] && d[i + 2] === pal[k][2]) { counts[k]++; break; }
  }
}
return counts;
"""


def _tools_present() -> bool:
    return Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    if not _tools_present():
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"CI needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
            )
        pytest.skip("chromium/chromedriver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--force-device-scale-factor=1"):  # fmt: skip
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
    try:
        yield drv
    finally:
        drv.quit()


def _wait(cond: Callable[[], Any], timeout: float = 10.0) -> Any:
    end = time.monotonic() + timeout
    while True:
        value = cond()
        if value or time.monotonic() > end:
            return value
        time.sleep(0.05)


def _shot(drv: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    drv.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def _canvas(drv: Any) -> str:
    return str(drv.execute_script("return document.getElementById('ex-canvas').toDataURL()"))


def _point_offset(drv: Any, i: int) -> tuple[int, int]:
    """Offset of point ``i`` from the canvas element's centre (what Selenium 4 moves by)."""
    x, y, w, h, left, top = drv.execute_script(
        "const c = document.getElementById('ex-canvas'); const r = c.getBoundingClientRect();"
        "const p = window.mnistmaxExplorer.pointPosition(arguments[0]);"
        "return [p[0], p[1], r.width, r.height, c.clientLeft, c.clientTop];",
        i,
    )
    return round(x + left - w / 2), round(y + top - h / 2)


def _isolated_point(drv: Any) -> int:
    """A point with no other point within 10 px, so hover and click pick exactly it."""
    return int(
        drv.execute_script(
            "const e = window.mnistmaxExplorer; const n = +document.getElementById('ex-canvas')"
            ".getAttribute('data-points'); for (let i = 0; i < n; i++) { const p = e.pointPosition(i);"
            " let ok = true; for (let j = 0; j < n && ok; j++) { if (j === i) continue;"
            " const q = e.pointPosition(j); if ((p[0]-q[0])**2 + (p[1]-q[1])**2 < 100) ok = false; }"
            " if (ok) return i; } return 0;"
        )
    )


def test_report_in_a_browser(mini_review: MiniReview, driver: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    index = mini_review.out / "report" / "index.html"
    driver.get(index.resolve().as_uri())
    assert _wait(lambda: driver.execute_script("return !!window.mnistmaxExplorer"))
    _shot(driver, "01_page")

    # No console errors.
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe

    # One table row per run (three runs with distinct configs), and the run table agrees.
    runs = sorted(p.name for p in (mini_review.out / "runs").iterdir())
    rows = driver.find_elements(By.CSS_SELECTOR, "#summary-table tbody tr.row-method")
    assert sorted(r.get_attribute("data-runs") for r in rows) == runs
    assert len(driver.find_elements(By.CSS_SELECTOR, "#runs-table tbody tr.row-method")) == 3
    assert driver.find_elements(By.CSS_SELECTOR, "#summary-table tbody tr.row-baseline")

    canvas = driver.find_element(By.ID, "ex-canvas")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    run_sel = Select(driver.find_element(By.ID, "ex-run"))
    assert [o.text.split(" ")[0] for o in run_sel.options] == [
        "triplet_quick_s0",
        "simclr_quick_s0",
    ]
    run_sel.select_by_index(0)

    # The explorer draws all ten classes: every palette colour is on the canvas.
    counts = driver.execute_script(COUNT_COLOURS)
    assert all(c > 0 for c in counts), counts
    assert canvas.get_attribute("data-classes") == "10"
    _shot(driver, "02_explorer_pca")

    # Switching maps redraws.
    map_sel = Select(driver.find_element(By.ID, "ex-map"))
    pca = _canvas(driver)
    for value, title in (("tsne", "t-SNE"), ("umap", "UMAP")):
        map_sel.select_by_value(value)
        assert title in driver.find_element(By.ID, "ex-title").text
        assert _canvas(driver) != pca
    _shot(driver, "03_explorer_umap")
    map_sel.select_by_value("pca")

    # Colour by cluster.
    Select(driver.find_element(By.ID, "ex-colour")).select_by_value("cluster")
    assert 1 <= int(canvas.get_attribute("data-classes")) <= 10
    Select(driver.find_element(By.ID, "ex-colour")).select_by_value("label")

    # The epoch slider changes the frame: the trace digits of epoch 0 (init), then the last.
    slider = driver.find_element(By.ID, "ex-epoch")
    assert slider.is_enabled() and slider.get_attribute("max") == "2"
    final = _canvas(driver)
    slider.send_keys(Keys.HOME)
    label = driver.find_element(By.ID, "ex-epoch-label")
    assert _wait(lambda: label.text == "epoch 0 (init)"), label.text
    assert map_sel.first_selected_option.get_attribute("value") == "epochs"
    assert canvas.get_attribute("data-points") == "50"  # pca_per_class 5 × 10 classes
    frame0 = _canvas(driver)
    assert frame0 != final
    _shot(driver, "04_slider_epoch0")
    slider.send_keys(Keys.END)
    assert _wait(lambda: label.text == "epoch 2")
    assert _canvas(driver) != frame0

    # Hover shows the digit's image.
    map_sel.select_by_value("pca")
    i = _isolated_point(driver)
    dx, dy = _point_offset(driver, i)
    ActionChains(driver).move_to_element_with_offset(canvas, dx, dy).perform()
    tip = driver.find_element(By.ID, "ex-tooltip")
    assert _wait(tip.is_displayed)
    img = driver.find_element(By.ID, "ex-tip-img")
    assert img.get_attribute("src").startswith("data:image/png;base64,")
    assert _wait(lambda: driver.execute_script("return arguments[0].naturalWidth", img) == 28)
    assert "label" in driver.find_element(By.ID, "ex-tip-text").text
    _shot(driver, "05_hover")

    # Click lists its nearest neighbours (with their images).
    ActionChains(driver).move_to_element_with_offset(canvas, dx, dy).click().perform()
    items = _wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#ex-neighbours li.ex-nb"))
    assert len(items) == 8
    assert all(
        it.find_element(By.TAG_NAME, "img").get_attribute("src").startswith("data:") for it in items
    )
    _shot(driver, "06_neighbours")

    # Switching run redraws, and no errors were logged along the way.
    run_sel.select_by_index(1)
    assert "simclr_quick_s0" in driver.find_element(By.ID, "ex-title").text
    assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


# Payloads that would run script if any value reached the page as markup.
HOSTILE = (
    '<img src=x onerror="window.__pwned=1">',
    '"><svg onload="window.__pwned=2">',
    "</script><script>window.__pwned=3</script>",
)


def test_hostile_names_are_text_in_the_page_and_run_nothing(
    tmp_path: Path, driver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run folders, a preset label, recorded arguments, figure names and a dataset's class names
    holding HTML and script appear only as text: the page has no element they would create, and
    Chromium runs none (the legend and the neighbour list included)."""
    import dataclasses
    import json
    from html.parser import HTMLParser

    from report_helpers import fake_run
    from selenium.webdriver.common.by import By

    from mnistmax.data import catalog
    from mnistmax.report import build_report

    # A catalogue entry is all a new dataset needs (docs/extending.md): its class names are data.
    mini = catalog.DATASETS["mnist-mini"]
    names = tuple(HOSTILE[c % 3].replace("__pwned=", f"__pwned={c}") for c in range(10))
    monkeypatch.setitem(
        catalog.DATASETS, "mnist-mini", dataclasses.replace(mini, class_names=names)
    )

    for i, payload in enumerate(HOSTILE[:2]):  # folder names cannot hold "/"
        run = fake_run(
            tmp_path / "runs" / payload,
            seed=i,
            metrics={"test/knn@20": 0.9},
            embeddings=True,
            figure=True,
        )
        meta = json.loads((run / "meta.json").read_text())
        meta["argv"] = ["mnistmax", *HOSTILE]
        meta["git_revision"] = HOSTILE[2]
        (run / "meta.json").write_text(json.dumps(meta))
    out = build_report([tmp_path / "runs"], tmp_path / "report", maps=("pca",), per_class=5)
    page = out.index.read_text(encoding="utf-8")

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[tuple[str, dict[str, str | None]]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append((tag, dict(attrs)))

    parser = Tags()
    parser.feed(page)
    assert not [t for t, _ in parser.tags if t == "svg"]
    assert not [a for _, a in parser.tags if "onerror" in a or "onload" in a]
    assert len([t for t, _ in parser.tags if t == "script"]) == 2  # the data and the viewer
    assert "&lt;img src=x onerror=" in page  # shown, as text

    driver.get(out.index.resolve().as_uri())
    assert driver.execute_script("return window.__pwned === undefined")
    options = driver.execute_script(
        "return [...document.querySelectorAll('#ex-run option')].map(o => o.textContent)"
    )
    assert any(HOSTILE[0] in o for o in options)
    legend = driver.find_element(By.ID, "ex-legend").text
    assert names[0] in legend and names[1] in legend  # shown, as text

    driver.execute_script("window.mnistmaxExplorer.select(0)")  # the click path: the test above
    items = _wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#ex-neighbours li.ex-nb"))
    texts = [it.get_attribute("textContent") for it in items]
    assert any(any(n in t for n in names) for t in texts), (texts, names)
    assert driver.execute_script("return window.__pwned === undefined")
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe

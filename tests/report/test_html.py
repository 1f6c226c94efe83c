"""The report folder from hand-made runs: a self-contained page, markdown, explorer data."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from report_helpers import fake_run

from mnistmax.report import build_report
from mnistmax.report.explorer import explorer_html, matched_clusters, neighbours


class _Refs(HTMLParser):
    """Every src/href of the page, and whether a script has a src."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.refs.append((tag, name, value))


@pytest.fixture(scope="module")
def hand_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hand")
    metrics = {"test/knn@20": 0.9, "baseline/raw_pixels/knn@20": 0.88}
    for seed in (0, 1):
        fake_run(root / "runs" / f"trip_s{seed}", seed=seed, metrics=metrics, embeddings=True,
                 figure=True)  # fmt: skip
    fake_run(root / "runs" / "simclr", preset="simclr_quick", metrics=metrics, embeddings=True)
    out = root / "report"
    build_report([root / "runs"], out, maps=("pca",), per_class=20)
    return out


def test_page_is_self_contained(hand_report: Path) -> None:
    page = (hand_report / "index.html").read_text()
    parser = _Refs()
    parser.feed(page)
    assert parser.refs, "the page has images and links"
    for tag, name, value in parser.refs:
        assert value.startswith(("data:", "#")), (tag, name, value[:80])
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"https?://", page), "nothing may point to the network"
    # Figures are embedded: the GIF and the dashboard of both seeds.
    assert page.count("data:image/gif;base64,") == 2
    assert page.count("data:image/png;base64,iVBOR") >= 2


def test_tables_and_explorer_data(hand_report: Path) -> None:
    page = (hand_report / "index.html").read_text()
    summary = page.split('id="summary-table"')[1].split("</table>")[0]
    assert summary.count('class="row-method"') == 2  # two seeds of one config + simclr
    runs = page.split('id="runs-table"')[1].split("</table>")[0]
    assert runs.count('class="row-method"') == 3
    blob = page.split('id="explorer-data">')[1].split("</script>")[0]
    data = json.loads(blob)
    assert [r["name"] for r in data["runs"]] == ["trip_s0", "trip_s1", "simclr"]
    pool = data["datasets"]["mnist-mini"]
    assert len(pool["testIndex"]) == 200 and len(pool["images"]) == 200
    assert sorted(set(pool["labels"])) == list(range(10))
    run = data["runs"][0]
    assert len(run["maps"]["pca"]["xy"]) == 2 * 200 and run["frames"] is None
    assert len(run["neighbours"]) == 200 and all(len(n) == 8 for n in run["neighbours"])


def test_markdown_and_copied_assets(hand_report: Path) -> None:
    md = (hand_report / "report.md").read_text()
    links = re.findall(r"\]\(([^)]+)\)", md)
    assert links
    for link in links:
        assert (hand_report / link).is_file(), link
    assert "| triplet | triplet_quick |" in md
    assert "90.00 ± 0.00" in md  # two seeds: mean ± std
    rep = json.loads((hand_report / "report.json").read_text())
    assert [r["n"] for r in rep["summary"] if r["kind"] == "method"] == [2, 1]


def test_data_cannot_close_its_script_element() -> None:
    data = {"datasets": {}, "runs": [], "k": 8, "note": "</script><script>alert(1)</script>"}
    html = explorer_html(data)
    assert html.count("</script>") == 2  # the data element's and the viewer's own


def test_run_names_in_the_run_selector_are_text() -> None:
    name = "<img src=x onerror=alert(1)>"
    run = {"name": name, "method": "<b>triplet</b>", "maps": {"pca": {}}}
    html = explorer_html({"datasets": {}, "runs": [run], "k": 8})
    selector = html.split('id="ex-run">')[1].split("</select>")[0]
    assert "<img" not in selector and "<b>" not in selector
    assert "&lt;img src=x onerror=alert(1)&gt;" in selector


def test_neighbours_match_a_brute_force_search() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(60, 5))
    idx, sims = neighbours(z, k=4)
    zn = z / np.linalg.norm(z, axis=1, keepdims=True)
    for i in range(len(z)):
        s = [(float(zn[i] @ zn[j]), j) for j in range(len(z)) if j != i]
        best = sorted(s, reverse=True)[:4]
        assert list(idx[i]) == [j for _, j in best]
        np.testing.assert_allclose(sims[i], [v for v, _ in best], rtol=1e-9)


def test_clusters_are_renamed_to_their_classes() -> None:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(10, 8)) * 10
    y = np.repeat(np.arange(10), 20)
    z = centres[y] + rng.normal(size=(200, 8)) * 0.1
    assert (matched_clusters(z, y, 10) == y).all()


def test_explorer_names_the_classes_of_each_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Fashion-MNIST run (hand-made embeddings; its test images are not in this empty cache, so
    # the explorer shows points without thumbnails) beside an MNIST-mini one.
    monkeypatch.setenv("MNISTMAX_DATA", str(tmp_path / "empty_cache"))
    metrics = {"test/knn@20": 0.9}
    fake_run(tmp_path / "runs" / "fashion", metrics=metrics, embeddings=True,
             overrides=["data.dataset=fashion-mnist"])  # fmt: skip
    fake_run(tmp_path / "runs" / "mini", metrics=metrics, embeddings=True)
    build_report([tmp_path / "runs"], tmp_path / "report", maps=("pca",), per_class=5)
    page = (tmp_path / "report" / "index.html").read_text()
    data = json.loads(page.split('id="explorer-data">')[1].split("</script>")[0])
    fashion = data["datasets"]["fashion-mnist"]
    assert fashion["classNames"][:2] == ["T-shirt/top", "Trouser"]
    assert fashion["classNames"][9] == "Ankle boot" and fashion["images"] is None
    assert data["datasets"]["mnist-mini"]["classNames"] == [str(d) for d in range(10)]
    assert {r["dataset"] for r in data["runs"]} == {"fashion-mnist", "mnist-mini"}

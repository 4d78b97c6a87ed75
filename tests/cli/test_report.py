"""``python -m regsearch.report``: the page, its figures, escaping of stored names."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="the report needs pip install 'regsearch[report]'")

from regsearch.locations import sqlite_path
from regsearch.present.figures import FIGURES
from regsearch.report import main


def test_report_writes_every_figure_and_escapes_the_study_name(finished_fake_study, capsys):
    storage, name = finished_fake_study
    assert main(["--storage", storage, "--study", name]) == 0
    page = Path(capsys.readouterr().out.strip())
    folder = sqlite_path(storage).parent
    assert page.name == "index.html" and page.parent.parent == folder  # not escaped via ../
    html = page.read_text(encoding="utf-8")
    for key, _ in FIGURES:
        png = page.parent / f"{key}.png"
        if key == "nested_cv":  # only for a study run with --outer-folds (tests/run/test_nested.py)
            assert not png.exists() and key not in html
            continue
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
        assert f'src="{key}.png"' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "http://" not in html and "https://" not in html  # renders offline
    assert "Chosen: trial" in html


def test_report_refuses_unknown_study(finished_fake_study, capsys, tmp_path):
    storage, _ = finished_fake_study
    assert main(["--storage", storage, "--study", "nope", "--out", str(tmp_path / "r")]) == 2
    assert "no study named 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()

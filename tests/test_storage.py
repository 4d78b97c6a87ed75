from __future__ import annotations

from pathlib import Path

import pytest

from regsearch.config import ConfigError
from regsearch.storage import artifacts_dir, open_storage, redact_url, safe_file_stem


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("sqlite:////tmp/a.db", "sqlite:////tmp/a.db"),
        ("sqlite:///studies/regsearch.db", "sqlite:///studies/regsearch.db"),
        ("postgresql://bob:s3cret@db:5432/opt", "postgresql://bob:***@db:5432/opt"),
        (
            "postgresql://bob@db/opt?password=s3cret&sslmode=require",
            "postgresql://bob@db/opt?password=***&sslmode=require",
        ),
    ],
)
def test_redact_url(url, shown):
    assert redact_url(url) == shown
    assert "s3cret" not in redact_url(url)


def test_safe_file_stem_stays_in_folder():
    assert safe_file_stem("mnist-tf") == "mnist-tf"
    for hostile in ("../../etc/passwd", "a/b", "<script>", "名前 with space", "..", "'\""):
        stem = safe_file_stem(hostile)
        assert "/" not in stem and not stem.startswith(".")
        assert (Path("studies") / stem).resolve().parent == Path("studies").resolve()
    assert safe_file_stem("a/b") != safe_file_stem("a_b")


def test_artifacts_dir_and_bad_url(tmp_path):
    assert artifacts_dir(f"sqlite:///{tmp_path}/x/y.db") == tmp_path / "x"
    assert artifacts_dir("postgresql://u@h/db") == Path("studies")
    with pytest.raises(ConfigError, match="cannot open the storage"):
        open_storage("notadialect://whatever")

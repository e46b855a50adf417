"""Shared fixtures: the real pipeline is expensive (models, index), so it is built once."""

from __future__ import annotations

import shutil

import pytest

from rag.config import ROOT, Settings
from rag.pipeline import Pipeline


@pytest.fixture(scope="session")
def real_pipeline(tmp_path_factory) -> Pipeline:
    """The real packaged models over a copy of the real articles, loaded once per session."""
    root = tmp_path_factory.mktemp("e2e")
    docs = root / "docs"
    shutil.copytree(ROOT / "docs", docs)
    settings = Settings.from_env(docs_dir=docs, index_dir=root / "index")
    pipeline = Pipeline(settings)
    report = pipeline.build()
    assert report.reason == "no index" and report.chunks > 10
    pipeline.warm()
    return pipeline

"""Shared fixtures for the geo tests: the Cambridge gazetteer, built once per session into a temp cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from civictracker.geo import Gazetteer, load_gazetteer

ROOT = Path(__file__).resolve().parents[3]
PACK = ROOT / "civictracker" / "cities" / "cambridge_ma"
OSM_DIR = ROOT.parent / "shared" / "data" / "osm_samples"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("geocache")


@pytest.fixture(scope="session")
def gz(cache_dir: Path) -> Gazetteer:
    return load_gazetteer(PACK, cache_dir)

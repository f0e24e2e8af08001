from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SOURCE_ARTICLE = REPO.parent / "shared" / "source" / "hamstring-stretches-for-sciatica.txt"
EXERCISES = REPO / "limber" / "exercises"


@pytest.fixture(scope="session")
def article() -> str:
    """The source article, as plain lowercase words (it is stored that way)."""
    if not SOURCE_ARTICLE.exists():
        pytest.fail(f"the source article is missing: {SOURCE_ARTICLE}")
    return SOURCE_ARTICLE.read_text(encoding="utf-8")

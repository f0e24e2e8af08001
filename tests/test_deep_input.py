"""Input built to exhaust the parser: an exercise file nested thousands of levels deep."""

import pytest

from limber.core.spec import SpecError, load_stretch
from tests.conftest import EXERCISES, run_limber

DEEP = {
    "arrays": "slug = " + "[" * 5000 + "]" * 5000 + "\n",
    "inline tables": "slug = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n",
}


@pytest.mark.parametrize("kind", DEEP)
def test_an_exercise_file_nested_5000_deep_is_refused_by_name(tmp_path, kind):
    path = tmp_path / "deep.toml"
    path.write_text(DEEP[kind])
    with pytest.raises(SpecError, match=r"^deep.toml: expected TOML nested a few levels deep"):
        load_stretch(path)


def test_the_command_line_says_so_in_one_line(tmp_path):
    for good in EXERCISES.glob("*.toml"):
        (tmp_path / good.name).write_bytes(good.read_bytes())
    (tmp_path / "deep.toml").write_text(DEEP["arrays"])
    run = run_limber("exercises", env={"LIMBER_EXERCISES_DIR": str(tmp_path)})
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and "deep.toml" in run.stderr
    assert "Traceback" not in run.stderr

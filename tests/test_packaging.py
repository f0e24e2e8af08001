"""What a plain `pip install .` (the Docker image's install) puts on disk."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_built_wheel_holds_every_file_of_the_package(tmp_path):
    """Found by a clinic's IT tester: the wheel left out every app's templates and static files,
    so the Docker image answered 500 on nearly every page (editable installs hid it)."""
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "limber"], capture_output=True, text=True, check=True
    ).stdout.split()
    source = tmp_path / "src"
    # A clean copy of the tracked files: what a clone holds, whatever else is in this folder.
    for name in [*tracked, "pyproject.toml", "README.md"]:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes((ROOT / name).read_bytes())
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "out"),
         str(source)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp_path / "out").glob("limber-*.whl")
    inside = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in tracked if name not in inside]
    assert not missing, f"{len(missing)} files left out of the wheel, first {missing[:5]}"
    assert "limber/accounts/templates/accounts/login.html" in inside
    assert "limber/practice/static/practice/player.js" in inside

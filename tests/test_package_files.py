"""What `pip install .` ships: every file the pages clarion serves load (the console's modules,
the talk page's, the API docs' start script) is in the wheel, not only in a checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent
SERVED = ["console/static", "talk/static", "api/docs_static"]


def test_the_wheel_holds_every_file_the_pages_load(tmp_path: Path) -> None:
    # Built from a copy: the build leaves its working folders beside what it builds.
    copy = tmp_path / "clarion"
    shutil.copytree(SOURCE / "src", copy / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(SOURCE / name, copy / name)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), "."],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("clarion-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    package = SOURCE / "src" / "clarion"
    wanted = {
        f"clarion/{path.relative_to(package).as_posix()}"
        for folder in SERVED
        for path in (package / folder).rglob("*")
        if path.is_file()
    }
    assert any(name.endswith("pages/assistants/list.js") for name in wanted)
    assert wanted - shipped == set()

import shutil

import pytest

from . import nbgrader_support as nbs


@pytest.fixture(scope="session")
def released_course(tmp_path_factory):
    """A temporary copy of the course root with both assignments released (real nbgrader CLI)."""
    root = nbs.copy_course(tmp_path_factory.mktemp("course"))
    nbs.release(root)
    return root


@pytest.fixture
def course(released_course, tmp_path):
    """A fresh copy of the released course (its own gradebook) for one test."""
    root = tmp_path / "assignments"
    shutil.copytree(released_course, root)
    return root

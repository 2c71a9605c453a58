import shutil

import pytest

from ..assignments import nbgrader_support as nbs
from .class_support import PS1


@pytest.fixture(scope="session")
def released_ps1(tmp_path_factory):
    """A temporary copy of the course root with ps1 released (real nbgrader CLI)."""
    root = nbs.copy_course(tmp_path_factory.mktemp("class"))
    nbs.release(root, PS1)
    return root


@pytest.fixture
def course(released_ps1, tmp_path):
    """A fresh copy of the released course (its own SQLite gradebook) for one test."""
    root = tmp_path / "assignments"
    shutil.copytree(released_ps1, root)
    return root


@pytest.fixture(scope="session")
def postgres():
    """``url(database)``: a new database on a PostgreSQL server started for this session."""
    from .postgres_server import postgres_server
    with postgres_server() as url:
        yield url

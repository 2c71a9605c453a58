# Two commands do all the set-up on a fresh machine:
#   make lab    create .venv, install the course, open it in JupyterLab
#   make test   create .venv, install the test tools, run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: lab test test-quick bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[course,test]'
	touch $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab course/index.ipynb

test: $(STAMP)
	$(PY) -m pytest

test-quick: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser and not server"

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

# Student-facing copy of the repository (course, released assignments, core,
# binder) for publishing as the public student repository that Binder builds.
.PHONY: student-copy
student-copy: $(STAMP)
	$(PY) scripts/build_student_copy.py --out student-copy

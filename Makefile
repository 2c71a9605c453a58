# Two commands do all the set-up on a fresh machine:
#   make lab    create .venv, install the course (not the test tools), open it in JupyterLab
#   make test   create .venv, install the course and the test tools, run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed
LAB_STAMP = $(VENV)/.installed-course

.PHONY: lab test test-quick bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[course,test]'
	touch $(STAMP)

$(LAB_STAMP): pyproject.toml constraints.txt
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[course]'
	touch $(LAB_STAMP)

# JupyterLab serves the repository root (so the Formgrader finds the course root assignments/
# through ./nbgrader_config.py) and opens, and prints the address of, the course index.
# LAB_ARGS: more options for jupyter lab, e.g. LAB_ARGS="--no-browser --port=9999".
LAB_ARGS ?=
lab: $(LAB_STAMP)
	$(VENV)/bin/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) \
	  --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/course/index.ipynb $(LAB_ARGS)

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
#   make student-copy BINDER_REPO=owner/name   also points the student README's Binder badge there
student-copy: $(STAMP)
	$(PY) scripts/build_student_copy.py --out student-copy $(if $(BINDER_REPO),--binder-repo $(BINDER_REPO))

# ---- nbgrader assignments (course root: assignments/; see the README section "Assignments") ----
# make release     student versions of every assignment  -> assignments/release/<assignment>/
# make autograde   grade assignments/submitted/<student>/<assignment>/ -> gradebook + autograded/
# make feedback    feedback HTML (no hidden-test source)  -> assignments/feedback/<student>/...
# make grades      export the gradebook                   -> assignments/grades.csv
ASSIGNMENTS ?= ps1_elementwise ps2_matrices
NBGRADER     = cd assignments && PATH="$(abspath $(VENV))/bin:$$PATH" "$(abspath $(VENV))/bin/nbgrader"

.PHONY: release autograde feedback grades

release: $(STAMP)
	@set -e; for a in $(ASSIGNMENTS); do ($(NBGRADER) generate_assignment $$a --force); done

autograde: $(STAMP)
	@status=0; for a in $(ASSIGNMENTS); do \
	  if ls -d assignments/submitted/*/$$a >/dev/null 2>&1; then \
	    ($(NBGRADER) autograde $$a --force) || status=1; \
	  else echo "autograde: no submissions of $$a in assignments/submitted/"; fi; \
	done; exit $$status

feedback: $(STAMP)
	@status=0; for a in $(ASSIGNMENTS); do \
	  if ls -d assignments/autograded/*/$$a >/dev/null 2>&1; then \
	    ($(NBGRADER) generate_feedback $$a --force) || status=1; \
	  else echo "feedback: nothing autograded for $$a"; fi; \
	done; exit $$status

grades: $(STAMP)
	$(NBGRADER) export

# ---- JupyterHub for a class on one machine (deploy/hub/, see deploy/README.md) ----
# make hub-env     a Python environment every Unix user can run (not under /root): the course + JupyterHub
# make hub-proxy   configurable-http-proxy from npm into deploy/hub/node_modules
# make hub         run JupyterHub as root with deploy/hub/jupyterhub_config.py
HUB_PYTHON ?= /usr/bin/python3
HUB_VENV   ?= /opt/autodiff-hub
HUB_ARGS   ?=
.PHONY: hub-env hub-proxy hub

hub-env:
	[ -x $(HUB_VENV)/bin/python ] || $(HUB_PYTHON) -m venv $(HUB_VENV)
	$(HUB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(HUB_VENV)/bin/python -m pip install --quiet -c constraints.txt '.[hub]'
	chmod -R a+rX $(HUB_VENV)

hub-proxy:
	cd deploy/hub && npm install --no-fund --no-audit --loglevel=error

hub: deploy/hub/node_modules/.bin/configurable-http-proxy
	cd deploy/hub && PATH="$(abspath $(HUB_VENV))/bin:$$PATH" jupyterhub -f jupyterhub_config.py $(HUB_ARGS)

deploy/hub/node_modules/.bin/configurable-http-proxy:
	$(MAKE) hub-proxy

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
COURSE      ?= assignments
NBGRADER     = cd $(COURSE) && PATH="$(abspath $(VENV))/bin:$$PATH" "$(abspath $(VENV))/bin/nbgrader"
CLASSROOM    = cd $(COURSE) && PATH="$(abspath $(VENV))/bin:$$PATH" "$(abspath $(VENV))/bin/python" -m classroom

.PHONY: release autograde feedback grades

release: $(STAMP)
	@set -e; for a in $(ASSIGNMENTS); do ($(NBGRADER) generate_assignment $$a --force); done

# make autograde JOBS=N   N grading processes (nbgrader's API in-process); only new or changed
#                         submissions unless FORCE=1
JOBS ?= 1
autograde: $(STAMP)
	@$(CLASSROOM).parallel_autograde --jobs $(JOBS) $(if $(FORCE),--force) $(ASSIGNMENTS)

feedback: $(STAMP)
	@status=0; for a in $(ASSIGNMENTS); do \
	  if ls -d $(COURSE)/autograded/*/$$a >/dev/null 2>&1; then \
	    ($(NBGRADER) generate_feedback $$a --force) || status=1; \
	  else echo "feedback: nothing autograded for $$a"; fi; \
	done; exit $$status

grades: $(STAMP)
	$(NBGRADER) export
	$(if $(LMS),$(NBGRADER) export --exporter=classroom.lms_export.$(LMS_CLASS)Export --to=grades_$(LMS).csv)

# ---- running a class through an LMS (Canvas or Moodle; README section "Running a class") ----
# make roster ROSTER=students.csv                        students' names and e-mails -> gradebook
# make collect ASSIGNMENT=a ZIP=download.zip LMS=canvas   the LMS's zip of submissions -> submitted/
# make grades LMS=canvas                                  also grades_canvas.csv for the LMS gradebook
# make feedback-zip ASSIGNMENT=a                         feedback/ -> feedback_<a>_<lms>.zip to upload
LMS_CLASS = $(if $(filter moodle,$(LMS)),Moodle,$(if $(filter canvas,$(LMS)),Canvas,$(error LMS must be canvas or moodle)))
.PHONY: roster collect feedback-zip

roster: $(STAMP)
	@test -n "$(ROSTER)" || { echo "usage: make roster ROSTER=students.csv (columns id,first_name,last_name,email)"; exit 2; }
	$(NBGRADER) db student import "$(abspath $(ROSTER))"

collect: $(STAMP)
	@test -n "$(ASSIGNMENT)" -a -n "$(ZIP)" || { echo "usage: make collect ASSIGNMENT=ps1_elementwise ZIP=download.zip LMS=canvas|moodle"; exit 2; }
	rm -rf "$(COURSE)/downloaded/$(ASSIGNMENT)/archive" && mkdir -p "$(COURSE)/downloaded/$(ASSIGNMENT)/archive"
	cp "$(abspath $(ZIP))" "$(COURSE)/downloaded/$(ASSIGNMENT)/archive/"
	$(NBGRADER) zip_collect $(ASSIGNMENT) --force --collector=classroom.lms_collect.$(LMS_CLASS)Collector

feedback-zip: $(STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "usage: make feedback-zip ASSIGNMENT=ps1_elementwise"; exit 2; }
	$(CLASSROOM).feedback_zip $(ASSIGNMENT)

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

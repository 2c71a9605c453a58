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
	$(VENV)/bin/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) course/index.ipynb

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

# make autograde JOBS=N   N nbgrader runs at a time; only new or changed submissions unless FORCE=1
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

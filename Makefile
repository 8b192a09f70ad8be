# The course's two commands: `make book` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# pytest exits 5 when an optional stage collects nothing; that is not a failure.
ALLOW_EMPTY = || [ $$? -eq 5 ]
NBVAL_FLAGS = --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg -p no:cacheprovider

# Tests run two workers on two cores: one BLAS/OpenMP thread each avoids oversubscription
# (measured: 10-25x slower with two threads per worker on a loaded 2-core machine).
test-lib test-lessons check-exercises test-site lessons: export OMP_NUM_THREADS := 1

.PHONY: install book test test-lib test-lessons check-exercises test-site lessons grade autograder bench clean help

help:
	@echo "make book   - build the website into _build/html (sets up .venv first)"
	@echo "make test   - every check: lint, library, lessons (nbval), exercises, website and a lesson in JupyterLab in a browser"
	@echo "make lessons          - re-execute every lesson and checks page in place (outputs and widget state)"
	@echo "make grade SET=set1_two_layer SUBMISSIONS=dir - grade a folder of submissions"
	@echo "make autograder SET=set1_two_layer - the set's Gradescope autograder, dist/SET-autograder.zip"
	@echo "make bench  - run the benchmarks, write benchmarks/RESULTS.md"

# Python versions the pinned packages support (numpy 2.4 needs 3.11; tested on 3.11). Kept
# equal to pyproject.toml's requires-python and the README by tests/test_versions.py.
PY_SUPPORTED := 3.11 3.12 3.13

# .venv is (re)built when missing or older than requirements.txt / pyproject.toml.
$(STAMP): requirements.txt pyproject.toml
	@py=$(PY); test -x $$py || py=$(PYTHON); \
	v=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	case " $(PY_SUPPORTED) " in *" $$v "*) ;; *) \
	  echo "make install: the course needs Python 3.11 to 3.13, but $$py is $${v:-not a working Python}: run e.g. make install PYTHON=python3.11 (after rm -rf $(VENV) if it exists)"; \
	  exit 1;; esac
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

install: $(STAMP)

# Incremental: Sphinx rewrites only the pages whose sources changed, and when none did it
# copies no static files at all (and myst-nb then expects _static to be there). So _static is
# never deleted on its own: a build without it starts from scratch, and the vendored files
# (book/_vendor, which Sphinx would not re-copy when no page changed) are synced after every
# build. tests/test_build.py runs this target twice in a copy of the repository.
book: install
	@test -d _build/html/_static || rm -rf _build/html _build/.doctrees
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	cp -R book/_vendor/. _build/html/_static/
	@echo
	@echo "The website is in _build/html. Open it with:"
	@echo "    python3 -m http.server -d _build/html 8000   # then visit http://localhost:8000"
	@echo "or open _build/html/index.html in a browser."

test: install test-lib test-lessons check-exercises test-site
	@echo "make test: all checks passed"

# The stored outputs must not hang on the code path the BLAS and torch take on one CPU: nbval
# runs the lessons, and pytest the kernels' accuracy tests, twice: on this machine's default
# path, and on MKL's COMPATIBLE path with torch's plain (non-vectorized) kernels, as a machine
# unlike the one that stored the outputs would.
OTHER_CODE_PATH = MKL_CBWR=COMPATIBLE ATEN_CPU_CAPABILITY=default

# Lint: the code and the notebooks alike (lessons, book pages, exercise sets: exercises/ has
# its own ruff.toml); then every library test, including `make book` run twice in a copy.
test-lib: install
	$(PY) -m ruff check lib tests benchmarks exercises lessons book
	$(PY) -m pytest tests -q --ignore=tests/test_site.py --ignore=tests/test_jupyterlab.py -n 2
	$(OTHER_CODE_PATH) $(PY) -m pytest tests/test_kernel_accuracy.py -q

test-lessons: install
	$(PY) -m pytest lessons book $(NBVAL_FLAGS) -q -n 2 --dist loadfile $(ALLOW_EMPTY)
	$(OTHER_CODE_PATH) $(PY) -m pytest lessons book $(NBVAL_FLAGS) -q -n 2 --dist loadfile $(ALLOW_EMPTY)

check-exercises: install
	$(PY) exercises/check.py

# The browser tests: the built website, and one lesson run in JupyterLab as a student would.
test-site: book
	@test -x /usr/bin/chromium || \
	  { echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	$(PY) -m pytest tests/test_site.py tests/test_jupyterlab.py -q

lessons: install
	$(PY) -m jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.timeout=300 --ExecutePreprocessor.store_widget_state=True \
	  lessons/*.ipynb lessons/checks/*.ipynb book/intro.ipynb

grade: install
	@test -n "$(SET)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade SET=set1_two_layer SUBMISSIONS=path/to/folder [TIMEOUT=120] [MEMORY=4G] [JOBS=1]"; exit 2; }
	$(PY) exercises/grade.py $(SET) "$(SUBMISSIONS)" --timeout $(or $(TIMEOUT),120) \
	  --memory $(or $(MEMORY),4G) --jobs $(or $(JOBS),1) --out grades.csv

# The Gradescope autograder of one set (exercises/gradescope/): the same grader as `make grade`.
autograder: install
	@test -n "$(SET)" || { echo "usage: make autograder SET=set1_two_layer [TIMEOUT=120] [MEMORY=4G]"; exit 2; }
	$(PY) exercises/gradescope/build.py $(SET) --timeout $(or $(TIMEOUT),120) \
	  --memory $(or $(MEMORY),4G) --out dist

bench: install
	$(PY) benchmarks/run.py

clean:
	rm -rf _build

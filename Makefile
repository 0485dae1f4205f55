# Two commands do everything (see README):  make lab   |   make test
# Both create .venv on first use and reuse it afterwards; it holds the package with its `lab`
# (JupyterLab, the kernel, nbclient/nbconvert) and `test` extras, and is refreshed when pyproject.toml changes.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: lab test fast-test smoke course clean help

help:
	@echo "make lab    - set up .venv (first time) and open the course in JupyterLab"
	@echo "make test   - set up .venv (first time) and run the whole test suite"
	@echo "make smoke  - a seconds-long CLI training run"
	@echo "make course - run every lesson at full settings and write a static HTML copy to build/course/"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[lab,test]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (wgan-lessons)"
	touch $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

test: $(STAMP)
	WGAN_LESSONS_FAST=1 $(PY) -m pytest -n auto --maxprocesses 4 --dist loadfile

course: $(STAMP)
	$(PY) scripts/build_course.py --out build/course

smoke: $(STAMP)
	$(PY) -m wgan_lessons train --dry-run --out runs/smoke

clean:
	rm -rf runs build .pytest_cache

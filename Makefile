# release-bot developer entry points.  `make help` lists the targets.
#
#   make test-unit   venv, then the fast tests that need no Docker and no network (2 workers)
#   make test        venv + Docker engine + stack images + lint, then pytest (not e2e or
#                    workflows)
#   make test-workflows  same set-up, then the workflows under act (pytest -m workflows)
#   make test-arm64  same set-up plus QEMU and the arm64 stack images, then pytest -m arm64
#                    (not the e2e one)
#   make test-lowest the no-Docker tests on the lowest versions pyproject.toml admits
#   make e2e         same set-up, then pytest -m "e2e or network" (a real Mono 6.14.1 build:
#                    23 min on 2 quiet cores, 81 min on busy ones)
#   make e2e-arm64   test-arm64's set-up, then pytest -m "e2e and arm64" (Mono's C runtime,
#                    make -C mono, built for arm64 under QEMU: about an hour on 2 cores)
#   make e2e-repro   same set-up, then that build twice from cold caches, compared
#   make run         same set-up, then `release-bot run $(RUN_ARGS)`
#
# Recipes are plain POSIX sh, one shell per line (no .ONESHELL).

SHELL := /bin/sh
.DEFAULT_GOAL := help

VENV        ?= .venv
PYTHON      ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
                 if command -v $$p >/dev/null 2>&1 && \
                    $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then \
                   command -v $$p; break; fi; done)
VENV_PY     := $(VENV)/bin/python
VENV_STAMP  := $(VENV)/.release-bot-installed
PIP_ARGS    ?=
PYTEST_ARGS ?=
RUN_ARGS    ?=
REPRO_ARGS  ?=
RUN_CONFIG  ?= versions.toml

ENSURE_DOCKER := tests/harness/ensure-docker.sh
STACK_IMAGES  := images/stack/make-stack-images.sh

LINT_PATHS := $(wildcard bot tests bench)
DOCKERFILES = $(shell find images -type f -name 'Dockerfile*' ! -name '*.dockerignore' 2>/dev/null | sort)
WORKFLOWS   = $(wildcard .github/workflows/*.yml .github/workflows/*.yaml)

phase = @printf '\n==> %s\n' "$(1)"

.PHONY: help venv engine stack-images lint test test-unit test-workflows test-arm64 test-lowest e2e e2e-arm64 e2e-repro run \
        clean distclean

help:
	@echo "targets: venv engine stack-images lint test test-unit test-workflows test-arm64 test-lowest e2e e2e-arm64 e2e-repro run clean distclean"
	@echo "vars:    PYTEST_ARGS='...'  RUN_ARGS='...'  RUN_CONFIG=versions.toml  VENV=$(VENV)  PYTHON=$(PYTHON)"

# ---------------------------------------------------------------- venv

venv: $(VENV_STAMP)

# Reinstall only when pyproject.toml changes (or the venv is new/broken).
$(VENV_STAMP): pyproject.toml
	$(call phase,venv ($(VENV)))
	@if [ -x "$(VENV_PY)" ] && ! "$(VENV_PY)" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
	  echo "$(VENV) has Python < 3.11 or is broken; recreating"; rm -rf "$(VENV)"; fi
	@if [ ! -x "$(VENV_PY)" ]; then \
	  if [ -z "$(PYTHON)" ]; then echo "error: need python3 >= 3.11 on PATH (or PYTHON=/path/to/python3.11)" >&2; exit 1; fi; \
	  echo "creating $(VENV) with $(PYTHON)"; \
	  if ! "$(PYTHON)" -m venv "$(VENV)" 2>/dev/null; then \
	    rm -rf "$(VENV)"; \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	      echo "python venv/ensurepip missing; apt-get install python3-venv"; \
	      (apt-get install -y -qq python3-venv >/dev/null 2>&1 || \
	       (apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null)) || exit 1; \
	      "$(PYTHON)" -m venv "$(VENV)" || exit 1; \
	    else \
	      echo "error: '$(PYTHON) -m venv' failed; install python3-venv" >&2; exit 1; \
	    fi; \
	  fi; \
	fi
	"$(VENV_PY)" -m pip install --quiet --upgrade pip
	"$(VENV_PY)" -m pip install --quiet $(PIP_ARGS) -e '.[test]'
	@touch "$@"

# ---------------------------------------------------------------- docker

engine:
	$(call phase,engine)
	@"$(ENSURE_DOCKER)"
	@docker version --format 'docker engine {{.Server.Version}}' 2>/dev/null || true

stack-images: engine
	$(call phase,stack-images)
	@"$(STACK_IMAGES)"

# ---------------------------------------------------------------- lint

lint: venv
	$(call phase,lint: ruff)
	"$(VENV)/bin/ruff" check $(LINT_PATHS)
	$(call phase,lint: mypy --strict bot)
	"$(VENV)/bin/mypy" --strict bot
	$(call phase,lint: hadolint)
	@if [ -n "$(DOCKERFILES)" ]; then \
	  echo "$(VENV)/bin/hadolint $(DOCKERFILES)"; "$(VENV)/bin/hadolint" $(DOCKERFILES); \
	else echo "no Dockerfiles under images/; skipped"; fi
	$(call phase,lint: actionlint + zizmor)
	@if [ -n "$(WORKFLOWS)" ]; then \
	  echo "$(VENV)/bin/actionlint $(WORKFLOWS)"; "$(VENV)/bin/actionlint" $(WORKFLOWS) && \
	  echo "$(VENV)/bin/zizmor --offline .github/workflows action.yml" && \
	  "$(VENV)/bin/zizmor" --offline .github/workflows action.yml; \
	else echo "no workflows under .github/workflows; skipped"; fi

# ---------------------------------------------------------------- tests / run

test: venv engine stack-images lint
	$(call phase,pytest)
	"$(VENV)/bin/pytest" $(PYTEST_ARGS)

test-unit: venv
	$(call phase,pytest: no Docker, no network)
	"$(VENV)/bin/pytest" -n 2 -m "not docker and not e2e and not workflows and not slow and not network" $(PYTEST_ARGS)

test-workflows: venv engine stack-images
	$(call phase,pytest -m workflows: the workflows under act)
	"$(VENV)/bin/pytest" -m "workflows and not arm64" $(PYTEST_ARGS)

# QEMU user mode (qemu-user-static + binfmt-support) and the arm64 stack images are set up
# by make-stack-images.sh itself; about 6 minutes from nothing on 2 cores.
test-arm64: venv engine stack-images
	$(call phase,stack-images: arm64 under QEMU)
	@STACK_ARCH=arm64 "$(STACK_IMAGES)"
	$(call phase,pytest -m arm64: arm64 beside amd64 under emulation)
	"$(VENV)/bin/pytest" -m "arm64 and not e2e" $(PYTEST_ARGS)

test-lowest:
	$(call phase,the no-Docker tests on the lowest dependency versions)
	PYTHON="$(PYTHON)" tests/lowest/run.sh $(PYTEST_ARGS)

# A real Mono 6.14.1 build took 81 minutes on 2 busy cores (23 on quiet ones): far past
# pytest's default 1800 s. The network tests (Debian's archive from a container) run here too.
e2e: venv engine stack-images
	$(call phase,pytest -m e2e)
	"$(VENV)/bin/pytest" -m "(e2e or network) and not arm64" --timeout=7200 $(PYTEST_ARGS)

# Not in CI: Mono's own C runtime (make -C mono) for arm64 under QEMU, about an hour.
e2e-arm64: venv engine stack-images
	$(call phase,stack-images: arm64 under QEMU)
	@STACK_ARCH=arm64 "$(STACK_IMAGES)"
	$(call phase,pytest -m "e2e and arm64": Mono's C runtime for arm64 under emulation)
	"$(VENV)/bin/pytest" -m "e2e and arm64" --timeout=10800 $(PYTEST_ARGS)

# Not in CI: run by hand for a reproducibility report (tests/e2e/repro.py); exit 1 if the
# two tarballs differ.
e2e-repro: venv engine stack-images
	$(call phase,e2e-repro: two cold builds of Mono 6.14.1 then a comparison)
	"$(VENV_PY)" -m tests.e2e.repro $(REPRO_ARGS)

run: venv engine stack-images
	$(call phase,release-bot run)
	$(VENV)/bin/release-bot --config "$(RUN_CONFIG)" run $(RUN_ARGS)

# ---------------------------------------------------------------- cleaning

clean:
	$(call phase,clean)
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist *.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

# Also drops the venv and the local stack images.
distclean: clean
	rm -rf "$(VENV)"
	-docker image rm release-bot-test/bookworm:build release-bot-test/bookworm:run 2>/dev/null

# Bandstand — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(HOME)/.local/bin:$(PATH)
UV ?= uv
PYTEST_ARGS ?=

.PHONY: help bootstrap run test lint format typecheck bench clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

bootstrap: ## Make the virtualenv from uv.lock (installs uv first when missing)
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --user --quiet uv \
		|| python3 -m pip install --user --quiet --break-system-packages uv
	@# Precompiled bytecode halves start-up where the environment forbids writing .pyc files.
	@$(UV) sync --frozen --quiet --compile-bytecode
	@$(UV) run --frozen python -m compileall -q src >/dev/null

run: bootstrap ## Start the whole platform on http://127.0.0.1:8080 (embedded mode)
	$(UV) run bandstand up

test: bootstrap ## Run the whole test suite
	$(UV) run pytest $(PYTEST_ARGS)

lint: bootstrap ## ruff, formatting, mypy and the import rules
	$(UV) run ruff check src tests bench
	$(UV) run ruff format --check src tests bench
	$(UV) run mypy
	$(UV) run lint-imports

format: bootstrap ## Format and autofix
	$(UV) run ruff format src tests bench
	$(UV) run ruff check --fix src tests bench

bench: bootstrap ## Run the benchmarks (see BENCHMARKS.md)
	$(UV) run python bench/run_all.py

clean: ## Remove local data and caches
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

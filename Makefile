# Jobplane front door. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export CDK8S_CHECK_UPGRADE := false

.PHONY: help install build typecheck lint test proto synth dev dev-local demo bench clean

help: ## List targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

node_modules: package-lock.json
	npm ci
	@touch node_modules

install: node_modules ## Install exactly what the lockfile pins (npm ci)

build: node_modules ## Compile every workspace (tsc -b)
	npm run build

typecheck: node_modules ## Type-check sources and tests
	npm run typecheck

lint: node_modules ## eslint, prettier, layer rules, buf lint
	npm run lint

test: node_modules ## Everything CI runs: typecheck, lint, drift checks, all tests with coverage
	npm test

proto: node_modules ## Regenerate TypeScript from proto/jobprocessing/v1 (buf generate)
	npm run proto

synth: node_modules ## Synthesize charts-out/<env>/ and argocd/
	npm run synth

dev: ## Full local stack in Docker (docker compose); ARGS="--scale worker=3" passes options
	@scripts/dev-docker.sh $(ARGS)

dev-local: node_modules ## Run migrate + api + relay + worker against local Redis/PostgreSQL (no Docker)
	@scripts/dev-local.sh

demo: node_modules ## Submit example jobs to a running dev stack and follow them
	@scripts/demo.sh

bench: build ## Benchmarks: baselines vs the platform (docs/benchmarks.md)
	npm run bench

clean: ## Remove build output
	rm -rf */dist coverage .bench

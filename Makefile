# fma — the two commands that matter: `make run` and `make test` (see README.md).
SHELL := /bin/bash
SWIFT ?= swift
PYTHON ?= python3
BIN := .build/debug
RELEASE_BIN := .build/release

.PHONY: setup build build-release test test-swift test-python test-c test-gpu test-vllm check-generated run proto bench images lint clean

## setup: install the Debian and Python packages the build needs (idempotent)
setup:
	@scripts/setup.sh

## build: debug build of every target
build: setup
	$(SWIFT) build

build-release: setup
	$(SWIFT) build -c release

## test: set up, check generated code, run the C, Python and Swift test suites
test: setup check-generated build test-c test-python test-swift

test-swift:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

test-python: build
	FMA_BIN_DIR=$(abspath $(BIN)) PYTHONPATH=$(abspath python) $(PYTHON) -m pytest -q Tests/python

test-c:
	scripts/test-c.sh

## test-gpu: the GPU-only tests (NVML against nvidia-smi); needs an NVIDIA driver
test-gpu: setup build
	@nvidia-smi -L >/dev/null 2>&1 || { echo "test-gpu: no NVIDIA driver here (nvidia-smi -L failed)"; exit 1; }
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter NVMLGPUTests

## test-vllm: opt-in, never part of `make test`: the launcher's defaults against the real vllm
## from PyPI (a venv in .build/vllm-venv: 4.3 GB downloaded once, about 3 minutes; then about
## 40 s a run) with a tiny model built locally; see scripts/test-vllm.sh
test-vllm: setup build
	scripts/test-vllm.sh

## check-generated: fail when committed generated code differs from what `make proto` makes
check-generated:
	@scripts/check-generated.sh

## proto: regenerate the Swift, C and Python bindings from proto/
proto: setup
	scripts/gen-proto.sh

## run: set up, build and start the one-machine default (fma-devcluster, deploy/ installed there, the examples)
run: setup build
	scripts/run.sh

## images: the container images of deploy/images (podman, else docker; needs a running engine)
IMAGE_TAG ?= 0.1.0
images:
	@engine=$$(command -v podman || command -v docker) || { echo "images: neither podman nor docker is installed"; exit 1; }; \
	for name in controller gpu-inventory launcher; do \
	  echo "images: fma-$$name:$(IMAGE_TAG)"; \
	  "$$engine" build -f deploy/images/$$name.Containerfile -t fma-$$name:$(IMAGE_TAG) . || exit 1; \
	done

## bench: release build, then the benchmarks (never part of `make test`)
bench: setup build-release
	$(RELEASE_BIN)/fma-bench rpc
	$(RELEASE_BIN)/fma-bench launcher
	$(RELEASE_BIN)/fma-bench kube
	$(RELEASE_BIN)/fma-bench kube-cycles
	$(RELEASE_BIN)/fma-bench controller
	$(RELEASE_BIN)/fma-bench scale
	$(RELEASE_BIN)/fma-bench populator

## lint: warnings are errors (Package.swift); also check C and Python sources compile cleanly
lint: setup
	$(SWIFT) build
	scripts/test-c.sh --lint-only
	$(PYTHON) -m py_compile python/fma/*.py python/fma_zygote/*.py python/fma_fakevllm/*.py

clean:
	rm -rf .build build

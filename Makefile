# Berth: `make run` serves a registry on 127.0.0.1:5000; `make test` runs every test.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
export CCACHE_DIR ?= $(HOME)/.cache/ccache

.PHONY: all deps build run test bench clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/berth serve --listen 127.0.0.1:5000 --data ./data

test: build
	ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure

bench: build
	@scripts/install-deps.sh --bench
	bench/run.sh $(BUILD)/berth

clean:
	rm -rf $(BUILD)

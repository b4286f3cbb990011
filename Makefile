# Berth: `make run` serves a registry on 127.0.0.1:5000; `make test` runs every test.
BUILD ?= build
JOBS ?= $(shell nproc)
# The sanitizer run's tests wait on servers and clients more than they compute (about one
# core busy of two at -j2): one more job than cores keeps both busy.
ASAN_TEST_JOBS ?= $(shell echo $$(( $$(nproc) + 1 )))
CMAKE_GEN = -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
FUZZ_SECONDS ?= 60
export CCACHE_DIR ?= $(HOME)/.cache/ccache
# Paths relative to the checkout, so a fresh clone anywhere reuses the cache.
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1

.PHONY: all deps build run test test-asan test-tsan fuzz fuzz-ci bench clean

all: build

deps:
	@scripts/install-deps.sh
	@scripts/install-npm.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) $(CMAKE_GEN)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/berth serve --listen 127.0.0.1:5000 --data ./data

test: build
	ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure

# AddressSanitizer + UndefinedBehaviorSanitizer: unit tests and the HTTP-level e2e tests
# (every e2e test but the real-client one, which spends its time in skopeo/buildah).
test-asan: deps
	cmake -S . -B build-asan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTH_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --test-dir build-asan -j $(ASAN_TEST_JOBS) --output-on-failure -E 'e2e.test_clients'

# ThreadSanitizer over the concurrency-heavy unit tests: metadata store, blob store,
# manifest and credential caches, racing upload appends.
test-tsan: deps
	cmake -S . -B build-tsan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTH_TSAN=ON
	cmake --build build-tsan -j $(JOBS) --target berth_meta_tests berth_storage_tests berth_registry_tests berth_auth_tests
	TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan -j $(JOBS) --output-on-failure \
	  -R '^(Sqlite/|SqliteMetaStore\.|Filesystem/|FsBlobStoreTest\.|ManifestCache\.|CredentialCache\.|RacingAppendsRegression\.|IdentityStoreTest\.Concurrent|UsageRecorderTest\.)'

# libFuzzer targets (clang): every parser that sees outside input. FUZZ_SECONDS per target.
fuzz: deps
	cmake -S . -B build-fuzz $(CMAKE_GEN) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTH_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS) --target fuzzers
	tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

fuzz-ci:
	$(MAKE) fuzz FUZZ_SECONDS=20

bench: build
	@scripts/install-deps.sh --bench
	bench/run.sh $(BUILD)/berth

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz

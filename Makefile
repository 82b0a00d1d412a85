# Vouch: the two commands (`make demo`, `make test`) plus bench, fuzz, format, lint.
# Everything goes through CMake presets; see CMakePresets.json.

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
TESTDATA ?= $(abspath ../shared/testdata)
CMAKE_ARGS := -DVOUCH_TESTDATA=$(TESTDATA)
BENCH ?=
FUZZ_SECONDS ?= 60

.PHONY: all deps build demo test test-dev test-release bench fuzz format format-check lint clean

all: build

deps:
	@scripts/deps.sh

build: deps
	cmake --preset release $(CMAKE_ARGS) >/dev/null
	cmake --build build/release -j$(JOBS)

demo: build
	@scripts/demo.sh build/release $(TESTDATA)

# Tests run twice: gcc with ASan+UBSan (dev preset) and clang hardened (clang
# preset), so both compilers' -Werror and the sanitizers gate every change.
test: deps lint test-dev test-clang

test-dev:
	cmake --preset dev $(CMAKE_ARGS) >/dev/null
	cmake --build build/dev -j$(JOBS)
	ctest --test-dir build/dev --output-on-failure -j$(JOBS)

test-clang:
	cmake --preset clang $(CMAKE_ARGS) >/dev/null
	cmake --build build/clang -j$(JOBS)
	ctest --test-dir build/clang --output-on-failure -j$(JOBS)

bench: build
	@VOUCH_DEPS_BENCH=1 scripts/deps.sh
	@scripts/bench.sh build/release $(TESTDATA) $(BENCH)

fuzz: deps
	cmake --preset fuzz $(CMAKE_ARGS) >/dev/null
	cmake --build build/fuzz -j$(JOBS)
	@scripts/fuzz.sh build/fuzz $(FUZZ_SECONDS)

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

format-check:
	@git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror

lint: format-check
	@scripts/lint-banned.sh

clean:
	rm -rf build

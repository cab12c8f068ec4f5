# Thin wrapper over CMake + Ninja: these targets are what the README documents.
BUILD      ?= build
TEST_BUILD ?= build-test
CC         ?= cc
JOBS       ?= $(shell nproc)

.PHONY: all deps demo test test-clang test-tsan fuzz valgrind check-test-hooks check-layers ci format format-check clean

all: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAE_TESTS=OFF >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@bash scripts/install-deps.sh

# Index a real workspace (this project's own sources) and run searches on it.
demo: all
	@bash scripts/demo.sh $(BUILD)

# Sanitizer build (ASan + UBSan) and every test.
test: deps
	cmake -S . -B $(TEST_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DAE_SANITIZE=ON >/dev/null
	cmake --build $(TEST_BUILD) -j $(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS)

# Warning-free with the other compiler too (-Werror is always on).
test-clang: deps
	CC=clang cmake -S . -B build-clang -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS=-DAE_TESTING=1 >/dev/null
	cmake --build build-clang -j $(JOBS)

# ThreadSanitizer (clang): concurrent searches on one vector store handle
# (tests/unit/test_table_threads.c).  OpenBLAS runs single-threaded here: its
# own threads are not instrumented and would be reported as races.
test-tsan: deps
	CC=clang cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_C_FLAGS="-fsanitize=thread -O1 -DAE_TESTING=1" -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread \
	  -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread >/dev/null
	cmake --build build-tsan -j $(JOBS) --target test_table_threads
	OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS=halt_on_error=1 build-tsan/test_table_threads

# libFuzzer targets for every parser of outside input, FUZZ_SECONDS each.
FUZZ_SECONDS ?= 30
fuzz: deps
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

# The CLI and MCP integration tests against a plain build under valgrind
# memcheck: zero errors and zero definite leaks.
valgrind: all
	bash scripts/valgrind.sh $(BUILD)

# A release library reads no test hook from the environment (docs/TESTING.md).
check-test-hooks: all
	bash scripts/check-test-hooks.sh $(BUILD)

# The include graph between src/ folders: no cycle, every include follows the
# layer order, front ends use only include/aether/ and src/util/ (also a ctest:
# tests/cli/test_layers.sh).  docs/ARCHITECTURE.md explains the layers.
check-layers:
	python3 scripts/check-layers.py

# What CI runs: format and layering, the tests, both compilers, brief fuzzing, valgrind.
ci: format-check check-layers test test-clang
	$(MAKE) fuzz FUZZ_SECONDS=10
	$(MAKE) valgrind
	$(MAKE) check-test-hooks

# Retrieval quality on held-out docstrings (docs/QUALITY.md): builds the corpora,
# indexes them with aetherd, prints MRR@10 / recall per mode and a BM25 baseline.
# Knobs: CORPUS=all|stdlib|js|lodash|three|DIR (DIR: CORPUS_LANG=python|javascript),
# QUERIES=N, SEED=S, SUBSET=a,b/c.py, CONFIG=path/to/config.toml (e.g. Ollama),
# REUSE=1 (keep a corpus built with the same arguments and its index).
CORPUS      ?= all
CORPUS_LANG ?= python
QUERIES     ?= 400
SEED        ?= 16
.PHONY: bench-quality
bench-quality: all
	bash bench/quality/run.sh --build $(BUILD) --corpus $(CORPUS) --lang $(CORPUS_LANG) \
	  --queries $(QUERIES) --seed $(SEED) $(if $(SUBSET),--subset $(SUBSET)) \
	  $(if $(CONFIG),--config $(CONFIG)) $(if $(REUSE),--reuse)

# Install (docs/INSTALL.md): PREFIX (default /usr/local) and DESTDIR as usual;
# `make uninstall` removes what the last install into $(BUILD) wrote
# ($(BUILD)/install_manifest.txt; its paths lack DESTDIR: pass the same DESTDIR).
PREFIX ?= /usr/local
.PHONY: install uninstall
install: all
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD)

uninstall:
	@test -f $(BUILD)/install_manifest.txt || { echo "uninstall: no $(BUILD)/install_manifest.txt (nothing installed from $(BUILD))" >&2; exit 1; }
	@while IFS= read -r f || [ -n "$$f" ]; do \
	  f="$(DESTDIR)$$f"; \
	  if [ -e "$$f" ] || [ -L "$$f" ]; then rm -f "$$f" && echo "removed $$f"; fi; \
	done < $(BUILD)/install_manifest.txt
	@rm -f $(BUILD)/install_manifest.txt

# Debian packages (docs/INSTALL.md): `make deb` builds aether, libaether0 and
# libaether-dev into build-deb/ and runs lintian (errors fail); `make deb-check`
# also installs them into this machine, runs them and removes them (root).
.PHONY: deb deb-check
deb:
	bash scripts/build-deb.sh build-deb

deb-check:
	bash scripts/check-deb.sh build-deb

# The README's two commands, and nothing else, in a fresh Debian 12 chroot
# (debootstrap --variant=minbase bookworm; root; docs/INSTALL.md).
.PHONY: check-fresh-debian
check-fresh-debian:
	bash scripts/check-fresh-debian.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h' ':!tests/fixtures')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h' ':!tests/fixtures')

clean:
	rm -rf $(BUILD) $(TEST_BUILD) build-clang build-tsan

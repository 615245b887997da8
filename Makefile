# mfmc build. `make demo` and `make test` are the two entry points of the README; both run the idempotent setup.
# Variants: build/rel (optimised) and build/asan (AddressSanitizer + UndefinedBehaviorSanitizer).
#
# The entry points (demo, test, bench) run $(SETUP) first and then build in a sub-make: on a fresh machine the
# -dev packages, and so their pkg-config flags, only exist once setup has run. The flags are also evaluated late
# (when the first recipe needs them, once), never while this file is read; tests/e2e/makefile-setup.sh checks it.

BUILD    ?= build
CC       ?= cc
MODELS   ?= $(if $(MFMC_MODELS),$(MFMC_MODELS),$(CURDIR)/models)
export MFMC_MODELS := $(MODELS)

SETUP    ?= tools/setup.sh

# Each program links what it uses: libmfmc (and its tests, benchmarks, evaluations) the image and model-file
# libraries; the programs of apps/ also libsodium (model checksums).
PKGS     := libcjson libjpeg libpng libwebp
APP_PKGS := libsodium
# Deferred and memoised: the first use runs pkg-config and replaces the variable by its result.
# (PKG-CONFIG-OK marks success: libsodium has no --cflags, so an empty answer is not a failure.)
pkg_config = $(shell pkg-config $(1) 2>/dev/null && echo PKG-CONFIG-OK || echo PKG-CONFIG-FAILED)
pkg_checked = $(if $(filter PKG-CONFIG-OK,$(1)),$(filter-out PKG-CONFIG-OK,$(1)),$(error pkg-config does not find \
              $(2): run `make setup` (`make demo` and `make test` run it)))
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(call pkg_checked,$$(call pkg_config,--cflags $(PKGS)),$(PKGS)))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $$(call pkg_checked,$$(call pkg_config,--libs $(PKGS)),$(PKGS)))$(PKG_LIBS)
APP_PKG_CFLAGS = $(eval APP_PKG_CFLAGS := $$(call pkg_checked,$$(call pkg_config,--cflags $(APP_PKGS)),$(APP_PKGS)))$(APP_PKG_CFLAGS)
APP_PKG_LIBS   = $(eval APP_PKG_LIBS := $$(call pkg_checked,$$(call pkg_config,--libs $(APP_PKGS)),$(APP_PKGS)))$(APP_PKG_LIBS)

WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla
CPPFLAGS  = -D_DEFAULT_SOURCE -Iinclude -Isrc $(PKG_CFLAGS)
LDLIBS    = $(PKG_LIBS) -lpthread -lm
# the programs of apps/: their shared layer (apps/common: JSON, options, models root, checksums) and libsodium
APP_CPPFLAGS = -Iapps $(APP_PKG_CFLAGS)
APP_LDLIBS   = $(APP_PKG_LIBS)
# *_avx2.c files hold x86 kernels (behind #if on other CPUs, where they only satisfy the linker): the flags only
# exist for x86 compilers.
ifneq ($(filter x86_64 i386 i686 amd64,$(shell $(CC) -dumpmachine | cut -d- -f1)),)
AVX2_FLAGS := -mavx2 -mfma -mf16c
else
AVX2_FLAGS :=
endif

REL_FLAGS  := -O2 -g -fno-strict-aliasing
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRC  := $(sort $(wildcard src/core/*.c src/nn/*.c src/image/*.c src/face/*.c src/render/*.c src/anon/*.c))
APP_COMMON_SRC := $(sort $(wildcard apps/common/*.c))
APP_COMMON_HDR := $(wildcard apps/common/*.h)
CLI_SRC  := $(sort $(wildcard apps/cli/*.c))
CLI_HDR  := $(wildcard apps/cli/*.h)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_LIB := $(sort $(wildcard tests/lib/*.c))
# bench/: speed only; eval/: accuracy on the shared data set, with its own helpers (eval/lib)
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
EVAL_SRC := $(sort $(wildcard eval/eval_*.c))
EVAL_LIB := $(sort $(wildcard eval/lib/*.c))
EVALS    := $(patsubst eval/%.c,$(BUILD)/rel/eval/%,$(EVAL_SRC))
# mfmc-eval (`mfmc eval`, docs/evaluation.md): eval/cmd over eval/lib; its cache key holds the anonymizer's revision
EVAL_CMD_SRC := $(sort $(wildcard eval/cmd/*.c))
EVAL_CMD_HDR := $(wildcard eval/cmd/*.h eval/lib/*.h)
# (and the revision of what measures: analysis, recognizers, engine, image code, their headers and the eval code)
ANON_REV = $(shell git log -1 --format=%h -- src/anon src/render data/identity include/mfmc/anon.h 2>/dev/null)$(shell \
           git status --porcelain -- src/anon src/render data/identity include/mfmc/anon.h 2>/dev/null | grep -q . && echo +dirty)
FACE_REV = $(shell git log -1 --format=%h -- src/face src/nn src/image src/core include eval/lib eval/cmd/work.c eval/cmd/evalrun.h 2>/dev/null)$(shell \
           git status --porcelain -- src/face src/nn src/image src/core include eval/lib eval/cmd/work.c eval/cmd/evalrun.h 2>/dev/null | grep -q . && echo +dirty)
# debugging aids of tools/ built with every test run so they keep compiling (tools/mesh-viz.c)
TOOLS    := $(BUILD)/rel/tools/mesh-viz $(BUILD)/rel/tools/train_lbp
# helpers of the end-to-end tests (tests/e2e), e.g. the face-grid crowd maker
TEST_TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/rel/tools/%,$(sort $(wildcard tests/tools/*.c)))

.PHONY: all setup demo demo-run test test-run bench bench-run eval fuzz clean format golden

all: $(BUILD)/rel/mfmc $(BUILD)/rel/mfmc-serve $(BUILD)/rel/mfmc-eval

# One set of rules per variant: $(1) = name, $(2) = flags.
define VARIANT
$(1)_OBJ := $(patsubst src/%.c,$(BUILD)/$(1)/obj/%.o,$(LIB_SRC))
$(1)_TESTS := $(patsubst tests/%.c,$(BUILD)/$(1)/tests/%,$(TEST_SRC))
$(BUILD)/$(1)/obj/%.o: src/%.c
	@mkdir -p $$(@D)
	$$(CC) $(WARN) $(2) $$(CPPFLAGS) $$(if $$(findstring _avx2,$$<),$(AVX2_FLAGS)) -MMD -MP -c $$< -o $$@
$(BUILD)/$(1)/libmfmc.a: $$($(1)_OBJ)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
$(BUILD)/$(1)/mfmc: $(CLI_SRC) $(CLI_HDR) $(APP_COMMON_SRC) $(APP_COMMON_HDR) $(BUILD)/$(1)/libmfmc.a
	$$(CC) $(WARN) $(2) $$(CPPFLAGS) $$(APP_CPPFLAGS) $(CLI_SRC) $(APP_COMMON_SRC) -o $$@ $(BUILD)/$(1)/libmfmc.a \
	    $$(APP_LDLIBS) $$(LDLIBS)
$(BUILD)/$(1)/tests/%: tests/%.c $(TEST_LIB) $(BUILD)/$(1)/libmfmc.a
	@mkdir -p $$(@D)
	$$(CC) $(WARN) $(2) $$(CPPFLAGS) -Itests $$< $(TEST_LIB) -o $$@ $(BUILD)/$(1)/libmfmc.a $$(LDLIBS) -lcmocka
-include $$($(1)_OBJ:.o=.d)
endef
$(eval $(call VARIANT,rel,$(REL_FLAGS)))
$(eval $(call VARIANT,asan,$(ASAN_FLAGS)))

# Server (issue 12, `mfmc serve`): mfmc-serve, exec'd by `mfmc serve`, and its tests are the only programs that
# link libmicrohttpd, SQLite and libpq (flags evaluated late and once, like PKG_CFLAGS).
SRV_PKGS := libmicrohttpd sqlite3 libpq
SRV_CFLAGS = $(eval SRV_CFLAGS := $$(call pkg_checked,$$(call pkg_config,--cflags $(SRV_PKGS)),$(SRV_PKGS)))$(SRV_CFLAGS)
SRV_LIBS   = $(eval SRV_LIBS := $$(call pkg_checked,$$(call pkg_config,--libs $(SRV_PKGS)),$(SRV_PKGS)))$(SRV_LIBS)
STORE_SRC := $(sort $(wildcard src/store/*.c))
SRV_SRC   := $(sort $(wildcard apps/server/*.c))
SRV_HDR   := $(wildcard apps/server/*.h src/store/*.h) include/mfmc/store.h docs/openapi.yaml
SRV_TEST_SRC := $(sort $(wildcard tests/server/test_*.c))
define SERVER_VARIANT
$(1)_SRV_TESTS := $(patsubst tests/server/%.c,$(BUILD)/$(1)/tests/%,$(SRV_TEST_SRC))
$(BUILD)/$(1)/mfmc-serve: $(SRV_SRC) $(STORE_SRC) $(SRV_HDR) $(BUILD)/$(1)/libmfmc.a
	$$(CC) $(WARN) $(2) $$(CPPFLAGS) $$(APP_CPPFLAGS) $$(SRV_CFLAGS) $(SRV_SRC) $(STORE_SRC) -o $$@ $(BUILD)/$(1)/libmfmc.a \
	  $$(SRV_LIBS) $$(APP_LDLIBS) $$(LDLIBS)
$$($(1)_SRV_TESTS): $(BUILD)/$(1)/tests/%: tests/server/%.c $(STORE_SRC) $(SRV_HDR) $(BUILD)/$(1)/libmfmc.a
	@mkdir -p $$(@D)
	$$(CC) $(WARN) $(2) $$(CPPFLAGS) $$(APP_CPPFLAGS) $$(SRV_CFLAGS) $$< $(STORE_SRC) -o $$@ $(BUILD)/$(1)/libmfmc.a \
	  $$(SRV_LIBS) $$(APP_LDLIBS) $$(LDLIBS) -lcmocka
endef
$(eval $(call SERVER_VARIANT,rel,$(REL_FLAGS)))
$(eval $(call SERVER_VARIANT,asan,$(ASAN_FLAGS)))

# Benchmarks share the test helpers (paths of models and data, sorted directory listings).
$(BUILD)/rel/bench/%: bench/%.c $(TEST_LIB) $(BUILD)/rel/libmfmc.a
	@mkdir -p $(@D)
	$(CC) $(WARN) $(REL_FLAGS) $(CPPFLAGS) -Itests $< $(TEST_LIB) -o $@ $(BUILD)/rel/libmfmc.a $(LDLIBS)

# Accuracy evaluations (docs/accuracy.md): built by `make eval` and `make test`, run by hand (they need the data).
$(BUILD)/rel/eval/%: eval/%.c $(EVAL_LIB) $(wildcard eval/lib/*.h) $(TEST_LIB) $(BUILD)/rel/libmfmc.a
	@mkdir -p $(@D)
	$(CC) $(WARN) $(REL_FLAGS) $(CPPFLAGS) -Ieval/lib -Itests $< $(EVAL_LIB) $(TEST_LIB) -o $@ $(BUILD)/rel/libmfmc.a \
	    $(LDLIBS)

$(BUILD)/rel/mfmc-eval: $(EVAL_CMD_SRC) $(EVAL_CMD_HDR) $(EVAL_LIB) $(TEST_LIB) $(BUILD)/rel/libmfmc.a
	$(CC) $(WARN) $(REL_FLAGS) $(CPPFLAGS) -DMFMC_ANON_REV='"$(ANON_REV)"' \
	    -DMFMC_FACE_REV='"$(FACE_REV)"' -Ieval/cmd -Ieval/lib -Ieval -Itests \
	    $(EVAL_CMD_SRC) $(EVAL_LIB) $(TEST_LIB) -o $@ $(BUILD)/rel/libmfmc.a $(LDLIBS)

# tools/mesh-viz.c includes src/face/mesh.c to reach its internals (see its header)
$(BUILD)/rel/tools/mesh-viz: tools/mesh-viz.c src/face/mesh.c $(BUILD)/rel/libmfmc.a
	@mkdir -p $(@D)
	$(CC) $(WARN) $(REL_FLAGS) $(CPPFLAGS) $< -o $@ $(BUILD)/rel/libmfmc.a $(LDLIBS)

# tools/train_lbp.c: trains the classical recognizer lbp on the shared data (writes src/face/lbp_weights.c)
$(BUILD)/rel/tools/train_lbp: tools/train_lbp.c $(TEST_LIB) $(BUILD)/rel/libmfmc.a
	@mkdir -p $(@D)
	$(CC) $(WARN) $(REL_FLAGS) $(CPPFLAGS) -Itests $< $(TEST_LIB) -o $@ $(BUILD)/rel/libmfmc.a $(LDLIBS)

# privacy-set's profile family ranks LFW photos with an independent judge of yaw (eval/lib/judges.c)
$(BUILD)/rel/tools/privacy-set: tests/tools/privacy-set.c tests/tools/privacy-set-common.h eval/lib/judges.c \
    eval/lib/judges.h $(BUILD)/rel/libmfmc.a
	@mkdir -p $(@D)
	$(CC) $(WARN) $(REL_FLAGS) $(CPPFLAGS) -Ieval/lib $< eval/lib/judges.c -o $@ $(BUILD)/rel/libmfmc.a $(LDLIBS)

$(BUILD)/rel/tools/%: tests/tools/%.c tests/tools/tool-args.h $(BUILD)/rel/libmfmc.a
	@mkdir -p $(@D)
	$(CC) $(WARN) $(REL_FLAGS) $(CPPFLAGS) $< -o $@ $(BUILD)/rel/libmfmc.a $(LDLIBS)

setup:
	@$(SETUP)

# Golden outputs of the reference runtimes (TF.js-wasm, onnxruntime), regenerated when the tools change.
golden: setup
	@tools/golden/make-golden.sh $(BUILD)/golden

# Entry points: setup, then a sub-make that reads pkg-config's answers after it.
demo: setup
	@$(MAKE) --no-print-directory demo-run
demo-run: $(BUILD)/rel/mfmc
	$(BUILD)/rel/mfmc demo
	@mkdir -p out/demo
	$(BUILD)/rel/mfmc anonymize $(MODELS)/demo/sample1.jpg -o out/demo/sample1-anonymized.jpg --side-by-side out/demo/sample1-side-by-side.jpg --report out/demo/sample1-report.json --summary

test: setup
	@$(MAKE) --no-print-directory test-run
test-run: $(rel_TESTS) $(asan_TESTS) $(BUILD)/rel/mfmc $(BUILD)/asan/mfmc $(TEST_TOOLS) $(TOOLS) $(EVALS) golden \
          $(BUILD)/rel/mfmc-eval \
          $(BUILD)/rel/mfmc-serve $(asan_SRV_TESTS)
	@BUILD=$(BUILD) tools/run-tests.sh

bench: setup
	@$(MAKE) --no-print-directory bench-run
bench-run: $(patsubst bench/%.c,$(BUILD)/rel/bench/%,$(BENCH_SRC))
	@BUILD=$(BUILD) tools/run-bench.sh

eval: $(EVALS) $(BUILD)/rel/mfmc-eval

fuzz:
	@BUILD=$(BUILD) tools/run-fuzz.sh $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

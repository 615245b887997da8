# mfmc build. `make demo` and `make test` are the two entry points of the README; both run the idempotent setup.
# Variants: build/rel (optimised) and build/asan (AddressSanitizer + UndefinedBehaviorSanitizer).

BUILD    ?= build
CC       ?= cc
MODELS   ?= $(if $(MFMC_MODELS),$(MFMC_MODELS),$(CURDIR)/models)
export MFMC_MODELS := $(MODELS)

PKGS     := libcjson libjpeg libpng libwebp libsodium
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla
CPPFLAGS := -D_DEFAULT_SOURCE -Iinclude -Isrc $(PKG_CFLAGS)
LDLIBS   := $(PKG_LIBS) -lpthread -lm
# *_avx2.c files hold x86 kernels (behind #if on other CPUs, where they only satisfy the linker): the flags only
# exist for x86 compilers.
ifneq ($(filter x86_64 i386 i686 amd64,$(shell $(CC) -dumpmachine | cut -d- -f1)),)
AVX2_FLAGS := -mavx2 -mfma -mf16c
else
AVX2_FLAGS :=
endif

REL_FLAGS  := -O2 -g -fno-strict-aliasing
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRC  := $(sort $(wildcard src/core/*.c src/nn/*.c src/image/*.c src/face/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_LIB := $(sort $(wildcard tests/lib/*.c))
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))

.PHONY: all setup demo test bench fuzz clean format golden

all: $(BUILD)/rel/mfmc

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
$(BUILD)/$(1)/mfmc: $(CLI_SRC) $(BUILD)/$(1)/libmfmc.a
	$$(CC) $(WARN) $(2) $$(CPPFLAGS) $(CLI_SRC) -o $$@ $(BUILD)/$(1)/libmfmc.a $$(LDLIBS)
$(BUILD)/$(1)/tests/%: tests/%.c $(TEST_LIB) $(BUILD)/$(1)/libmfmc.a
	@mkdir -p $$(@D)
	$$(CC) $(WARN) $(2) $$(CPPFLAGS) -Itests $$< $(TEST_LIB) -o $$@ $(BUILD)/$(1)/libmfmc.a $$(LDLIBS) -lcmocka
-include $$($(1)_OBJ:.o=.d)
endef
$(eval $(call VARIANT,rel,$(REL_FLAGS)))
$(eval $(call VARIANT,asan,$(ASAN_FLAGS)))

# Benchmarks share the test helpers (paths of models and data, sorted directory listings).
$(BUILD)/rel/bench/%: bench/%.c $(TEST_LIB) $(BUILD)/rel/libmfmc.a
	@mkdir -p $(@D)
	$(CC) $(WARN) $(REL_FLAGS) $(CPPFLAGS) -Itests $< $(TEST_LIB) -o $@ $(BUILD)/rel/libmfmc.a $(LDLIBS)

setup:
	@tools/setup.sh

# Golden outputs of the reference runtimes (TF.js-wasm, onnxruntime), regenerated when the tools change.
golden: setup
	@tools/golden/make-golden.sh $(BUILD)/golden

demo: setup $(BUILD)/rel/mfmc
	$(BUILD)/rel/mfmc demo

test: setup $(rel_TESTS) $(asan_TESTS) $(BUILD)/rel/mfmc $(BUILD)/asan/mfmc golden
	@BUILD=$(BUILD) tools/run-tests.sh

bench: setup $(patsubst bench/%.c,$(BUILD)/rel/bench/%,$(BENCH_SRC))
	@BUILD=$(BUILD) tools/run-bench.sh

fuzz:
	@BUILD=$(BUILD) tools/run-fuzz.sh $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

# Fuzzing (docs/fuzzing.md). Included by the top-level Makefile; reuses its
# STACK_SRC, SIM_SRC, PLATFORM_SRC, CPPFLAGS, WARN and LDLIBS, and compiles
# everything again with its own compiler and flags per engine, into
# build/fuzz/<engine>/ — the normal build is untouched.
#
#   make fuzz TARGET=wire ENGINE=libfuzzer SECONDS=60   one headless campaign
#   make fuzz-build [ENGINE=afl]      every target for one engine (default: all)
#   make fuzz-corpus                  regenerate fuzz/corpus/ from simulator runs
#   make fuzz-smoke                   what `make test` runs: replay + short campaigns
#   make fuzz-bench                   execs/s per target and engine
#   make fuzz-long [SECONDS=1800] [TARGETS=wire,stack,faults,check,runlog,http]
#                                     AFL++ ASan+UBSan, every core on one
#                                     target, targets one after another;
#                                     findings -> fuzz/regressions/TARGET/
#
# Engines:
#   libfuzzer  clang-14 -fsanitize=fuzzer,address,undefined
#   afl        afl-clang-fast (AFL_CC overrides the compiler), persistent
#              mode, ASan+UBSan
#   afl-plain  the same without sanitizers: faster, finds only aborts
#              (assertions, properties) and plain segfaults
#   replay     a main() that runs files through the target under
#              ASan+UBSan (regressions, corpus replay)

FUZZ_TARGETS := wire stack faults check runlog http
FUZZ_ENGINES := libfuzzer afl afl-plain replay
FUZZ_DIR := build/fuzz
TARGET ?= wire
ENGINE ?= libfuzzer
SECONDS ?= 60

FUZZ_LIB_SRC := $(STACK_SRC) $(SIM_SRC) $(PLATFORM_SRC)
FUZZ_CFLAGS := -std=c11 $(WARN) -D_POSIX_C_SOURCE=200809L -DTB_TESTING -g -fno-omit-frame-pointer
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all

CLANG ?= clang-14
AFL_CC ?= afl-clang-fast

FUZZ_CC_libfuzzer := $(CLANG)
FUZZ_FLAGS_libfuzzer := -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_LDFLAGS_libfuzzer := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

FUZZ_CC_afl := $(AFL_CC)
FUZZ_FLAGS_afl := -O2 $(FUZZ_SAN)
FUZZ_LDFLAGS_afl := $(FUZZ_FLAGS_afl)

FUZZ_CC_afl-plain := $(AFL_CC)
FUZZ_FLAGS_afl-plain := -O2
FUZZ_LDFLAGS_afl-plain := $(FUZZ_FLAGS_afl-plain)

FUZZ_CC_replay := $(CLANG)
FUZZ_FLAGS_replay := -O1 $(FUZZ_SAN)
FUZZ_LDFLAGS_replay := $(FUZZ_FLAGS_replay)

fuzz_obj = $(patsubst %.c,$(FUZZ_DIR)/$(1)/obj/%.o,$(2))

define FUZZ_ENGINE_RULES
$(FUZZ_DIR)/$(1)/obj/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC_$(1)) $$(CPPFLAGS) $$(call internal_inc,$$<) $$(FUZZ_CFLAGS) $$(FUZZ_FLAGS_$(1)) -MMD -MP -c $$< -o $$@

$(FUZZ_DIR)/$(1)/libfuzzlib.a: $(call fuzz_obj,$(1),$(FUZZ_LIB_SRC))
	@rm -f $$@
	ar rcs $$@ $$^

$(addprefix $(FUZZ_DIR)/$(1)/,$(FUZZ_TARGETS)): $(FUZZ_DIR)/$(1)/%: $(FUZZ_DIR)/$(1)/obj/fuzz/fuzz_%.o \
		$(FUZZ_DIR)/$(1)/obj/fuzz/engine_$(patsubst afl-plain,afl,$(1)).o $(FUZZ_DIR)/$(1)/libfuzzlib.a
	$$(FUZZ_CC_$(1)) $$(FUZZ_LDFLAGS_$(1)) -o $$@ $$^ $$(LDLIBS)

fuzz-build-$(1): $(addprefix $(FUZZ_DIR)/$(1)/,$(FUZZ_TARGETS))
endef
$(foreach e,$(FUZZ_ENGINES),$(eval $(call FUZZ_ENGINE_RULES,$(e))))

# The corpus generator: an ordinary build (gcc, the normal flags).
$(FUZZ_DIR)/gen_corpus: $(BUILD)/obj/fuzz/gen_corpus.o $(PLATFORM_OBJ) $(BUILD)/libtbsim.a $(BUILD)/libtcpbed.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: fuzz fuzz-build fuzz-corpus fuzz-smoke fuzz-bench fuzz-long deps-fuzz $(addprefix fuzz-build-,$(FUZZ_ENGINES))

deps-fuzz:
	@bash harness/deps.sh fuzz

fuzz-build: $(if $(filter command line,$(origin ENGINE)),fuzz-build-$(ENGINE),$(addprefix fuzz-build-,$(FUZZ_ENGINES)))

fuzz: deps-fuzz
	@bash fuzz/run.sh "$(TARGET)" "$(ENGINE)" "$(SECONDS)"

fuzz-corpus: $(FUZZ_DIR)/gen_corpus $(BUILD)/tcpbed
	@bash fuzz/gen_corpus.sh

fuzz-smoke:
	@bash fuzz/smoke.sh

fuzz-bench:
	@bash fuzz/bench.sh

# SECONDS per target (1800 unless given); TARGETS: a space or comma list.
FUZZ_LONG_SECONDS = $(if $(filter-out file default undefined,$(origin SECONDS)),$(SECONDS),1800)
TARGETS ?= $(FUZZ_TARGETS)
fuzz-long: deps-fuzz
	@bash fuzz/long.sh "$(FUZZ_LONG_SECONDS)" $(subst $(comma), ,$(TARGETS))
comma := ,

-include $(shell find $(FUZZ_DIR) -name '*.d' 2>/dev/null)

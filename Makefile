# tcpbed build. `make demo` and `make test` are the two commands a new
# machine needs: both install missing Debian packages first (harness/deps.sh).
#
#   make            build build/libtcpbed.a, build/tcpbed and the tests
#   make demo       build and run the default simulation, write build/demo.pcap
#   make test       unit tests (plain and ASan+UBSan), CLI tests, purity checks
#   make bench      the figures in BENCHMARKS.md, with the commands behind them
#   make SAN=1 ...  the same targets in build/asan with ASan+UBSan

CC ?= cc
SAN ?=
BUILD ?= build
WARN := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes -Wvla -Wformat=2
CFLAGS_BASE := -std=c11 $(WARN) -D_POSIX_C_SOURCE=200809L
# Every room includes the core through its public headers (stack/include);
# only stack/ itself, and the white-box tests named here, see the core's
# internals (tests/check_arrows.sh holds the whole graph).
CPPFLAGS := -Istack/include -I.
WHITEBOX_SRC := tests/unit/test_cc.c tests/unit/test_util.c tests/unit/test_ipfrag.c tests/bench/bench_memory.c
internal_inc = $(if $(filter stack/% $(WHITEBOX_SRC),$(1)),-Istack)
OPT := -O2 -g

ifeq ($(SAN),1)
BUILD := build/asan
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
CPPFLAGS += -DTB_TESTING
endif

CFLAGS := $(CFLAGS_BASE) $(OPT) $(EXTRA_CFLAGS)
LDFLAGS := $(OPT)
LDLIBS := -lpcap -linih -ljansson -lcrypto -lm

STACK_SRC := $(sort $(wildcard stack/*/*.c))
# The rooms around the core (docs/ARCHITECTURE.md), all in libtbsim.a: the
# host loop, the applications, the scripted peer, the fuzz inputs, the
# harness's small data structures, the script checker, the packetdrill
# plug-in, the TAP port, the real-time wire, run-log replay, the simulator and the traces.
HARNESS_ROOMS := host apps peer fuzzin lib check packetdrill tap wire replay
HARNESS_SRC := $(sort $(foreach r,$(HARNESS_ROOMS),$(wildcard harness/$(r)/*.c)))
SIM_SRC := $(sort $(HARNESS_SRC) $(wildcard sim/*.c) $(wildcard traces/*.c))
CLI_SRC := $(sort $(wildcard harness/cli/*.c))
PLATFORM_SRC := harness/platform.c
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_HELPER_SRC := $(sort $(filter-out tests/unit/test_%.c,$(wildcard tests/unit/*.c)))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
STACK_OBJ := $(call obj,$(STACK_SRC))
SIM_OBJ := $(call obj,$(SIM_SRC))
CLI_OBJ := $(call obj,$(CLI_SRC))
PLATFORM_OBJ := $(call obj,$(PLATFORM_SRC))
TEST_HELPER_OBJ := $(call obj,$(TEST_HELPER_SRC))
CLI_LIB_OBJ := $(filter-out %/main.o,$(CLI_OBJ))
TEST_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))

# The packetdrill plug-in (docs/packetdrill.md): the core, the host loop and
# the plug-in in one shared object, compiled again as position-independent
# code under $(BUILD)/obj/pic (libtcpbed.a and libtbsim.a stay as they are).
# It exports packetdrill_interface_init and nothing else.
PD_SO := $(BUILD)/libtcpbed-packetdrill.so
PD_SO_SRC := $(STACK_SRC) harness/host/host.c harness/lib/timeq.c harness/check/profile.c harness/check/linux.c \
	$(sort $(wildcard harness/packetdrill/*.c)) $(PLATFORM_SRC)
PD_SO_OBJ := $(patsubst %.c,$(BUILD)/obj/pic/%.o,$(PD_SO_SRC))
PD_LOADER := $(BUILD)/tests/so_loader

.PHONY: all build tests demo test bench clean deps-build deps-test deps-demo
.DEFAULT_GOAL := all
.SECONDARY:

all: build tests
build: $(BUILD)/libtcpbed.a $(BUILD)/tcpbed $(PD_SO)
tests: $(TEST_BIN) $(PD_LOADER)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(call internal_inc,$<) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(call internal_inc,$<) $(CFLAGS) -fPIC -pthread -MMD -MP -c $< -o $@

$(PD_SO): $(PD_SO_OBJ) harness/packetdrill/exports.map
	$(CC) $(LDFLAGS) -shared -fPIC -pthread -Wl,--version-script=harness/packetdrill/exports.map -Wl,-z,defs \
		-o $@ $(PD_SO_OBJ)

# Our stand-in for packetdrill: dlopen()s the plug-in and drives it as
# packetdrill would (tests/packetdrill/so_loader.c); it links nothing of tcpbed.
$(PD_LOADER): tests/packetdrill/so_loader.c harness/packetdrill/packetdrill_so.h
	@mkdir -p $(dir $@) $(BUILD)/obj/tests
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -MF $(BUILD)/obj/tests/so_loader.d -o $@ $< $(LDFLAGS) -pthread -ldl

$(BUILD)/libtcpbed.a: $(STACK_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libtbsim.a: $(SIM_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tcpbed: $(CLI_OBJ) $(PLATFORM_OBJ) $(BUILD)/libtbsim.a $(BUILD)/libtcpbed.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TEST_HELPER_OBJ) $(CLI_LIB_OBJ) $(PLATFORM_OBJ) $(BUILD)/libtbsim.a $(BUILD)/libtcpbed.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

# ---- set-up, demo, tests ---------------------------------------------------
deps-build deps-test deps-demo: deps-%:
	@bash harness/deps.sh $*

demo: deps-demo
	@$(MAKE) --no-print-directory build
	@bash harness/demo.sh $(BUILD)/tcpbed

test: deps-test
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory SAN=1 all
	@bash tests/run.sh

$(BUILD)/bench_memory: $(BUILD)/obj/tests/bench/bench_memory.o $(PLATFORM_OBJ) $(BUILD)/libtcpbed.a
	$(CC) $(LDFLAGS) -o $@ $^

# The kernel-side request/response client of the TAP benchmark (kernel sockets only).
$(BUILD)/tb_rr: tests/bench/tb_rr.c
	$(CC) $(CFLAGS) -o $@ $<

bench: deps-test
	@$(MAKE) --no-print-directory build $(BUILD)/bench_memory $(BUILD)/tb_rr
	@bash tests/bench/run.sh

clean:
	rm -rf build

# Fuzzing targets (make fuzz TARGET=... ENGINE=... SECONDS=...) live with them.
-include fuzz/fuzz.mk

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

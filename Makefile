# oplogd: one static library built from the layers (core/ wire/ store/
# gen/ render/ intake/ consumer/, lowest first; docs/DESIGN.md draws them),
# the oplogd binary (cli/), Check unit tests (tests/unit/check_*.c), system
# tests (tests/system/*.sh) and benchmarks (bench/bench_*.c, and
# bench/bench_apply.sh for the applier against a real broker). Every program
# links build/liboplog.a.

CC     ?= cc
OPT    ?= -O2 -g
PREFIX ?= /usr/local
BUILD  ?= build
SAN    ?=

PKGS    = lmdb rdkafka msgpack libcrypto jansson libmicrohttpd libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -llmdb -lrdkafka -lmsgpackc -lcrypto -ljansson -lmicrohttpd -lsystemd)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

CFLAGS  ?= $(OPT)
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-Wall -Wextra -Werror -Iinclude -MMD -MP $(SAN) $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS ?=
ALL_LDFLAGS = $(SAN) $(LDFLAGS)
LIBS    = $(PKG_LIBS) -lpthread

LIB_SRC   = $(wildcard core/*.c wire/*.c store/*.c gen/*.c render/*.c intake/*.c consumer/*.c)
CLI_SRC   = $(wildcard cli/*.c)
TEST_SRC  = $(wildcard tests/unit/check_*.c)
TEST_UTIL = $(wildcard tests/unit/util_*.c)
# A suite split by area: the files of a module folder tests/unit/<mod>/ link
# into check_<mod> (tests/unit/store/ into check_store).
BENCH_SRC = $(wildcard bench/bench_*.c)
# Fuzz targets: fuzz/fuzz_<name>.c, each over one entry point and linking
# only the layers it names in FUZZ_LAYERS_<name>. make fuzz builds them for
# libFuzzer in build-fuzz/; every build has their replay_<name> drivers
# (fuzz/replay.c), which make test runs over the seed corpus.
FUZZ_SRC   = $(wildcard fuzz/fuzz_*.c)
FUZZ_NAMES = $(FUZZ_SRC:fuzz/fuzz_%.c=%)
FUZZ_LAYERS_decode = core wire
FUZZ_LAYERS_frame  = core wire
FUZZ_LAYERS_ini    = core
# What each layer links beyond its objects.
LAYER_LIBS_core = $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson) -lpthread
LAYER_LIBS_wire = $(shell pkg-config --libs msgpack libcrypto 2>/dev/null || echo -lmsgpackc -lcrypto)
FUZZ_SECS ?= 60
FUZZ_CC   ?= clang

LIB_OBJ   = $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   = $(CLI_SRC:%.c=$(BUILD)/%.o)
UTIL_OBJ  = $(TEST_UTIL:%.c=$(BUILD)/%.o)
TEST_BIN  = $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_BIN = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
FUZZ_BIN   = $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
REPLAY_BIN = $(FUZZ_NAMES:%=$(BUILD)/fuzz/replay_%)
LIB       = $(BUILD)/liboplog.a
BIN       = $(BUILD)/oplogd

.PHONY: all deps test layers unit system asan fuzz bench demo install clean
# Test objects are built through a pattern chain; keep them rather than
# delete them as intermediates after every link.
.SECONDARY:
all: $(BIN) $(TEST_BIN) $(BENCH_BIN) $(REPLAY_BIN)

deps:
	@sh scripts/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LIBS)

# Test sources include their helpers' headers as "util_store.h" from any
# folder under tests/unit.
$(BUILD)/tests/unit/%.o: ALL_CFLAGS += -Itests/unit

# The area objects of suite $(1) (check_$(1)), none for an unsplit suite.
test_mod_obj = $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/unit/$(1)/*.c))
$(foreach t,$(TEST_SRC:tests/unit/check_%.c=%),\
	$(eval $(BUILD)/tests/check_$(t): $(call test_mod_obj,$(t))))

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(UTIL_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(CHECK_LIBS) $(LIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS) -lm

# The objects of fuzz target $(1)'s layers.
fuzz_layer_obj = $(patsubst %.c,$(BUILD)/%.o,$(foreach l,$(FUZZ_LAYERS_$(1)),$(wildcard $(l)/*.c)))
$(foreach t,$(FUZZ_NAMES),\
	$(eval $(BUILD)/fuzz/fuzz_$(t) $(BUILD)/fuzz/replay_$(t): $(call fuzz_layer_obj,$(t))))

$(REPLAY_BIN): $(BUILD)/fuzz/replay_%: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/fuzz/replay.o
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(foreach l,$(FUZZ_LAYERS_$*),$(LAYER_LIBS_$(l)))

$(FUZZ_BIN): $(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/fuzz_%.o
	$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $(filter %.o,$^) \
		$(foreach l,$(FUZZ_LAYERS_$*),$(LAYER_LIBS_$(l)))

# The full suite: the layer check, unit tests, then the black-box scripts
# against the binary.
test: deps
	@$(MAKE) --no-print-directory layers all
	@$(MAKE) --no-print-directory unit system

# Each folder includes only the layers below it (scripts/check-layers.sh).
layers:
	@sh scripts/check-layers.sh

unit: $(TEST_BIN)
	@sh scripts/run-unit.sh $(TEST_BIN)

system: $(BIN)
	@OPLOGD=$(abspath $(BIN)) FUZZ_REPLAY=$(abspath $(BUILD))/fuzz sh scripts/run-system.sh

# Unit tests under AddressSanitizer and UndefinedBehaviorSanitizer.
asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" unit

# Each fuzz target under libFuzzer, ASan and UBSan (clang) for FUZZ_SECS
# seconds, from a seed corpus made by gen; fails if any finds a crash, a
# leak or undefined behaviour. scripts/run-fuzz.sh says where things go.
fuzz: deps
	@$(MAKE) --no-print-directory $(BIN)
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=$(FUZZ_CC) OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
		$(FUZZ_NAMES:%=build-fuzz/fuzz/fuzz_%)
	@sh scripts/run-fuzz.sh $(BIN) build-fuzz $(FUZZ_SECS) $(FUZZ_NAMES)

# Its own build directory: objects are not shared across different flags.
# scripts/run-bench.sh says what runs; BENCH_SCALE=small for a quick look.
bench: deps
	@$(MAKE) --no-print-directory BUILD=build-bench OPT="-O2 -g -DNDEBUG" \
		$(BENCH_SRC:bench/%.c=build-bench/bench/%) build-bench/oplogd
	@sh scripts/run-bench.sh build-bench

# The whole system on the dev broker (scripts/demo.sh says what it shows).
demo: deps
	@$(MAKE) --no-print-directory $(BIN)
	@OPLOGD=$(BIN) sh scripts/demo.sh

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include/oplog $(DESTDIR)$(PREFIX)/lib
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/oplogd
	install -m 644 include/oplog/*.h $(DESTDIR)$(PREFIX)/include/oplog/
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/liboplog.a

clean:
	rm -rf build build-asan build-bench build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

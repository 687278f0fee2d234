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

.PHONY: all deps test layers unit system asan fuzz bench demo man install deb clean
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

# Where make install puts things; PREFIX=/usr puts the configuration in
# /etc (a Debian package's layout), any other PREFIX in PREFIX/etc.
BINDIR         ?= $(PREFIX)/bin
LIBDIR         ?= $(PREFIX)/lib
INCLUDEDIR     ?= $(PREFIX)/include
MANDIR         ?= $(PREFIX)/share/man
SYSCONFDIR     ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR    ?= $(PREFIX)/share/bash-completion/completions
VERSION := $(shell sed -n 's/^\#define OPLOG_VERSION "\(.*\)"/\1/p' include/oplog/version.h)

# The manual pages, printed by the binary from its own command, option and
# configuration key tables (cli/cmd_man.c), so they cannot drift from it.
MAN_PAGES = $(BUILD)/man/oplogd.1 $(BUILD)/man/oplogd.conf.5
all: $(MAN_PAGES)
man: $(MAN_PAGES)
$(BUILD)/man/oplogd.1: $(BIN)
	@mkdir -p $(@D)
	$(BIN) man 1 > $@.tmp && mv $@.tmp $@
$(BUILD)/man/oplogd.conf.5: $(BIN)
	@mkdir -p $(@D)
	$(BIN) man 5 > $@.tmp && mv $@.tmp $@

# The unit and oplog.pc name the installed places; oplog.pc's
# dependencies are the PKGS liboplog.a is built with. The example
# configuration's store is the unit's StateDirectory; an existing
# configuration is kept (the new one is not installed beside it).
install: $(BIN) $(LIB) $(MAN_PAGES)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(INCLUDEDIR)/oplog $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/oplogd \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/oplogd
	install -m 644 include/oplog/*.h $(DESTDIR)$(INCLUDEDIR)/oplog/
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/liboplog.a
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		-e 's|@REQUIRES@|$(PKGS)|' oplog.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/oplog.pc
	chmod 644 $(DESTDIR)$(LIBDIR)/pkgconfig/oplog.pc
	install -m 644 $(BUILD)/man/oplogd.1 $(DESTDIR)$(MANDIR)/man1/oplogd.1
	install -m 644 $(BUILD)/man/oplogd.conf.5 $(DESTDIR)$(MANDIR)/man5/oplogd.conf.5
	install -m 644 contrib/oplogd.bash-completion $(DESTDIR)$(BASHCOMPDIR)/oplogd
	sed -e 's|/usr/bin/oplogd|$(BINDIR)/oplogd|' -e 's|/etc/oplogd/|$(SYSCONFDIR)/oplogd/|' \
		contrib/oplogd.service > $(DESTDIR)$(SYSTEMDUNITDIR)/oplogd.service
	chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/oplogd.service
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/oplogd/oplogd.conf ]; then \
		echo "install: keeping the existing $(DESTDIR)$(SYSCONFDIR)/oplogd/oplogd.conf"; \
	else \
		sed '/^\[store\]/,/^\[/ s|^path = .*|path = /var/lib/oplogd|' config/oplogd.conf \
			> $(DESTDIR)$(SYSCONFDIR)/oplogd/oplogd.conf && \
		chmod 644 $(DESTDIR)$(SYSCONFDIR)/oplogd/oplogd.conf && \
		echo "install: $(DESTDIR)$(SYSCONFDIR)/oplogd/oplogd.conf"; \
	fi

# A Debian package (debhelper, debian/) built from a copy of the tree in
# $(BUILD)/deb/src, so that its build and clean leave this tree alone; the
# .deb lands in $(BUILD)/deb/.
DEB_DIR = $(BUILD)/deb
deb:
	@test "$$(dpkg-parsechangelog -S Version | sed 's/-[^-]*$$//')" = "$(VERSION)" || \
		{ echo "deb: debian/changelog's version is not $(VERSION) (include/oplog/version.h)" >&2; exit 2; }
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/src
	tar -cf - --exclude='./build*' --exclude=./.git --exclude=./data --exclude=./tmp \
		--exclude=./.kafka --exclude=./.deps --exclude=node_modules . | tar -xf - -C $(DEB_DIR)/src
	cd $(DEB_DIR)/src && dpkg-buildpackage -b -us -uc > ../build.log 2>&1 || \
		{ tail -30 ../build.log >&2; echo "deb: failed, the log is $(DEB_DIR)/build.log" >&2; exit 2; }
	@ls $(DEB_DIR)/*.deb

clean:
	rm -rf build build-asan build-bench build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# SPDX-License-Identifier: MIT
# ECA: one GNU Makefile. `make check` and `make demo` install missing Debian packages first.

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc

PKGS := openssl libcurl json-c libconfig
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS   = $(shell pkg-config --libs check)

WARN := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wformat=2 -Wvla
# CI (and `make check`) turn warnings into errors; a plain `make` keeps going.
ifneq ($(or $(CI),$(WERROR)),)
WARN += -Werror
endif
HARDEN  := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
OPT     ?= -O2 -g
CPPFLAGS += -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Icommon
CFLAGS  += $(OPT) $(WARN) $(HARDEN) -MMD -MP
LDFLAGS += -pie -Wl,-z,relro,-z,now
SAN     ?=
CFLAGS  += $(SAN)
LDFLAGS += $(SAN)

COMMON_SRC := $(sort $(filter-out %_win.c,$(wildcard common/*.c)))
ACME_SRC   := $(sort $(filter-out eca-acme/main.c %_win.c,$(wildcard eca-acme/*.c)))
EST_SRC    := $(sort $(filter-out eca-est/main.c %_win.c,$(wildcard eca-est/*.c)))
SUPPORT_SRC:= $(sort $(wildcard tests/support/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/check_*.c))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBECA  := $(BUILD)/libeca.a
LIBACME := $(BUILD)/libacme.a
LIBEST  := $(BUILD)/libest.a
LIBSUP  := $(BUILD)/libtestsupport.a
BINS    := $(if $(wildcard eca-acme/main.c),$(BUILD)/eca-acme) $(if $(wildcard eca-est/main.c),$(BUILD)/eca-est)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_REPLAY := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz-replay/%,$(FUZZ_SRC))

.PHONY: all check check-run unit integration asan fuzz fuzz-bins fuzz-run demo deps install clean \
        format format-check lint-layers windows bench
.DEFAULT_GOAL := all

all: $(BINS) lint-layers

# `make V=1` shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<",:)
	$(Q)$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(if $(findstring tests/,$<),$(CHECK_CFLAGS) -Itests/support -Ieca-acme -Ieca-est,) -Ieca-acme -Ieca-est $(CFLAGS) -c $< -o $@

$(LIBECA): $(call obj,$(COMMON_SRC))
$(LIBACME): $(call obj,$(ACME_SRC))
$(LIBEST): $(call obj,$(EST_SRC))
$(LIBSUP): $(call obj,$(SUPPORT_SRC))
$(LIBECA) $(LIBACME) $(LIBEST) $(LIBSUP):
	@mkdir -p $(@D)
	rm -f $@
	$(if $^,ar rcs $@ $^,ar rcs $@)

$(BUILD)/eca-acme: $(call obj,eca-acme/main.c) $(LIBACME) $(LIBECA)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
$(BUILD)/eca-est: $(call obj,eca-est/main.c) $(LIBEST) $(LIBECA)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# A unit suite links the daemon library its name belongs to.
testlibs = $(if $(filter check_acme_%,$(1)),$(LIBACME),)$(if $(filter check_est_%,$(1)),$(LIBEST),)
.SECONDARY:
.SECONDEXPANSION:
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $$(call testlibs,$$*) $(LIBSUP) $(LIBECA)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# Fuzz targets double as regression tests: a replay driver feeds them every seed file.
fuzzlibs = $(if $(filter fuzz_acme_%,$(1)),$(LIBACME),)$(if $(filter fuzz_est_%,$(1)),$(LIBEST),)
# The raw HTTP parser (tests/support/http_raw.c) is test code: only fuzzing and tests link it.
fuzzdeps = $(BUILD)/obj/tests/fuzz/$(1).o $(BUILD)/obj/tests/support/http_raw.o \
	$(call fuzzlibs,$(1)) $(LIBECA)
$(BUILD)/fuzz-replay/%: $(BUILD)/obj/tests/fuzz/replay_main.o $$(call fuzzdeps,$$*)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
# The same targets linked with libFuzzer's main (`make fuzz` builds them with clang, see below).
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz-bin/%,$(FUZZ_SRC))
$(BUILD)/fuzz-bin/%: $$(call fuzzdeps,$$*)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)
fuzz-bins: $(FUZZ_BINS)

# common/ holds mechanisms: it includes no daemon header and calls no daemon function (the
# daemons call it; nothing calls back but the transport interface, struct eca_http).
lint-layers: $(LIBECA)
	@! grep -nE '#include "(acme|est)_' common/*.[ch] || { echo "common/ includes daemon code" >&2; exit 1; }
	@! nm $(LIBECA) | grep -E ' U (acme|est)_' || { echo "common/ calls daemon code" >&2; exit 1; }
	@! grep -niwE 'acme|est|rfc ?8555|rfc ?7030' common/*.[ch] || { echo "protocol vocabulary in common/" >&2; exit 1; }
	@# No callbacks from common/ into a daemon: the daemon calls common/ in order. Allowed are the
	@# transport (eca_http.h: struct members, which tests replace, not typedefs) and three test
	@# seams that never reach a daemon: eca_clock_fn (tests move time), eca_clock_sleep_fn (tests
	@# take no real sleep) and eca_log_sink_fn (tests capture lines; Windows forwards them to the
	@# Event Log).
	@! grep -nE 'typedef .*\(\*' common/*.h | grep -vE '\(\*(eca_clock_fn|eca_clock_sleep_fn|eca_log_sink_fn)\)' || { echo "function-pointer typedef in common/" >&2; exit 1; }
	@! grep -n '#include "est_' eca-acme/*.[ch] 2>/dev/null || { echo "eca-acme includes eca-est" >&2; exit 1; }
	@! grep -n '#include "acme_' eca-est/*.[ch] 2>/dev/null || { echo "eca-est includes eca-acme" >&2; exit 1; }

deps:
	./scripts/deps.sh

check: deps
	$(MAKE) WERROR=1 check-run

check-run: format-check all unit fuzz-replay integration

unit: $(UNIT_BINS)
	@./scripts/run-unit.sh $(UNIT_BINS)

fuzz-replay: $(FUZZ_REPLAY)
	@./scripts/run-fuzz-replay.sh $(BUILD) $(FUZZ_REPLAY)

integration: $(BINS)
	@BUILD=$(BUILD) ./scripts/run-integration.sh

asan: deps
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
		HARDEN= WERROR=1 check-run

# libFuzzer needs clang; every object gets coverage and ASan/UBSan (build-fuzz/ is its own tree).
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link
fuzz: deps
	$(MAKE) BUILD=build-fuzz CC=clang OPT="-O1 -g -fno-omit-frame-pointer" HARDEN= \
		SAN="$(FUZZ_SAN)" fuzz-bins
	FUZZ_BUILD=build-fuzz ./scripts/fuzz.sh $(FUZZ_SECONDS)

# Benchmarks print numbers (tests/bench/README.md); they are not tests.
bench: deps all
	BENCH_N=$${BENCH_N:-10} bash tests/bench/bench_acme_issue.sh
	BENCH_N=$${BENCH_N:-20} bash tests/bench/bench_est_enroll.sh
	BENCH_CONC="$${BENCH_CONC:-1 4}" bash tests/bench/bench_acme_scale.sh
	bash tests/bench/bench_check_pass.sh
	bash tests/bench/footprint.sh

demo: deps all
	./target-demo/demo.sh

# The binaries; the man pages, every doc and example config (docs/ as is, so the links between
# them keep working) under DOCDIR; the systemd units pointing at the installed binaries, and a
# sysusers.d file creating the `eca` user they run as.
DOCDIR ?= $(PREFIX)/share/doc/eca
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(DOCDIR)/systemd/eca-acme.service.d $(DESTDIR)$(DOCDIR)/systemd/eca-est.service.d \
		$(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/lib/sysusers.d
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/sbin/
	for m in eca-acme eca-est; do \
		sed 's|/usr/local/share/doc/eca|$(DOCDIR)|g' docs/man/$$m.8 >$(DESTDIR)$(PREFIX)/share/man/man8/$$m.8 && \
		chmod 0644 $(DESTDIR)$(PREFIX)/share/man/man8/$$m.8 || exit 1; \
	done
	install -m 0644 docs/*.md docs/*.conf.example $(DESTDIR)$(DOCDIR)/
	install -m 0644 docs/systemd/README.md docs/systemd/*.service docs/systemd/eca.sysusers \
		$(DESTDIR)$(DOCDIR)/systemd/
	for u in eca-acme eca-est; do \
		install -m 0644 docs/systemd/$$u.service.d/*.example $(DESTDIR)$(DOCDIR)/systemd/$$u.service.d/ && \
		sed 's|/usr/local/sbin/|$(PREFIX)/sbin/|g' docs/systemd/$$u.service \
			>$(DESTDIR)$(PREFIX)/lib/systemd/system/$$u.service && \
		chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/$$u.service || exit 1; \
	done
	install -m 0644 docs/systemd/eca.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/eca.conf

FORMAT_FILES = $(wildcard common/*.[ch] eca-acme/*.[ch] eca-est/*.[ch] windows/*.[ch] tests/*/*.[ch])
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

clean:
	rm -rf build build-asan build-fuzz build-win

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Windows cross-build (mingw + wine): targets `windows` and `windows-check`.
-include windows/windows.mk

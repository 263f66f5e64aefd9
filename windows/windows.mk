# SPDX-License-Identifier: MIT
# Windows cross-build, included by the top-level Makefile: `make windows` builds
# build-win/eca-acme.exe and build-win/eca-est.exe (static, mingw-w64) and gates on their DLL
# imports; `make windows-check` cross-builds the common/ Check suites and runs them under wine64.
# The libraries come from scripts/win-deps.sh (a cached prefix outside the clone).

WIN_BUILD  ?= build-win
WIN_HOST   := x86_64-w64-mingw32
WIN_CC     := $(WIN_HOST)-gcc
WIN_AR     := $(WIN_HOST)-ar
WIN_OBJDUMP:= $(WIN_HOST)-objdump
WIN_STRIP  := $(WIN_HOST)-strip
ECA_WIN_CACHE ?= /var/cache/eca-wincross
WINE_TIMEOUT ?= 300
# Suites to run under wine: the common/ ones by default (daemon suites: WIN_SUITES=...), minus
# those that test POSIX behaviour itself: any suite including a POSIX-only header (sockets,
# poll, signals, fork/waitpid, <regex.h>), found by grep so new suites sort themselves, plus
# check_fs (st_mode bits). The Windows halves have their own suite in windows/tests/.
# check_status: only its st_mode 0644 assertion is POSIX; it joins once that line uses
# test_assert_mode() from tests/support (its owner's change).
# check_certcache: inode, ctime and utimensat (the Windows identity, file index and write
# time, is not what it exercises).
WIN_POSIX_HDRS := netinet/|arpa/|sys/socket\.h|sys/wait\.h|sys/un\.h|poll\.h|regex\.h|netdb\.h|signal\.h
WIN_SUITES_POSIX_ONLY ?= check_fs check_status check_certcache \
    $(patsubst tests/unit/%.c,%,$(shell grep -lE '^\#include <($(WIN_POSIX_HDRS))' tests/unit/check_*.c))
WIN_SUITES ?= $(filter-out check_acme_% check_est_% $(WIN_SUITES_POSIX_ONLY),$(patsubst tests/unit/%.c,%,$(UNIT_SRC)))

# System DLLs a release exe may import; anything else (libwinpthread-1.dll, libgcc_s_*.dll,
# a libcrypto DLL) means the link was not fully static.
WIN_DLL_ALLOW := kernel32 msvcrt advapi32 ws2_32 crypt32 bcrypt user32 gdi32 shell32 ole32 \
                 secur32 iphlpapi userenv normaliz wldap32 ntdll rpcrt4 shlwapi

# Platform halves: each *_posix.c is replaced by the *_win.c next to it (common/eca_fs_win.c,
# eca-acme/acme_http01_win.c...); windows/*.c are the Windows-only parts of libeca.a (UTF-16
# and error text, the POSIX calls mingw lacks, the Service Control Manager).
WIN_LIB_SRC := $(sort $(filter-out %_posix.c,$(wildcard common/*.c)) \
               $(filter-out windows/test_support_win.c,$(wildcard windows/*.c)))
WIN_SUP_SRC := $(sort $(filter-out %_posix.c,$(wildcard tests/support/*.c)) windows/test_support_win.c)
WIN_ACME_SRC:= $(sort $(filter-out %_posix.c,$(wildcard eca-acme/*.c)))
WIN_EST_SRC := $(sort $(filter-out %_posix.c,$(wildcard eca-est/*.c)))

winobj = $(patsubst %.c,$(WIN_BUILD)/obj/%.o,$(1))

WIN_PKGS   := libcurl json-c libconfig openssl
WIN_PC      = PKG_CONFIG_LIBDIR=$(WIN_PREFIX)/lib/pkgconfig PKG_CONFIG_PATH= pkg-config --define-prefix
WIN_WARN   := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wpointer-arith -Wformat=2 -Wvla
ifneq ($(or $(CI),$(WERROR)),)
WIN_WARN += -Werror
endif
# Format checks stay on: printf-like declarations say ECA_PRINTF (common/eca_err.h), which is
# format(gnu_printf) on mingw; plain format(printf) means ms_printf there and rejects %zu.
# __USE_MINGW_ANSI_STDIO: %zu/%lld/%jd work on msvcrt; _WIN32_WINNT: Windows 10 APIs.
WIN_CPPFLAGS := -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -D__USE_MINGW_ANSI_STDIO=1 \
                -D_WIN32_WINNT=0x0A00 -DWINVER=0x0A00 -DUNICODE -D_UNICODE \
                -Iwindows/compat -Icommon -Iwindows -Ieca-acme -Ieca-est
WIN_CFLAGS   := -O2 -g $(WIN_WARN) -fstack-protector-strong -D_FORTIFY_SOURCE=2 -MMD -MP
WIN_LDFLAGS  := -static
# -lpthread: winpthreads, linked statically (-static), for the locks of common/ and eca-acme's
# workers (concurrency); win-imports fails if libwinpthread-1.dll is imported after all.
WIN_SYSLIBS  := -lssp -lbcrypt -ladvapi32 -lcrypt32 -lws2_32 -luserenv -lpthread

WIN_LIBECA := $(WIN_BUILD)/libeca.a
WIN_LIBSUP := $(WIN_BUILD)/libtestsupport.a
WIN_EXES   := $(WIN_BUILD)/eca-acme.exe $(WIN_BUILD)/eca-est.exe
# windows/tests/check_win_*.c: suites of the Windows halves themselves (never built on Linux).
WIN_SUITES += $(patsubst windows/tests/%.c,%,$(wildcard windows/tests/check_win_*.c))
WIN_TEST_EXES := $(patsubst %,$(WIN_BUILD)/tests/%.exe,$(WIN_SUITES))

.PHONY: windows windows-check windows-deps windows-clean win-exes win-imports win-tests

# The prefix path is only known after win-deps.sh ran (its cache key), so the real build is a
# second make with WIN_PREFIX set; a cache hit costs a few seconds.
windows-deps:
	@mkdir -p $(WIN_BUILD)
	ECA_WIN_CACHE=$(ECA_WIN_CACHE) ./scripts/win-deps.sh $(WIN_DEPS_FLAGS) > $(WIN_BUILD)/prefix.tmp
	@mv $(WIN_BUILD)/prefix.tmp $(WIN_BUILD)/prefix

windows: WIN_DEPS_FLAGS = --no-wine
windows: windows-deps
	+$(MAKE) --no-print-directory WIN_PREFIX="$$(cat $(WIN_BUILD)/prefix)" win-exes win-imports

windows-check: windows-deps
	+$(MAKE) --no-print-directory WIN_PREFIX="$$(cat $(WIN_BUILD)/prefix)" win-tests
	ECA_WIN_CACHE=$(ECA_WIN_CACHE) WINE_TIMEOUT=$(WINE_TIMEOUT) ./windows/wine-run-tests.sh $(WIN_TEST_EXES)

windows-clean:
	rm -rf $(WIN_BUILD)

ifneq ($(WIN_PREFIX),)
WIN_PKG_CFLAGS := $(shell $(WIN_PC) --cflags $(WIN_PKGS))
WIN_PKG_LIBS   := $(shell $(WIN_PC) --static --libs $(WIN_PKGS))
WIN_CHECK_CFLAGS := $(shell $(WIN_PC) --cflags check)
WIN_CHECK_LIBS   := $(shell $(WIN_PC) --static --libs check)
endif

# windows/compat declares the few POSIX calls mingw lacks (timegm, writev, strndup; mkdtemp for
# tests), implemented in windows/eca_compat_win.c and windows/test_support_win.c.
$(WIN_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_CPPFLAGS) $(WIN_PKG_CFLAGS) $(if $(findstring tests/,$<)$(findstring test_support,$<),$(WIN_CHECK_CFLAGS) -Itests/support,) $(WIN_CFLAGS) -c $< -o $@

$(WIN_LIBECA): $(call winobj,$(WIN_LIB_SRC))
$(WIN_LIBSUP): $(call winobj,$(WIN_SUP_SRC))
$(WIN_LIBECA) $(WIN_LIBSUP):
	@mkdir -p $(@D)
	rm -f $@
	$(WIN_AR) rcs $@ $^

# The Event Log message table ("%1": each event is one log line), linked into both exes; the
# event source that `service install` registers points at the exe.
WIN_RES := $(WIN_BUILD)/obj/windows/eca_messages.o
$(WIN_BUILD)/res/eca_messages.rc: windows/eca_messages.mc
	@mkdir -p $(@D)
	$(WIN_HOST)-windmc -r $(@D) -h $(@D) $<
$(WIN_RES): $(WIN_BUILD)/res/eca_messages.rc
	@mkdir -p $(@D)
	$(WIN_HOST)-windres -I $(<D) -i $< -o $@

$(WIN_BUILD)/eca-acme.exe: $(call winobj,$(WIN_ACME_SRC)) $(WIN_RES) $(WIN_LIBECA)
	$(WIN_CC) $(WIN_LDFLAGS) -o $@ $^ $(WIN_PKG_LIBS) $(WIN_SYSLIBS)
$(WIN_BUILD)/eca-est.exe: $(call winobj,$(WIN_EST_SRC)) $(WIN_RES) $(WIN_LIBECA)
	$(WIN_CC) $(WIN_LDFLAGS) -o $@ $^ $(WIN_PKG_LIBS) $(WIN_SYSLIBS)

# A suite links the daemon's sources (minus main.c) when its name says so, like the Linux build.
win_testobjs = $(if $(filter check_acme_%,$(1)),$(call winobj,$(filter-out eca-acme/main.c,$(WIN_ACME_SRC))),)$(if $(filter check_est_%,$(1)),$(call winobj,$(filter-out eca-est/main.c,$(WIN_EST_SRC))),)
$(WIN_BUILD)/tests/%.exe: $(WIN_BUILD)/obj/tests/unit/%.o $$(call win_testobjs,$$*) $(WIN_LIBSUP) $(WIN_LIBECA)
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_LDFLAGS) -o $@ $^ $(WIN_PKG_LIBS) $(WIN_CHECK_LIBS) $(WIN_SYSLIBS)

$(WIN_BUILD)/tests/check_win_%.exe: $(WIN_BUILD)/obj/windows/tests/check_win_%.o $(WIN_LIBSUP) $(WIN_LIBECA)
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_LDFLAGS) -o $@ $^ $(WIN_PKG_LIBS) $(WIN_CHECK_LIBS) $(WIN_SYSLIBS)

win-exes: $(WIN_EXES)
win-tests: $(WIN_TEST_EXES)

# Fail unless every imported DLL is on the allow-list (case-insensitive).
win-imports: $(WIN_EXES)
	@for exe in $^; do \
		dlls=$$($(WIN_OBJDUMP) -p $$exe | sed -n 's/^[[:space:]]*DLL Name: //p' | tr 'A-Z' 'a-z' | sort -u); \
		for d in $$dlls; do \
			case " $(WIN_DLL_ALLOW) " in *" $${d%.dll} "*) ;; \
			*) echo "$$exe imports non-system DLL $$d (not linked statically?)" >&2; exit 1 ;; esac; \
		done; \
		echo "$$exe: $$(stat -c %s $$exe) bytes, imports: $$(echo $$dlls)"; \
	done

-include $(shell find $(WIN_BUILD)/obj -name '*.d' 2>/dev/null)

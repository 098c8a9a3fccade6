# tools/curl.mk — which libcurl rollguard links, and building the static one.
# Included twice by the Makefile: CURL_PART=choice before the build flags are
# set (it picks BUILD and the curl flags), CURL_PART=build with the rules.

ifeq ($(CURL_PART),choice)
# By default rollguard links a minimal static libcurl that tools/build-curl.sh
# builds once from Debian's own curl source package: HTTP/HTTPS over OpenSSL and
# the threaded resolver only. Debian's shared libcurl pulls some 30 libraries
# that the daemon never uses (idle RSS about 10.8 MB with it, 6.2 MB without,
# measured on Debian 12). The build is
# cached in $(CURL_PREFIX) and shared by the plain and sanitizer builds; it is
# not sanitizer-instrumented. `make SYSTEM_CURL=1` links Debian's libcurl4
# through pkg-config instead (libcurl4-openssl-dev), in build dirs of its own so
# that switching never mixes objects or leaves a stale binary.
CURL_VERSION := 7.88.1
CURL_PREFIX  := build/curl/$(CURL_VERSION)
CURL_LIB     := $(CURL_PREFIX)/lib/libcurl.a
ifeq ($(SYSTEM_CURL),1)
ifeq ($(SANITIZE),)
BUILD        ?= build/system-curl
else
BUILD        ?= build/san-system-curl
endif
CURL_CFLAGS  :=
CURL_LIBS    :=
CURL_DEP     :=
else
PKGS         := $(filter-out libcurl,$(PKGS))
CURL_CFLAGS  := -I$(CURL_PREFIX)/include
CURL_LIBS    := $(CURL_LIB) -lssl -lcrypto -lpthread
CURL_DEP     := $(CURL_LIB)
endif
endif

ifeq ($(CURL_PART),build)
# Objects wait for the curl headers; once built they track them through their
# .d files. Binaries relink when the library is rebuilt.
ifneq ($(CURL_DEP),)
$(CURL_LIB): tools/build-curl.sh
	@echo "  CURL    $(CURL_PREFIX) (Debian source package, first build only)"
	$(Q)CC="$(CC)" sh tools/build-curl.sh $(CURL_PREFIX) $(CURL_VERSION)
	$(Q)touch $@

$(LIB_OBJS) $(TEST_OBJS) $(TEST_HELPER_OBJS) $(BUILD)/sidecar/main.o \
$(BENCH_SRCS:%.c=$(BUILD)/%.o) $(FUZZ_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/tests/fuzz/replay_main.o: \
    | $(CURL_DEP)

$(BIN) $(CHECK_BIN) $(BENCH_BINS) $(FUZZ_REPLAY_BINS): $(CURL_DEP)
endif

# TLS peer verification of the libcurl in use (system CA bundle, CAINFO, host
# name) against a local `openssl s_server`; part of `make check`.
.PHONY: check-curl-tls
check-curl-tls: $(CURL_DEP)
	$(Q)CC="$(CC)" sh tools/check-curl-tls.sh $(BUILD)/curl-tls "$(PKG_CFLAGS)" "$(PKG_LIBS)"
endif

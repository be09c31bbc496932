# edgelb build: a chain of pattern rules.
#   bpf/X.bpf.c -> $(B)/bpf/X.bpf.o -> $(B)/bpf/X.skel.h
#   agent/**.c  -> $(B)/obj/**.o    -> $(B)/libedgelb.a -> $(B)/bin/edgelbd, edgelb, edgelb-bgp
#   tests/unit/test_X.c  (+ libedgelb built with ASan/UBSan) -> $(B)/tests/unit/test_X
#   tests/bpf/test_X.c   (+ harness)                        -> $(B)/tests/bpf/test_X
#   tests/fuzz/fuzz_X.c  (libFuzzer + ASan/UBSan)           -> $(B)/tests/fuzz/fuzz_X
# B=dir puts every output under another build dir (helpers building side by side). V=1 shows commands.

B ?= build
V ?= 0
NPROC := $(shell nproc 2>/dev/null || echo 2)
Q := $(if $(filter 1,$(V)),,@)

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

PKGS := libbpf libnl-3.0 libnl-route-3.0 json-c yaml-0.1 libmicrohttpd libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz

WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wshadow -Wstrict-prototypes
BASE_CFLAGS := -std=gnu11 -g $(WARN) -Iinclude -Iagent -I$(B)/bpf -I$(B)/gen $(PKG_CFLAGS) \
	-D_GNU_SOURCE -MMD -MP
CFLAGS ?= -O2
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
BPF_CFLAGS := -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -Iinclude -Ibpf \
	-I/usr/include/$(shell uname -m)-linux-gnu

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(BPF_SRCS:bpf/%.bpf.c=$(B)/bpf/%.bpf.o)
SKELS := $(BPF_SRCS:bpf/%.bpf.c=$(B)/bpf/%.skel.h)

MAINS := agent/daemon/main.c agent/cli/main.c agent/bgp/speaker_main.c
LIB_SRCS := $(filter-out $(MAINS) agent/cli/%,$(shell find agent -name '*.c' | sort))
CLI_SRCS := $(shell find agent/cli -name '*.c' | sort)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
ASAN_OBJS := $(LIB_SRCS:%.c=$(B)/asan/%.o)
FUZZ_OBJS := $(LIB_SRCS:%.c=$(B)/fuzzobj/%.o)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/unit/%)
BPFT_SRCS := $(wildcard tests/bpf/test_*.c)
BPFT_BINS := $(BPFT_SRCS:tests/bpf/%.c=$(B)/tests/bpf/%)
BPFT_LIB := $(filter-out $(BPFT_SRCS),$(wildcard tests/bpf/*.c))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/tests/fuzz/%)
BENCH_SRCS := $(wildcard tests/bench/bench_*.c)
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(B)/tests/bench/%)
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(B)/tests/tools/%)

.PHONY: all deps test test-build demo demo-down bench clean fmt FORCE
all: $(B)/bin/edgelbd $(B)/bin/edgelb $(B)/bin/edgelb-bgp $(BPF_OBJS) $(SKELS)

deps:
	$(Q)scripts/deps.sh

# --- BPF: object, then skeleton -------------------------------------------
$(B)/bpf/%.bpf.o: bpf/%.bpf.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  BPF     $@")
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(B)/bpf/%.skel.h: $(B)/bpf/%.bpf.o
	@$(if $(Q),echo "  SKEL    $@")
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp && mv $@.tmp $@

# --- userspace ------------------------------------------------------------
# The version the binaries report: rewritten only when `git describe` changes, so exactly the
# files that include it are rebuilt after a commit.
$(B)/gen/version.h: FORCE
	@mkdir -p $(@D)
	@echo '#define EDGELB_VERSION "$(VERSION)"' >$@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

$(B)/obj/%.o: %.c | $(SKELS) $(B)/gen/version.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -c $< -o $@

$(B)/asan/%.o: %.c | $(SKELS) $(B)/gen/version.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC-SAN  $@")
	$(Q)$(CC) $(BASE_CFLAGS) -O1 $(SAN) -DEDGELB_TEST -c $< -o $@

$(B)/fuzzobj/%.o: %.c | $(SKELS) $(B)/gen/version.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC-FUZZ $@")
	$(Q)$(CLANG) $(BASE_CFLAGS) -Wno-unknown-warning-option -O1 $(SAN) -fsanitize=fuzzer-no-link -DEDGELB_TEST -c $< -o $@

$(B)/libedgelb.a: $(LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^
$(B)/libedgelb-asan.a: $(ASAN_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^
$(B)/libedgelb-fuzz.a: $(FUZZ_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/bin/edgelbd: $(B)/obj/agent/daemon/main.o $(B)/libedgelb.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lm

# The speaker process links only what it uses (libc, no BPF, netlink or JSON libraries): small.
$(B)/bin/edgelb-bgp: $(B)/obj/agent/bgp/speaker_main.o $(B)/libedgelb.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^

$(B)/bin/edgelb: $(CLI_SRCS:%.c=$(B)/obj/%.o) $(B)/libedgelb.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lm

# --- tests ----------------------------------------------------------------
$(B)/tests/unit/%: tests/unit/%.c $(B)/libedgelb-asan.a | $(SKELS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  UNIT    $@")
	$(Q)$(CC) $(BASE_CFLAGS) -Itests -O1 $(SAN) -DEDGELB_TEST -o $@ $< $(B)/libedgelb-asan.a $(PKG_LIBS) -lm

$(B)/tests/bpf/%: tests/bpf/%.c $(BPFT_LIB) $(BPF_OBJS) $(B)/libedgelb.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  BPFTEST $@")
	$(Q)$(CC) $(BASE_CFLAGS) -Itests -O1 -o $@ $< $(BPFT_LIB) $(B)/libedgelb.a $(PKG_LIBS) -lm

$(B)/tests/fuzz/%: tests/fuzz/%.c $(B)/libedgelb-fuzz.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CLANG) $(BASE_CFLAGS) -Itests -O1 $(SAN) -fsanitize=fuzzer -o $@ $< $(B)/libedgelb-fuzz.a $(PKG_LIBS) -lm

$(B)/tests/bench/%: tests/bench/%.c $(B)/libedgelb.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  BENCH   $@")
	$(Q)$(CC) $(BASE_CFLAGS) -Itests $(CFLAGS) -o $@ $< $(B)/libedgelb.a $(PKG_LIBS) -lm

$(B)/tests/tools/%: tests/tools/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) -O2 -o $@ $< $(PKG_LIBS)

test-build: all $(UNIT_BINS) $(BPFT_BINS) $(FUZZ_BINS) $(TOOL_BINS)

test: deps
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) test-build
	$(Q)B=$(B) tests/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) all $(TOOL_BINS)
	$(Q)B=$(B) scripts/demo.sh up

demo-down:
	$(Q)B=$(B) scripts/demo.sh down

bench: deps
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) test-build $(BENCH_BINS)
	$(Q)B=$(B) scripts/bench.sh

fmt:
	clang-format -i $$(find agent include tests bpf -name '*.[ch]')

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)

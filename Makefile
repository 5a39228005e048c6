# cloudlet — one `cloudlet` binary over four static libraries:
#   lib/ -> libcl.a (errors, parsers)   vmm/ -> libvmm.a   crun/ -> libcrun.a   net/ -> libnet.a
#   bench/ -> libbench.a (VM vs container measurements)   fn/ -> libfn.a (serverless functions)
# `make` builds build/cloudlet; `make SAN=1` builds build-san/ with ASan+UBSan.
# `make deps` installs the Debian packages; `make images` the guest images;
# `make check` runs every test suite (tests/run); `make demo` is the README's main job.

SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD ?= build
SANFLAGS :=
endif

CC ?= gcc
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)
CPPFLAGS += -Iinclude -D_GNU_SOURCE -DCLOUDLET_VERSION='"$(VERSION)"'
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -MMD -MP $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
# the libraries' dependencies (Debian -dev packages, see mk/deps.sh)
PKGS := json-c libarchive libseccomp libcap libcrypto libnl-route-3.0 libnftables libmicrohttpd libmosquitto libcurl sqlite3
CPPFLAGS += $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

LIBDIRS := lib vmm crun net
lib_SRCS := $(wildcard lib/*.c)
vmm_SRCS := $(wildcard vmm/*.c vmm/*/*.c)
crun_SRCS := $(wildcard crun/*.c crun/*/*.c)
net_SRCS := $(wildcard net/*.c net/sdn/*.c)
bench_SRCS := $(wildcard bench/*.c)
fn_SRCS := $(wildcard fn/*.c)
cli_SRCS := $(wildcard cli/*.c)
unit_SRCS := $(wildcard tests/unit/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
# link order: users before what they use
LIBA := $(BUILD)/libfn.a $(BUILD)/libbench.a $(BUILD)/libvmm.a $(BUILD)/libcrun.a $(BUILD)/libnet.a $(BUILD)/libcl.a

.PHONY: all deps images check unit demo clean bench fuzz fuzz-smoke
all: $(BUILD)/cloudlet $(BUILD)/cloudlet-runtime $(BUILD)/cloudlet-cni

# argv[0] modes of the one binary (cli/main.c)
$(BUILD)/cloudlet-runtime $(BUILD)/cloudlet-cni: $(BUILD)/cloudlet
	ln -sf cloudlet $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libcl.a: $(call obj,$(lib_SRCS))
$(BUILD)/libvmm.a: $(call obj,$(vmm_SRCS))
$(BUILD)/libcrun.a: $(call obj,$(crun_SRCS))
$(BUILD)/libnet.a: $(call obj,$(net_SRCS))
$(BUILD)/libbench.a: $(call obj,$(bench_SRCS))
$(BUILD)/libfn.a: $(call obj,$(fn_SRCS))
$(BUILD)/lib%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

# cli/ objects except main.o also go into the unit-test binary (parser tests)
cli_OBJS := $(call obj,$(cli_SRCS))
$(BUILD)/cloudlet: $(cli_OBJS) $(LIBA)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit: $(call obj,$(unit_SRCS)) $(filter-out %/main.o,$(cli_OBJS)) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

unit: $(BUILD)/tests/unit

# the KVM smoke test runs the project's own KVM layer (tests/kvm/run builds it)
$(BUILD)/tests/kvm/smoke: tests/kvm/smoke.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

# the test build of cloudlet: the same objects plus a hook (tests/kvm/hooks.c)
# that makes a forbidden syscall once the guest is up (tests/kvm/jail.sh)
$(BUILD)/tests/kvm/cloudlet-test: $(call obj,tests/kvm/hooks.c) $(cli_OBJS) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer target over the virtqueue walker and the virtio-blk parser
# (tests/fuzz/README.md): libvmm and libcl rebuilt by clang with ASan, UBSan
# and coverage into build-fuzz/. fuzz-smoke is tests/run's short run.
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-Wno-gnu-variable-sized-type-not-at-end
fuzz:
	@command -v clang >/dev/null || { echo "make fuzz: clang is not installed" >&2; exit 1; }
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang SANFLAGS="$(FUZZ_SAN)" \
		build-fuzz/libvmm.a build-fuzz/libnet.a build-fuzz/libcl.a
	@mkdir -p build-fuzz/fuzz
	clang $(CPPFLAGS) -std=gnu11 -O1 -g -Wall -Wextra -Werror \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o build-fuzz/fuzz/virtq_fuzz tests/fuzz/virtq_fuzz.c build-fuzz/libvmm.a build-fuzz/libnet.a \
		build-fuzz/libcl.a $(LDLIBS)
fuzz-smoke:
	@command -v clang >/dev/null || { echo "SKIP: fuzz: clang is not installed"; exit 77; }
	@$(MAKE) --no-print-directory -s fuzz >/dev/null
	@mkdir -p build-fuzz/corpus
	@build-fuzz/fuzz/virtq_fuzz -max_total_time=$${FUZZ_SECONDS:-10} -print_final_stats=1 \
		build-fuzz/corpus tests/fuzz/seeds 2>build-fuzz/fuzz-smoke.log \
		&& { grep -h 'stat::number_of_executed_units' build-fuzz/fuzz-smoke.log; \
		     echo "PASS: virtq_fuzz ($${FUZZ_SECONDS:-10} s, no crash)"; } \
		|| { tail -40 build-fuzz/fuzz-smoke.log; echo "FAIL: virtq_fuzz: see build-fuzz/fuzz-smoke.log"; exit 1; }

deps:
	@bash mk/deps.sh

images:
	@$(MAKE) --no-print-directory -f images/images.mk

# The README's test command: installs, builds (plain and ASan/UBSan), makes
# the images, runs every suite.
check:
	@bash mk/deps.sh
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory SAN=1 unit
	@$(MAKE) --no-print-directory images
	@bash tests/run

# The README's main command.
demo:
	@bash mk/deps.sh
	@$(MAKE) --no-print-directory all images
	@bash mk/demo.sh

# Benchmarks print ratios against the reference tools; VM runs go through the
# KVM-host harness (native KVM where it really works, else emulated), both
# in one KVM host. RUNS: boots per VMM (vm-boot); IO_RUNS: rounds of vm-io;
# FN_RUNS: cold invocations per kind (bench fn: container vs microVM);
# NET_RUNS: rounds of vpc-net.
bench: all images
	@mkdir -p $(BUILD)/bench
	tests/kvmhost/run --timeout 3600 -- sh -c '$(BUILD)/cloudlet bench vm-boot --runs $${RUNS:-10} \
		--json $(BUILD)/bench/vm-boot.json; a=$$?; $(BUILD)/cloudlet bench vm-io --runs $${IO_RUNS:-3} \
		--json $(BUILD)/bench/vm-io.json; b=$$?; $(BUILD)/cloudlet bench fn --runs $${FN_RUNS:-10} \
		--json $(BUILD)/bench/fn.json; c=$$?; $(BUILD)/cloudlet bench vpc-net --runs $${NET_RUNS:-3} \
		--json $(BUILD)/bench/vpc-net.json; d=$$?; [ $$a = 0 ] && [ $$b = 0 ] && [ $$c = 0 ] && [ $$d = 0 ]'

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# images/images.mk: the guest kernel and the one workload in its three
# packagings, all in $(BUILD)/images/. Run from the repository root, through
# `make images` (see images/README.md). A second run rebuilds nothing, and
# `make -q -f images/images.mk` exits 0 when everything is up to date.

BUILD ?= build
O := $(BUILD)/images
R := images/rootfs
# one fixed time for every file, inode and archive entry: reproducible images
SOURCE_DATE_EPOCH ?= 0
export SOURCE_DATE_EPOCH

OVERLAY := $(shell find $(R)/overlay -type f -o -type l)
BUSYBOX := /bin/busybox
# the kernel cache key includes the source package; a new one means a rebuild
KSRC := $(wildcard /usr/src/linux-source-6.1.tar.xz)

.PHONY: all
# no recipe, so `make -q` can answer 0
all: $(O)/bzImage $(O)/vmlinux $(O)/initramfs.cpio.gz $(O)/rootfs.ext4 $(O)/oci/index.json

# build.sh copies from its cache only what differs, so a cache hit can leave
# the outputs older than a touched fragment: touch them, or make would ask
# again every time.
$(O)/bzImage $(O)/vmlinux &: images/kernel/cloudlet.config images/kernel/build.sh $(KSRC)
	@images/kernel/build.sh $(O)
	@touch -c $(O)/bzImage $(O)/vmlinux

# the staged tree is a directory: a stamp beside it stands for it
$(O)/rootfs.stamp: $(R)/stage.sh $(R)/tools/clperf.c $(R)/tools/clfn.c include/cloudlet/fn_proto.h $(OVERLAY) $(BUSYBOX) images/images.mk
	@$(R)/stage.sh $(O)/rootfs
	@touch $@

$(O)/initramfs.cpio.gz: $(O)/rootfs.stamp $(R)/mkinitramfs.sh
	@$(R)/mkinitramfs.sh $(O)/rootfs $@

$(O)/rootfs.ext4: $(O)/rootfs.stamp $(R)/mkext4.sh
	@$(R)/mkext4.sh $(O)/rootfs $@ 64M

# mkoci.sh replaces the whole layout; index.json, written last, stands for it
$(O)/oci/index.json: $(O)/rootfs.stamp $(R)/mkoci.sh
	@$(R)/mkoci.sh $(O)/rootfs $(O)/oci

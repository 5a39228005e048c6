/* virtio-blk request parsing (vmm/devices/virtio_blk.c) on chains built by
 * hand, and --disk / --net option parsing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/virtio/devices.h"

static uint8_t mem[8192];
static struct virtq_chain c;

/* segs: lengths, negative = writable */
static void chain(int n, const int *lens)
{
	memset(&c, 0, sizeof(c));
	size_t off = 0;
	for (int i = 0; i < n; i++) {
		uint32_t len = (uint32_t)(lens[i] < 0 ? -lens[i] : lens[i]);
		c.seg[i] = (struct virtq_seg){ mem + off, off, len };
		if (lens[i] < 0) {
			c.nwrite++;
			c.write_len += len;
		} else {
			c.nread++;
			c.read_len += len;
		}
		off += len;
	}
}
static void header(uint32_t type, uint64_t sector)
{
	uint8_t h[16] = { 0 };
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	/* the header may be split across readable segments */
	size_t done = 0;
	for (unsigned i = 0; i < c.nread && done < 16; i++) {
		size_t take = c.seg[i].len < 16 - done ? c.seg[i].len : 16 - done;
		memcpy(c.seg[i].host, h + done, take);
		done += take;
	}
}

Test(blk_parse, read)
{
	chain(3, (int[]){ 16, -4096, -1 });
	header(VIRTIO_BLK_T_IN, 8);
	struct blk_req r;
	cr_assert_eq(virtio_blk_parse(&c, 100, false, &r), 0);
	cr_assert_eq(r.type, VIRTIO_BLK_T_IN);
	cr_assert_eq(r.status, VIRTIO_BLK_S_OK);
	cr_assert_eq(r.sector, 8);
	cr_assert_eq(r.data_off, 0);
	cr_assert_eq(r.data_len, 4096);
	cr_assert_eq(r.status_off, 4096);
}

Test(blk_parse, write_with_split_header_and_status_in_the_data_segment)
{
	chain(4, (int[]){ 10, 6, 1024, -1 });
	header(VIRTIO_BLK_T_OUT, 3);
	struct blk_req r;
	cr_assert_eq(virtio_blk_parse(&c, 5, false, &r), 0);
	cr_assert_eq(r.status, VIRTIO_BLK_S_OK);
	cr_assert_eq(r.sector, 3);
	cr_assert_eq(r.data_off, 16);
	cr_assert_eq(r.data_len, 1024);
	/* a read whose status byte shares the last segment with data */
	chain(2, (int[]){ 16, -513 });
	header(VIRTIO_BLK_T_IN, 0);
	cr_assert_eq(virtio_blk_parse(&c, 5, false, &r), 0);
	cr_assert_eq(r.data_len, 512);
	cr_assert_eq(r.status_off, 512);
}

Test(blk_parse, read_only_disk_refuses_writes)
{
	chain(3, (int[]){ 16, 512, -1 });
	header(VIRTIO_BLK_T_OUT, 0);
	struct blk_req r;
	cr_assert_eq(virtio_blk_parse(&c, 100, true, &r), 0);
	cr_assert_eq(r.status, VIRTIO_BLK_S_IOERR);
	header(VIRTIO_BLK_T_IN, 0);
	chain(3, (int[]){ 16, -512, -1 });
	header(VIRTIO_BLK_T_IN, 0);
	cr_assert_eq(virtio_blk_parse(&c, 100, true, &r), 0);
	cr_assert_eq(r.status, VIRTIO_BLK_S_OK, "reads are fine");
}

Test(blk_parse, out_of_range)
{
	struct blk_req r;
	chain(3, (int[]){ 16, -1024, -1 });
	header(VIRTIO_BLK_T_IN, 99);   /* 2 sectors from 99 on a 100-sector disk */
	cr_assert_eq(virtio_blk_parse(&c, 100, false, &r), 0);
	cr_assert_eq(r.status, VIRTIO_BLK_S_IOERR);
	header(VIRTIO_BLK_T_IN, 98);
	cr_assert_eq(virtio_blk_parse(&c, 100, false, &r), 0);
	cr_assert_eq(r.status, VIRTIO_BLK_S_OK, "the last two sectors");
	header(VIRTIO_BLK_T_IN, UINT64_MAX);   /* sector * 512 would overflow */
	cr_assert_eq(virtio_blk_parse(&c, 100, false, &r), 0);
	cr_assert_eq(r.status, VIRTIO_BLK_S_IOERR);
	header(VIRTIO_BLK_T_IN, UINT64_MAX / 512);
	cr_assert_eq(virtio_blk_parse(&c, UINT64_MAX / 512, false, &r), 0);
	cr_assert_eq(r.status, VIRTIO_BLK_S_IOERR);
}

Test(blk_parse, partial_sector)
{
	struct blk_req r;
	chain(3, (int[]){ 16, -100, -1 });
	header(VIRTIO_BLK_T_IN, 0);
	cr_assert_eq(virtio_blk_parse(&c, 100, false, &r), 0);
	cr_assert_eq(r.status, VIRTIO_BLK_S_IOERR);
}

Test(blk_parse, flush_get_id_unsupported)
{
	struct blk_req r;
	chain(2, (int[]){ 16, -1 });
	header(VIRTIO_BLK_T_FLUSH, 0);
	cr_assert_eq(virtio_blk_parse(&c, 100, true, &r), 0);
	cr_assert_eq(r.status, VIRTIO_BLK_S_OK);
	chain(3, (int[]){ 16, -20, -1 });
	header(VIRTIO_BLK_T_GET_ID, 0);
	cr_assert_eq(virtio_blk_parse(&c, 100, false, &r), 0);
	cr_assert_eq(r.status, VIRTIO_BLK_S_OK);
	cr_assert_eq(r.data_len, 20);
	chain(3, (int[]){ 16, -64, -1 });
	header(VIRTIO_BLK_T_GET_ID, 0);
	cr_assert_eq(virtio_blk_parse(&c, 100, false, &r), 0);
	cr_assert_eq(r.data_len, 20, "never more than 20 bytes");
	header(11, 0);   /* VIRTIO_BLK_T_DISCARD: not offered */
	cr_assert_eq(virtio_blk_parse(&c, 100, false, &r), 0);
	cr_assert_eq(r.status, VIRTIO_BLK_S_UNSUPP);
}

Test(blk_parse, no_room_for_header_or_status)
{
	struct blk_req r;
	chain(2, (int[]){ 15, -1 });
	cr_assert_eq(virtio_blk_parse(&c, 100, false, &r), -EINVAL);
	chain(2, (int[]){ 16, 512 });
	header(VIRTIO_BLK_T_OUT, 0);
	cr_assert_eq(virtio_blk_parse(&c, 100, false, &r), -EINVAL, "no writable status byte");
	chain(0, NULL);
	cr_assert_eq(virtio_blk_parse(&c, 100, false, &r), -EINVAL);
}

Test(vm_options, disk_spec)
{
	struct vmm_disk d;
	struct cl_error err;
	char *buf;
	cr_assert_eq(vmm_disk_parse("a.img", &d, &buf, &err), 0);
	cr_assert_str_eq(d.path, "a.img");
	cr_assert_not(d.ro);
	free(buf);
	cr_assert_eq(vmm_disk_parse("/x/a,b.img,ro", &d, &buf, &err), 0);
	cr_assert_str_eq(d.path, "/x/a,b.img");
	cr_assert(d.ro);
	free(buf);
	cr_assert_eq(vmm_disk_parse(",ro", &d, &buf, &err), -EINVAL);
	cr_assert_eq(vmm_disk_parse("", &d, &buf, &err), -EINVAL);
}

Test(vm_options, net_spec)
{
	struct vmm_net n;
	struct cl_error err;
	char *buf;
	cr_assert_eq(vmm_net_parse("tap=tap0", &n, &buf, &err), 0);
	cr_assert_str_eq(n.tap, "tap0");
	free(buf);
	cr_assert_eq(vmm_net_parse("tap0", &n, &buf, &err), -EINVAL);
	cr_assert_eq(vmm_net_parse("tap=", &n, &buf, &err), -EINVAL);
	cr_assert_eq(vmm_net_parse("tap=0123456789abcdef", &n, &buf, &err), -EINVAL, "16 chars");
	cr_assert_eq(vmm_net_parse("tap=a/b", &n, &buf, &err), -EINVAL);
	cr_assert_eq(vmm_net_parse("tap=a b", &n, &buf, &err), -EINVAL);
	cr_assert_eq(vmm_net_parse("tap=..", &n, &buf, &err), -EINVAL);
}

Test(vm_options, config_check_devices)
{
	struct cl_error err;
	struct vmm_net nets[2] = { { .tap = "t0" }, { .tap = "t0" } };
	struct vmm_config c = { .kernel = "k", .mem_size = 64 << 20, .ncpus = 1, .nets = nets, .nnets = 2 };
	cr_assert_eq(vmm_config_check(&c, 0, 4, &err), -EINVAL);
	cr_assert(strstr(err.msg, "given twice"), "%s", err.msg);
	nets[1].tap = "t1";
	cr_assert_eq(vmm_config_check(&c, 0, 4, &err), 0);
	memcpy(nets[0].mac, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(nets[1].mac, "\x02\x00\x00\x00\x00\x01", 6);
	cr_assert_eq(vmm_config_check(&c, 0, 4, &err), -EINVAL);
	cr_assert(strstr(err.msg, "same MAC"), "%s", err.msg);
	nets[1].mac[0] = 0x03;
	cr_assert_eq(vmm_config_check(&c, 0, 4, &err), -EINVAL, "multicast MAC");
	c.nnets = VMM_MAX_NETS + 1;
	cr_assert_eq(vmm_config_check(&c, 0, 4, &err), -EINVAL);
	c.nnets = 0;
	c.ndisks = VMM_MAX_DISKS + 1;
	cr_assert_eq(vmm_config_check(&c, 0, 4, &err), -EINVAL);
}

/* ---- the whole device on a real file, driven through its transport ---- */
#define RAM   (1u << 20)
#define DESC  0x1000u
#define AVAIL 0x2000u
#define USED  0x3000u
#define BUF   0x10000u

static uint8_t *ram;
static struct guest_mem gm;
static char path[64];
static struct vdev *dev;
static uint16_t avail_idx;

static void dev_up(bool ro)
{
	ram = aligned_alloc(4096, RAM);
	memset(ram, 0, RAM);
	gmem_layout(&gm, ram, RAM);
	snprintf(path, sizeof(path), "/tmp/cloudlet-blk-test.XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	uint8_t sector[512];
	for (int s = 0; s < 8; s++) {
		memset(sector, 'A' + s, sizeof(sector));
		cr_assert_eq(write(fd, sector, sizeof(sector)), 512);
	}
	close(fd);
	struct vmm_disk d = { path, ro };
	struct cl_error err;
	cr_assert_eq(virtio_blk_open(&dev, &d, 0, &err), 0, "%s", err.msg);
	dev->t.mem = &gm;
	struct virtio_mmio *t = &dev->t;
	virtio_mmio_write(t, VIRTIO_MMIO_STATUS, 1, 4);
	virtio_mmio_write(t, VIRTIO_MMIO_STATUS, 3, 4);
	virtio_mmio_write(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1, 4);
	virtio_mmio_write(t, VIRTIO_MMIO_DRIVER_FEATURES, 1, 4);   /* VERSION_1 */
	virtio_mmio_write(t, VIRTIO_MMIO_STATUS, 0xb, 4);
	virtio_mmio_write(t, VIRTIO_MMIO_QUEUE_NUM, 8, 4);
	virtio_mmio_write(t, VIRTIO_MMIO_QUEUE_DESC_LOW, DESC, 4);
	virtio_mmio_write(t, VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL, 4);
	virtio_mmio_write(t, VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED, 4);
	virtio_mmio_write(t, VIRTIO_MMIO_QUEUE_READY, 1, 4);
	virtio_mmio_write(t, VIRTIO_MMIO_STATUS, 0xf, 4);
	cr_assert_eq(virtio_mmio_read(t, VIRTIO_MMIO_STATUS, 4), 0xf);
	avail_idx = 0;
}
static void dev_rw(void)
{
	dev_up(false);
}
static void dev_ro(void)
{
	dev_up(true);
}
static void dev_down(void)
{
	vdev_free(dev);
	unlink(path);
	free(ram);
}
TestSuite(blk_device, .fini = dev_down);

static void put_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };
	memcpy(ram + DESC + 16 * i, &d, 16);
}
/* one request: header at BUF, data at BUF+0x1000 (len, writable if in), status at BUF+0x100 */
static uint8_t request(uint32_t type, uint64_t sector, uint32_t len, bool in, uint32_t *used_len)
{
	uint8_t h[16] = { 0 };
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	memcpy(ram + BUF, h, 16);
	ram[BUF + 0x100] = 0xee;
	put_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, len ? 1 : 2);
	put_desc(1, BUF + 0x1000, len, VIRTQ_DESC_F_NEXT | (in ? VIRTQ_DESC_F_WRITE : 0), 2);
	put_desc(2, BUF + 0x100, 1, VIRTQ_DESC_F_WRITE, 0);
	uint16_t head = 0;
	memcpy(ram + AVAIL + 4 + 2 * (avail_idx % 8), &head, 2);
	avail_idx++;
	memcpy(ram + AVAIL + 2, &avail_idx, 2);
	virtio_mmio_notify(&dev->t, 0);
	uint16_t used;
	memcpy(&used, ram + USED + 2, 2);
	cr_assert_eq(used, avail_idx, "request completed");
	memcpy(used_len, ram + USED + 4 + 8 * ((avail_idx - 1) % 8) + 4, 4);
	return ram[BUF + 0x100];
}

Test(blk_device, read_write_flush_get_id, .init = dev_rw)
{
	uint32_t ul;
	cr_assert_eq(virtio_mmio_read(&dev->t, 0x100, 4), 8, "capacity: 8 sectors");
	cr_assert_eq(request(VIRTIO_BLK_T_IN, 2, 1024, true, &ul), VIRTIO_BLK_S_OK);
	cr_assert_eq(ul, 1025);
	cr_assert_eq(ram[BUF + 0x1000], 'C');
	cr_assert_eq(ram[BUF + 0x1000 + 1023], 'D');
	memset(ram + BUF + 0x1000, 'z', 512);
	cr_assert_eq(request(VIRTIO_BLK_T_OUT, 7, 512, false, &ul), VIRTIO_BLK_S_OK);
	cr_assert_eq(ul, 1);
	cr_assert_eq(request(VIRTIO_BLK_T_FLUSH, 0, 0, false, &ul), VIRTIO_BLK_S_OK);
	char buf[512];
	int fd = open(path, O_RDONLY);
	cr_assert_eq(pread(fd, buf, 512, 7 * 512), 512);
	close(fd);
	cr_assert_eq(buf[0], 'z');
	cr_assert_eq(buf[511], 'z');
	cr_assert_eq(request(VIRTIO_BLK_T_GET_ID, 0, 20, true, &ul), VIRTIO_BLK_S_OK);
	cr_assert_eq(ul, 21);
	cr_assert_eq(memcmp(ram + BUF + 0x1000, "cloudlet-blk-test", 17), 0);
	cr_assert_eq(request(VIRTIO_BLK_T_IN, 7, 1024, true, &ul), VIRTIO_BLK_S_IOERR, "past the end");
	cr_assert_eq(request(99, 0, 0, false, &ul), VIRTIO_BLK_S_UNSUPP);
	cr_assert_eq(virtio_mmio_read(&dev->t, VIRTIO_MMIO_STATUS, 4), 0xf, "still running");
}

Test(blk_device, read_only_disk_fails_writes_with_ioerr, .init = dev_ro)
{
	uint32_t ul;
	cr_assert(virtio_mmio_read(&dev->t, VIRTIO_MMIO_DEVICE_FEATURES, 4) & (1u << VIRTIO_BLK_F_RO));
	memset(ram + BUF + 0x1000, 'z', 512);
	cr_assert_eq(request(VIRTIO_BLK_T_OUT, 0, 512, false, &ul), VIRTIO_BLK_S_IOERR);
	char buf[1];
	int fd = open(path, O_RDONLY);
	cr_assert_eq(pread(fd, buf, 1, 0), 1);
	close(fd);
	cr_assert_eq(buf[0], 'A', "the file is unchanged");
	cr_assert_eq(request(VIRTIO_BLK_T_IN, 0, 512, true, &ul), VIRTIO_BLK_S_OK);
	cr_assert_eq(request(VIRTIO_BLK_T_FLUSH, 0, 0, false, &ul), VIRTIO_BLK_S_OK);
}

Test(blk_device, bad_chain_needs_reset, .init = dev_rw)
{
	put_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 0);   /* loops on itself */
	uint16_t head = 0;
	memcpy(ram + AVAIL + 4, &head, 2);
	avail_idx = 1;
	memcpy(ram + AVAIL + 2, &avail_idx, 2);
	virtio_mmio_notify(&dev->t, 0);
	cr_assert(virtio_mmio_read(&dev->t, VIRTIO_MMIO_STATUS, 4) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

Test(blk_device, open_errors)
{
	struct vmm_disk d = { "/nonexistent/disk.img", 0 };
	struct cl_error err;
	struct vdev *x;
	cr_assert_eq(virtio_blk_open(&x, &d, 0, &err), -ENOENT);
	cr_assert(strstr(err.msg, "/nonexistent/disk.img"), "%s", err.msg);
	d.path = "/tmp";
	cr_assert_eq(virtio_blk_open(&x, &d, 0, &err), -EISDIR);
	d.path = "/dev/null";
	d.ro = 1;
	cr_assert_eq(virtio_blk_open(&x, &d, 0, &err), -EINVAL, "a character device");
	/* a disk open read-write is locked against a second writer */
	char p[] = "/tmp/cloudlet-blk-lock.XXXXXX";
	int fd = mkstemp(p);
	close(fd);
	struct vdev *a, *b;
	struct vmm_disk dd = { p, 0 };
	cr_assert_eq(virtio_blk_open(&a, &dd, 0, &err), 0);
	cr_assert_eq(virtio_blk_open(&b, &dd, 1, &err), -EBUSY);
	cr_assert(strstr(err.msg, "in use"), "%s", err.msg);
	vdev_free(a);
	unlink(p);
}

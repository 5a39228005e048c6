/* virtio block device (virtio 1.2 §5.2) on a raw file or block device:
 * read, write, flush (fdatasync), get-id; a read-only disk offers
 * VIRTIO_BLK_F_RO and fails writes with VIRTIO_BLK_S_IOERR. Requests run
 * on the event loop thread, straight between the file and guest RAM
 * (preadv/pwritev on the chain's validated buffers). */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../virtio/devices.h"

/* §5.2.4: configuration space up to blk_size */
#define CFG_CAPACITY 0
#define CFG_SIZE_MAX 8
#define CFG_SEG_MAX  12
#define CFG_LEN      24

struct virtio_blk {
	struct vdev d;             /* first: the transport's dev pointer is this */
	int fd;
	bool ro;
	uint64_t sectors;
	dev_t st_dev;
	ino_t st_ino;
	char id[VIRTIO_BLK_ID_BYTES];
	uint8_t config[CFG_LEN];
	struct virtq_chain chain;
	struct iovec iov[VIRTQ_MAX_SEGS];
};

int virtio_blk_parse(const struct virtq_chain *c, uint64_t sectors, bool ro, struct blk_req *r)
{
	uint8_t hdr[16];
	memset(r, 0, sizeof(*r));
	/* §5.2.6: le32 type, le32 reserved, le64 sector, data, u8 status; the
	 * device assumes no particular framing (§2.6.4) */
	if (c->read_len < sizeof(hdr) || c->write_len < 1)
		return -EINVAL;
	virtq_read(c, 0, hdr, sizeof(hdr));
	uint32_t type;
	uint64_t sector;
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	r->type = le32toh(type);
	r->sector = le64toh(sector);
	r->status_off = c->write_len - 1;
	r->status = VIRTIO_BLK_S_OK;
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		r->data_off = 0;
		r->data_len = c->write_len - 1;
		break;
	case VIRTIO_BLK_T_OUT:
		r->data_off = sizeof(hdr);
		r->data_len = c->read_len - sizeof(hdr);
		if (ro) {
			r->status = VIRTIO_BLK_S_IOERR;   /* §5.2.6.2 with VIRTIO_BLK_F_RO */
			return 0;
		}
		break;
	case VIRTIO_BLK_T_FLUSH:
		return 0;
	case VIRTIO_BLK_T_GET_ID:
		/* §5.2.6: up to 20 bytes, NUL-padded, no terminator required */
		r->data_len = c->write_len - 1 < VIRTIO_BLK_ID_BYTES ? c->write_len - 1
								 : VIRTIO_BLK_ID_BYTES;
		return 0;
	default:
		r->status = VIRTIO_BLK_S_UNSUPP;
		return 0;
	}
	/* IN/OUT: whole sectors, wholly inside the disk */
	if (r->data_len % VIRTIO_BLK_SECTOR || r->sector > sectors ||
	    r->data_len / VIRTIO_BLK_SECTOR > sectors - r->sector)
		r->status = VIRTIO_BLK_S_IOERR;
	return 0;
}

/* preadv/pwritev until done; a short transfer at the end of the file is an error */
static int rw_full(int fd, struct iovec *iov, int n, uint64_t off, bool write)
{
	while (n > 0) {
		ssize_t k = write ? pwritev(fd, iov, n, (off_t)off) : preadv(fd, iov, n, (off_t)off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EIO;
		off += (uint64_t)k;
		while (n > 0 && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	return 0;
}

/* Execute one request; returns the bytes written into the chain. */
static uint32_t blk_do(struct virtio_blk *b, const struct virtq_chain *c)
{
	struct blk_req req;
	if (virtio_blk_parse(c, b->sectors, b->ro, &req) < 0)
		return 0;   /* no status byte to report in: the request comes back empty */
	uint8_t st = req.status;
	uint64_t written = 0;
	int n;
	if (st == VIRTIO_BLK_S_OK) {
		switch (req.type) {
		case VIRTIO_BLK_T_IN:
		case VIRTIO_BLK_T_OUT: {
			bool out = req.type == VIRTIO_BLK_T_OUT;
			n = virtq_iov(c, !out, req.data_off, req.data_len, b->iov, VIRTQ_MAX_SEGS);
			if (n < 0 || rw_full(b->fd, b->iov, n, req.sector * VIRTIO_BLK_SECTOR, out) < 0)
				st = VIRTIO_BLK_S_IOERR;
			else if (!out)
				written = req.data_len;
			break;
		}
		case VIRTIO_BLK_T_FLUSH:
			if (!b->ro && fdatasync(b->fd) < 0)
				st = VIRTIO_BLK_S_IOERR;
			break;
		case VIRTIO_BLK_T_GET_ID:
			written = virtq_write(c, 0, b->id, req.data_len);
			break;
		}
	}
	virtq_write(c, req.status_off, &st, 1);
	return (uint32_t)(written + 1);
}

static uint32_t blk_handle(void *dev, const struct virtq_chain *c)
{
	return blk_do(dev, c);
}

static void blk_notify(void *dev, struct virtio_mmio *t, unsigned q)
{
	struct virtio_blk *b = dev;
	virtio_mmio_serve(t, q, &b->chain, blk_handle, b);
}

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nqueues = 1,
	.notify = blk_notify,
};

static void blk_free(struct vdev *d)
{
	struct virtio_blk *b = (struct virtio_blk *)d;
	if (b->fd >= 0)
		close(b->fd);
	free(b);
}

void virtio_blk_stat(const struct vdev *d, struct stat *st)
{
	const struct virtio_blk *b = (const void *)d;
	st->st_dev = b->st_dev;
	st->st_ino = b->st_ino;
}

int virtio_blk_open(struct vdev **out, const struct vmm_disk *disk, unsigned index,
		    struct cl_error *err)
{
	const char *path = disk->path;
	struct stat st;
	int r;
	struct virtio_blk *b = calloc(1, sizeof(*b));
	if (!b)
		return cl_err(err, ENOMEM, "--disk %s: out of memory", path);
	b->ro = disk->ro;
	b->fd = open(path, (b->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0) {
		r = cl_err_sys(err, errno, "--disk %s%s", path, b->ro ? "" : " (read-write)");
		goto fail;
	}
	if (fstat(b->fd, &st) < 0) {
		r = cl_err_sys(err, errno, "--disk %s", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		r = cl_err(err, EINVAL, "--disk %s: not a regular file or block device", path);
		goto fail;
	}
	/* two VMs writing one file corrupt it: a writer excludes everyone */
	if (flock(b->fd, (b->ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK
			? cl_err(err, EBUSY, "--disk %s: in use by another VM", path)
			: cl_err_sys(err, errno, "--disk %s: flock", path);
		goto fail;
	}
	off_t size = lseek(b->fd, 0, SEEK_END);
	if (size < 0) {
		r = cl_err_sys(err, errno, "--disk %s: size", path);
		goto fail;
	}
	b->st_dev = st.st_dev;
	b->st_ino = st.st_ino;
	b->sectors = (uint64_t)size / VIRTIO_BLK_SECTOR;
	/* the id (VIRTIO_BLK_T_GET_ID, the guest's /sys/block/vdX/serial): the file name */
	const char *base = strrchr(path, '/');
	base = base && base[1] ? base + 1 : path;
	memcpy(b->id, base, strnlen(base, sizeof(b->id)));
	uint64_t cap = htole64(b->sectors);
	uint32_t size_max = htole32(VIRTIO_BLK_SIZE_MAX), seg_max = htole32(VIRTIO_BLK_SEG_MAX);
	memcpy(b->config + CFG_CAPACITY, &cap, 8);
	memcpy(b->config + CFG_SIZE_MAX, &size_max, 4);
	memcpy(b->config + CFG_SEG_MAX, &seg_max, 4);
	uint64_t features = VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
			    VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
			    (b->ro ? VIRTIO_BIT(VIRTIO_BLK_F_RO) : 0);
	vdev_init(&b->d, &blk_ops, features, b->config, CFG_LEN);
	b->d.free = blk_free;
	b->d.host_fd = b->fd;
	snprintf(b->d.name, sizeof(b->d.name), "vd%c", 'a' + (int)(index % 26));
	*out = &b->d;
	return 0;
fail:
	if (b->fd >= 0)
		close(b->fd);
	free(b);
	return r;
}

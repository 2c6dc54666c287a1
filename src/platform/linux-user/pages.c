/* SPDX-License-Identifier: MIT */
/* The other host pages userspace can see on Linux (<vtime/linux.h>): the
 * Hyper-V reference TSC page the kernel maps into every process beside the
 * pvclock page, and VMClock's /dev/vmclockN. Everything here is
 * async-signal-safe (system calls and the pipe probe: lazy initialisation
 * may run in a signal handler) and returns by the library's rule. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vtime/error.h>
#include <vtime/hyperv.h>
#include <vtime/linux.h>
#include <vtime/vmclock.h>

#include "vt_math.h"
#include "vt_pages.h"
#include "vt_user.h"

#define PAGE 4096u

/* ---- the Hyper-V reference TSC page ---- */

static int hv_fail(struct vtime_hv_host_page *hp, int err, const char *a, const char *b)
{
	hp->err = err;
	vt_user_strlcpy(hp->why, a, sizeof hp->why);
	if (b)
		vt_user_strlcat(hp->why, b, sizeof hp->why);
	return err;
}

uint64_t vt_hv_scale_hz(uint64_t tsc_scale)
{
	struct vt_u128 num;
	uint64_t q;

	/* 100 ns units per tick in 0.64 fixed point: Hz = 10^7 * 2^64 / scale */
	if (tsc_scale <= VTIME_HV_REF_HZ)
		return 0; /* beyond 2^64 Hz: not a TSC */
	num.hi = VTIME_HV_REF_HZ;
	num.lo = 0;
	if (!vt_div128(num, tsc_scale, &q, (uint64_t *)0))
		return 0;
	return q;
}

int vt_hv_page_probe(const volatile struct vtime_hv_tsc_page *page, struct vtime_hv_host_page *hp)
{
	struct vtime_hv_tsc_reading r;
	int err = vtime_hv_tsc_page_snapshot(page, 0, &r);

	hp->page = page;
	hp->addr = (uintptr_t)page;
	if (err == VTIME_ENOTVALID)
		return hv_fail(hp, err, hp->mapping[0] ? hp->mapping : "the page",
			       ": the Hyper-V reference TSC page is invalid (sequence 0: the host offers no valid page "
			       "now, and the kernel reads HV_X64_MSR_TIME_REF_COUNT)");
	if (err)
		return hv_fail(hp, err, hp->mapping[0] ? hp->mapping : "the page",
			       ": the Hyper-V reference TSC page's sequence kept changing");
	hp->sequence = r.sequence;
	hp->tsc_scale = r.tsc_scale;
	hp->tsc_offset = r.tsc_offset;
	hp->tsc_hz = vt_hv_scale_hz(r.tsc_scale);
	hp->err = 0;
	return 0;
}

int vtime_hv_host_page_find(struct vtime_hv_host_page *hp)
{
	unsigned char copy[64];
	uintptr_t addr;
	int err;

	if (!hp)
		return VTIME_EINVAL;
	memset(hp, 0, sizeof *hp);
	hp->mapping = "";
#if !defined(__x86_64__) && !defined(__i386__)
	return hv_fail(hp, VTIME_ENOTSUP, "the Hyper-V reference TSC page exists only on x86 guests", NULL);
#endif
	err = vt_user_vvar_page(1, 2, &addr, &hp->mapping); /* [vvar_vclock] page 1, pre-6.13 [vvar] page 2 */
	if (err == VTIME_EIO)
		return hv_fail(hp, VTIME_EIO, "cannot read /proc/self/maps", NULL);
	if (err)
		return hv_fail(hp, VTIME_ENODEV,
			       "no two-page [vvar_vclock] or multi-page [vvar] mapping in /proc/self/maps "
			       "(no vDSO, or a kernel that maps no Hyper-V page)", NULL);
	err = vt_user_safe_copy(copy, addr, sizeof copy);
	if (err == VTIME_ENODEV)
		return hv_fail(hp, VTIME_ENODEV, hp->mapping,
			       ": the Hyper-V page is not backed (a read would raise SIGBUS): the kernel never used "
			       "hyperv_clocksource_tsc_page (not a Hyper-V guest)");
	if (err)
		return hv_fail(hp, VTIME_EIO, "could not copy the Hyper-V page through a pipe", NULL);
	/* backed: the kernel maps it only for its own Hyper-V clocksource,
	 * so it can be read in place from now on */
	return vt_hv_page_probe((const volatile struct vtime_hv_tsc_page *)addr, hp);
}

/* ---- VMClock: /dev/vmclockN ---- */

static int dev_fail(struct vtime_vmclock_dev *d, int err, const char *a, const char *b)
{
	d->err = err;
	d->clk = NULL;
	d->size = 0;
	d->fd = -1;
	vt_user_strlcpy(d->why, a, sizeof d->why);
	if (b)
		vt_user_strlcat(d->why, b, sizeof d->why);
	return err;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Why there is no device: what the firmware offers and whether a driver
 * took it (ACPI: Linux names the device after its _HID). */
void vt_vmclock_absent_why(char *why, size_t cap, const char *path)
{
	vt_user_strlcpy(why, "no ", cap);
	vt_user_strlcat(why, path, cap);
	if (!exists("/sys/bus/acpi/devices/AMZNC10C:00")) {
		vt_user_strlcat(why, " and no ACPI VMClock device (AMZNC10C): the host offers no VMClock "
				     "(QEMU 9.2+ -device vmclock, Firecracker and EC2 do)", cap);
		return;
	}
	if (exists("/sys/bus/platform/devices/AMZNC10C:00/driver"))
		vt_user_strlcat(why, ": the host offers a VMClock (ACPI AMZNC10C:00) and a driver is bound to it, "
				     "but it made no device (a region smaller than a page?)", cap);
	else
		vt_user_strlcat(why, ": the host offers a VMClock (ACPI AMZNC10C:00) but no driver is bound to it "
				     "(this kernel lacks ptp_vmclock: Linux 6.13+, CONFIG_PTP_1588_CLOCK_VMCLOCK)", cap);
}

static const char *errno_name(int e)
{
	switch (e) {
	case EACCES:
		return "permission denied (EACCES)";
	case EPERM:
		return "not permitted (EPERM)";
	case ENODEV:
		return "no such device (ENODEV)";
	case ENXIO:
		return "no such device (ENXIO)";
	case EINVAL:
		return "invalid argument (EINVAL)";
	case ENOMEM:
		return "out of memory (ENOMEM)";
	case EMFILE:
	case ENFILE:
		return "too many open files";
	default:
		return "an error";
	}
}

static size_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);
	return p > 0 ? (size_t)p : PAGE;
}

int vt_vmclock_map(struct vtime_vmclock_dev *d, const char *path, bool keep_fd)
{
	struct stat st;
	size_t len = page_size();
	void *p;
	int fd, e, err, saved = errno;

	if (!d)
		return VTIME_EINVAL;
	memset(d, 0, sizeof *d);
	d->fd = -1;
	if (!path)
		path = VTIME_VMCLOCK_DEV_PATH;
	if (strlen(path) >= sizeof d->path)
		return dev_fail(d, VTIME_EINVAL, "the device path is too long (64 bytes or more)", NULL);
	vt_user_strlcpy(d->path, path, sizeof d->path);
	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		e = errno;
		errno = saved;
		if (e == ENOENT || e == ENODEV || e == ENXIO) {
			d->err = VTIME_ENODEV;
			vt_vmclock_absent_why(d->why, sizeof d->why, path);
			return VTIME_ENODEV;
		}
		dev_fail(d, VTIME_EIO, path, ": open failed: ");
		vt_user_strlcat(d->why, errno_name(e), sizeof d->why);
		return VTIME_EIO;
	}
	if (fstat(fd, &st) != 0 || (!S_ISCHR(st.st_mode) && !S_ISREG(st.st_mode))) {
		close(fd);
		errno = saved;
		return dev_fail(d, VTIME_ENODEV, path, ": not a device (nor a file standing in for one)");
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < len) {
		close(fd);
		errno = saved;
		return dev_fail(d, VTIME_EPROTO, path, ": shorter than a page");
	}
	/* one page at offset 0, read-only: all the driver allows */
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		e = errno;
		close(fd);
		errno = saved;
		dev_fail(d, VTIME_EIO, path, ": mmap of one page read-only failed: ");
		vt_user_strlcat(d->why, errno_name(e), sizeof d->why);
		return VTIME_EIO;
	}
	err = vtime_vmclock_check((const volatile struct vtime_vmclock_abi *)p, 0);
	if (err) {
		munmap(p, len);
		close(fd);
		errno = saved;
		return dev_fail(d, err, path,
				err == VTIME_ENODEV   ? ": no VMClock magic (\"VCLK\") at the start of the page"
				: err == VTIME_ENOTSUP ? ": a VMClock version vtime does not know"
						       : ": the VMClock size field is below the structure's 0x70 bytes");
	}
	if (!keep_fd) {
		close(fd); /* the mapping stays valid without the descriptor */
		fd = -1;
	}
	d->clk = (const volatile struct vtime_vmclock_abi *)p;
	d->size = len;
	d->fd = fd;
	d->err = 0;
	errno = saved;
	return 0;
}

int vtime_vmclock_dev_open(struct vtime_vmclock_dev *dev, const char *path)
{
	return vt_vmclock_map(dev, path, true);
}

int vtime_vmclock_dev_read(const struct vtime_vmclock_dev *dev, struct vtime_vmclock_abi *out)
{
	/* 8-byte aligned: the copy is read as the page it came from */
	uint64_t buf[VTIME_VMCLOCK_ABI_SIZE / 8];
	ssize_t n;
	int saved = errno, err;

	if (!dev || !out)
		return VTIME_EINVAL;
	if (dev->fd < 0)
		return VTIME_ENODEV;
	do
		n = pread(dev->fd, buf, sizeof buf, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == ESPIPE && lseek(dev->fd, 0, SEEK_SET) == 0) {
		do
			n = read(dev->fd, buf, sizeof buf);
		while (n < 0 && errno == EINTR);
	}
	if (n < 0) {
		err = errno == ETIMEDOUT ? VTIME_EAGAIN : VTIME_EIO;
		errno = saved;
		return err;
	}
	errno = saved;
	if ((size_t)n < sizeof buf)
		return VTIME_EPROTO;
	/* the copy is little-endian and seq-consistent (the driver's seqlock):
	 * the core's snapshot converts it, and a torn one stays odd */
	return vtime_vmclock_snapshot((const volatile struct vtime_vmclock_abi *)(void *)buf, 1, out);
}

int vtime_vmclock_dev_wait(const struct vtime_vmclock_dev *dev, int timeout_ms)
{
	struct pollfd pf;
	int r, saved = errno;

	if (!dev)
		return VTIME_EINVAL;
	if (dev->fd < 0)
		return VTIME_ENODEV;
	pf.fd = dev->fd;
	/* POLLOUT too: the driver never reports it, the default mask does */
	pf.events = POLLIN | POLLOUT;
	pf.revents = 0;
	do
		r = poll(&pf, 1, timeout_ms < 0 ? -1 : timeout_ms);
	while (r < 0 && errno == EINTR);
	errno = saved;
	if (r < 0)
		return VTIME_EIO;
	if (r == 0)
		return VTIME_EAGAIN;
	/* the driver answers POLLHUP when the host sends no notifications; a
	 * driver without poll support (and a plain file) gets the default
	 * mask, which says writable too */
	if (pf.revents & (POLLHUP | POLLOUT))
		return VTIME_ENOTSUP;
	if (pf.revents & (POLLERR | POLLNVAL))
		return VTIME_EIO;
	return (pf.revents & POLLIN) ? 0 : VTIME_EAGAIN;
}

int vtime_vmclock_dev_close(struct vtime_vmclock_dev *dev)
{
	if (!dev)
		return VTIME_EINVAL;
	if (dev->clk)
		munmap((void *)(uintptr_t)dev->clk, dev->size);
	if (dev->fd >= 0)
		close(dev->fd);
	dev->clk = NULL;
	dev->size = 0;
	dev->fd = -1;
	return 0;
}

/* SPDX-License-Identifier: MIT */
#include "vt_user.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <vtime/error.h>

int vt_user_read_file(const char *path, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	int fd;

	if (cap == 0)
		return VTIME_EINVAL;
	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return VTIME_EIO;
	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* One maps line: "start-end perms offset dev inode   name". */
static bool maps_line(char *line, bool (*fn)(uintptr_t, uintptr_t, const char *, void *), void *arg)
{
	uintptr_t start = 0, end = 0;
	char *p = line;
	int field = 0, h;

	while ((h = hexval(*p)) >= 0)
		start = start * 16 + (uintptr_t)h, p++;
	if (*p++ != '-')
		return false;
	while ((h = hexval(*p)) >= 0)
		end = end * 16 + (uintptr_t)h, p++;
	/* skip perms, offset, dev, inode */
	while (*p && field < 4) {
		while (*p == ' ')
			p++;
		while (*p && *p != ' ')
			p++;
		field++;
	}
	while (*p == ' ')
		p++;
	if (!*p)
		return false;
	return fn(start, end, p, arg);
}

int vt_user_maps(bool (*fn)(uintptr_t, uintptr_t, const char *, void *), void *arg)
{
	char buf[512], line[256]; /* small: lazy init may run on a signal stack */
	size_t ll = 0;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	bool stop = false;

	if (fd < 0)
		return VTIME_EIO;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r && !stop; i++) {
			if (buf[i] != '\n') {
				if (ll + 1 < sizeof line)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = '\0';
			ll = 0;
			stop = maps_line(line, fn, arg);
		}
		if (stop)
			break;
	}
	close(fd);
	return 0;
}

struct vt_vvar_hit {
	uintptr_t vclock, vclock_end; /* [vvar_vclock], Linux >= 6.13 */
	uintptr_t vvar, vvar_end;     /* [vvar] before */
};

static bool vvar_cb(uintptr_t start, uintptr_t end, const char *name, void *arg)
{
	struct vt_vvar_hit *h = arg;

	if (strcmp(name, "[vvar_vclock]") == 0) {
		h->vclock = start;
		h->vclock_end = end;
	} else if (strcmp(name, "[vvar]") == 0) {
		h->vvar = start;
		h->vvar_end = end;
	}
	return false;
}

int vt_user_vvar_page(unsigned vclock_idx, unsigned vvar_idx, uintptr_t *addr, const char **mapping)
{
	const uintptr_t page = 4096u; /* the vvar layout's unit on x86 */
	struct vt_vvar_hit h = { 0, 0, 0, 0 };

	if (vt_user_maps(vvar_cb, &h) != 0)
		return VTIME_EIO;
	if (h.vclock && h.vclock_end - h.vclock >= (vclock_idx + 1u) * page) {
		*addr = h.vclock + vclock_idx * page;
		*mapping = "[vvar_vclock]";
		return 0;
	}
	if (!h.vclock && h.vvar && h.vvar_end - h.vvar >= (vvar_idx + 1u) * page) {
		*addr = h.vvar + vvar_idx * page;
		*mapping = "[vvar]";
		return 0;
	}
	return VTIME_ENODEV;
}

int vt_user_safe_copy(void *dst, uintptr_t addr, size_t len)
{
	int p[2], err = 0;
	size_t got = 0;
	ssize_t w;

	if (len > 4096)
		return VTIME_EINVAL; /* PIPE_BUF-sized writes are all or nothing */
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0)
		return VTIME_EIO;
	do
		w = write(p[1], (const void *)addr, len);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		err = errno == EFAULT ? VTIME_ENODEV : VTIME_EIO;
	else if ((size_t)w != len)
		err = VTIME_EIO;
	while (!err && got < len) {
		ssize_t r = read(p[0], (char *)dst + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = VTIME_EIO;
			break;
		}
		got += (size_t)r;
	}
	close(p[0]);
	close(p[1]);
	return err;
}

size_t vt_user_strlcpy(char *dst, const char *src, size_t cap)
{
	size_t n = 0;

	if (cap == 0)
		return 0;
	while (src[n] && n + 1 < cap) {
		dst[n] = src[n];
		n++;
	}
	dst[n] = '\0';
	return n;
}

size_t vt_user_strlcat(char *dst, const char *src, size_t cap)
{
	size_t n = 0;

	while (n < cap && dst[n])
		n++;
	if (n == cap)
		return n;
	return n + vt_user_strlcpy(dst + n, src, cap - n);
}

size_t vt_user_strlcat_u64(char *dst, uint64_t v, size_t cap)
{
	char tmp[24];
	int i = (int)sizeof tmp - 1;

	tmp[i] = '\0';
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return vt_user_strlcat(dst, tmp + i, cap);
}

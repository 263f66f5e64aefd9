/* SPDX-License-Identifier: MIT */
/* Shim for the Windows build: struct iovec and writev(), which mingw lacks. */
#ifndef ECA_COMPAT_SYS_UIO_H
#define ECA_COMPAT_SYS_UIO_H

#include <stddef.h>
#include <sys/types.h>

struct iovec {
    void *iov_base;
    size_t iov_len;
};

/* Gather into one buffer and write it with one _write(), so a log line stays whole. */
ssize_t writev(int fd, const struct iovec *iov, int iovcnt);

#endif

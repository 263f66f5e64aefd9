/* SPDX-License-Identifier: MIT */
/* Growable byte buffer with a hard cap, so no peer can make us allocate without bound. */
#ifndef ECA_BUF_H
#define ECA_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "eca_err.h"

/*
 * Plain data: data[len] is always a NUL byte once anything was appended, so text can be
 * used as a C string. max is the cap (0 means ECA_BUF_DEFAULT_MAX).
 */
struct eca_buf {
    unsigned char *data;
    size_t len;
    size_t cap;
    size_t max;
};

#define ECA_BUF_DEFAULT_MAX ((size_t)1 << 20)

/* Initialise an empty buffer that may grow to max bytes (0: the default cap). */
void eca_buf_init(struct eca_buf *b, size_t max);

/* Append n bytes; ECA_ETOOBIG (buffer unchanged) when the cap would be passed. */
enum eca_rc eca_buf_append(struct eca_buf *b, const void *p, size_t n, struct eca_err *err);

/* Append a NUL-terminated string (without its NUL). */
enum eca_rc eca_buf_puts(struct eca_buf *b, const char *s, struct eca_err *err);

/* Append printf-style formatted text. */
enum eca_rc eca_buf_printf(struct eca_buf *b, struct eca_err *err, const char *fmt, ...)
    ECA_PRINTF(3, 4);
enum eca_rc eca_buf_vprintf(struct eca_buf *b, struct eca_err *err, const char *fmt, va_list ap)
    ECA_PRINTF(3, 0);

/* The contents as a C string; "" for an empty buffer. Borrowed. */
const char *eca_buf_str(const struct eca_buf *b);

/* Give up the storage to the caller (free() it); the buffer becomes empty. May return NULL. */
char *eca_buf_steal(struct eca_buf *b);

/* Forget the contents (cleansed), keep the cap. */
void eca_buf_reset(struct eca_buf *b);

/* Cleanse and free the storage; the buffer is empty afterwards. NULL is a no-op. */
void eca_buf_free(struct eca_buf *b);

#endif

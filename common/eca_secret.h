/* SPDX-License-Identifier: MIT */
/* Opaque secret (token, password, HMAC key): loaded from a file or env, redacted, cleansed. */
#ifndef ECA_SECRET_H
#define ECA_SECRET_H

#include <stddef.h>

#include "eca_err.h"

struct eca_secret;

/*
 * Read a secret from a file (at most 64 KiB; one trailing CR/LF stripped, as Docker secrets
 * and `echo` leave it). The value is registered with the logger for redaction.
 * ECA_ENOTFOUND if the file is missing, ECA_EINVAL if it is empty.
 */
enum eca_rc eca_secret_from_file(const char *path, struct eca_secret **out, struct eca_err *err);

/* Read a secret from an environment variable; ECA_ENOTFOUND when unset or empty. */
enum eca_rc eca_secret_from_env(const char *name, struct eca_secret **out, struct eca_err *err);

/* Copy n bytes into a new secret (tests, derived keys). */
enum eca_rc eca_secret_from_mem(const void *p, size_t n, struct eca_secret **out,
                                struct eca_err *err);

/* The bytes (followed by a NUL, so text secrets work as C strings). Borrowed. */
const unsigned char *eca_secret_data(const struct eca_secret *s);
const char *eca_secret_str(const struct eca_secret *s);
size_t eca_secret_len(const struct eca_secret *s);

/* Cleanse, unregister from the logger and free. NULL is a no-op. */
void eca_secret_free(struct eca_secret *s);

#endif

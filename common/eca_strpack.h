/* SPDX-License-Identifier: MIT */
/*
 * Fixed-size string fields packed end to end, "\0"-separated, in one allocation: a record kept
 * for long (per certificate, between passes) then holds what its strings use, not their caps.
 */
#ifndef ECA_STRPACK_H
#define ECA_STRPACK_H

#include <stddef.h>

/* Bytes needed to pack the n fields f[i] (each at most len[i] - 1 characters kept). */
size_t eca_strpack_size(char *const f[], const size_t len[], int n);

/* Pack the fields into dst, which has eca_strpack_size() bytes. */
void eca_strpack_put(char *dst, char *const f[], const size_t len[], int n);

/* Unpack src (from eca_strpack_put with the same n) into the fields, each cut to len[i]. */
void eca_strpack_get(const char *src, char *const f[], const size_t len[], int n);

#endif

/* SPDX-License-Identifier: MIT */
/* Process-wide set-up and tear-down of libeca (curl, OpenSSL), called once from main. */
#ifndef ECA_H
#define ECA_H

#include "eca_err.h"

#define ECA_VERSION "0.1.0"

enum eca_rc eca_init(struct eca_err *err);
void eca_fini(void);

#endif

/* SPDX-License-Identifier: MIT */
/* Structured logger: one JSON object (or one text line) per event, secrets never printed. */
#ifndef ECA_LOG_H
#define ECA_LOG_H

#include <stddef.h>

#include "eca_err.h"

/* Longest line, without its newline, is ECA_LOG_LINE_MAX - 1 bytes; longer ones are cut. */
#define ECA_LOG_LINE_MAX 8192

enum eca_log_level { ECA_LOG_DEBUG = 0, ECA_LOG_INFO, ECA_LOG_WARN, ECA_LOG_ERROR };
enum eca_log_format { ECA_LOG_JSON = 0, ECA_LOG_TEXT };

enum eca_log_ftype { ECA_LF_STR, ECA_LF_INT, ECA_LF_BOOL, ECA_LF_SECRET };

/* One typed field. Build them with the ECA_LS/ECA_LI/ECA_LB/ECA_LSECRET macros. */
struct eca_log_field {
    const char *key;
    enum eca_log_ftype type;
    const char *s;
    long long i;
};

#define ECA_LS(k, v) ((struct eca_log_field){(k), ECA_LF_STR, (v), 0})
#define ECA_LI(k, v) ((struct eca_log_field){(k), ECA_LF_INT, NULL, (long long)(v)})
#define ECA_LB(k, v) ((struct eca_log_field){(k), ECA_LF_BOOL, NULL, (v) ? 1 : 0})
/* The value is never printed: the field shows "[redacted]". */
#define ECA_LSECRET(k) ((struct eca_log_field){(k), ECA_LF_SECRET, NULL, 0})

/* Where finished lines go (stderr by default): tests capture, Windows forwards to Event Log. */
typedef void (*eca_log_sink_fn)(void *ctx, enum eca_log_level level, const char *line);

/* Set the agent name (the program name), minimum level and format. Call once from main. */
void eca_log_setup(const char *agent, enum eca_log_level min, enum eca_log_format fmt);

/* Replace the sink; NULL restores stderr. */
void eca_log_set_sink(eca_log_sink_fn sink, void *ctx);

/*
 * Register a secret value: any occurrence in any later log line (messages, fields) is
 * replaced by "[redacted]". Values shorter than 4 bytes are ignored (too many false hits).
 * The logger keeps a copy that eca_log_forget() or eca_log_reset() cleanses.
 */
void eca_log_redact_add(const char *secret);
void eca_log_redact_forget(const char *secret);

/* Drop every registered secret and restore defaults (tests). */
void eca_log_reset(void);

/* Parse "debug"/"info"/"warn"/"error" and "json"/"text"; 0 on success, -1 otherwise. */
int eca_log_level_parse(const char *s, enum eca_log_level *out);
int eca_log_format_parse(const char *s, enum eca_log_format *out);

/*
 * Emit one event: ts, level, agent, event, cert (omitted when NULL), the fields in order,
 * then msg (printf-style, may be NULL). Never fails visibly; a line is cut at 8 KiB.
 */
void eca_log(enum eca_log_level level, const char *event, const char *cert,
             const struct eca_log_field *fields, size_t nfields, const char *fmt, ...)
    ECA_PRINTF(6, 7);

#define ECA_LOG_FIELDS(...)                                                                        \
    ((const struct eca_log_field[]){__VA_ARGS__}),                                                 \
        (sizeof((const struct eca_log_field[]){__VA_ARGS__}) / sizeof(struct eca_log_field))

#endif

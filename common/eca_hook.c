/* SPDX-License-Identifier: MIT */
/* Reload actions, portable half: split a command line into an argv vector without a shell. */
#include "eca_hook.h"

#include <stdlib.h>
#include <string.h>

#include "eca_buf.h"

#define ARGV_MAX 256

struct splitter {
    char **argv;
    size_t argc;
    struct eca_buf word;
    int in_word; /* a word was started, even an empty one ('' is an argument) */
};

static enum eca_rc
end_word(struct splitter *sp, struct eca_err *err)
{
    char *w;

    if (!sp->in_word)
        return ECA_OK;
    if (sp->argc + 1 >= ARGV_MAX)
        return eca_err_set(err, ECA_EINVAL, "reload command: more than %d arguments", ARGV_MAX - 1);
    w = sp->word.len > 0 ? eca_buf_steal(&sp->word) : strdup("");
    if (w == NULL)
        return eca_err_set(err, ECA_ENOMEM, "reload command: out of memory");
    sp->argv[sp->argc++] = w;
    sp->argv[sp->argc] = NULL;
    sp->in_word = 0;
    return ECA_OK;
}

/*
 * Sh-like rules without expansion: inside '...' nothing is special; inside "..." a backslash
 * escapes only " \ $ ` (as in sh, so "C:\dir" keeps its backslash); outside quotes a
 * backslash escapes any character.
 */
static enum eca_rc
scan(struct splitter *sp, const char *s, struct eca_err *err)
{
    char q = 0, ch;
    enum eca_rc rc = ECA_OK;

    for (; *s != '\0' && rc == ECA_OK; s++) {
        ch = *s;
        if (q == '\'' && ch != '\'') {
            rc = eca_buf_append(&sp->word, &ch, 1, err);
        } else if (q != 0 && ch == q) {
            q = 0;
        } else if (q == '"' && ch == '\\' && s[1] != '\0' && strchr("\"\\$`", s[1])) {
            rc = eca_buf_append(&sp->word, ++s, 1, err);
        } else if (q == 0 && (ch == '\'' || ch == '"')) {
            q = ch;
            sp->in_word = 1;
        } else if (q == 0 && ch == '\\') {
            if (s[1] == '\0')
                return eca_err_set(err, ECA_EINVAL, "reload command: trailing backslash");
            sp->in_word = 1;
            rc = eca_buf_append(&sp->word, ++s, 1, err);
        } else if (q == 0 && strchr(" \t\r\n", ch)) {
            rc = end_word(sp, err);
        } else {
            sp->in_word = 1;
            rc = eca_buf_append(&sp->word, &ch, 1, err);
        }
    }
    if (rc == ECA_OK && q != 0)
        return eca_err_set(err, ECA_EINVAL, "reload command: unbalanced %c quote", q);
    return rc == ECA_OK ? end_word(sp, err) : rc;
}

enum eca_rc
eca_hook_run(char *const *argv, int timeout_s, struct eca_err *err)
{
    return eca_hook_run_env(argv, NULL, timeout_s, err);
}

enum eca_rc
eca_hook_split(const char *cmdline, char ***argv, struct eca_err *err)
{
    struct splitter sp = {0};
    enum eca_rc rc;

    if (cmdline == NULL)
        return eca_err_set(err, ECA_EINVAL, "reload command: none given");
    eca_buf_init(&sp.word, 64 * 1024);
    if ((sp.argv = calloc(ARGV_MAX, sizeof *sp.argv)) == NULL)
        return eca_err_set(err, ECA_ENOMEM, "reload command: out of memory");
    if ((rc = scan(&sp, cmdline, err)) != ECA_OK)
        goto out;
    if (sp.argc == 0) {
        rc = eca_err_set(err, ECA_EINVAL, "reload command: empty");
        goto out;
    }
    *argv = sp.argv;
    sp.argv = NULL;
out:
    eca_buf_free(&sp.word);
    eca_hook_argv_free(sp.argv);
    return rc;
}

void
eca_hook_argv_free(char **argv)
{
    size_t i;

    if (argv == NULL)
        return;
    for (i = 0; argv[i] != NULL; i++)
        free(argv[i]);
    free(argv);
}

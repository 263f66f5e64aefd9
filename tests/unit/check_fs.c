/* SPDX-License-Identifier: MIT */
/* eca_fs tests: content and modes via stat in a fresh mkdtemp dir, failures leave old files. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "eca_fs.h"
#include "eca_test.h"

static char dir[256];

static void
rm_tree(const char *path)
{
    char sub[1024];
    struct dirent *e;
    struct stat st;
    DIR *d;

    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode) && (d = opendir(path)) != NULL) {
        chmod(path, 0700);
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_tree(sub);
        }
        closedir(d);
        rmdir(path);
        return;
    }
    unlink(path);
}

static void
setup(void)
{
    const char *t = getenv("TMPDIR");

    snprintf(dir, sizeof dir, "%s/check_fs_XXXXXX", t && *t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    umask(022);
}

static void
teardown(void)
{
    rm_tree(dir);
}

static const char *
p(const char *name)
{
    static char buf[4][1024];
    static int i;

    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

static unsigned
mode_of(const char *path)
{
    struct stat st;

    ck_assert_int_eq(stat(path, &st), 0);
    return (unsigned)(st.st_mode & 07777);
}

static void
assert_content(const char *path, const char *want)
{
    char buf[4096];
    FILE *f = fopen(path, "rb");
    size_t n;

    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    ck_assert_str_eq(buf, want);
}

/* Number of entries in the test dir (so leftover temp files are noticed). */
static int
entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

START_TEST(write_atomic_creates_with_mode)
{
    struct eca_err err = {0};

    ck_assert_int_eq(eca_fs_write_atomic(p("key.pem"), "KEY", 3, ECA_FS_MODE_PRIVATE, &err),
                     ECA_OK);
    ck_assert_int_eq(eca_fs_write_atomic(p("cert.pem"), "CERT", 4, ECA_FS_MODE_PUBLIC, &err),
                     ECA_OK);
    assert_content(p("key.pem"), "KEY");
    assert_content(p("cert.pem"), "CERT");
    ck_assert_uint_eq(mode_of(p("key.pem")), 0600);
    ck_assert_uint_eq(mode_of(p("cert.pem")), 0644);
    ck_assert_int_eq(entries(), 2);
}
END_TEST

START_TEST(mode_is_exact_whatever_the_umask)
{
    struct eca_err err = {0};

    umask(077);
    ck_assert_int_eq(eca_fs_write_atomic(p("cert.pem"), "C", 1, ECA_FS_MODE_PUBLIC, &err), ECA_OK);
    ck_assert_uint_eq(mode_of(p("cert.pem")), 0644);
    umask(0);
    ck_assert_int_eq(eca_fs_write_atomic(p("key.pem"), "K", 1, ECA_FS_MODE_PRIVATE, &err), ECA_OK);
    ck_assert_uint_eq(mode_of(p("key.pem")), 0600);
}
END_TEST

START_TEST(write_atomic_replaces_content_and_mode)
{
    struct eca_err err = {0};

    ck_assert_int_eq(eca_fs_write_atomic(p("f"), "old", 3, 0644, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_write_atomic(p("f"), "new content", 11, 0600, &err), ECA_OK);
    assert_content(p("f"), "new content");
    ck_assert_uint_eq(mode_of(p("f")), 0600);
    ck_assert_int_eq(eca_fs_write_atomic(p("f"), "", 0, 0600, &err), ECA_OK);
    assert_content(p("f"), "");
    ck_assert_int_eq(entries(), 1);
}
END_TEST

START_TEST(write_atomic_missing_dir_is_notfound)
{
    struct eca_err err = {0};

    ck_assert_int_eq(eca_fs_write_atomic(p("nodir/f"), "x", 1, 0600, &err), ECA_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "nodir"));
    ck_assert_int_eq(entries(), 0);
}
END_TEST

START_TEST(write_atomic_failure_keeps_old_target)
{
    struct eca_err err = {0};
    char longname[241];

    /* rename onto a non-empty directory fails: the temp file must go, the target stay. */
    ck_assert_int_eq(mkdir(p("target"), 0700), 0);
    ck_assert_int_eq(eca_fs_write_new(p("target/inside"), "keep", 4, 0600, &err), ECA_OK);
    ck_assert_int_ne(eca_fs_write_atomic(p("target"), "x", 1, 0600, &err), ECA_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "target"));
    assert_content(p("target/inside"), "keep");
    ck_assert_int_eq(entries(), 1);

    /* A name so long that the temp name cannot be created: old content is untouched. */
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ck_assert_int_eq(eca_fs_write_atomic(p(longname), "old", 3, 0600, &err), ECA_EIO);
    ck_assert_int_eq(eca_fs_write_new(p(longname), "old", 3, 0600, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_write_atomic(p(longname), "new", 3, 0600, &err), ECA_EIO);
    assert_content(p(longname), "old");
    ck_assert_int_eq(entries(), 2);
}
END_TEST

START_TEST(write_atomic_unwritable_dir_keeps_old_target)
{
    struct eca_err err = {0};

    /* Root ignores directory permissions (and CI runs as root): this forked test child drops
     * to nobody, owning the scratch dir, so the read-only directory really refuses the write. */
    if (geteuid() == 0) {
        ck_assert_int_eq(chown(dir, 65534, 65534), 0);
        ck_assert_int_eq(setgid(65534), 0);
        ck_assert_int_eq(setuid(65534), 0);
        ck_assert_int_ne(geteuid(), 0);
    }
    ck_assert_int_eq(mkdir(p("ro"), 0700), 0);
    ck_assert_int_eq(eca_fs_write_atomic(p("ro/f"), "old", 3, 0644, &err), ECA_OK);
    ck_assert_int_eq(chmod(p("ro"), 0500), 0);
    ck_assert_int_eq(eca_fs_write_atomic(p("ro/f"), "new", 3, 0644, &err), ECA_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "ro/"));
    assert_content(p("ro/f"), "old");
}
END_TEST

START_TEST(write_new_refuses_existing)
{
    struct eca_err err = {0};

    ck_assert_int_eq(eca_fs_write_new(p("k"), "first", 5, 0600, &err), ECA_OK);
    ck_assert_uint_eq(mode_of(p("k")), 0600);
    ck_assert_int_eq(eca_fs_write_new(p("k"), "second", 6, 0600, &err), ECA_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "File exists"));
    assert_content(p("k"), "first");
}
END_TEST

START_TEST(read_whole_file_with_cap)
{
    struct eca_err err = {0};
    struct eca_buf b;

    eca_buf_init(&b, 0);
    ck_assert_int_eq(eca_fs_write_new(p("r"), "hello", 5, 0600, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_read(p("r"), 5, &b, &err), ECA_OK);
    ck_assert_str_eq(eca_buf_str(&b), "hello");
    ck_assert_int_eq(eca_fs_read(p("r"), 4, &b, &err), ECA_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "/r: larger than 4 bytes"));
    ck_assert_str_eq(eca_buf_str(&b), "hello"); /* untouched on failure */
    ck_assert_int_eq(eca_fs_read(p("absent"), 100, &b, &err), ECA_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "absent"));
    eca_buf_free(&b);

    eca_buf_init(&b, 0);
    ck_assert_int_eq(eca_fs_write_new(p("empty"), "", 0, 0600, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_read(p("empty"), 100, &b, &err), ECA_OK);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_str_eq(eca_buf_str(&b), "");
    eca_buf_free(&b);
}
END_TEST

START_TEST(check_private_names_file_and_mode)
{
    struct eca_err err = {0};

    ck_assert_int_eq(eca_fs_write_new(p("key"), "k", 1, 0600, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_check_private(p("key"), &err), ECA_OK);
    ck_assert_int_eq(chmod(p("key"), 0640), 0);
    ck_assert_int_eq(eca_fs_check_private(p("key"), &err), ECA_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, p("key")));
    ck_assert_ptr_nonnull(strstr(err.msg, "0640"));
    ck_assert_int_eq(chmod(p("key"), 0604), 0);
    ck_assert_int_eq(eca_fs_check_private(p("key"), &err), ECA_EINVAL);
    ck_assert_int_eq(chmod(p("key"), 0400), 0);
    ck_assert_int_eq(eca_fs_check_private(p("key"), &err), ECA_OK);
    ck_assert_int_eq(eca_fs_check_private(p("nokey"), &err), ECA_ENOTFOUND);
}
END_TEST

START_TEST(mkdir_p_rename_remove_exists)
{
    struct eca_err err = {0};
    struct stat st;

    ck_assert_int_eq(eca_fs_mkdir_p(p("a/b//c/"), 0700, &err), ECA_OK);
    ck_assert_int_eq(stat(p("a/b/c"), &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_uint_eq(st.st_mode & 0777, 0700);
    ck_assert_int_eq(eca_fs_mkdir_p(p("a/b/c"), 0700, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_write_new(p("a/file"), "x", 1, 0600, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_mkdir_p(p("a/file/sub"), 0700, &err), ECA_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "a/file"));

    ck_assert_int_eq(eca_fs_rename(p("a/file"), p("a/b/moved"), &err), ECA_OK);
    ck_assert(!eca_fs_exists(p("a/file")));
    ck_assert(eca_fs_exists(p("a/b/moved")));
    ck_assert_int_eq(eca_fs_rename(p("a/file"), p("a/b/x"), &err), ECA_ENOTFOUND);
    ck_assert_int_eq(eca_fs_remove(p("a/b/moved"), &err), ECA_OK);
    ck_assert(!eca_fs_exists(p("a/b/moved")));
    ck_assert_int_eq(eca_fs_remove(p("a/b/moved"), &err), ECA_OK);
    ck_assert_int_eq(eca_fs_sync_dir(p("a"), &err), ECA_OK);
    ck_assert_int_eq(eca_fs_sync_dir(p("zz"), &err), ECA_ENOTFOUND);
}
END_TEST

START_TEST(dirname_cases)
{
    static const struct {
        const char *in, *out;
    } t[] = {
        {"/etc/eca/key.pem", "/etc/eca"},
        {"key.pem", "."},
        {"/key", "/"},
        {"a/b/", "a"},
        {"/", "/"},
        {"", "."},
        {"a//b", "a"},
        {"./x", "."},
    };
    char out[64];
    size_t i;

    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        eca_fs_dirname(t[i].in, out, sizeof out);
        ck_assert_msg(strcmp(out, t[i].out) == 0, "%s -> %s, want %s", t[i].in, out, t[i].out);
    }
}
END_TEST

/* A FIFO must not block the reader (open would wait for a writer); a directory is named. */
START_TEST(read_refuses_what_is_not_a_regular_file)
{
    struct eca_err err = {0};
    struct eca_buf b;

    eca_buf_init(&b, 0);
    ck_assert_int_eq(mkfifo(p("fifo"), 0600), 0);
    ck_assert_int_eq(mkdir(p("dir"), 0700), 0);
    ck_assert_int_eq(eca_fs_read(p("fifo"), 100, &b, &err), ECA_EINVAL);
    ck_assert_msg(strstr(err.msg, "/fifo: is a FIFO (named pipe), not a regular file") != NULL,
                  "%s", err.msg);
    ck_assert_int_eq(eca_fs_read(p("dir"), 100, &b, &err), ECA_EINVAL);
    ck_assert_msg(strstr(err.msg, "/dir: is a directory, not a regular file") != NULL, "%s",
                  err.msg);
    ck_assert_int_eq(eca_fs_read("/dev/null", 100, &b, &err), ECA_EINVAL);
    ck_assert_ptr_null(b.data);
    ck_assert_int_eq(eca_fs_check_file(p("fifo"), &err), ECA_EINVAL);
    ck_assert_int_eq(eca_fs_check_file(p("dir"), &err), ECA_EINVAL);
    ck_assert_int_eq(eca_fs_check_file(p("absent"), &err), ECA_OK);
    ck_assert_int_eq(eca_fs_write_new(p("file"), "x", 1, 0600, &err), ECA_OK);
    ck_assert_int_eq(eca_fs_check_file(p("file"), &err), ECA_OK);
}
END_TEST

static void
make_old(const char *path, long age_s)
{
    struct timeval tv[2];

    ck_assert_int_eq(eca_fs_write_new(path, "x", 1, 0600, NULL), ECA_OK);
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= age_s;
    tv[1] = tv[0];
    ck_assert_int_eq(utimes(path, tv), 0);
}

/* Only the old temporary files of the named base go; young ones may have a writer. */
START_TEST(sweep_removes_old_temps_of_base)
{
    int removed = 0;

    make_old(p(".key.pem.tmp-0123456789abcdef"), 3600);
    make_old(p(".key.pem.prev.tmp-0123456789abcdef"), 3600);
    make_old(p(".key.pem.tmp-0123456789abcdeg"), 3600);  /* not our pattern */
    make_old(p(".key.pem.tmp-0123456789abcdef0"), 3600); /* 17 digits */
    make_old(p("key.pem.tmp-0123456789abcdef"), 3600);   /* no leading dot */
    make_old(p("key.pem"), 3600);
    make_old(p(".cert.pem.tmp-fedcba9876543210"), 3600);
    make_old(p(".cert.pem.tmp-00000000000000aa"), 0); /* young */
    ck_assert_int_eq(eca_fs_sweep_temps(dir, "key.pem", 60, &removed, NULL), ECA_OK);
    ck_assert_int_eq(removed, 1);
    ck_assert(!eca_fs_exists(p(".key.pem.tmp-0123456789abcdef")));
    ck_assert(eca_fs_exists(p(".key.pem.prev.tmp-0123456789abcdef")));
    eca_fs_sweep_temps_of(p("key.pem.prev"), 60, &removed);
    ck_assert_int_eq(removed, 2);
    ck_assert(!eca_fs_exists(p(".key.pem.prev.tmp-0123456789abcdef")));
    ck_assert_int_eq(eca_fs_sweep_temps(dir, NULL, 60, &removed, NULL), ECA_OK);
    ck_assert_int_eq(removed, 3);
    ck_assert(!eca_fs_exists(p(".cert.pem.tmp-fedcba9876543210")));
    ck_assert(eca_fs_exists(p(".cert.pem.tmp-00000000000000aa")));
    ck_assert(eca_fs_exists(p(".key.pem.tmp-0123456789abcdeg")));
    ck_assert(eca_fs_exists(p(".key.pem.tmp-0123456789abcdef0")));
    ck_assert(eca_fs_exists(p("key.pem.tmp-0123456789abcdef")));
    ck_assert(eca_fs_exists(p("key.pem")));
    ck_assert_int_eq(eca_fs_sweep_temps(p("absent"), NULL, 60, &removed, NULL), ECA_OK);
}
END_TEST

/*
 * Through a memo the same files go as without one, each directory is listed once (a temporary
 * file made after the listing is not seen), and what is gone is not counted twice.
 */
START_TEST(sweep_memo_lists_each_directory_once)
{
    struct eca_fs_sweep *memo = eca_fs_sweep_new();
    int removed = 0;

    ck_assert_ptr_nonnull(memo);
    make_old(p(".a.pem.tmp-0123456789abcdef"), 3600);
    make_old(p(".b.pem.tmp-0123456789abcdef"), 3600);
    make_old(p(".b.pem.tmp-00000000000000aa"), 0); /* young */
    eca_fs_sweep_temps_of_memo(memo, p("a.pem"), 60, &removed);
    ck_assert_int_eq(removed, 1);
    ck_assert(!eca_fs_exists(p(".a.pem.tmp-0123456789abcdef")));
    make_old(p(".c.pem.tmp-0123456789abcdef"), 3600); /* after the listing */
    eca_fs_sweep_temps_of_memo(memo, p("b.pem"), 60, &removed);
    eca_fs_sweep_temps_of_memo(memo, p("c.pem"), 60, &removed);
    ck_assert_int_eq(removed, 2);
    ck_assert(!eca_fs_exists(p(".b.pem.tmp-0123456789abcdef")));
    ck_assert(eca_fs_exists(p(".b.pem.tmp-00000000000000aa")));
    ck_assert(eca_fs_exists(p(".c.pem.tmp-0123456789abcdef")));
    ck_assert_int_eq(eca_fs_sweep_temps_memo(memo, dir, NULL, 60, &removed, NULL), ECA_OK);
    ck_assert_int_eq(removed, 2);
    ck_assert_int_eq(eca_fs_sweep_temps_memo(memo, p("absent"), NULL, 60, &removed, NULL), ECA_OK);
    eca_fs_sweep_free(memo);
    /* A new memo lists again. */
    memo = eca_fs_sweep_new();
    eca_fs_sweep_temps_of_memo(memo, p("c.pem"), 60, &removed);
    ck_assert_int_eq(removed, 3);
    eca_fs_sweep_free(memo);
    eca_fs_sweep_free(NULL);
}
END_TEST

static Suite *
fs_suite(void)
{
    Suite *s = suite_create("fs");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 5);
    tcase_add_test(tc, write_atomic_creates_with_mode);
    tcase_add_test(tc, mode_is_exact_whatever_the_umask);
    tcase_add_test(tc, write_atomic_replaces_content_and_mode);
    tcase_add_test(tc, write_atomic_missing_dir_is_notfound);
    tcase_add_test(tc, write_atomic_failure_keeps_old_target);
    tcase_add_test(tc, write_atomic_unwritable_dir_keeps_old_target);
    tcase_add_test(tc, write_new_refuses_existing);
    tcase_add_test(tc, read_whole_file_with_cap);
    tcase_add_test(tc, read_refuses_what_is_not_a_regular_file);
    tcase_add_test(tc, sweep_removes_old_temps_of_base);
    tcase_add_test(tc, sweep_memo_lists_each_directory_once);
    tcase_add_test(tc, check_private_names_file_and_mode);
    tcase_add_test(tc, mkdir_p_rename_remove_exists);
    tcase_add_test(tc, dirname_cases);
    suite_add_tcase(s, tc);
    return s;
}

ECA_TEST_SUITE(fs_suite)

/* SPDX-License-Identifier: MIT */
/* POSIX half of eca_fs: open/fsync/rename/mkdir/stat; eca_fs_win.c replaces it on Windows. */
#include "eca_fs_os.h"

#include "eca_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif
#ifndef O_NOFOLLOW
#define O_NOFOLLOW 0
#endif
#ifndef O_DIRECTORY
#define O_DIRECTORY 0
#endif

struct eca_fs_os_file {
    int fd;
    char *path; /* for messages */
};

/* A missing file or directory is ECA_ENOTFOUND; everything else the OS refuses is ECA_EIO. */
static enum eca_rc
sys_err(struct eca_err *err, int e, const char *path, const char *op)
{
    return eca_err_set(err, e == ENOENT || e == ENOTDIR ? ECA_ENOTFOUND : ECA_EIO, "%s: %s: %s",
                       path, op, strerror(e));
}

enum eca_rc
eca_fs_os_create(const char *path, unsigned mode, struct eca_fs_os_file **out, struct eca_err *err)
{
    struct eca_fs_os_file *f;
    int fd;

    /* O_EXCL + the mode argument: the file never exists with wider permissions (umask only
     * narrows them), unlike chmod after the fact. */
    do
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return sys_err(err, errno, path, "create");
    /* The daemons run under umask 077, so a public file (certificate) would come out 0600.
     * Set the exact mode on the empty file before any byte is written: a private file was
     * never wider, and a public one holds nothing secret. */
    if (fchmod(fd, (mode_t)mode) != 0) {
        int e = errno;

        close(fd);
        unlink(path);
        return sys_err(err, e, path, "chmod");
    }
    if ((f = calloc(1, sizeof *f)) == NULL || (f->path = strdup(path)) == NULL) {
        free(f);
        close(fd);
        unlink(path);
        return eca_err_set(err, ECA_ENOMEM, "%s: out of memory", path);
    }
    f->fd = fd;
    *out = f;
    return ECA_OK;
}

enum eca_rc
eca_fs_os_write(struct eca_fs_os_file *f, const void *data, size_t len, struct eca_err *err)
{
    const unsigned char *p = data;
    ssize_t w;

    while (len > 0) {
        w = write(f->fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return sys_err(err, errno, f->path, "write");
        if (w == 0)
            return eca_err_set(err, ECA_EIO, "%s: write: no progress", f->path);
        p += w;
        len -= (size_t)w;
    }
    return ECA_OK;
}

static void
file_free(struct eca_fs_os_file *f)
{
    free(f->path);
    free(f);
}

enum eca_rc
eca_fs_os_sync_close(struct eca_fs_os_file *f, struct eca_err *err)
{
    enum eca_rc rc = ECA_OK;

    if (fsync(f->fd) != 0)
        rc = sys_err(err, errno, f->path, "fsync");
    /* close() can report a deferred write error (NFS); do not retry it on EINTR. */
    if (close(f->fd) != 0 && rc == ECA_OK && errno != EINTR)
        rc = sys_err(err, errno, f->path, "close");
    file_free(f);
    return rc;
}

void
eca_fs_os_abort(struct eca_fs_os_file *f)
{
    if (f == NULL)
        return;
    close(f->fd);
    file_free(f);
}

static enum eca_fs_kind
kind_of(mode_t m)
{
    if (S_ISREG(m))
        return ECA_FS_REGULAR;
    if (S_ISDIR(m))
        return ECA_FS_DIR;
    return S_ISFIFO(m) ? ECA_FS_FIFO : ECA_FS_OTHER;
}

enum eca_fs_kind
eca_fs_os_kind(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? kind_of(st.st_mode) : ECA_FS_ABSENT;
}

/* st_mtim/st_ctim are POSIX 2008 (macOS spells them st_mtimespec: a branch when built there).
 * ctime is kept because an in-place rewrite within one timer tick can leave mtime and size as
 * they were, while chmod, rename and link changes move ctime only. */
enum eca_rc
eca_fs_os_identity(const char *path, struct eca_fs_id *out, struct eca_err *err)
{
    struct stat st;
    enum eca_fs_kind k;

    if (stat(path, &st) != 0)
        return sys_err(err, errno, path, "stat");
    if ((k = kind_of(st.st_mode)) != ECA_FS_REGULAR)
        return eca_fs_not_regular(err, path, k);
    memset(out, 0, sizeof *out);
    out->dev = (uint64_t)st.st_dev;
    out->ino = (uint64_t)st.st_ino;
    out->size = (uint64_t)st.st_size;
    out->mtime_s = (int64_t)st.st_mtim.tv_sec;
    out->mtime_ns = st.st_mtim.tv_nsec;
    out->ctime_s = (int64_t)st.st_ctim.tv_sec;
    out->ctime_ns = st.st_ctim.tv_nsec;
    out->changed = st.st_mtim.tv_sec > st.st_ctim.tv_sec ? st.st_mtim.tv_sec : st.st_ctim.tv_sec;
    return ECA_OK;
}

enum eca_rc
eca_fs_os_read(const char *path, size_t max, struct eca_buf *out, struct eca_err *err)
{
    unsigned char chunk[8192];
    enum eca_rc rc = ECA_OK;
    struct stat st;
    ssize_t r;
    int fd;

    /* O_NONBLOCK: opening a FIFO for reading would wait for a writer, for ever (and a stop
     * request with it); it has no effect on the regular files read here. */
    do
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return sys_err(err, errno, path, "open");
    if (fstat(fd, &st) != 0) {
        rc = sys_err(err, errno, path, "stat");
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return eca_fs_not_regular(err, path, kind_of(st.st_mode));
    }
    for (;;) {
        r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = sys_err(err, errno, path, "read");
            break;
        }
        if (r == 0)
            break;
        if (out->len + (size_t)r > max) {
            rc = eca_err_set(err, ECA_ETOOBIG, "%s: larger than %zu bytes", path, max);
            break;
        }
        if ((rc = eca_buf_append(out, chunk, (size_t)r, err)) != ECA_OK) {
            eca_err_prefix(err, "%s: ", path);
            break;
        }
    }
    OPENSSL_cleanse(chunk, sizeof chunk); /* may have held key material */
    close(fd);
    return rc;
}

enum eca_rc
eca_fs_os_rename(const char *from, const char *to, struct eca_err *err)
{
    if (rename(from, to) != 0)
        return sys_err(err, errno, to, "rename");
    return ECA_OK;
}

enum eca_rc
eca_fs_os_unlink(const char *path, struct eca_err *err)
{
    if (unlink(path) != 0)
        return sys_err(err, errno, path, "remove");
    return ECA_OK;
}

enum eca_rc
eca_fs_os_sync_dir(const char *dir, struct eca_err *err)
{
    enum eca_rc rc = ECA_OK;
    int fd;

    do
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return sys_err(err, errno, dir, "open directory");
    /* Some file systems cannot fsync a directory (EINVAL): nothing more can be done there. */
    if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP)
        rc = sys_err(err, errno, dir, "fsync directory");
    close(fd);
    return rc;
}

enum eca_rc
eca_fs_os_mkdir(const char *path, unsigned mode, struct eca_err *err)
{
    struct stat st;

    if (mkdir(path, (mode_t)mode) == 0)
        return ECA_OK;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return ECA_OK;
    if (errno == EEXIST)
        return eca_err_set(err, ECA_EIO, "%s: exists and is not a directory", path);
    return sys_err(err, errno, path, "mkdir");
}

int
eca_fs_os_exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

enum eca_rc
eca_fs_os_check_private(const char *path, struct eca_err *err)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return sys_err(err, errno, path, "stat");
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        return eca_err_set(err, ECA_EINVAL,
                           "%s: mode %04o lets group or others access it (want 0600 or "
                           "stricter)",
                           path, (unsigned)(st.st_mode & 07777));
    return ECA_OK;
}

long
eca_fs_os_age_s(const char *path)
{
    struct stat st;
    time_t now = time(NULL);

    if (lstat(path, &st) != 0)
        return -1;
    return st.st_mtime >= now ? 0 : (long)(now - st.st_mtime);
}

enum eca_rc
eca_fs_os_list(const char *dir, int (*each)(void *ctx, const char *name), void *ctx,
               struct eca_err *err)
{
    struct dirent *e;
    DIR *d = opendir(dir);

    if (d == NULL)
        return sys_err(err, errno, dir, "open directory");
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (each(ctx, e->d_name) != 0)
            break;
    }
    closedir(d);
    return ECA_OK;
}

int
eca_fs_os_is_sep(char c)
{
    return c == '/';
}

/* SPDX-License-Identifier: MIT */
/* Windows half of eca_fs: CreateFileW/FlushFileBuffers/MoveFileExW and private-file DACLs. */
#include "eca_fs_os.h"

#include "eca_fs.h"

#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include "eca_win.h"

/*
 * Private files and directories get a protected DACL (no inherited entries) that grants full
 * control to SYSTEM, the Administrators group and the owner only: the Windows form of 0600/0700.
 */
#define PRIVATE_SDDL L"D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;OW)"

struct eca_fs_os_file {
    HANDLE h;
    char *path; /* for messages */
};

static enum eca_rc
win_err(struct eca_err *err, DWORD e, const char *path, const char *op)
{
    char msg[256];

    eca_win_strerror(e, msg, sizeof msg);
    return eca_err_set(
        err, e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ? ECA_ENOTFOUND : ECA_EIO,
        "%s: %s: %s", path, op, msg);
}

/* Group or others may read or write: the Windows mode is "private" when 077 bits are clear. */
static int
mode_is_private(unsigned mode)
{
    return (mode & 077u) == 0;
}

static enum eca_rc
private_sa(SECURITY_ATTRIBUTES *sa, const char *path, struct eca_err *err)
{
    PSECURITY_DESCRIPTOR sd = NULL;

    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(PRIVATE_SDDL, SDDL_REVISION_1, &sd,
                                                              NULL))
        return win_err(err, GetLastError(), path, "build security descriptor");
    sa->nLength = sizeof *sa;
    sa->lpSecurityDescriptor = sd;
    sa->bInheritHandle = FALSE;
    return ECA_OK;
}

enum eca_rc
eca_fs_os_create(const char *path, unsigned mode, struct eca_fs_os_file **out, struct eca_err *err)
{
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, FALSE};
    struct eca_fs_os_file *f = NULL;
    HANDLE h = INVALID_HANDLE_VALUE;
    wchar_t *w = NULL;
    enum eca_rc rc;

    if ((rc = eca_win_widen(path, &w, err)) != ECA_OK)
        goto out;
    if (mode_is_private(mode) && (rc = private_sa(&sa, path, err)) != ECA_OK)
        goto out;
    /* CREATE_NEW is O_EXCL: an existing name, a link included, fails; the DACL is part of the
     * create call, so the file never exists with wider access. */
    h = CreateFileW(w, GENERIC_WRITE, 0, &sa, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        rc = win_err(err, GetLastError(), path, "create");
        goto out;
    }
    if ((f = calloc(1, sizeof *f)) == NULL || (f->path = strdup(path)) == NULL) {
        free(f);
        f = NULL;
        CloseHandle(h);
        DeleteFileW(w);
        rc = eca_err_set(err, ECA_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    f->h = h;
    *out = f;
out:
    LocalFree(sa.lpSecurityDescriptor);
    free(w);
    return rc;
}

enum eca_rc
eca_fs_os_write(struct eca_fs_os_file *f, const void *data, size_t len, struct eca_err *err)
{
    const unsigned char *p = data;
    DWORD chunk, w;

    while (len > 0) {
        chunk = len > 0x40000000u ? 0x40000000u : (DWORD)len;
        if (!WriteFile(f->h, p, chunk, &w, NULL))
            return win_err(err, GetLastError(), f->path, "write");
        if (w == 0)
            return eca_err_set(err, ECA_EIO, "%s: write: no progress", f->path);
        p += w;
        len -= w;
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

    if (!FlushFileBuffers(f->h))
        rc = win_err(err, GetLastError(), f->path, "flush");
    if (!CloseHandle(f->h) && rc == ECA_OK)
        rc = win_err(err, GetLastError(), f->path, "close");
    file_free(f);
    return rc;
}

void
eca_fs_os_abort(struct eca_fs_os_file *f)
{
    if (f == NULL)
        return;
    CloseHandle(f->h);
    file_free(f);
}

static enum eca_rc
read_all(HANDLE h, const char *path, size_t max, struct eca_buf *out, struct eca_err *err)
{
    unsigned char chunk[8192];
    enum eca_rc rc = ECA_OK;
    DWORD r;

    for (;;) {
        if (!ReadFile(h, chunk, sizeof chunk, &r, NULL)) {
            rc = win_err(err, GetLastError(), path, "read");
            break;
        }
        if (r == 0)
            break;
        if (out->len + r > max) {
            rc = eca_err_set(err, ECA_ETOOBIG, "%s: larger than %zu bytes", path, max);
            break;
        }
        if ((rc = eca_buf_append(out, chunk, r, err)) != ECA_OK) {
            eca_err_prefix(err, "%s: ", path);
            break;
        }
    }
    SecureZeroMemory(chunk, sizeof chunk); /* may have held key material */
    return rc;
}

enum eca_rc
eca_fs_os_read(const char *path, size_t max, struct eca_buf *out, struct eca_err *err)
{
    wchar_t *w = NULL;
    enum eca_rc rc;
    HANDLE h;

    if ((rc = eca_win_widen(path, &w, err)) != ECA_OK)
        return rc;
    /* Share everything so a concurrent MoveFileExW over this name is not refused. */
    h = CreateFileW(w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                    OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();

        /* A directory cannot be opened this way: say what it is, not "Access is denied". */
        if (eca_fs_os_kind(path) == ECA_FS_DIR)
            return eca_fs_not_regular(err, path, ECA_FS_DIR);
        return win_err(err, e, path, "open");
    }
    if (GetFileType(h) != FILE_TYPE_DISK) {
        CloseHandle(h);
        return eca_fs_not_regular(err, path, ECA_FS_OTHER);
    }
    rc = read_all(h, path, max, out, err);
    CloseHandle(h);
    return rc;
}

enum eca_rc
eca_fs_os_rename(const char *from, const char *to, struct eca_err *err)
{
    wchar_t *wf = NULL, *wt = NULL;
    enum eca_rc rc;

    if ((rc = eca_win_widen(from, &wf, err)) != ECA_OK ||
        (rc = eca_win_widen(to, &wt, err)) != ECA_OK)
        goto out;
    /* WRITE_THROUGH: the call returns only once the rename is on disk, which stands in for the
     * directory fsync POSIX needs. */
    if (!MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
        rc = win_err(err, GetLastError(), to, "rename");
out:
    free(wf);
    free(wt);
    return rc;
}

enum eca_rc
eca_fs_os_unlink(const char *path, struct eca_err *err)
{
    wchar_t *w = NULL;
    enum eca_rc rc;

    if ((rc = eca_win_widen(path, &w, err)) != ECA_OK)
        return rc;
    if (!DeleteFileW(w))
        rc = win_err(err, GetLastError(), path, "remove");
    free(w);
    return rc;
}

enum eca_rc
eca_fs_os_sync_dir(const char *dir, struct eca_err *err)
{
    wchar_t *w = NULL;
    enum eca_rc rc;
    DWORD a;

    /* Windows has no directory fsync for unprivileged callers; renames are made durable by
     * MOVEFILE_WRITE_THROUGH instead. Still report a missing directory like POSIX does. */
    if ((rc = eca_win_widen(dir, &w, err)) != ECA_OK)
        return rc;
    a = GetFileAttributesW(w);
    if (a == INVALID_FILE_ATTRIBUTES)
        rc = win_err(err, GetLastError(), dir, "open directory");
    else if (!(a & FILE_ATTRIBUTE_DIRECTORY))
        rc = eca_err_set(err, ECA_ENOTFOUND, "%s: open directory: not a directory", dir);
    free(w);
    return rc;
}

enum eca_rc
eca_fs_os_mkdir(const char *path, unsigned mode, struct eca_err *err)
{
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, FALSE};
    wchar_t *w = NULL;
    enum eca_rc rc;
    DWORD e, a;

    if ((rc = eca_win_widen(path, &w, err)) != ECA_OK)
        goto out;
    if (mode_is_private(mode) && (rc = private_sa(&sa, path, err)) != ECA_OK)
        goto out;
    if (CreateDirectoryW(w, &sa))
        goto out;
    e = GetLastError();
    a = GetFileAttributesW(w);
    if (e == ERROR_ALREADY_EXISTS && a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY))
        goto out;
    if (e == ERROR_ALREADY_EXISTS)
        rc = eca_err_set(err, ECA_EIO, "%s: exists and is not a directory", path);
    else
        rc = win_err(err, e, path, "mkdir");
out:
    LocalFree(sa.lpSecurityDescriptor);
    free(w);
    return rc;
}

int
eca_fs_os_exists(const char *path)
{
    wchar_t *w = NULL;
    int r;

    if (eca_win_widen(path, &w, NULL) != ECA_OK)
        return 0;
    /* GetFileAttributesW does not follow a reparse point: a dangling link exists. */
    r = GetFileAttributesW(w) != INVALID_FILE_ATTRIBUTES;
    free(w);
    return r;
}

enum eca_fs_kind
eca_fs_os_kind(const char *path)
{
    wchar_t *w = NULL;
    DWORD a;

    if (eca_win_widen(path, &w, NULL) != ECA_OK)
        return ECA_FS_ABSENT;
    a = GetFileAttributesW(w);
    free(w);
    if (a == INVALID_FILE_ATTRIBUTES)
        return ECA_FS_ABSENT;
    return (a & FILE_ATTRIBUTE_DIRECTORY) ? ECA_FS_DIR : ECA_FS_REGULAR;
}

/* FILETIME (100 ns since 1601) as seconds and nanoseconds since 1970. */
static void
filetime_split(FILETIME ft, int64_t *s, long *ns)
{
    ULARGE_INTEGER u;

    u.LowPart = ft.dwLowDateTime;
    u.HighPart = ft.dwHighDateTime;
    *s = (int64_t)(u.QuadPart / 10000000ULL) - 11644473600LL;
    *ns = (long)(u.QuadPart % 10000000ULL) * 100;
}

enum eca_rc
eca_fs_os_identity(const char *path, struct eca_fs_id *out, struct eca_err *err)
{
    BY_HANDLE_FILE_INFORMATION fi;
    wchar_t *w = NULL;
    HANDLE h;
    enum eca_rc rc;

    if ((rc = eca_win_widen(path, &w, err)) != ECA_OK)
        return rc;
    /* No access rights asked: the attributes are readable whoever holds the file open. */
    h = CreateFileW(w, 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                    OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE)
        return win_err(err, GetLastError(), path, "open");
    if (!GetFileInformationByHandle(h, &fi)) {
        rc = win_err(err, GetLastError(), path, "stat");
        CloseHandle(h);
        return rc;
    }
    CloseHandle(h);
    if (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
        return eca_fs_not_regular(err, path, ECA_FS_DIR);
    memset(out, 0, sizeof *out);
    out->dev = fi.dwVolumeSerialNumber;
    out->ino = ((uint64_t)fi.nFileIndexHigh << 32) | fi.nFileIndexLow;
    out->size = ((uint64_t)fi.nFileSizeHigh << 32) | fi.nFileSizeLow;
    filetime_split(fi.ftLastWriteTime, &out->mtime_s, &out->mtime_ns);
    /* No change time here: the creation time stands in (a file replaced by a rename has a new
     * one and a new index). */
    filetime_split(fi.ftCreationTime, &out->ctime_s, &out->ctime_ns);
    out->changed = (time_t)(out->mtime_s > out->ctime_s ? out->mtime_s : out->ctime_s);
    return ECA_OK;
}

long
eca_fs_os_age_s(const char *path)
{
    WIN32_FILE_ATTRIBUTE_DATA d;
    ULARGE_INTEGER m, n;
    FILETIME now;
    wchar_t *w = NULL;
    BOOL ok;

    if (eca_win_widen(path, &w, NULL) != ECA_OK)
        return -1;
    ok = GetFileAttributesExW(w, GetFileExInfoStandard, &d);
    free(w);
    if (!ok)
        return -1;
    GetSystemTimeAsFileTime(&now);
    m.LowPart = d.ftLastWriteTime.dwLowDateTime;
    m.HighPart = d.ftLastWriteTime.dwHighDateTime;
    n.LowPart = now.dwLowDateTime;
    n.HighPart = now.dwHighDateTime;
    /* FILETIME counts 100 ns intervals. */
    return n.QuadPart <= m.QuadPart ? 0 : (long)((n.QuadPart - m.QuadPart) / 10000000ULL);
}

enum eca_rc
eca_fs_os_list(const char *dir, int (*each)(void *ctx, const char *name), void *ctx,
               struct eca_err *err)
{
    WIN32_FIND_DATAW fd;
    HANDLE h;
    wchar_t *w = NULL, *pattern;
    char *name = NULL;
    size_t n;
    enum eca_rc rc;
    int stop = 0;

    if ((rc = eca_win_widen(dir, &w, err)) != ECA_OK)
        return rc;
    n = wcslen(w);
    if ((pattern = malloc((n + 3) * sizeof *pattern)) == NULL) {
        free(w);
        return eca_err_set(err, ECA_ENOMEM, "%s: out of memory", dir);
    }
    memcpy(pattern, w, n * sizeof *pattern);
    pattern[n] = L'\\';
    pattern[n + 1] = L'*';
    pattern[n + 2] = L'\0';
    free(w);
    h = FindFirstFileW(pattern, &fd);
    free(pattern);
    if (h == INVALID_HANDLE_VALUE)
        return win_err(err, GetLastError(), dir, "list directory");
    do {
        if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0 ||
            eca_win_narrow(fd.cFileName, &name, NULL) != ECA_OK)
            continue;
        stop = each(ctx, name);
        free(name);
        name = NULL;
    } while (!stop && FindNextFileW(h, &fd));
    FindClose(h);
    return ECA_OK;
}

/* SYSTEM, Administrators, OWNER RIGHTS and the file's owner are the only trusted holders. */
static int
sid_trusted(PSID sid, PSID owner)
{
    return (owner != NULL && EqualSid(sid, owner)) || IsWellKnownSid(sid, WinLocalSystemSid) ||
           IsWellKnownSid(sid, WinBuiltinAdministratorsSid) ||
           IsWellKnownSid(sid, WinCreatorOwnerRightsSid);
}

/* The first allow entry that lets an untrusted SID read or write, or NULL. */
static PSID
untrusted_reader(PACL dacl, PSID owner)
{
    const ACCESS_MASK rw = FILE_READ_DATA | FILE_WRITE_DATA | FILE_APPEND_DATA | GENERIC_READ |
                           GENERIC_WRITE | GENERIC_ALL | WRITE_DAC | WRITE_OWNER;
    ACCESS_ALLOWED_ACE *ace;
    void *p;

    for (DWORD i = 0; i < dacl->AceCount; i++) {
        if (!GetAce(dacl, i, &p))
            continue;
        ace = p;
        if (ace->Header.AceType != ACCESS_ALLOWED_ACE_TYPE ||
            (ace->Header.AceFlags & INHERIT_ONLY_ACE) || !(ace->Mask & rw))
            continue;
        if (!sid_trusted((PSID)&ace->SidStart, owner))
            return (PSID)&ace->SidStart;
    }
    return NULL;
}

enum eca_rc
eca_fs_os_check_private(const char *path, struct eca_err *err)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    PSID owner = NULL, bad;
    PACL dacl = NULL;
    wchar_t *w = NULL;
    char *sidstr = NULL;
    enum eca_rc rc;
    DWORD e;

    if ((rc = eca_win_widen(path, &w, err)) != ECA_OK)
        return rc;
    e = GetNamedSecurityInfoW(w, SE_FILE_OBJECT,
                              OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner, NULL,
                              &dacl, NULL, &sd);
    if (e != ERROR_SUCCESS) {
        rc = win_err(err, e, path, "read security descriptor");
        goto out;
    }
    if (dacl == NULL) {
        rc = eca_err_set(err, ECA_EINVAL, "%s: has no DACL, so everyone may access it", path);
        goto out;
    }
    if ((bad = untrusted_reader(dacl, owner)) != NULL) {
        ConvertSidToStringSidA(bad, &sidstr);
        rc = eca_err_set(err, ECA_EINVAL,
                         "%s: its ACL lets %s access it (want only SYSTEM, Administrators and "
                         "the owner)",
                         path, sidstr ? sidstr : "another account");
    }
out:
    LocalFree(sidstr);
    LocalFree(sd);
    free(w);
    return rc;
}

int
eca_fs_os_is_sep(char c)
{
    return c == '/' || c == '\\';
}

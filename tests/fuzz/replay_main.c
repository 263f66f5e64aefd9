/* SPDX-License-Identifier: MIT */
/* Stand-alone driver for libFuzzer targets: feed each file named (or found in named dirs) once. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;

    if (f == NULL)
        return 0;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf == NULL || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
        free(buf);
        fclose(f);
        return 0;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 1;
}

static int
run_path(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    char sub[4096];
    int count = 0;

    if (stat(path, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    d = opendir(path);
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        count += run_path(sub);
    }
    closedir(d);
    return count;
}

int
main(int argc, char **argv)
{
    int count = 0;

    for (int i = 1; i < argc; i++)
        count += run_path(argv[i]);
    printf("%d inputs replayed\n", count);
    /* A replay that found no seed (a moved corpus, a wrong path) proves nothing: fail it. */
    if (count == 0) {
        fprintf(stderr, "no input found in the %d path(s) given\n", argc - 1);
        return 1;
    }
    return 0;
}

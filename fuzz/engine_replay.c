/* Replay driver: runs fuzz_one on every file named on the command line
 * (directories are walked one level deep), each in an exact-size copy.
 * Built with -fsanitize=address,undefined by fuzz.mk; used by
 * fuzz/smoke.sh to replay corpora and saved crashes. Prints one line per
 * input with -v; a property violation or a sanitizer report aborts. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz/fuzz.h"

static int verbose;
static unsigned long files;

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return 1;
    }
    long size = ftell(f);
    rewind(f);
    if (size < 0) {
        fclose(f);
        return 1;
    }
    uint8_t *buf = malloc(size > 0 ? (size_t)size : 1);
    if (buf == NULL) {
        fclose(f);
        return 1;
    }
    size_t len = fread(buf, 1, (size_t)size, f);
    fclose(f);
    if (verbose) fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    fuzz_one(buf, len);
    free(buf);
    files++;
    return 0;
}

static int run_path(const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        perror(path);
        return 1;
    }
    if (!S_ISDIR(sb.st_mode)) return run_file(path);
    DIR *d = opendir(path);
    if (d == NULL) {
        perror(path);
        return 1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char sub[4096];
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        struct stat ss;
        if (stat(sub, &ss) == 0 && S_ISREG(ss.st_mode)) rc |= run_file(sub);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv) {
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = 1;
            continue;
        }
        rc |= run_path(argv[i]);
    }
    printf("replayed %lu input(s)\n", files);
    return rc;
}

/* The floor: the least any implementation can do to produce rreport's numbers.
 * Reads /proc/stat twice (the same CPU window), every process's /proc/<pid>/stat
 * and /proc/<pid>/io once (rreport's one pass: CPU since the previous report or
 * since each process started), /proc/meminfo, /proc/uptime, /proc/mounts + statvfs
 * of each, and gethostname, and prints them. No rendering. One thread, the plain
 * way: the pass, then the window.
 * Usage: floor WINDOW_MS */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/statvfs.h>

static void cpu_totals(unsigned long long *busy, unsigned long long *total) {
    unsigned long long v[10] = {0};
    FILE *f = fopen("/proc/stat", "r");
    if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
                     &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) < 4) {
        perror("/proc/stat");
        exit(1);
    }
    fclose(f);
    *total = 0;
    for (int i = 0; i < 8; i++) *total += v[i]; /* guest time is already in user */
    *busy = *total - v[3] - v[4];
}

static void print_file_head(const char *path, int lines) {
    char buf[512];
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(1); }
    while (lines-- > 0 && fgets(buf, sizeof buf, f)) fputs(buf, stdout);
    fclose(f);
}

/* Reads one small procfs file; returns its length, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n >= 0) buf[n] = 0;
    return n;
}

/* One pass over every process: its stat and its io; the sum of the CPU ticks
 * seen, so the reads cannot be optimised away. */
static unsigned long long process_pass(int *count) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    char path[300], buf[4096];
    unsigned long long sum = 0;
    *count = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        if (read_small(path, buf, sizeof buf) <= 0) continue;
        char *close_paren = strrchr(buf, ')');
        unsigned long long utime = 0, stime = 0;
        if (close_paren) sscanf(close_paren + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &utime, &stime);
        sum += utime + stime;
        (*count)++;
        snprintf(path, sizeof path, "/proc/%s/io", e->d_name);
        read_small(path, buf, sizeof buf);
    }
    if (d) closedir(d);
    return sum;
}

int main(int argc, char **argv) {
    long window_ms = argc > 1 ? atol(argv[1]) : 200;
    unsigned long long b0, t0, b1, t1;
    int n;
    cpu_totals(&b0, &t0);
    unsigned long long ticks = process_pass(&n);
    struct timespec ts = { window_ms / 1000, (window_ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
    cpu_totals(&b1, &t1);
    printf("processes %d, ticks %llu\n", n, ticks);
    printf("cpu %.1f%%\n", t1 > t0 ? 100.0 * (b1 - b0) / (t1 - t0) : 0.0);
    print_file_head("/proc/meminfo", 3);
    print_file_head("/proc/uptime", 1);
    char host[256];
    gethostname(host, sizeof host);
    printf("host %s\n", host);
    FILE *m = fopen("/proc/mounts", "r");
    char dev[4096], mnt[4096], type[256];
    while (m && fscanf(m, "%4095s %4095s %255s %*[^\n]", dev, mnt, type) == 3) {
        struct statvfs s;
        if (statvfs(mnt, &s) == 0 && s.f_blocks > 0)
            printf("%s %s %llu %llu\n", mnt, type,
                   (unsigned long long)s.f_blocks * s.f_frsize, (unsigned long long)s.f_bavail * s.f_frsize);
    }
    if (m) fclose(m);
    return 0;
}

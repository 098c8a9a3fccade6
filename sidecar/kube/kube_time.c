/*
 * kube_time — RFC 3339 and MicroTime text to and from Unix time. Pure: never
 * reads the clock, never allocates, no I/O.
 */
#include "sidecar/kube/kube_time.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int digits(const char *s, int n, int *ret)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    *ret = v;
    return 0;
}

int kube_time_parse(const char *s, int64_t *ret)
{
    struct tm tm;
    int Y, M, D, h, m, sec, oh = 0, om = 0;
    const char *p;
    int64_t t;

    if (!s || strlen(s) < 20)
        return -EINVAL;
    if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
        digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' || digits(s + 17, 2, &sec))
        return -EINVAL;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return -EINVAL;
    p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -EINVAL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -EINVAL;
        if (*p == '-') {
            oh = -oh;
            om = -om;
        }
        p += 6;
    } else {
        return -EINVAL;
    }
    if (*p)
        return -EINVAL;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    t = (int64_t)timegm(&tm);
    *ret = t - (int64_t)oh * 3600 - (int64_t)om * 60;
    return 0;
}

void kube_time_render(int64_t t, char *buf, size_t size)
{
    struct tm tm;
    time_t tt = (time_t)t;

    gmtime_r(&tt, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void kube_time_render_micro(int64_t us, char *buf, size_t size)
{
    struct tm tm;
    time_t tt = (time_t)(us / 1000000);
    char head[32];

    gmtime_r(&tt, &tm);
    strftime(head, sizeof(head), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%06lldZ", head, (long long)(us % 1000000));
}

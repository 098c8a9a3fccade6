/*
 * promw — Prometheus text exposition lines into a struct buf. Pure
 * formatting: never decides which metrics exist.
 */
#include "sidecar/base/promw.h"

#include <math.h>

#include "sidecar/base/buf.h"

void promw_family(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void promw_value(struct buf *b, double v)
{
    if (isnan(v))
        buf_puts(b, "NaN");
    else if (isinf(v))
        buf_puts(b, v > 0 ? "+Inf" : "-Inf");
    else
        buf_printf(b, "%.17g", v);
}

void promw_gauge(struct buf *b, const char *name, const char *labels, double v)
{
    buf_printf(b, "%s%s%s%s ", name, labels ? "{" : "", labels ? labels : "", labels ? "}" : "");
    promw_value(b, v);
    buf_puts(b, "\n");
}

/*
 * scrape-int.h — what scrape_spec.c, scrape.c and scrape_delta.c share.
 * Not for other modules: they see scrape.h.
 */
#ifndef ROLLGUARD_SCRAPE_INT_H
#define ROLLGUARD_SCRAPE_INT_H

#include "probes/scrape.h"

/* Sets *err (when not NULL) and returns -EINVAL. */
int scrape_set_err(struct promtext_err *err, unsigned line, unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The unit a latency family's name says (_seconds 1, _milliseconds/_ms 1e-3, ...); 0: none. */
double scrape_infer_scale(const char *name);

#endif

/*
 * admin — the handler behind `admin_listen`: operator actions on top of
 * the read-only endpoints. POST /rollback[?to_revision=N][&dry_run=1]
 * starts the same rollback job as `rollguard rollback` and answers 202
 * with the job id at once (the outcome shows on /status and in the log);
 * GET /check-metrics is the metrics doctor's report on the last scraped
 * page (sidecar/doctor.h); every other path is served by endpoints_handle.
 */
#ifndef ROLLGUARD_ADMIN_H
#define ROLLGUARD_ADMIN_H

#include "sidecar/http/httpd.h"

struct rollback;
struct scraper;
struct state;

struct admin_ctx {
    struct state *state;
    struct rollback *rollback; /* NULL: rollback not available */
    /* The daemon's scraper slot, read at each request (a reload may replace
     * or drop the scraper); NULL, or NULL inside: no scraping. */
    struct scraper *const *scraper;
};

/* httpd_handler_fn over a struct admin_ctx (arg). */
void admin_handle(const struct httpd_req *req, struct httpd_resp *resp, void *arg);

/*
 * Parse the query of POST /rollback ("to_revision=N", "dry_run=1|true|0|false",
 * '&'-separated, len bytes, may be NULL). Returns 0, or -EINVAL for an
 * unknown key or a bad value.
 */
int admin_rollback_query_parse(const char *q, size_t len, long *to_revision, int *dry_run);

#endif

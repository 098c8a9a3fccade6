/*
 * doctor — what rollguard reads from an app's metrics page, in plain lines
 * for a person: the families on the page, the request and error series it
 * counts, the latency family with its unit and p50, and every reason a rule
 * cannot be judged. Behind `rollguard check-metrics [URL] [--config FILE]`
 * and GET /check-metrics on admin_listen.
 */
#ifndef ROLLGUARD_DOCTOR_H
#define ROLLGUARD_DOCTOR_H

#include <stddef.h>

#include "config/cfg.h"
#include "sidecar/base/buf.h"
#include "sidecar/http/httpd.h"

struct scraper;

#define DOCTOR_OK 0       /* every configured rule can be judged from the page */
#define DOCTOR_PROBLEMS 1 /* the page was read, but a rule cannot be judged (or no requests) */
#define DOCTOR_FAILED 2   /* bad usage or config; page unreachable, not 200, too big, unparseable */

#define DOCTOR_MAX_FAMILIES 40 /* families listed by name; the rest are counted by type */

/*
 * Appends the report on one page (len bytes, need not be NUL-terminated;
 * content_type may be NULL) read with c's app.metrics settings to out,
 * ending with "result: ok" or "result: problems (N)"; every problem is a
 * line starting with "warning: " or "error: ". Pure: no I/O, no clock.
 * Returns DOCTOR_OK, DOCTOR_PROBLEMS or DOCTOR_FAILED (the exit status of
 * `rollguard check-metrics`); out->failed tells whether it all fitted.
 */
int doctor_report(const struct cfg *c, const char *body, size_t len, const char *content_type,
                  struct buf *out);

/*
 * GET /check-metrics: the report on the last page s fetched, read with c,
 * as text/plain (200 whatever the result line says). Never fetches: the
 * first request turns keeping the page on (scraper_keep_last_page), so it
 * and any request before a page was kept get 503 with a one-line reason, as
 * does s == NULL (no scraping). Other methods than GET and HEAD get 405.
 */
void doctor_http(const struct httpd_req *req, struct httpd_resp *resp, const struct cfg *c,
                 struct scraper *s);

/*
 * `rollguard check-metrics [URL] [--config FILE]`; argv[0] is
 * "check-metrics". Fetches URL (default: app.metrics.url) once, as the
 * scraper does, and prints the report on stdout; a page that cannot be
 * fetched is one "error: " line on stderr. Returns DOCTOR_OK,
 * DOCTOR_PROBLEMS or DOCTOR_FAILED.
 */
int doctor_cli_main(int argc, char **argv);

#endif

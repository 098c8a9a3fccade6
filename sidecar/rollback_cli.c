/*
 * rollback_cli — the one-shot manual rollback: load the config, build a
 * loop with curlm and the rollback orchestrator, wait for the identity,
 * run one manual job, let pending writes (the Event) finish, report.
 */
#include "sidecar/rollback_cli.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "config/cfg.h"
#include "probes/curlm.h"
#include "sidecar/base/clock.h"
#include "sidecar/base/log.h"
#include "sidecar/rollback/rollback.h"

#define CLI_TICK_MS 50
#define CLI_FLUSH_MS 5000

struct cli {
    struct event_base *base;
    struct curlm *m;
    struct rollback *rb;
    struct event *tick;
    long to_revision;
    bool dry_run;
    bool started;
    bool done;
    enum rollback_result result;
    enum guard_reason reason;
    int64_t deadline_ms, flush_until_ms;
    int status;
};

static int64_t cli_now_ms(void)
{
    return (int64_t)clock_mono_ms();
}

static void cli_usage(FILE *f)
{
    fprintf(f, "Usage: rollguard rollback [--to-revision N] [--dry-run] [--config FILE]\n"
               "\n"
               "Undo the rollout of the Deployment (or abort the Argo Rollout) that owns this\n"
               "pod, like `kubectl rollout undo` but pinned to the newest revision whose\n"
               "pod-template-hash differs from the current one, with preconditions, the Lease,\n"
               "an Event and the record. Needs POD_NAME, POD_NAMESPACE, POD_TEMPLATE_HASH.\n"
               "\n"
               "  --to-revision N   roll back to revision N (default: the previous one)\n"
               "  --dry-run         compute and print the patch, write nothing\n"
               "  -c, --config FILE the sidecar's config (default: embedded defaults)\n"
               "\n"
               "Exit status: 0 rolled back (or dry-run done), 3 refused by a guard (reason\n"
               "printed), 1 error, 2 usage.\n");
}

static void cli_report(struct cli *c)
{
    enum guard_reason reason;
    const char *patch, *error, *kind, *name;
    enum rollback_result res = rollback_last(c->rb, &reason, &patch, &error);

    rollback_owner(c->rb, &kind, &name);
    switch (res) {
    case ROLLBACK_RESULT_ROLLED_BACK:
        printf("%s/%s rolled back\n", strcmp(kind, "Rollout") ? "deployment.apps" : "rollout",
               name);
        c->status = ROLLBACK_CLI_EXIT_OK;
        break;
    case ROLLBACK_RESULT_DRY_RUN:
        printf("%s/%s dry-run: would send %s\n",
               strcmp(kind, "Rollout") ? "deployment.apps" : "rollout", name, patch);
        c->status = ROLLBACK_CLI_EXIT_OK;
        break;
    case ROLLBACK_RESULT_SKIPPED:
        printf("refused: %s: %s\n", guard_reason_name(reason), guard_reason_text(reason));
        c->status = ROLLBACK_CLI_EXIT_REFUSED;
        break;
    default:
        fprintf(stderr, "rollguard rollback: %s\n", error[0] ? error : "failed");
        c->status = ROLLBACK_CLI_EXIT_ERROR;
    }
}

static void cli_on_done(struct rollback *rb, enum rollback_result result, enum guard_reason reason,
                        void *arg)
{
    struct cli *c = arg;

    (void)rb;
    c->done = true;
    c->result = result;
    c->reason = reason;
    c->flush_until_ms = cli_now_ms() + CLI_FLUSH_MS;
}

static void cli_on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct cli *c = arg;
    struct timeval tv = {0, CLI_TICK_MS * 1000};
    const char *why;

    (void)fd;
    (void)what;
    if (c->done) {
        /* Let the fire-and-forget Event finish before leaving. */
        if (curlm_pending(c->m) == 0 || cli_now_ms() > c->flush_until_ms) {
            cli_report(c);
            event_base_loopexit(c->base, NULL);
            return;
        }
    } else if (!rollback_enabled(c->rb, &why)) {
        printf("refused: %s: %s\n", guard_reason_name(GUARD_NOT_IN_CLUSTER), why);
        c->status = ROLLBACK_CLI_EXIT_REFUSED;
        event_base_loopexit(c->base, NULL);
        return;
    } else if (!c->started && rollback_identity_known(c->rb)) {
        int64_t id = rollback_manual(c->rb, c->to_revision, c->dry_run);

        if (id < 0) {
            fprintf(stderr, "rollguard rollback: could not start: %s\n", strerror((int)-id));
            c->status = ROLLBACK_CLI_EXIT_ERROR;
            event_base_loopexit(c->base, NULL);
            return;
        }
        c->started = true;
    } else if (!c->started && rollback_identity_error(c->rb)[0]) {
        fprintf(stderr, "rollguard rollback: %s\n", rollback_identity_error(c->rb));
        c->status = ROLLBACK_CLI_EXIT_ERROR;
        event_base_loopexit(c->base, NULL);
        return;
    }
    if (cli_now_ms() > c->deadline_ms) {
        fprintf(stderr, "rollguard rollback: timed out\n");
        c->status = ROLLBACK_CLI_EXIT_ERROR;
        event_base_loopexit(c->base, NULL);
        return;
    }
    evtimer_add(c->tick, &tv);
}

int rollback_cli_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"to-revision", required_argument, NULL, 't'},
        {"dry-run", no_argument, NULL, 'n'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli c;
    struct cfg *cfg = NULL;
    struct cfg_errs errs;
    const char *path = NULL;
    char err[256], *end;
    int o;

    memset(&c, 0, sizeof(c));
    c.status = ROLLBACK_CLI_EXIT_ERROR;
    optind = 1;
    while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (o) {
        case 't':
            errno = 0;
            c.to_revision = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || c.to_revision < 0) {
                fprintf(stderr,
                        "rollguard rollback: unable to find specified revision %s in "
                        "history\n",
                        optarg);
                return ROLLBACK_CLI_EXIT_USAGE;
            }
            break;
        case 'n':
            c.dry_run = true;
            break;
        case 'c':
            path = optarg;
            break;
        case 'h':
            cli_usage(stdout);
            return ROLLBACK_CLI_EXIT_OK;
        default:
            cli_usage(stderr);
            return ROLLBACK_CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "rollguard rollback: unexpected argument '%s'\n", argv[optind]);
        return ROLLBACK_CLI_EXIT_USAGE;
    }
    memset(&errs, 0, sizeof(errs));
    if ((path ? cfg_load(path, &cfg, &errs) : cfg_default(&cfg, &errs)) < 0) {
        char text[CFG_MAX_ERRORS * 300];

        cfg_errs_render(&errs, path ? path : "(embedded defaults)", text, sizeof(text));
        fputs(text, stderr);
        return ROLLBACK_CLI_EXIT_USAGE;
    }
    log_setup((enum log_level)cfg->log_level, cfg->log_format == CFG_LOG_JSON);
    signal(SIGPIPE, SIG_IGN);
    if (curlm_global_init(err, sizeof(err)) < 0) {
        fprintf(stderr, "rollguard rollback: %s\n", err);
        cfg_unref(cfg);
        return ROLLBACK_CLI_EXIT_ERROR;
    }
    c.base = event_base_new();
    c.m = c.base ? curlm_new(c.base) : NULL;
    c.tick = c.base ? evtimer_new(c.base, cli_on_tick, &c) : NULL;
    if (!c.m || !c.tick || rollback_new(c.base, c.m, cfg, &c.rb) < 0) {
        fprintf(stderr, "rollguard rollback: out of memory\n");
        goto out;
    }
    rollback_set_done_cb(c.rb, cli_on_done, &c);
    c.deadline_ms = cli_now_ms() + ROLLBACK_CLI_DEADLINE_MS;
    {
        struct timeval tv = {0, 0};
        evtimer_add(c.tick, &tv);
    }
    event_base_dispatch(c.base);
out:
    c.rb = rollback_free(c.rb);
    if (c.tick)
        event_free(c.tick);
    c.m = curlm_free(c.m);
    if (c.base)
        event_base_free(c.base);
    curlm_global_done();
    cfg_unref(cfg);
    return c.status;
}

/*
 * state — the small rules over the daemon's in-memory view: what counts
 * as healthy and ready, and the probe duration histograms. No I/O.
 */
#include "sidecar/state.h"

const double state_probe_bounds[STATE_PROBE_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
};

const int state_codes[STATE_CODES] = {200, 400, 404, 405, 413, 500, 503, 0};

const char *state_probe_name(enum state_probe_id id)
{
    return id == STATE_LIVENESS ? "liveness" : "readiness";
}

bool state_healthy(const struct state *s)
{
    const struct probe_state *ps = s->probe[STATE_LIVENESS];

    return !ps || ps->ok;
}

bool state_ready(const struct state *s, const char **why)
{
    const struct probe_state *ps = s->probe[STATE_READINESS];

    if (s->shutting_down) {
        *why = "shutting down";
        return false;
    }
    if (!ps || ps->ok) {
        *why = "";
        return true;
    }
    *why = ps->has_run ? "readiness probe failing" : "readiness probe has not passed yet";
    return false;
}

void state_probe_observe(struct state *s, enum state_probe_id id, double seconds)
{
    struct state_probe_hist *h = &s->probe_hist[id];
    unsigned i = 0;

    while (i < STATE_PROBE_BUCKETS && seconds > state_probe_bounds[i])
        i++;
    h->bucket[i]++;
    h->count++;
    h->sum += seconds;
}

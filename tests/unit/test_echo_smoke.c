/* The correct echo pair under many random schedules and knob choices: never a finding. */
#include "../support/check.h"
#include "../support/harness.h"
#include "echo_modules.h"

#include <stdlib.h>

int main(int argc, char **argv)
{
    check_tally t = {0, 0, "echo-smoke"};
    int runs = argc > 1 ? atoi(argv[1]) : 2000;
    for (int seed = 1; seed <= runs; seed++) {
        nmrh_chooser_random rnd;
        nmrh_chooser_random_init(&rnd, (uint64_t)seed);
        nmrh_world *w = th_world(&rnd.base);
        test_instance c, p1, p2;
        th_instance_init(w, &c, &echo_client_kind, "echo-client", 0);
        th_instance_init(w, &p1, &echo_provider_kind, "echo-provider-a", 0);
        th_instance_init(w, &p2, &echo_provider_kind, "echo-provider-b", 1);
        th_load(w, &p1);
        th_load(w, &c);
        th_load(w, &p2);
        nmrh_world_run(w);
        th_call(w, &c, 7);
        th_call(w, &p1, 9);
        th_unload(w, &p1);
        th_call(w, &c, 8);
        th_unload(w, &c);
        th_unload(w, &p2);
        nmrh_world_run(w);
        bool clean = nmrh_world_finish(w);
        if (!clean) {
            fprintf(stderr, "seed %d: %s: %s\n", seed, th_signature(w), nmrh_world_finding(w)->message);
            if (nmrh_world_finding(w)->details) fprintf(stderr, "%s\n", nmrh_world_finding(w)->details);
            nmrh_world_print_trace(w, stderr);
        }
        CHECK(&t, clean);
        nmrh_world_destroy(w);
        th_instance_free(&c);
        th_instance_free(&p1);
        th_instance_free(&p2);
        if (!clean) break;
    }
    return check_summary(&t, "test_echo_smoke");
}

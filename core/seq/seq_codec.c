/*
 * Records and the binary form. Normalisation is the heart of it: every field is reduced into its
 * range against the sequence so far, and a record that cannot apply is dropped, so any byte
 * string is a valid sequence and text, binary and interpreter agree on what a record means.
 */
#include <stddef.h>
#include <string.h>

#include "nmrh/knobs.h"
#include "nmrh/seq.h"

static const char *const op_names[NMRH_OP_COUNT] = {
    "module", "start", "do", "step", "run", "run-all", "decide", "knob", "fail-allocs", "fail-nmr",
};
static const char *const action_names[NMRH_ACT_COUNT] = {"load", "unload", "call", "complete"};

const char *nmrh_op_name(nmrh_op op) { return (unsigned)op < NMRH_OP_COUNT ? op_names[op] : "?"; }
const char *nmrh_action_name(nmrh_action a) { return (unsigned)a < NMRH_ACT_COUNT ? action_names[a] : "?"; }

/* Everything but the record arrays, which are written record by record as they are appended
   (nothing reads past `count`): a fuzzer decodes one input into the same buffer every time, and
   clearing 1024 unused records would cost more than the decode itself. */
void nmrh_seq_init(nmrh_seq *s, const nmrh_target *target)
{
    memset(s, 0, offsetof(nmrh_seq, records));
    size_t after = offsetof(nmrh_seq, text) + sizeof s->text;
    memset((char *)s + after, 0, sizeof *s - after);
    s->target = target;
}

/* Each option field keeps a value below its count; bits outside every field are cleared. */
static uint32_t normalize_options(const nmrh_module_kind *kind, uint32_t options)
{
    uint32_t out = 0;
    for (unsigned i = 0; i < kind->nparams; i++) {
        const nmrh_module_param *p = &kind->params[i];
        uint32_t v = (options >> p->shift) & ((1u << p->bits) - 1);
        out |= (v % p->nvalues) << p->shift;
    }
    return out;
}

int nmrh_seq_append(nmrh_seq *s, nmrh_record r)
{
    if (s->count >= NMRH_SEQ_MAX_RECORDS) return 0;
    r.op %= NMRH_OP_COUNT;
    switch ((nmrh_op)r.op) {
    case NMRH_OP_MODULE: {
        if (s->nmodules >= NMRH_SEQ_MAX_MODULES || s->target->nkinds == 0) return 0;
        r.a %= s->target->nkinds;
        uint32_t options = normalize_options(s->target->kinds[r.a], (uint32_t)r.b | ((uint32_t)r.c << 8));
        r.b = (uint8_t)options;
        r.c = (uint8_t)(options >> 8);
        s->nmodules++;
        break;
    }
    case NMRH_OP_START:
    case NMRH_OP_DO:
        if (s->nmodules == 0 || s->nthreads >= NMRH_SEQ_MAX_THREADS) return 0;
        r.a %= NMRH_ACT_COUNT;
        r.b %= s->nmodules;
        if (r.a != NMRH_ACT_CALL) r.c = 0;
        s->nthreads++;
        break;
    case NMRH_OP_STEP:
        if (s->nthreads == 0) return 0;
        r.a %= s->nthreads;
        r.b %= 16;
        r.c = 0;
        break;
    case NMRH_OP_RUN:
        if (s->nthreads == 0) return 0;
        r.a %= s->nthreads;
        r.b = r.c = 0;
        break;
    case NMRH_OP_RUN_ALL:
        r.a = r.b = r.c = 0;
        break;
    case NMRH_OP_DECIDE:
        r.b = r.c = 0;
        break;
    case NMRH_OP_KNOB:
        r.a %= NMRH_KNOB_COUNT;
        r.b %= nmrh_knob_values((nmrh_knob)r.a) + 1;
        r.c = 0;
        break;
    case NMRH_OP_FAIL_ALLOCS:
        if (s->nmodules == 0) return 0;
        r.a %= s->nmodules;
        r.b %= 16;
        r.c %= 16;
        break;
    case NMRH_OP_FAIL_NMR:
        r.a %= 2;
        r.b %= 16;
        r.c = 0;
        break;
    default:
        return 0;
    }
    s->records[s->count] = r;
    memset(&s->text[s->count], 0, sizeof s->text[s->count]);
    s->count++;
    return 1;
}

void nmrh_seq_decode(nmrh_seq *s, const nmrh_target *target, const uint8_t *data, size_t size)
{
    nmrh_seq_init(s, target);
    for (size_t i = 0; i + NMRH_SEQ_RECORD_SIZE <= size && s->count < NMRH_SEQ_MAX_RECORDS; i += NMRH_SEQ_RECORD_SIZE) {
        nmrh_record r = {data[i], data[i + 1], data[i + 2], data[i + 3]};
        nmrh_seq_append(s, r);
    }
}

size_t nmrh_seq_encode(const nmrh_seq *s, uint8_t *out, size_t size)
{
    size_t need = (size_t)s->count * NMRH_SEQ_RECORD_SIZE;
    if (size < need) return need;
    for (uint32_t i = 0; i < s->count; i++) {
        out[4 * i] = s->records[i].op;
        out[4 * i + 1] = s->records[i].a;
        out[4 * i + 2] = s->records[i].b;
        out[4 * i + 3] = s->records[i].c;
    }
    return need;
}

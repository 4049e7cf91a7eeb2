#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

void th_instance_init(nmrh_world *w, test_instance *i, const nmrh_module_kind *kind, const char *name, ULONG param)
{
    memset(i, 0, sizeof *i);
    i->kind = kind;
    i->param = param;
    i->module = nmrh_world_add_module(w, name);
}

static void load_fn(void *arg)
{
    test_instance *i = arg;
    if (!i->instance) i->instance = calloc(1, i->kind->instance_size);
    i->load_status = i->kind->load(i->instance, i->param);
    i->loaded = NT_SUCCESS(i->load_status);
}

static void unload_fn(void *arg)
{
    test_instance *i = arg;
    if (!i->loaded || i->unloaded) return;
    i->kind->unload(i->instance);
    i->unloaded = 1;
    nmrh_world_module_unloaded(nmrh_world_current(), i->module);
}

static void call_fn(void *arg)
{
    test_instance *i = arg;
    if (i->loaded && !i->unloaded && i->kind->call) i->kind->call(i->instance, i->call_value);
}

static nmrh_thread *spawn(nmrh_world *w, test_instance *i, const char *verb, nmrh_thread_fn fn)
{
    char name[32];
    snprintf(name, sizeof name, "%s-%s", verb, nmrh_world_module_name(w, i->module));
    return nmrh_world_spawn(w, name, i->module, fn, i);
}

nmrh_thread *th_load(nmrh_world *w, test_instance *i) { return spawn(w, i, "load", load_fn); }
nmrh_thread *th_unload(nmrh_world *w, test_instance *i) { return spawn(w, i, "unload", unload_fn); }
nmrh_thread *th_call(nmrh_world *w, test_instance *i, ULONG value)
{
    i->call_value = value;
    return spawn(w, i, "call", call_fn);
}

nmrh_world *th_world(nmrh_chooser *chooser)
{
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    return nmrh_world_create(&cfg, chooser);
}

const char *th_signature(const nmrh_world *w)
{
    const nmrh_finding *f = nmrh_world_finding(w);
    return f ? f->signature : "";
}

void th_instance_free(test_instance *i)
{
    free(i->instance);
    i->instance = NULL;
}

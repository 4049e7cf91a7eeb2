/* The NMR test double's host in user mode (ktd_nmr_os.h): pthreads and the C library. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "ktd_nmr_os.h"

static pthread_mutex_t g_mx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;

void ktd_os_lock(void) { pthread_mutex_lock(&g_mx); }
void ktd_os_unlock(void) { pthread_mutex_unlock(&g_mx); }
void ktd_os_wait(void) { pthread_cond_wait(&g_cv, &g_mx); }
void ktd_os_broadcast(void) { pthread_cond_broadcast(&g_cv); }

typedef struct start {
    void (*fn)(void *);
    void *arg;
} start;

static void *thread_main(void *p)
{
    start s = *(start *)p;
    free(p);
    s.fn(s.arg);
    return NULL;
}

void ktd_os_start_thread(void (*fn)(void *), void *arg)
{
    start *s = malloc(sizeof *s);
    if (!s) ktd_os_fatal("no memory for a thread");
    s->fn = fn, s->arg = arg;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, thread_main, s) != 0) ktd_os_fatal("pthread_create failed");
    pthread_attr_destroy(&attr);
}

void *ktd_os_zalloc(size_t n) { return calloc(1, n); }
void ktd_os_free(void *p) { free(p); }

_Noreturn void ktd_os_fatal(const char *what)
{
    fprintf(stderr, "ktd_nmr: %s\n", what);
    abort();
}

/*
 * nmrstress's results: JUnit XML for lab dashboards, and the crash journal.
 *
 * The journal is how the lab finds the sequence that brought a machine down: before every
 * submission nmrstress appends "START" with the sequence's id and file to it and makes the line
 * durable (FlushFileBuffers / fsync); after the driver answers it appends "END" with the verdict.
 * After a bugcheck, a START without its END names what was running (`nmrstress triage`).
 *
 *   2024-05-01T12:00:00Z START replay id=9f0c... target=echo file=corpus/x.nmrseq
 *   2024-05-01T12:00:00Z END replay id=9f0c... verdict=PASS
 *   2024-05-01T12:00:01Z START stress id=41aa... target=echo seed=7 threads=4 duration_ms=60000 files=a.nmrseq,b.nmrseq
 */
#ifndef NMRH_REPORT_H
#define NMRH_REPORT_H

#include <stddef.h>
#include <stdio.h>

typedef struct case_result {
    char *name;        /* the sequence file */
    const char *status; /* PASS, FINDING, HANG, DIVERGED, ERROR */
    char *message;     /* one line */
    char *details;     /* several lines, or NULL */
    double seconds;
} case_result;

typedef struct junit_suite {
    const char *name;      /* "nmrstress.replay" */
    const char *classname; /* "nmrstress.replay.echo" */
    const char *timestamp, *hostname;
    const char *(*properties)[2];
    size_t nproperties;
    const case_result *cases;
    size_t ncases;
    double seconds;
} junit_suite;

/* 1 on success. */
int junit_write(const char *path, const junit_suite *s);
/* Text safe inside XML attributes and elements. */
void xml_escape(FILE *out, const char *s);

int journal_start(const char *path, const char *what, char *err, size_t errcap);
int journal_end(const char *path, const char *what, char *err, size_t errcap);
/* Prints the submissions of the journal that started and never ended; returns how many. */
int journal_triage(const char *path, FILE *out, char *err, size_t errcap);

#endif

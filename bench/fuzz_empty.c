/*
 * The empty-target floor of bench/fuzzbench.py: a libFuzzer target that only reads its input,
 * built and linked with exactly the flags of the real fuzz targets (sanitizers, coverage, the
 * harness libraries), so that the ratio between the two is what the harness itself costs.
 */
#include <stddef.h>
#include <stdint.h>

static volatile uint8_t sink; /* keeps the read from being optimised away */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < size; i++) sum ^= data[i];
    sink = sum;
    return 0;
}

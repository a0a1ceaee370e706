"""The benchmarks behind `strotss bench SUB`, one module each, sharing the timers of strotss.bench.timing."""

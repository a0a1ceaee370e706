"""Benchmarks behind `strotss bench SUB` that belong to no single library folder."""

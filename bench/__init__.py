"""``make bench``: the measurements of SPEC §9 as ratios in one run (see docs/benchmarks.md)."""

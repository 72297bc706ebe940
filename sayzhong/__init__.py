"""SayZhong: a conversational Mandarin pronunciation trainer."""

import os

# The scoring engine multiplies small matrices (a take is a few hundred frames). BLAS's own thread
# pool only spins against the scoring threads for those: on the 2-core load-test box a take cost
# ≈ 40 ms of CPU with it and ≈ 12 ms without (bench/RESULTS-load.md run 5). Set here, before anything
# imports numpy (every entry point imports this package first: rxconfig, `python -m sayzhong`, jobs);
# an operator's own value wins.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

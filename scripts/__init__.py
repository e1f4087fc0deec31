"""Benchmarks and tools, run from the project root as modules: `python -m scripts.NAME`.

Each runs under the thread policy of the work it measures (index.threads), applied here, before
any model or faiss loads, as the command line does: bench_index builds indexes, the others
answer questions.
"""

import sys

from index import threads

threads.apply("build" if "scripts.bench_index" in sys.orig_argv else "question")

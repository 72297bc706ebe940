"""Help-centre search speed and result quality on the repository's articles (issue 13).

    .venv/bin/python bench/support_search_bench.py

Seeds the articles into an in-memory SQLite database and times the FTS5 adapter (index built per
search, see sayzhong/support/offline.py) over a fixed list of English, hanzi, pinyin and misspelt
queries, printing the top article for each and the median / worst time per search.
"""

from __future__ import annotations

import statistics
import time

from sqlmodel import Session, SQLModel, create_engine

from sayzhong.models import load_all_models
from sayzhong.support import help
from sayzhong.support.offline import SqliteFtsHelpSearch

QUERIES = (
    "microphone blocked",
    "upload failed",
    "声调",
    "shengdiao",
    "轻声",
    "qingsheng",
    "你好 sandhi",
    "charged twice",
    "delete my account",
    "export data gdpr",
    "streak reset",
    "sayzhong-client token",
    "micrphone permision",
    "refnud",
    "zxqv flurble",
)


def main() -> None:
    load_all_models()
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    index = SqliteFtsHelpSearch()
    with Session(engine) as session:
        started = time.perf_counter()
        count = help.seed_articles(session=session)
        print(f"seeded {count} articles in {time.perf_counter() - started:.2f} s (with jieba loading)")
        help.search_help(session=session, query="warm up", index=index)
        timings = []
        for query in QUERIES:
            started = time.perf_counter()
            result = help.search_help(session=session, query=query, index=index)
            timings.append((time.perf_counter() - started) * 1000)
            top = result.items[0].slug if result.items else "(nothing)"
            note = f" (did you mean: {result.suggestion})" if result.suggestion else ""
            print(f"{query!r:28} -> {top}{note}  [{len(result.items)} results, {timings[-1]:.1f} ms]")
    print(f"search time: median {statistics.median(timings):.1f} ms, worst {max(timings):.1f} ms")


if __name__ == "__main__":
    main()

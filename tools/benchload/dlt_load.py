"""The peer of jsonl_to_duckdb: the pinned Python dlt loads the same JSONL
file into DuckDB, the way a dlt user writes it (a resource yielding pages
of parsed records; dlt normalizes and loads with its defaults).

    python dlt_load.py FILE DIR
"""
import json
import os
import sys

import dlt


def main() -> None:
    path, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)

    @dlt.resource(name="issues")
    def issues():
        page = []
        with open(path, "rb") as f:
            for line in f:
                page.append(json.loads(line))
                if len(page) == 1000:
                    yield page
                    page = []
        if page:
            yield page

    pipeline = dlt.pipeline(
        pipeline_name="bench_dlt",
        pipelines_dir=os.path.join(work, "pipelines"),
        destination=dlt.destinations.duckdb(os.path.join(work, "dlt.duckdb")),
        dataset_name="bench",
    )
    info = pipeline.run(issues())
    info.raise_on_failed_jobs()


if __name__ == "__main__":
    main()

"""Loads GitHub issues (a bundled page of them) into the warehouse."""

import json
from pathlib import Path

import dlt


@dlt.resource(primary_key="id", write_disposition="merge")
def issues():
    yield json.loads((Path(__file__).parent / "data" / "issues.json").read_text())


def load() -> None:
    pipeline = dlt.pipeline("github", destination="warehouse", dataset_name="github_data")
    info = pipeline.run(issues())
    print(info)


if __name__ == "__main__":
    load()

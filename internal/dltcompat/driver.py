"""Runs the differential harness' cases through Python dlt (internal/dltcompat).

Usage: python driver.py CASES.json OUT_DIR

CASES.json is a list of cases: {"name", "table", "loads": [[record, ...], ...],
"hints": {...}}. Each case runs as its own pipeline into a DuckDB file
(dataset "data"); every load is one pipeline.run. A case with "keep_db"
leaves its DuckDB file as OUT_DIR/NAME.duckdb; one with "from_db" starts
from a copy of that DuckDB file (dlt restores the pipeline's schema and
state from it, as a user's new machine does). Then OUT_DIR/NAME.json
gets what the Go side compares (dump()): the newest stored schema, and per
table its columns with their DuckDB types and its rows, values in the
canonical form of value(), and "export": the schema document as
`dlt pipeline NAME schema` prints it (Schema.to_dict(remove_defaults=True),
the dict behind to_pretty_yaml()), keys in dlt's order. A case dlt refuses
gets {"error": "Type: msg"}.
The dump is JSON because the Python and Go DuckDB libraries need not share
a file format.
"""

import base64
import datetime
import decimal
import json
import os
import shutil
import sys
import tempfile


def value(v):
    """A value as the harness compares it (the Go side makes the same)."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return {"float": repr(v)}
        return v
    if isinstance(v, decimal.Decimal):
        return {"decimal": str(v)}
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
            return {"timestamptz": v.isoformat(timespec="microseconds")}
        return {"timestamp": v.isoformat(timespec="microseconds")}
    if isinstance(v, datetime.date):
        return {"date": v.isoformat()}
    if isinstance(v, datetime.time):
        return {"time": v.isoformat(timespec="microseconds")}
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"binary": base64.b64encode(bytes(v)).decode()}
    if isinstance(v, (dict, list)):
        return {"json": json.dumps(v, sort_keys=True)}
    return {"other": str(v)}


def dump(path):
    """The stored schema and every table's columns and rows."""
    import duckdb

    con = duckdb.connect(path, read_only=True)
    try:
        out = {"tables": {}}
        row = con.execute("SELECT schema FROM data._dlt_version ORDER BY inserted_at DESC, version DESC LIMIT 1").fetchall()
        out["schema"] = json.loads(row[0][0]) if row else None
        cols = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'data' ORDER BY table_name, ordinal_position"
        ).fetchall()
        for table, column, typ in cols:
            out["tables"].setdefault(table, {"columns": [], "rows": []})["columns"].append([column, typ])
        for table, t in out["tables"].items():
            if table.startswith("_dlt_"):
                continue  # system tables: their columns are compared, not their rows
            names = ", ".join('"' + c[0].replace('"', '""') + '"' for c in t["columns"])
            is_json = [c[1] == "JSON" for c in t["columns"]]
            t["rows"] = [
                [{"json": v} if j and isinstance(v, str) else value(v) for v, j in zip(r, is_json)]
                for r in con.execute(f'SELECT {names} FROM data."{table}"').fetchall()
            ]
        return out
    finally:
        con.close()


def run_case(case, out_dir, pipelines_dir):
    import dlt

    name = case["name"]
    hints = case.get("hints") or {}
    kwargs = {"name": case.get("table") or "items"}
    for key in ("write_disposition", "primary_key", "merge_key", "columns", "max_table_nesting", "schema_contract", "incremental"):
        if key in hints:
            kwargs[key] = hints[key]
    db = os.path.join(pipelines_dir, name + ".duckdb")
    if case.get("from_db"):
        shutil.copyfile(case["from_db"], db)
    pipeline = dlt.pipeline(
        pipeline_name=case.get("pipeline") or "c_" + name,
        destination=dlt.destinations.duckdb(db),
        dataset_name="data",
        # a working dir per case: a handover case runs another case's pipeline
        pipelines_dir=os.path.join(pipelines_dir, name),
    )
    datetimes = case.get("datetimes") or []
    try:
        for records in case["loads"]:
            for rec in records:
                for key in datetimes:
                    if isinstance(rec.get(key), str):
                        rec[key] = datetime.datetime.fromisoformat(rec[key])
            pipeline.run(dlt.resource(records, **kwargs))
    except Exception as e:  # dlt refused the case: the Go engine must too
        cause = e
        while getattr(cause, "__cause__", None) is not None:
            cause = cause.__cause__
        result = {"error": type(cause).__name__ + ": " + str(cause)}
    else:
        result = dump(db)
        # What `dlt pipeline NAME schema --format yaml` prints, as a dict:
        # fetch_schema_export calls to_pretty_yaml(remove_defaults=True).
        result["export"] = pipeline.default_schema.to_dict(remove_defaults=True)
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(result, f)
    if case.get("keep_db") and os.path.exists(db):
        shutil.copyfile(db, os.path.join(out_dir, name + ".duckdb"))


def main():
    cases_path, out_dir = sys.argv[1], sys.argv[2]
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    os.environ["DLT_TELEMETRY_DISABLED"] = "1"
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    with open(cases_path) as f:
        cases = json.load(f)
    import dlt

    with open(os.path.join(out_dir, "dlt-version"), "w") as f:
        f.write(dlt.__version__)
    with tempfile.TemporaryDirectory() as pipelines_dir:
        for case in cases:
            run_case(case, out_dir, pipelines_dir)


if __name__ == "__main__":
    main()

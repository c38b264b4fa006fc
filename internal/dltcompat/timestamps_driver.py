"""Detects timestamps in strings with Python dlt (internal/dltcompat).

Usage: python timestamps_driver.py STRINGS.json OUT.json

STRINGS.json is a list of strings. OUT.json gets {"dlt_version", "results":
[{"detected": bool, "us": microseconds since the epoch or null, "error":
the exception dlt raises converting a detected string, or "", "ts", "date":
"time": the string coerced into a timestamp column (microseconds), a date
column (YYYY-MM-DD) and a time column (HH:MM:SS[.ffffff]), "ts_error",
"date_error", "time_error": the exception's name when the coercion
fails}]}. Detection is dlt's is_iso_timestamp (what makes a
column a timestamp), the instant is what parse_iso_like_datetime makes of
the string, naive read as UTC; the coercions are coerce_value's from text,
as dlt's normalizer calls it for a string in a column of that type.
"""

import datetime
import json
import sys

import dlt
from dlt.common.schema.detections import is_iso_timestamp
from dlt.common.data_types.type_helpers import coerce_value
from dlt.common.time import parse_iso_like_datetime

EPOCH = datetime.datetime(1970, 1, 1)


def instant(s):
    return micros(parse_iso_like_datetime(s))


def micros(dt):
    local = datetime.datetime(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond)
    td = local - EPOCH - (dt.utcoffset() or datetime.timedelta(0))
    return td.days * 86_400_000_000 + td.seconds * 1_000_000 + td.microseconds


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        strings = json.load(f)
    results = []
    for s in strings:
        r = {"detected": bool(is_iso_timestamp(str, s)), "us": None, "error": ""}
        if r["detected"]:
            try:
                r["us"] = instant(s)
            except Exception as e:  # noqa: BLE001 - dlt fails the run here
                r["error"] = type(e).__name__
        for key, to, conv in (
            ("ts", "timestamp", micros),
            ("date", "date", lambda d: d.isoformat()),
            ("time", "time", lambda t: t.isoformat()),
        ):
            r[key], r[key + "_error"] = None, ""
            try:
                r[key] = conv(coerce_value(to, "text", s))
            except Exception as e:  # noqa: BLE001 - ValueError is a variant column
                r[key + "_error"] = type(e).__name__
        results.append(r)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump({"dlt_version": dlt.__version__, "results": results}, f)


if __name__ == "__main__":
    main()

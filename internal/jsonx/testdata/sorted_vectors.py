"""Writes sorted_vectors.jsonl: JSON documents and the bytes dlt's
json.dumpb(sort_keys=True) makes of them (orjson), with the row hash dlt's
get_row_hash takes of those bytes. Run with the pinned dlt:
    build/py/bin/python internal/jsonx/testdata/sorted_vectors.py
"""
import json, math, os, random, struct

from dlt.common.json import json as dltjson
from dlt.common.utils import digest128b

rnd = random.Random(20261206)


def rand_float():
    k = rnd.random()
    if k < 0.4:
        return struct.unpack("<d", struct.pack("<Q", rnd.getrandbits(64)))[0]
    if k < 0.8:
        return rnd.uniform(-1, 1) * 10 ** rnd.randint(-25, 25)
    return float(rnd.randint(-(10**17), 10**17)) / 10 ** rnd.randint(0, 20)


def rand_str():
    pool = ['a', 'Z', ' ', '"', '\\', '/', '\n', '\t', '\b', '\f', '\r', '\x00', '\x1f', '\x7f',
            'é', 'ß', '€', '\u2028', '\u2029', '😀', '中', '\ufeff', '\uffff']
    return ''.join(rnd.choice(pool) for _ in range(rnd.randint(0, 12)))


def rand_value(depth):
    k = rnd.random()
    if depth > 3 or k < 0.5:
        return rnd.choice([None, True, False, rnd.randint(-2**63, 2**63 - 1), rnd.randint(-1000, 1000),
                           rand_float(), rand_str()])
    if k < 0.75:
        return [rand_value(depth + 1) for _ in range(rnd.randint(0, 4))]
    return {rand_str(): rand_value(depth + 1) for _ in range(rnd.randint(0, 5))}


values = [1.0, 1.5, 1e15, 1e16, 1e-5, 1e-6, 1.234e-5, 1.234e-6, -0.0, 0.0, 5e-324,
          1.7976931348623157e308, 100.0, 0.1, 123456789012345.6, 1.2345678901234568e16,
          2**63 - 1, -2**63, "", "a\b\f\n\r\t\x01\x1f\x7f\"\\ é 😀 \u2028 /",
          {"b": 1, "a": {"d": [1, {"z": 1, "y": 2}], "c": 2}}, {"é": 1, "e": 2, "E": 3, "😀": 4, "\u2028": 5}]
values += [rand_float() for _ in range(300)]
values += [rand_value(0) for _ in range(300)]
out = os.path.join(os.path.dirname(__file__), "sorted_vectors.jsonl")
with open(out, "w", encoding="utf-8") as f:
    for v in values:
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            continue
        text = json.dumps(v, ensure_ascii=False)
        if json.loads(text) != v and not (isinstance(v, float)):
            continue
        parsed = json.loads(text)
        b = dltjson.dumpb(parsed, sort_keys=True)
        line = {"in": text, "out": b.decode("utf-8"), "hash": digest128b(b, 10)}
        if isinstance(parsed, float):
            line["str"] = str(parsed)  # how dlt coerces a double to text
        f.write(json.dumps(line, ensure_ascii=False) + "\n")

"""Resolves the configuration parity cases with Python dlt (internal/dltcompat).

Usage: python config_driver.py CASES.json OUT.json

CASES.json is a list of cases: {"name", "dir", "profile", "env": {NAME: value},
"lookups": [{"key", "explicit": [...], "section", "name", "secret",
"pipeline"}]}. The Go side has already written the case's files under dir:
ws/.dlt/ (the workspace's settings, with profile files), home/.dlt/ (the
global ones) and secrets/ (the /run/secrets-style directory).

Each case gets the providers dlt's WorkspaceRunContext gives a workspace
with that profile (environment, then the profile-aware secrets.toml and
config.toml providers), with the global dir pointed at home/.dlt: dlt's own
global_dir() picks /var/dlt for root, so it is set, not found. The secret
files' directory is dlt's module constant SECRET_STORAGE_PATH, the only way
dlt 1.31.0 lets it be moved. Every lookup then runs dlt's
_resolve_single_value, the function that resolves every field of every
configuration spec: `explicit` are the sections popped from the right,
`section` the spec's __section__ that is never popped (runtime, credentials),
the pipeline name the outer section tried first. The environment is reset
before each lookup, because dlt copies a secret file it read into os.environ.

OUT.json gets {"dlt_version", "cases": {name: [result, ...]}}; a result has
the value (in the canonical form of canon(), which the Go side reproduces),
the winning provider, key and location when dlt tells them, an error kind,
and the lookup trace as [provider, key] pairs.
"""

import datetime
import json
import os
import sys


def canon(v):
    """A value in the tagged form the harness compares (the Go side makes the same)."""
    if isinstance(v, bool):
        return {"bool": v}
    if isinstance(v, int):
        return {"int": str(v)}
    if isinstance(v, float):
        return {"float": "%.17g" % v}
    if isinstance(v, str):
        return {"str": v}
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            off = int(v.utcoffset().total_seconds())
            utc = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
            return {"datetime": utc.strftime("%Y-%m-%dT%H:%M:%S.%f"), "offset": off}
        return {"local_datetime": v.strftime("%Y-%m-%dT%H:%M:%S.%f")}
    if isinstance(v, datetime.date):
        return {"date": v.isoformat()}
    if isinstance(v, datetime.time):
        return {"time": v.strftime("%H:%M:%S.%f")}
    if isinstance(v, dict):
        return {"table": {str(k): canon(x) for k, x in v.items()}}
    if isinstance(v, (list, tuple)):
        return {"list": [canon(x) for x in v]}
    return {"other": type(v).__name__ + ":" + str(v)}


def providers_for(case):
    """The providers a dlt workspace with the case's profile resolves from."""
    from dlt._workspace._workspace_context import WorkspaceRunContext

    ctx = WorkspaceRunContext("ws", os.path.join(case["dir"], "ws"), case["profile"])
    ctx._global_dir = os.path.join(case["dir"], "home", ".dlt")
    return ctx.initial_providers()


def lookup(lk):
    """Resolves one key the way a configuration spec's field is resolved."""
    from dlt.common.configuration.exceptions import ValueNotSecretException
    from dlt.common.configuration.resolve import _resolve_single_value, inject_section
    from dlt.common.configuration.specs.config_section_context import ConfigSectionContext
    from dlt.common.configuration.specs.base_configuration import extract_inner_hint
    from dlt.common.typing import AnyType, TSecretValue

    hint = TSecretValue if lk["secret"] else AnyType
    explicit = tuple(lk["explicit"])
    out = {"key": lk["key"], "pipeline": lk["pipeline"]}
    ctx = ConfigSectionContext(pipeline_name=lk["pipeline"] or None, sections=explicit)
    try:
        with inject_section(ctx, merge_existing=False):
            value, traces = _resolve_single_value(
                lk["name"], hint, extract_inner_hint(hint), lk["section"] or None, explicit, ()
            )
    except ValueNotSecretException as e:
        out["error"] = "not_secret"
        out["error_provider"] = e.provider_name
        out["error_key"] = e.key
        return out
    out["traces"] = [[t.provider, t.key] for t in traces]
    if value is not None:
        win = traces[-1]
        out.update(found=True, value=canon(value), provider=win.provider, lookup=win.key, location=win.provider_location or "")
    else:
        out["found"] = False
    return out


def main():
    cases_path, out_path = sys.argv[1], sys.argv[2]
    os.environ["DLT_TELEMETRY_DISABLED"] = "1"
    with open(cases_path) as f:
        cases = json.load(f)
    import dlt
    import dlt._workspace.known_sections  # noqa: F401  (registers the compact jobs layout)
    import dlt.common.configuration.providers.environ as environ_provider
    from dlt.common.configuration.container import Container
    from dlt.common.configuration.specs.config_providers_context import ConfigProvidersContainer
    from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

    base_env = {"PATH": os.environ.get("PATH", "")}
    results = {}
    for case in cases:
        environ_provider.SECRET_STORAGE_PATH = os.path.join(case["dir"], "secrets") + "/%s"
        os.environ.clear()
        os.environ.update(base_env)
        try:
            providers = providers_for(case)
        except Exception as e:  # dlt cannot read (or merge) the case's files
            msg = str(e).splitlines()[-1]
            results[case["name"]] = [
                {"key": lk["key"], "pipeline": lk["pipeline"], "error": "read", "message": msg} for lk in case["lookups"]
            ]
            continue
        Container()[PluggableRunContext].providers = ConfigProvidersContainer(providers)
        out = []
        for lk in case["lookups"]:
            os.environ.clear()
            os.environ.update(base_env)
            os.environ.update(case["env"])
            out.append(lookup(lk))
        results[case["name"]] = out
    with open(out_path, "w") as f:
        json.dump({"dlt_version": dlt.__version__, "cases": results}, f)


if __name__ == "__main__":
    main()

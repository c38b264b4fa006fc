"""Python workspace example: ingest GitHub issues, report on them, serve a page."""

from http.server import BaseHTTPRequestHandler, HTTPServer

from dlt.hub.run import TJobRunContext, interactive, job, pipeline, trigger

import github_pipeline


@pipeline("github", trigger=trigger.every("1h"), expose={"tags": ["ingest"]})
def ingest():
    """Loads the issues every hour."""
    github_pipeline.load()


@job(trigger=ingest.success, require={"dependency_groups": ["reports"]})
def report(run_context: TJobRunContext):
    """Runs after each successful ingest."""
    print(f"report for run {run_context['run_id']} triggered by {run_context['trigger']}")


@interactive(interface="gui")
def notebook(run_context: TJobRunContext):
    """A small page served on the port the platform assigns."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<h1>issues notebook</h1>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    HTTPServer(("0.0.0.0", run_context["run_args"]["port"]), Page).serve_forever()


__all__ = ["ingest", "report", "notebook"]

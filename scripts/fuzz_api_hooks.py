"""Schemathesis hooks for scripts/fuzz-api.sh.

Deployments are uploaded as application/gzip; schemathesis has no
serializer for it, so their generated bodies are sent as raw bytes, the way
it sends application/octet-stream.
"""

import schemathesis

schemathesis.serializer.alias("application/gzip", "application/octet-stream")

"""The GraphQL-over-HTTP specification's own audit suite (npm `graphql-http`, `serverAudits`, installed
by `make graphql-http`) against `/graphql` on the real test server: every audit passes — the MUSTs,
the SHOULDs, and the MAYs kalem chooses to do (GET queries, 400 for malformed parameters)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / ".cache" / "node" / "node_modules"
SCRIPT = Path(__file__).with_name("graphql_http_audit.js")


def test_every_graphql_over_http_audit_passes(server):
    assert (NODE_MODULES / "graphql-http").is_dir(), "graphql-http is not installed: run `make graphql-http`"
    run = subprocess.run(["node", str(SCRIPT), f"{server.url}/graphql"], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "NODE_PATH": str(NODE_MODULES)})
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    failing = [f"{r['id']} {r['name']}: {r['reason']}" for r in results if r["status"] != "ok"]
    assert not failing, "\n".join(failing)
    names = [r["name"] for r in results]
    assert len(results) >= 61 and sum(n.startswith(("MUST", "SHOULD")) for n in names) >= 30, names

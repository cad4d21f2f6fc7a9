"""/metrics of a server with several worker processes: what each worker counts is summed, whichever
worker answers the scrape (`share_across_workers` in the master, as `serve` calls it before forking).
Real forked processes, in a fresh interpreter so the switch cannot leak into other tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[2]

FORKED_WORKERS = """
import os, shutil
from shared import metrics  # imports prometheus_client, which picks single-process values
directory = metrics.share_across_workers()
served = metrics.counter("test_worker_requests_total", "requests a worker served")
outcomes = metrics.counter("test_worker_outcomes_total", "outcomes", ("outcome",))
children = []
for worker in range(3):
    pid = os.fork()
    if pid == 0:
        served.inc(5)
        outcomes.labels("applied").inc(worker + 1)
        os._exit(0)
    children.append(pid)
for pid in children:
    assert os.waitpid(pid, 0)[1] == 0
    metrics.mark_worker_dead(pid)
import flask
with flask.Flask(__name__).app_context():
    print(metrics.render_metrics().get_data(as_text=True))
if directory:  # made by share_across_workers (None: the operator's, kept)
    shutil.rmtree(directory)
"""


def _scrape(env_directory: str | None = None) -> dict[str, float]:
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    if env_directory:
        env["PROMETHEUS_MULTIPROC_DIR"] = env_directory
    done = subprocess.run(
        [sys.executable, "-c", FORKED_WORKERS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    samples = {}
    for line in done.stdout.splitlines():
        if line.startswith("test_worker_"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_counts_made_in_forked_workers_are_summed_in_the_scrape():
    samples = _scrape()
    assert samples["test_worker_requests_total"] == 15
    assert samples['test_worker_outcomes_total{outcome="applied"}'] == 6


def test_a_directory_the_operator_set_is_used_kept_and_emptied_of_an_earlier_runs_values(tmp_path):
    assert _scrape(str(tmp_path))["test_worker_requests_total"] == 15
    assert any(tmp_path.glob("*.db"))  # the workers' value files, kept
    assert _scrape(str(tmp_path))["test_worker_requests_total"] == 15  # not 30: the first run's were removed

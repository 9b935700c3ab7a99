"""What tests share besides fixtures; importable on a node too (no side effects, unlike conftest)."""

import contextlib

from coop_client import FINAL_STATES, CoopError, state_name


@contextlib.contextmanager
def cancelled_at_the_end(client, *job_ids):
    """Leaves no job of a test running for the next one, whatever the test's outcome."""
    try:
        yield
    finally:
        for job_id in job_ids:
            if state_name(client.job(job_id).state) not in FINAL_STATES:
                try:
                    client.cancel(job_id)
                except CoopError:
                    pass  # It ended meanwhile.
            client.wait(job_id, timeout=60)

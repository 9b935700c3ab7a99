"""What tests share besides fixtures; importable on a node too (no side effects, unlike conftest)."""

import contextlib
import os
import time

from coop_client import FINAL_STATES, Checkpointable, CoopError, state_name


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


class Stepper(Checkpointable):
    """Counts to n in steps, one file per step; at n // 2 it waits for the gate file. Its state (the
    step, and where each attempt began) travels in its checkpoint."""

    def __init__(self):
        self.step = 0
        self.began = []

    def __call__(self, n, gate, progress, pause=0.02):
        self.began.append((int(os.environ["COOP_ATTEMPT"]), self.step))
        while self.step < n:
            if self.step == n // 2 and not os.path.exists(gate):
                time.sleep(0.02)
                continue
            time.sleep(pause)
            self.step += 1
            with open(progress, "w") as f:
                f.write(f"{os.environ['COOP_ATTEMPT']} {self.step}")
        return self.step, self.began

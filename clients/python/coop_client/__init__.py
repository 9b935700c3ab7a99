"""coop's Python client (:class:`Client`) and an executor with submitit's shape (:class:`Executor`).

Porting a submitit script: ``import coop_client as submitit`` and an executor line such as
``submitit.AutoExecutor(folder="log", account="lab-a")``; ``submitit.helpers.Checkpointable`` and
``DelayedSubmission`` are here too.
"""

from . import helpers
from .client import FINAL_STATES, Client, CoopError, Identity, state_name
from .executor import AutoExecutor, Executor, FailedJobError, Job, UncompletedJobError
from .helpers import Checkpointable, DelayedSubmission

__all__ = ["AutoExecutor", "Checkpointable", "Client", "CoopError", "DelayedSubmission", "Executor",
           "FailedJobError", "FINAL_STATES", "Identity", "Job", "UncompletedJobError", "helpers", "state_name"]

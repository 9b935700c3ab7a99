"""coop's Python client (:class:`Client`) and an executor with submitit's shape (:class:`Executor`).

Porting a submitit script: ``import coop_client as submitit`` and an executor line such as
``submitit.AutoExecutor(folder="log", account="lab-a")``; ``submitit.helpers.Checkpointable`` and
``DelayedSubmission`` are here too.
"""

from . import helpers
from .helpers import Checkpointable, DelayedSubmission

# The rest on first use (PEP 562): a job's runner (coop_client._runner) needs only the helpers, and
# starts faster without gRPC.
_LAZY = {"Client": "client", "CoopError": "client", "Identity": "client", "FINAL_STATES": "client",
         "state_name": "client", "AutoExecutor": "executor", "Executor": "executor", "Job": "executor",
         "FailedJobError": "executor", "UncompletedJobError": "executor"}

__all__ = ["Checkpointable", "DelayedSubmission", "helpers", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

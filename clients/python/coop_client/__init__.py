"""coop's Python client (:class:`Client`) and an executor with submitit's shape (:class:`Executor`).

Porting a submitit script: ``import coop_client as submitit`` and an executor line such as
``submitit.AutoExecutor(folder="log", account="lab-a")``; ``submitit.helpers.Checkpointable`` and
``DelayedSubmission`` are here too.
"""

import importlib

# Each on first use (PEP 562): a script that only submits starts without cloudpickle (which
# imports asyncio), a job's runner (coop_client._runner) without gRPC.
_LAZY = {"helpers": None, "Checkpointable": "helpers", "DelayedSubmission": "helpers",
         "Client": "client", "CoopError": "client", "Identity": "client", "FINAL_STATES": "client",
         "state_name": "client", "AutoExecutor": "executor", "Executor": "executor", "Job": "executor",
         "FailedJobError": "executor", "UncompletedJobError": "executor"}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        module = _LAZY[name]
        value = importlib.import_module(f".{module or name}", __name__)
        if module:
            value = getattr(value, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

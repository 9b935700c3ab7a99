"""An executor with submitit's shape, so that a submitit script ports by changing its import and
its executor line: ``Executor(folder, account=...)``, ``update_parameters``, ``submit``,
``map_array``, ``batch`` and jobs with ``result()``.

As in submitit, ``folder`` must be readable and writable both where the submitter runs and on the
nodes (a shared file system): each call is pickled there with cloudpickle, and each job's
outcome comes back through it. The job runs ``PYTHON -m coop_client._runner FOLDER KEY`` with
PYTHONPATH set so that this package and the submitter's import path are found on the node.
"""

import contextlib
import os
import shlex
import sys
import sysconfig
import time
import uuid
import warnings

from . import _runner, helpers
from .client import FINAL_STATES, Client, CoopError, state_name


class UncompletedJobError(RuntimeError):
    """The job ended without an outcome from its function (cancelled, killed, timed out)."""


class FailedJobError(RuntimeError):
    """The function raised an exception that could not travel back; its traceback is the message."""


# submitit's generic parameters, and what each becomes in coop.
_GENERIC = {"timeout_min", "gpus_per_node", "nodes", "name", "tasks_per_node", "mem_gb", "cpus_per_task",
            "stderr_to_stdout"}
# coop's own, under their SubmitRequest names (durations in seconds), and the executor's.
_COOP = {"account", "gpu_model", "priority", "no_preempt", "cross_site", "purpose", "requeue_on_timeout",
         "env", "chdir", "container", "mounts", "walltime", "signal_delay_s", "python", "setup"}
# submitit's slurm_* keys that mean something here, by the name they take.
_SLURM = {"slurm_time": "timeout_min", "slurm_gpus_per_node": "gpus_per_node", "slurm_nodes": "nodes",
          "slurm_job_name": "name", "slurm_account": "account", "slurm_signal_delay_s": "signal_delay_s",
          "slurm_max_num_timeout": "requeue_on_timeout", "slurm_setup": "setup",
          "slurm_ntasks_per_node": "tasks_per_node", "slurm_gres": "gres", "slurm_gpus": "gpus_per_node"}
# Asked for by habit, meaningless here (coop gives whole nodes' GPUs, not CPUs or memory, and has
# no partitions of a queue): accepted with a warning so that a ported script runs.
_IGNORED = {"mem_gb", "cpus_per_task", "stderr_to_stdout", "slurm_mem", "slurm_mem_gb", "slurm_cpus_per_task",
            "slurm_cpus_per_gpu", "slurm_array_parallelism", "slurm_wckey", "slurm_comment",
            "slurm_stderr_to_stdout"}


class Job:
    """One call submitted as one coop job (or one task of a job array).

    ``job_id`` is coop's job id as a string (as submitit's); ``id`` the same as an int.
    """

    def __init__(self, executor, key, index):
        self._executor = executor
        self._key = key
        self._index = index
        self._id = None
        self._outcome = None

    def _bind(self, job_id):
        self._id = int(job_id)

    @property
    def id(self):
        if self._id is None:
            raise RuntimeError("the job is not submitted yet: leave the executor.batch() block first")
        return self._id

    @property
    def job_id(self):
        return str(self.id)

    @property
    def paths(self):
        """(submitted pickle, result pickle)."""
        return _runner.paths(self._executor.folder, self._key, self._index)

    def submission(self):
        """The DelayedSubmission the next attempt runs (a checkpoint replaces the original)."""
        return helpers.DelayedSubmission.load(self.paths[0])

    def info(self):
        """coop's Job message: state, attempts (with their outcomes), why_pending."""
        return self._executor.client.job(self.id)

    @property
    def state(self):
        """coop's state name: PENDING, REVIEW, RUNNING, SUCCEEDED, FAILED, CANCELLED or TIMEOUT."""
        return state_name(self.info().state)

    def done(self, force_check=False):
        return self._outcome is not None or os.path.exists(self.paths[1]) or self.state in FINAL_STATES

    def wait(self, timeout=None):
        """Waits for coop to call the job final (``timeout`` seconds; None for ever)."""
        return self._executor.client.wait(self.id, timeout=timeout)

    def _read_outcome(self, timeout=None):
        if self._outcome is None:
            job = self.wait(timeout)
            # The result is written before the process exits; over a shared file system it may
            # show a moment after coop has the exit.
            deadline = time.monotonic() + 5
            while not os.path.exists(self.paths[1]) and time.monotonic() < deadline \
                    and state_name(job.state) == "SUCCEEDED":
                time.sleep(0.05)
            if not os.path.exists(self.paths[1]):
                last = job.attempts[-1] if job.attempts else None
                why = f"; last attempt {last.outcome} (exit {last.exit_code})" if last else ""
                err = self.stderr() or ""
                raise UncompletedJobError(f"job {self.job_id} ended {state_name(job.state)} with no outcome{why}"
                                          + (f"\nits stderr ends:\n{err[-2000:]}" if err else ""))
            self._outcome = helpers.load(self.paths[1])
        return self._outcome

    def result(self, timeout=None):
        """Waits for the job and returns its function's value, or re-raises the function's exception
        (with the node's traceback as a note)."""
        outcome = self._read_outcome(timeout)
        if outcome[0] == "success":
            return outcome[1]
        _, exception, trace = outcome
        if exception is None:
            raise FailedJobError(f"job {self.job_id} failed with:\n{trace}")
        if hasattr(exception, "add_note") and not getattr(exception, "_coop_noted", False):
            exception.add_note(f"raised in coop job {self.job_id}:\n{trace}")
            exception._coop_noted = True
        raise exception

    def results(self):
        return [self.result()]

    def exception(self, timeout=None):
        """The function's exception, or None when it returned."""
        try:
            self.result(timeout)
        except UncompletedJobError:
            raise
        except Exception as e:  # noqa: B902
            return e
        return None

    def cancel(self, check=True):
        try:
            self._executor.client.cancel(self.id)
        except CoopError:
            if check:
                raise

    def stdout(self):
        """What the latest attempt wrote to stdout, or None when there is none (yet)."""
        return self._output(0)

    def stderr(self):
        return self._output(1)

    def _output(self, which):
        try:
            text = self._executor.client.output(self.id)[which]
        except CoopError:
            return None
        return text or None

    def __repr__(self):
        return f"Job<{self._id if self._id is not None else 'not submitted'}>"


class Executor:
    """Runs Python calls as coop jobs. ``folder`` holds their pickles (shared with the nodes);
    ``account`` is charged. Other parameters as :meth:`update_parameters` takes them.

    ``client`` (a :class:`Client`) or ``identity``/``scheduler`` as Client takes them.
    """

    def __init__(self, folder, account=None, *, client=None, identity=None, scheduler=None, cluster=None,
                 **parameters):
        self.folder = os.path.abspath(os.fspath(folder))
        os.makedirs(self.folder, exist_ok=True)
        self.client = client if client is not None else Client(identity=identity, scheduler=scheduler)
        self.parameters = {"account": account, "timeout_min": None, "gpus_per_node": 1, "nodes": 1, "name": "",
                           "signal_delay_s": 60, "requeue_on_timeout": 0, "python": sys.executable or "python3",
                           "setup": ()}
        self._batch = None
        if parameters:
            self.update_parameters(**parameters)

    def update_parameters(self, **kwargs):
        """submitit's parameters: ``timeout_min``, ``gpus_per_node``, ``nodes``, ``name``; coop's:
        ``account``, ``gpu_model``, ``priority``, ``no_preempt``, ``cross_site``, ``purpose``,
        ``requeue_on_timeout`` (times a timed-out job runs again), ``env``, ``chdir``,
        ``signal_delay_s`` (warning before a stop, default 60), ``python``, ``setup`` (shell lines
        run first); ``slurm_*`` keys where they map (slurm_time, slurm_gpus_per_node, slurm_gres,
        slurm_job_name, slurm_account, slurm_max_num_timeout, slurm_signal_delay_s, slurm_setup, ...).
        Memory and CPU requests are accepted and ignored with a warning; any other key is refused."""
        unknown = [k for k in kwargs if k not in _GENERIC | _COOP | set(_SLURM) | _IGNORED]
        if unknown:
            raise ValueError("unknown parameter(s) for coop's executor: " + ", ".join(sorted(unknown))
                             + " (see Executor.update_parameters)")
        for key, value in kwargs.items():
            if key in _IGNORED:
                warnings.warn(f"coop's executor ignores {key}: coop allocates whole GPUs, not CPUs or memory",
                              stacklevel=2)
                continue
            key = _SLURM.get(key, key)
            if key == "gres":
                self._gres(value)
            elif key == "tasks_per_node":
                if value != 1:
                    raise ValueError(f"tasks_per_node={value}: coop runs one rank per node; start more processes "
                                     "in the function if it needs them")
            elif key == "timeout_min" and value is not None and value <= 0:
                raise ValueError(f"timeout_min must be positive, got {value}")
            else:
                self.parameters[key] = value

    def _gres(self, value):
        parts = str(value).split(":")
        if parts[0] != "gpu" or len(parts) not in (2, 3) or not parts[-1].isdigit():
            raise ValueError(f"slurm_gres={value!r}: only gpu[:MODEL]:N maps to coop")
        self.parameters["gpus_per_node"] = int(parts[-1])
        if len(parts) == 3:
            self.parameters["gpu_model"] = parts[1]

    def _walltime(self):
        p = self.parameters
        if p.get("walltime") is not None:
            return p["walltime"]
        return None if p.get("timeout_min") is None else p["timeout_min"] * 60

    def _command(self, key):
        p = self.parameters
        package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        # The submitter's import path, so that a function pickled by reference to its module (one
        # that is not __main__) finds it on the node, as with submitit on a shared file system.
        # Not the interpreter's own standard library, which the node's interpreter has (and which
        # would shadow its own if it were another version).
        stdlib = {os.path.abspath(sysconfig.get_paths()[k]) for k in ("stdlib", "platstdlib")}
        seen = []
        for d in [package_parent] + [os.path.abspath(d or ".") for d in sys.path]:
            if os.path.isdir(d) and d not in seen and not any(d == s or d.startswith(s + os.sep) for s in stdlib):
                seen.append(d)
        lines = list(p.get("setup") or ())
        lines.append("export PYTHONPATH=" + shlex.quote(os.pathsep.join(seen)))
        lines.append(f"exec {shlex.quote(p['python'])} -u -m coop_client._runner {shlex.quote(self.folder)} "
                     f"{shlex.quote(key)}")
        return "\n".join(lines)

    def _submit_request(self, key, array=""):
        p = self.parameters
        if not p.get("account"):
            raise ValueError("no account: Executor(folder, account=...) or update_parameters(account=...)")
        walltime = self._walltime()
        lead = int(p["signal_delay_s"])
        if walltime is not None:
            lead = min(lead, int(walltime))
        fields = {k: p[k] for k in ("gpu_model", "priority", "no_preempt", "cross_site", "purpose", "env", "chdir",
                                    "container", "mounts") if p.get(k) is not None}
        return self.client.submit(self._command(key), account=p["account"], gpus_per_node=p["gpus_per_node"],
                                  nodes=p["nodes"], walltime=walltime, name=p["name"] or "", array=array,
                                  signal=f"USR1@{lead}", requeue_on_timeout=p["requeue_on_timeout"], **fields)

    def submit(self, fn, *args, **kwargs):
        """Runs ``fn(*args, **kwargs)`` as a coop job; returns its :class:`Job`."""
        delayed = helpers.DelayedSubmission(fn, *args, **kwargs)
        if self._batch is not None:
            job = Job(self, None, len(self._batch))
            self._batch.append((job, delayed))
            return job
        key = uuid.uuid4().hex
        job = Job(self, key, 0)
        helpers.dump(delayed, job.paths[0])
        job._bind(self._submit_request(key).job_id)
        return job

    def map_array(self, fn, *iterables):
        """``fn`` over the items of ``iterables`` (zipped), as one coop job array: one task per item,
        each told its item by COOP_ARRAY_INDEX. Returns the jobs in the items' order."""
        return self._submit_array([helpers.DelayedSubmission(fn, *item) for item in zip(*iterables)])

    def submit_array(self, fns):
        """Calls without arguments (``functools.partial``s) as one job array."""
        return self._submit_array([helpers.DelayedSubmission(fn) for fn in fns])

    def _submit_array(self, delayed, jobs=None):
        if not delayed:
            return []
        key = uuid.uuid4().hex
        jobs = jobs or [Job(self, None, i) for i in range(len(delayed))]
        for index, (job, call) in enumerate(zip(jobs, delayed)):
            job._key, job._index = key, index
            helpers.dump(call, job.paths[0])
        response = self._submit_request(key, array=f"0-{len(delayed) - 1}")
        ids = {j.array_index: j.id for j in self.client.jobs(array_id=response.array_id)}
        for index, job in enumerate(jobs):
            job._bind(ids[index])
        return jobs

    @contextlib.contextmanager
    def batch(self):
        """Submits every ``submit`` made inside the block as one job array when the block ends."""
        if self._batch is not None:
            raise RuntimeError("executor.batch() blocks do not nest")
        self._batch = []
        try:
            yield
            pending, self._batch = self._batch, None
            if pending:
                self._submit_array([d for _, d in pending], [j for j, _ in pending])
        finally:
            self._batch = None


class AutoExecutor(Executor):
    """submitit's name for the executor: ``AutoExecutor(folder, cluster=None, **parameters)``."""

"""submitit's checkpoint protocol: what a job runs, and how a callable hands back its state."""

import os
import tempfile

import cloudpickle


class DelayedSubmission:
    """``function(*args, **kwargs)``, to be called on a node: what a job's pickle holds.

    A callable's ``checkpoint`` returns one of these (usually of itself, with its state) when its
    job is stopped for preemption or its walltime; the job's next attempt calls that instead.
    """

    def __init__(self, function, *args, **kwargs):
        self.function = function
        self.args = args
        self.kwargs = kwargs

    def result(self):
        return self.function(*self.args, **self.kwargs)

    def checkpoint(self):
        """What the callable's ``checkpoint(*args, **kwargs)`` returns, or None when it has none."""
        checkpoint = getattr(self.function, "__submitit_checkpoint__", None) or getattr(self.function, "checkpoint",
                                                                                         None)
        if checkpoint is None:
            return None
        return checkpoint(*self.args, **self.kwargs)

    def dump(self, path):
        dump(self, path)

    @classmethod
    def load(cls, path):
        obj = load(path)
        # By name, as submitit: a copy of this class elsewhere (a project that avoids the dependency) loads too.
        if type(obj).__name__ != cls.__name__:
            raise TypeError(f"{path} holds a {type(obj).__name__}, not a {cls.__name__}")
        return obj


class Checkpointable:
    """A base for callables that resume: its ``checkpoint`` resubmits the callable itself, with
    whatever state it holds and the same arguments. Override it to save state elsewhere first."""

    def checkpoint(self, *args, **kwargs):
        return DelayedSubmission(self, *args, **kwargs)


def dump(obj, path):
    """Pickles ``obj`` with cloudpickle to ``path``, whole or not at all (a rename into place)."""
    path = os.fspath(path)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".tmp-", suffix=".pkl")
    try:
        with os.fdopen(fd, "wb") as f:
            cloudpickle.dump(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def load(path):
    with open(path, "rb") as f:
        return cloudpickle.load(f)

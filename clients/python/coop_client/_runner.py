"""What an executor's job runs on its node: ``python -m coop_client._runner FOLDER KEY``.

It loads the pickled call ``FOLDER/KEY_<index>_submitted.pkl`` (index: $COOP_ARRAY_INDEX, 0 for a
job on its own), runs it, and pickles the outcome to ``..._result.pkl``: ("success", value) or
("error", exception, traceback text).

Before coop stops a job it writes why to $COOP_STOP_REASON_FILE and sends the job's --signal
(the executor asks for USR1), else SIGTERM. On either, when the reason is "preempted" (or
"requeued") or "walltime", a callable with a ``checkpoint`` method is asked for the call to make
instead, whose pickle replaces the job's: coop's next attempt of the job runs from it (a
preempted attempt is requeued by coop; a timed-out one when submitted with requeue_on_timeout).
Preempted, the runner then ends at once, giving the GPUs back early; at its walltime's warning
the call goes on, since it may still finish in time, until the stop's SIGTERM. Cancelled, it
checkpoints nothing and ends as the signal would end it. In a multi-node job every rank runs the
call ($COOP_RANK tells it which it is), and rank 0 alone writes the outcome and the checkpoint.
"""

import os
import signal
import sys
import traceback

from . import helpers

#: Stop reasons after which the job runs again, so its state is worth saving.
RESUMING = {"preempted", "requeued", "walltime"}


def paths(folder, key, index):
    base = os.path.join(folder, f"{key}_{index}")
    return base + "_submitted.pkl", base + "_result.pkl"


def _stop_reason():
    path = os.environ.get("COOP_STOP_REASON_FILE")
    if not path:
        return ""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return ""


def _log(message):
    print(f"coop_client: {message}", file=sys.stderr, flush=True)


class _Stopper:
    def __init__(self, delayed, submitted, writes):
        self.delayed = delayed
        self.submitted = submitted
        self.writes = writes
        self.checkpointed = False

    def __call__(self, signum, _frame):
        reason = _stop_reason()
        name = signal.Signals(signum).name
        if reason in RESUMING and self.writes and not self.checkpointed:
            self.checkpointed = True
            try:
                resumed = self.delayed.checkpoint()
            except BaseException:  # noqa: B902 - a failed checkpoint must still end as the stop would
                _log(f"{name} ({reason}): checkpoint failed:\n{traceback.format_exc()}")
                resumed = None
            if resumed is not None:
                helpers.dump(resumed, self.submitted)
                _log(f"{name} ({reason}): checkpointed; the next attempt resumes from it")
            else:
                _log(f"{name} ({reason}): nothing to checkpoint; the next attempt starts over")
        if reason == "walltime" and signum != signal.SIGTERM:
            return  # Work on until the walltime's SIGTERM: the call may still finish in time.
        _log(f"{name} ({reason or 'no reason given'}): stopping")
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def main(argv):
    if len(argv) != 2:
        print("usage: python -m coop_client._runner FOLDER KEY", file=sys.stderr)
        return 2
    folder, key = argv
    index = os.environ.get("COOP_ARRAY_INDEX", "0")
    submitted, result_path = paths(folder, key, index)
    delayed = helpers.DelayedSubmission.load(submitted)
    writes = os.environ.get("COOP_RANK", "0") == "0"
    stopper = _Stopper(delayed, submitted, writes)
    for signum in (signal.SIGUSR1, signal.SIGTERM):
        signal.signal(signum, stopper)
    _log(f"job {os.environ.get('COOP_JOB_ID', '?')} attempt {os.environ.get('COOP_ATTEMPT', '?')} "
         f"runs {submitted}")
    try:
        value = delayed.result()
    except Exception as e:  # noqa: B902 - the caller's exception is the outcome
        trace = traceback.format_exc()
        print(trace, file=sys.stderr, flush=True)
        if not writes:
            return 1
        try:
            helpers.dump(("error", e, trace), result_path)
        except Exception:  # noqa: B902 - an exception that cannot be pickled travels as its text
            helpers.dump(("error", None, trace), result_path)
        return 1
    if writes:
        helpers.dump(("success", value), result_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

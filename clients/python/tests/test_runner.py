"""The job runner's stop handling on its own, as a process given the environment an agent gives a
rank: the stop reason file is written, then the job's signal comes."""

import os
import signal
import subprocess
import sys

import pytest

from coop_client import helpers
from coop_client._runner import paths
from support import Stepper

PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(PACKAGE, "tests")


def start(tmp_path, rank="0"):
    gate, progress, reason = tmp_path / "gate", tmp_path / "progress", tmp_path / "coop-stop-reason"
    submitted, result = paths(str(tmp_path), "k", "0")
    helpers.dump(helpers.DelayedSubmission(Stepper(), 20, str(gate), str(progress)), submitted)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([PACKAGE, TESTS]), COOP_ATTEMPT="1", COOP_RANK=rank,
               COOP_STOP_REASON_FILE=str(reason), COOP_JOB_ID="7")
    env.pop("COOP_ARRAY_INDEX", None)
    process = subprocess.Popen([sys.executable, "-m", "coop_client._runner", str(tmp_path), "k"], env=env,
                               stderr=subprocess.PIPE, text=True)
    return process, gate, progress, reason, submitted, result


def at_step_10(progress, process, eventually):
    eventually(lambda: progress.exists() and progress.read_text() == "1 10" or process.poll() is not None, 30,
               "the call to reach its gate at step 10")
    assert process.poll() is None


@pytest.mark.parametrize("reason", ["preempted", "requeued"])
def test_stopped_to_run_again_it_checkpoints_and_ends_at_once(tmp_path, eventually, reason):
    process, gate, progress, reason_file, submitted, result = start(tmp_path)
    at_step_10(progress, process, eventually)
    reason_file.write_text(reason + "\n")
    process.send_signal(signal.SIGUSR1)
    assert process.wait(timeout=30) == -signal.SIGUSR1
    assert f"SIGUSR1 ({reason}): checkpointed" in process.stderr.read()
    resumed = helpers.DelayedSubmission.load(submitted)
    assert (resumed.function.step, resumed.args[0]) == (10, 20)
    assert not os.path.exists(result)


def test_cancelled_it_checkpoints_nothing(tmp_path, eventually):
    process, gate, progress, reason_file, submitted, result = start(tmp_path)
    at_step_10(progress, process, eventually)
    reason_file.write_text("cancelled\n")
    process.send_signal(signal.SIGUSR1)
    assert process.wait(timeout=30) == -signal.SIGUSR1
    assert helpers.DelayedSubmission.load(submitted).function.step == 0


def test_warned_of_its_walltime_it_checkpoints_and_works_on(tmp_path, eventually):
    process, gate, progress, reason_file, submitted, result = start(tmp_path)
    at_step_10(progress, process, eventually)
    reason_file.write_text("walltime\n")
    process.send_signal(signal.SIGUSR1)
    eventually(lambda: helpers.DelayedSubmission.load(submitted).function.step == 10, 30, "the checkpoint")
    gate.touch()
    assert process.wait(timeout=30) == 0, process.stderr.read()
    assert helpers.load(result) == ("success", (20, [(1, 0)]))


def test_only_rank_0_writes(tmp_path, eventually):
    process, gate, progress, reason_file, submitted, result = start(tmp_path, rank="1")
    at_step_10(progress, process, eventually)
    reason_file.write_text("preempted\n")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == -signal.SIGTERM
    assert helpers.DelayedSubmission.load(submitted).function.step == 0

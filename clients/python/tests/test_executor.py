"""The submitit-shaped executor against a real scheduler and agent (conftest's cooperative).

The functions the jobs run are defined here: cloudpickle pickles them by reference to this module,
which the job finds on its node through the PYTHONPATH the executor gives it.
"""

import os
import time

import pytest

import coop_client as submitit
from support import Stepper, cancelled_at_the_end
from coop_client import state_name


def add(a, b):
    print(f"adding {a} and {b}")
    return a + b


def square_with_index(x):
    return x * x, int(os.environ["COOP_ARRAY_INDEX"])


class Refused(ValueError):
    pass


def fail(code):
    raise Refused(f"refused with code {code}")


@pytest.fixture
def executor(coop, tmp_path):
    return submitit.AutoExecutor(folder=tmp_path / "jobs", account="lab-a", identity=coop.alice,
                                 scheduler=coop.target)


def test_a_function_runs_as_a_job_and_its_value_comes_back(executor):
    executor.update_parameters(timeout_min=5, gpus_per_node=1, name="py-add")
    job = executor.submit(add, 2, b=40)
    assert job.result(timeout=60) == 42
    assert job.state == "SUCCEEDED" and job.done()
    info = job.info()
    assert (info.id, info.name, info.walltime_seconds, info.gpus_per_node, info.signal) \
        == (int(job.job_id), "py-add", 300, 1, "USR1@60")
    assert "adding 2 and 40" in job.stdout()
    assert "runs " in job.stderr()
    # A lambda travels by value.
    assert executor.submit(lambda x: [x] * 3, "y").result(timeout=60) == ["y", "y", "y"]


def test_the_functions_exception_is_raised_again(executor):
    job = executor.submit(fail, 7)
    with pytest.raises(Refused, match="refused with code 7") as raised:
        job.result(timeout=60)
    assert any("raised in coop job " + job.job_id in note for note in getattr(raised.value, "__notes__", []))
    assert job.state == "FAILED"
    assert isinstance(job.exception(), Refused)


def test_map_array_is_one_job_array(executor):
    jobs = executor.map_array(square_with_index, [3, 4, 5, 6])
    assert [j.result(timeout=90) for j in jobs] == [(9, 0), (16, 1), (25, 2), (36, 3)]
    infos = [j.info() for j in jobs]
    assert len({i.array_id for i in infos}) == 1 and infos[0].array_id > 0
    assert [i.array_index for i in infos] == [0, 1, 2, 3]
    assert len({j.job_id for j in jobs}) == 4


def test_a_batch_is_one_job_array(executor):
    with executor.batch():
        first = executor.submit(add, 1, 2)
        second = executor.submit(fail, 3)
        with pytest.raises(RuntimeError, match="not submitted yet"):
            first.job_id
    assert first.result(timeout=90) == 3
    with pytest.raises(Refused):
        second.result(timeout=90)
    assert first.info().array_id == second.info().array_id != 0


def test_a_cancelled_job_has_no_result(executor):
    job = executor.submit(time.sleep, 300)
    with cancelled_at_the_end(executor.client, job.id):
        job.cancel()
        with pytest.raises(submitit.UncompletedJobError, match=f"job {job.job_id} ended CANCELLED"):
            job.result(timeout=60)


def test_parameters_map_or_are_refused_by_name(executor):
    executor.update_parameters(slurm_time=3, slurm_gres="gpu:A100:2", slurm_job_name="ported",
                               slurm_max_num_timeout=2, slurm_signal_delay_s=30)
    p = executor.parameters
    assert (p["timeout_min"], p["gpus_per_node"], p["gpu_model"], p["name"], p["requeue_on_timeout"],
            p["signal_delay_s"]) == (3, 2, "A100", "ported", 2, 30)
    with pytest.raises(ValueError, match="slurm_partition"):
        executor.update_parameters(slurm_partition="gpu")
    with pytest.raises(ValueError, match="colour"):
        executor.update_parameters(colour="blue", timeout_min=1)
    with pytest.warns(UserWarning, match="ignores mem_gb"):
        executor.update_parameters(mem_gb=32)
    with pytest.raises(ValueError, match="one rank per node"):
        executor.update_parameters(tasks_per_node=8)


def test_the_servers_refusal_names_the_field(executor, tmp_path):
    executor.update_parameters(gpus_per_node=0)
    with pytest.raises(submitit.CoopError, match="gpus_per_node"):
        executor.submit(add, 1, 1)
    with pytest.raises(ValueError, match="no account"):
        submitit.Executor(tmp_path / "other", client=executor.client).submit(add, 1, 1)


def test_a_checkpointed_function_resumes_after_its_job_is_preempted(coop, tmp_path, alice, bob, eventually):
    # bob's lab-b holds its one GPU with a job of its own; its executor's job then borrows lab-a's,
    # until alice wants it back.
    own = bob.submit("sleep 600", account="lab-b").job_id
    executor = submitit.Executor(tmp_path / "jobs", account="lab-b", client=bob)
    executor.update_parameters(gpus_per_node=1, timeout_min=10)
    gate, progress = tmp_path / "gate", tmp_path / "progress"
    with cancelled_at_the_end(bob, own):
        eventually(lambda: state_name(bob.job(own).state) == "RUNNING", 60, "lab-b's own job to run")
        job = executor.submit(Stepper(), 40, str(gate), str(progress))
        with cancelled_at_the_end(bob, job.id):
            eventually(lambda: progress.exists() and progress.read_text() == "1 20", 60, "attempt 1 at step 20")
            assert job.info().attempts[0].borrowed

            reclaim = alice.submit("sleep 1", account="lab-a", gpus_per_node=1).job_id
            with cancelled_at_the_end(alice, reclaim):
                eventually(lambda: job.info().attempts[0].outcome.startswith("preempted"), 60,
                           lambda: f"bob's attempt 1 to be preempted; alice's job: {alice.job(reclaim)}")
                # The checkpoint replaces the job's pickle before the preempted attempt exits.
                eventually(lambda: job.submission().function.step == 20, 30, "the checkpoint at step 20")
                gate.touch()
                assert job.result(timeout=120) == (40, [(1, 0), (2, 20)])
            info = job.info()
            assert [a.number for a in info.attempts] == [1, 2] and state_name(info.state) == "SUCCEEDED"
            assert state_name(alice.job(reclaim).state) == "SUCCEEDED"


def test_a_checkpointed_function_resumes_after_its_walltime(executor, tmp_path):
    # 120 steps of 0.1 s do not fit in a 10-s walltime. Warned 2 s before it, the call checkpoints and
    # works on until the stop; its next attempt (requeue_on_timeout) resumes from the checkpoint and
    # finishes the rest within its own walltime (on a slow machine, a third attempt may be needed).
    executor.update_parameters(walltime=10, signal_delay_s=2, requeue_on_timeout=3)
    gate, progress = tmp_path / "gate", tmp_path / "progress"
    gate.touch()
    job = executor.submit(Stepper(), 120, str(gate), str(progress), 0.1)
    with cancelled_at_the_end(executor.client, job.id):
        steps, began = job.result(timeout=180)
    assert steps == 120
    attempts = [attempt for attempt, _ in began]
    assert attempts == list(range(1, len(attempts) + 1)) and len(attempts) >= 2
    resumed_at = [step for _, step in began]
    assert resumed_at[0] == 0 and all(a < b for a, b in zip(resumed_at, resumed_at[1:])) and resumed_at[-1] < 120, \
        f"each attempt began further on, where the last one's checkpoint left it: {began}"
    info = job.info()
    assert info.attempts[0].outcome.startswith("walltime") and state_name(info.state) == "SUCCEEDED"

"""The Client against a real scheduler and agent (conftest's cooperative)."""

import json

import grpc
import pytest

from support import cancelled_at_the_end
from coop_client import Client, CoopError, state_name


def test_submit_then_job_jobs_wait_and_logs(alice):
    submitted = alice.submit("echo hello from $COOP_JOB_ID; echo to stderr >&2", account="lab-a", gpus_per_node=1,
                             walltime=90.5, name="py-hello", priority=3, env={"GREETING": "hi"})
    job_id = submitted.job_id
    assert job_id > 0 and submitted.array_id == 0

    done = alice.wait(job_id, timeout=60)
    assert state_name(done.state) == "SUCCEEDED"
    job = alice.job(job_id)
    assert (job.name, job.account, job.member, job.gpus_per_node, job.walltime_seconds, job.priority) \
        == ("py-hello", "lab-a", "alice", 1, 91, 3)
    assert list(job.env_names) == ["GREETING"]
    assert job_id in [j.id for j in alice.jobs(account="lab-a")]
    assert job_id in [j.id for j in alice.jobs(states=["SUCCEEDED"])]
    assert job_id not in [j.id for j in alice.jobs(states=["RUNNING", "PENDING"])]

    chunks = list(alice.logs(job_id))
    assert [(c.rank, c.attempt, c.stdout, c.stderr) for c in chunks] \
        == [(0, 1, f"hello from {job_id}\n".encode(), b"to stderr\n")]
    assert alice.output(job_id) == (f"hello from {job_id}\n", "to stderr\n")


def test_jobs_follows_the_schedulers_pages_up_to_the_limit(alice):
    ids = [alice.submit("true", account="lab-a", name=f"paged-{i}").job_id for i in range(5)]
    for job_id in ids:
        alice.wait(job_id, timeout=60)

    every = [j.id for j in alice.jobs(page_size=2, member="alice")]
    assert every[:5] == sorted(ids, reverse=True)
    assert len(every) == len(set(every))
    assert [j.id for j in alice.jobs(limit=3, page_size=2, member="alice")] == sorted(ids, reverse=True)[:3]
    one_page = alice.jobs(page_size=2, page_token="", member="alice")
    assert [j.id for j in one_page] == sorted(ids, reverse=True)[:2]


def test_logs_follow_streams_until_the_job_ends(alice):
    job_id = alice.submit("for i in 1 2 3; do echo line $i; sleep 0.3; done", account="lab-a").job_id
    out = b"".join(c.stdout for c in alice.logs(job_id, follow=True))
    assert out == b"line 1\nline 2\nline 3\n"
    assert state_name(alice.job(job_id).state) == "SUCCEEDED"


def test_cancel_stops_a_running_job_and_wait_times_out_before(alice, eventually):
    job_id = alice.submit("sleep 300", account="lab-a").job_id
    with cancelled_at_the_end(alice, job_id):
        eventually(lambda: state_name(alice.job(job_id).state) == "RUNNING", 60, "the job to run")
        with pytest.raises(TimeoutError, match=f"job {job_id} still RUNNING after 0.3 s"):
            alice.wait(job_id, timeout=0.3)
        assert alice.cancel(job_id).id == job_id
        assert state_name(alice.wait(job_id, timeout=60).state) == "CANCELLED"
    with pytest.raises(CoopError) as again:
        alice.cancel(job_id)
    assert again.value.code == grpc.StatusCode.FAILED_PRECONDITION and "already ended" in again.value.details


def test_bad_input_raises_with_the_status_and_the_field(alice):
    with pytest.raises(CoopError) as refused:
        alice.submit("true", account="lab-a", gpus_per_node=0)
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "gpus_per_node" in refused.value.details
    assert "INVALID_ARGUMENT" in str(refused.value)

    with pytest.raises(CoopError) as refused:
        alice.submit("true", account="lab-a", walltime=10 ** 9)
    assert "walltime_seconds" in refused.value.details

    with pytest.raises(CoopError) as refused:
        alice.submit("true", account="lab-a", signal="KILL@10")
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT and "signal" in refused.value.details

    # A field with presence: an explicit 0 reaches the server, which refuses it.
    with pytest.raises(CoopError) as refused:
        alice.submit("true", account="lab-a", nodes=0)
    assert "nodes" in refused.value.details
    # Repeated messages given as dicts reach the server too.
    with pytest.raises(CoopError) as refused:
        alice.submit("true", account="lab-a", mounts=[{"source": "/tmp", "destination": "/data", "read_only": True}])
    assert refused.value.details.startswith("mounts: need a container")

    with pytest.raises(CoopError) as missing:
        alice.job(987654321)
    assert missing.value.code == grpc.StatusCode.NOT_FOUND

    with pytest.raises(TypeError, match="no field 'gpus'"):
        alice.submit("true", account="lab-a", gpus=2)
    with pytest.raises(TypeError, match="walltime is a number of seconds"):
        alice.submit("true", account="lab-a", walltime="1h")


def test_another_accounts_job_is_refused(bob):
    with pytest.raises(CoopError) as refused:
        bob.submit("true", account="lab-a")
    assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED


def test_a_wrong_token_is_unauthenticated(coop, tmp_path):
    with open(coop.alice) as f:
        identity = json.load(f)
    identity["token"] = "not-the-token"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(identity))
    with Client(identity=forged, scheduler=coop.target) as client:
        with pytest.raises(CoopError) as refused:
            client.jobs()
    assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED


def test_identity_and_scheduler_are_read_as_the_cli_reads_them(coop, tmp_path, monkeypatch):
    monkeypatch.delenv("COOP_SCHEDULER", raising=False)
    monkeypatch.setenv("COOP_IDENTITY", coop.alice)
    with open(coop.alice) as f:
        identity = json.load(f)
    # The identity file's scheduler is used when nothing else names one.
    identity["scheduler"] = coop.target
    recorded = tmp_path / "alice.json"
    recorded.write_text(json.dumps(identity))
    with Client(identity=recorded) as client:
        assert client.target == coop.target and client.member == "alice"
        client.jobs(limit=1)
    monkeypatch.setenv("COOP_SCHEDULER", coop.target)
    with Client() as client:
        assert client.identity.path == coop.alice
        client.jobs(limit=1)
    with pytest.raises(ValueError, match="does not exist"):
        Client(identity=tmp_path / "none.json")
    (tmp_path / "bad.json").write_text('{"member": "x"}')
    with pytest.raises(ValueError, match='lacks "token"'):
        Client(identity=tmp_path / "bad.json")
    with pytest.raises(ValueError, match="is not HOST:PORT"):
        Client(identity=coop.alice, scheduler="nowhere")

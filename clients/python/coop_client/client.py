"""A Python client of coop's Jobs service, reading the identity file the CLI reads."""

import json
import math
import os
import time

import grpc

from ._proto import pb, rpc

#: Where a scheduler listens when nothing else says otherwise (the CLI's default too).
DEFAULT_SCHEDULER = "127.0.0.1:7070"

#: States a job never leaves.
FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED", "TIMEOUT"})

#: How long a unary call may take before it is given up, in seconds.
DEFAULT_CALL_TIMEOUT = 30.0


# The most jobs the scheduler sends in one page (ListJobsRequest.page_size).
_MAX_PAGE = 5000

class CoopError(Exception):
    """A call the scheduler refused or that did not reach it.

    ``code`` is the gRPC status (a ``grpc.StatusCode``, e.g. ``INVALID_ARGUMENT``) and ``details``
    the server's message, which names the field at fault ("gpus_per_node: must be ...").
    """

    def __init__(self, code, details, method=""):
        self.code = code
        self.details = details or ""
        self.method = method
        name = code.name if isinstance(code, grpc.StatusCode) else str(code)
        super().__init__(f"{name}: {self.details}" + (f" ({method})" if method else ""))


class Identity:
    """The member's identity file as ``coop init`` or ``coop member keygen`` writes it."""

    __slots__ = ("path", "member", "token", "scheduler", "ca_certificate", "certificate", "tls_key")

    def __init__(self, path):
        self.path = os.fspath(path)
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            raise ValueError(f"identity file {self.path} does not exist (create one with coop init)") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"identity file {self.path} is not valid JSON: {e}") from None
        if not isinstance(data, dict):
            raise ValueError(f'identity file {self.path} must hold a JSON object with "member" and "token"')

        def text(field, required=False):
            value = data.get(field)
            if value is None:
                if required:
                    raise ValueError(f'identity file {self.path} lacks "{field}"')
                return None
            if not isinstance(value, str) or (required and not value.strip()):
                raise ValueError(f'identity file {self.path}: "{field}" must be a non-empty string')
            return value

        self.member = text("member", True)
        self.token = text("token", True)
        scheduler = text("scheduler")
        self.scheduler = scheduler.strip() if scheduler and scheduler.strip() else None
        self.ca_certificate = text("ca_certificate")
        self.certificate = text("certificate")
        self.tls_key = text("tls_key")

    def tls(self):
        """Whether the file holds the mutual-TLS material (else the client dials in plaintext)."""
        return bool(self.ca_certificate and self.certificate and self.tls_key)

    def __repr__(self):
        return f"Identity(member={self.member!r}, token=<redacted>, scheduler={self.scheduler!r}, tls={self.tls()})"


def resolve_scheduler(explicit, identity):
    """The CLI's precedence: the explicit address, then $COOP_SCHEDULER, then the identity file's."""
    for chosen in (explicit, os.environ.get("COOP_SCHEDULER"), identity.scheduler, DEFAULT_SCHEDULER):
        if chosen and chosen.strip():
            chosen = chosen.strip()
            break
    host, colon, port = chosen.rpartition(":")
    if not colon or not host or not port.isdigit():
        raise ValueError(f"scheduler address '{chosen}' is not HOST:PORT")
    return chosen


def state_name(state):
    """A JobState as its name ("RUNNING"), from a number or a name."""
    return pb.JobState.Name(state) if isinstance(state, int) else str(state).upper()


def _seconds(value, field):
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{field} is a number of seconds, got {value!r}")
    return math.ceil(value)


def _set_fields(message, fields):
    """Sets a request's fields by name, whatever their kind: scalars, repeated, maps, messages."""
    for name, value in fields.items():
        if value is None:
            continue
        if name not in message.DESCRIPTOR.fields_by_name:
            raise TypeError(f"{type(message).__name__} has no field {name!r}")
        field = message.DESCRIPTOR.fields_by_name[name]
        target = getattr(message, name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            target.update(value)
        elif field.label == field.LABEL_REPEATED:
            del target[:]
            if field.message_type is not None:
                for item in value:
                    if isinstance(item, dict):
                        target.add(**item)
                    else:
                        target.add().CopyFrom(item)
            else:
                target.extend(value)
        elif field.message_type is not None:
            target.CopyFrom(value)
        else:
            setattr(message, name, value)
    return message


class Client:
    """Calls a coop scheduler as the member of an identity file.

    ``identity`` is the file ``coop init`` wrote (default ``$COOP_IDENTITY``); ``scheduler`` is
    ``HOST:PORT`` (default ``$COOP_SCHEDULER``, else the identity file's, else 127.0.0.1:7070).
    Over mutual TLS when the file holds a certificate, as the CLI. Durations are seconds.
    Every refused call raises :class:`CoopError`. Use it as a context manager, or ``close()`` it.
    """

    def __init__(self, identity=None, scheduler=None, call_timeout=DEFAULT_CALL_TIMEOUT):
        path = identity if identity is not None else os.environ.get("COOP_IDENTITY")
        if not path:
            raise ValueError("no identity: pass Client(identity=FILE) or set COOP_IDENTITY")
        self.identity = Identity(path)
        self.target = resolve_scheduler(scheduler, self.identity)
        self.call_timeout = call_timeout
        if self.identity.tls():
            credentials = grpc.ssl_channel_credentials(
                root_certificates=self.identity.ca_certificate.encode(),
                private_key=self.identity.tls_key.encode(),
                certificate_chain=self.identity.certificate.encode())
            self._channel = grpc.secure_channel(self.target, credentials)
        else:
            self._channel = grpc.insecure_channel(self.target)
        self._jobs = rpc.JobsStub(self._channel)
        self._metadata = (("coop-member", self.identity.member), ("coop-token", self.identity.token))

    @property
    def member(self):
        return self.identity.member

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, method, request, timeout=None):
        try:
            return getattr(self._jobs, method)(request, metadata=self._metadata,
                                               timeout=self.call_timeout if timeout is None else timeout)
        except grpc.RpcError as e:
            raise CoopError(e.code(), e.details(), method) from None

    def submit(self, command, *, account, gpus_per_node=1, nodes=None, gpu_model="", walltime=None, priority=0,
               name="", cross_site=False, no_preempt=False, purpose="", array="", signal="",
               requeue_on_timeout=0, env=None, chdir="", container="", mounts=None, **fields):
        """Queues a job running ``command`` with ``bash -c`` on each node; returns the SubmitResponse
        (``job_id``, and for an ``array`` such as "0-99" its ``array_id`` and ``array_tasks``).

        ``walltime`` is in seconds (None: the policy's default); ``signal`` is Slurm's
        "[B:]SIG@SECONDS"; ``env`` a dict; ``mounts`` dicts of source, destination, read_only.
        Other SubmitRequest fields may be given by name.
        """
        request = pb.SubmitRequest(account=account, gpus_per_node=gpus_per_node, gpu_model=gpu_model,
                                   walltime_seconds=_seconds(walltime, "walltime"), command=command,
                                   priority=priority, name=name, cross_site=cross_site, no_preempt=no_preempt,
                                   purpose=purpose, array=array, signal=signal,
                                   requeue_on_timeout=requeue_on_timeout, chdir=chdir, container=container)
        if nodes is not None:
            request.nodes = nodes
        if env:
            request.env.update(env)
        _set_fields(request, dict(fields, mounts=mounts or None))
        return self._call("Submit", request)

    def job(self, job_id):
        """One job (a Job message: state, attempts, why_pending, ...)."""
        return self._call("GetJob", pb.GetJobRequest(job_id=int(job_id)))

    def jobs(self, account="", states=(), limit=0, array_id=0, member="", **fields):
        """Jobs, newest first: of an ``account``, of a ``member``, in ``states`` (names such as
        "RUNNING"), of one array; every member's unless ``member`` is given. Follows the scheduler's
        pages until ``limit`` jobs (0: all of them). Other ListJobsRequest fields may be given by
        name; with ``page_token`` one page is returned, as the scheduler sent it."""
        request = pb.ListJobsRequest(account=account, array_id=array_id, member=member)
        request.states.extend(pb.JobState.Value(state_name(s)) if not isinstance(s, int) else s for s in states)
        _set_fields(request, fields)
        if "page_token" in fields:
            return list(self._call("ListJobs", request).jobs)
        asked = request.page_size
        out = []
        while True:
            if limit:
                request.page_size = min(limit - len(out), asked or _MAX_PAGE)
            reply = self._call("ListJobs", request)
            out.extend(reply.jobs)
            if not reply.next_page_token or (limit and len(out) >= limit):
                return out[:limit] if limit else out
            request.page_token = reply.next_page_token

    def cancel(self, job_id):
        """Cancels a pending or running job; returns it."""
        return self._call("Cancel", pb.CancelRequest(job_id=int(job_id)))

    def logs(self, job_id, rank=-1, follow=False):
        """The output of the job's latest attempt as LogChunks (``stdout``/``stderr`` bytes per rank).
        With ``follow``, new output as the job writes it until it ends (no deadline)."""
        request = pb.LogsRequest(job_id=int(job_id), rank=rank, follow=follow)
        try:
            stream = self._jobs.Logs(request, metadata=self._metadata, timeout=None if follow else self.call_timeout)
            for chunk in stream:
                yield chunk
        except grpc.RpcError as e:
            raise CoopError(e.code(), e.details(), "Logs") from None

    def output(self, job_id, rank=-1):
        """The latest attempt's captured (stdout, stderr) as text, ranks in order."""
        out, err = [], []
        for chunk in sorted(self.logs(job_id, rank=rank), key=lambda c: c.rank):
            out.append(chunk.stdout.decode("utf-8", "replace"))
            err.append(chunk.stderr.decode("utf-8", "replace"))
        return "".join(out), "".join(err)

    def wait(self, job_id, timeout=None, poll=0.2):
        """Waits until the job is in a final state and returns it; ``timeout`` seconds (None: for
        ever). Raises TimeoutError, naming the state it was left in, when the time runs out."""
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = poll
        while True:
            job = self.job(job_id)
            if state_name(job.state) in FINAL_STATES:
                return job
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"job {job_id} still {state_name(job.state)} after {timeout} s")
                time.sleep(min(interval, left))
            else:
                time.sleep(interval)
            interval = min(interval * 1.5, 2.0)

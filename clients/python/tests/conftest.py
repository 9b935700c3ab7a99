"""A throwaway cooperative for the tests: `coop init` with two accounts (alice in lab-a, bob in
lab-b, half the GPUs each), its scheduler on 127.0.0.1 port 0 and one agent with two simulated
GPUs, all started from the jar the build made (bench/target/coop.jar, or $COOP_JAR); on teardown
exactly the processes started here are stopped, by their PIDs.

Without the jar or java the tests are skipped, saying how to build it, unless
COOP_REQUIRE_PREREQS=1 (CI), where they fail.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import time
import types

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(PACKAGE))


def _importable(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # Its parent package is missing.
        return False


def _missing():
    """What the package needs that this machine lacks: Debian's packages (.ci/run installs them)."""
    missing = [pkg for module, pkg in (("grpc", "python3-grpcio"), ("google.protobuf", "python3-protobuf"),
                                       ("cloudpickle", "python3-cloudpickle")) if not _importable(module)]
    if shutil.which("protoc") is None:
        missing.append("protobuf-compiler")
    if not os.access("/usr/bin/grpc_python_plugin", os.X_OK) and not os.environ.get("GRPC_PYTHON_PLUGIN"):
        missing.append("protobuf-compiler-grpc")
    return missing


MISSING = _missing()
if MISSING and os.environ.get("COOP_REQUIRE_PREREQS") == "1":
    raise RuntimeError(f"the Python client's tests need {', '.join(MISSING)}; .ci/run installs them")
if MISSING:
    # Nothing here can run: the test modules are not collected, and the report says why.
    collect_ignore_glob = ["test_*.py"]

    def pytest_terminal_summary(terminalreporter):
        terminalreporter.write_line(f"coop_client tests skipped: needs {', '.join(MISSING)} (apt-get install "
                                    "them and run with Debian's /usr/bin/python3, as .ci/run does)")
else:
    # The stubs are generated from the checkout's .proto before any test module imports the package.
    subprocess.run([os.path.join(PACKAGE, "generate.sh")], check=True)
    if PACKAGE not in sys.path:
        sys.path.insert(0, PACKAGE)
    from coop_client import Client
    from coop_client._proto import pb, rpc

GPUS = "sim:2xA100-80GB"
PREEMPTION_GRACE = "5s"


def _require(present, what):
    if present:
        return
    if os.environ.get("COOP_REQUIRE_PREREQS") == "1":
        pytest.fail(f"these tests need {what}; .ci/run provides it")
    pytest.skip(f"skipped: needs {what} (build the jar with ./coop --version, or run .ci/run)")


def _await(condition, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what() if callable(what) else what}")
        time.sleep(interval)


class _Processes:
    """Coop processes started from the jar, stopped by their PIDs."""

    def __init__(self, jar, logs):
        self.jar = jar
        self.logs = logs
        self.started = []
        self.env = dict(os.environ, COOP_JAR=jar)
        self.env.pop("COOP_IDENTITY", None)
        self.env.pop("COOP_SCHEDULER", None)

    def command(self, *args):
        return [os.path.join(REPO, "coop"), *args]

    def run(self, *args):
        done = subprocess.run(self.command(*args), env=self.env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise AssertionError(f"coop {' '.join(args)} exited {done.returncode}: {done.stderr}")
        return done.stdout

    def start(self, name, *args):
        log = open(os.path.join(self.logs, f"{name}.log"), "wb")
        # The launcher execs java, so the PID is the JVM's own.
        p = subprocess.Popen(self.command(*args), env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.started.append(p)
        return p

    def stop(self):
        for p in reversed(self.started):
            if p.poll() is None:
                p.terminate()
        for p in reversed(self.started):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture(scope="session")
def coop(tmp_path_factory):
    jar = os.environ.get("COOP_JAR") or os.path.join(REPO, "bench", "target", "coop.jar")
    _require(os.path.isfile(jar), f"coop's jar at {jar}")
    _require(shutil.which("java") is not None, "java (openjdk-17-jdk-headless)")
    base = tmp_path_factory.mktemp("coop")
    data, logs, work = (str(base / d) for d in ("data", "logs", "n1"))
    os.makedirs(logs)
    procs = _Processes(jar, logs)
    try:
        procs.run("init", "--data", data, "--param", "min_run_before_preempt_s=0", "--param", "reserve_wait_s=0",
                  "--founders", "alice:lab-a,bob:lab-b", "--accounts", "lab-a,lab-b")
        port_file = str(base / "port")
        scheduler = procs.start("scheduler", "scheduler", "--data", data, "--listen", "127.0.0.1:0",
                                "--heartbeat", "1s", "--port-file", port_file, "--preemption-grace", PREEMPTION_GRACE)
        _await(lambda: os.path.exists(port_file) or scheduler.poll() is not None, 60, "the scheduler's port file")
        assert scheduler.poll() is None, open(os.path.join(logs, "scheduler.log")).read()
        with open(port_file) as f:
            target = "127.0.0.1:" + f.read().strip()
        alice = os.path.join(data, "identities", "alice.json")
        bob = os.path.join(data, "identities", "bob.json")
        node_identity = str(base / "n1.node.json")
        procs.run("node", "enroll", "--scheduler", target, "--identity", alice, "--name", "n1", "--site", "north",
                  "--account", "lab-a", "--out", node_identity)
        procs.start("agent", "agent", "--identity", node_identity, "--scheduler", target, "--gpus", GPUS,
                    "--work-dir", work, "--isolation", "none", "--allow-root-jobs")
        with Client(identity=alice, scheduler=target) as client:
            nodes = rpc.NodesStub(client._channel)
            _await(lambda: len(nodes.ListNodes(pb.ListNodesRequest(), metadata=client._metadata).nodes) == 1, 60,
                   "the agent's node to join")
        yield types.SimpleNamespace(target=target, alice=alice, bob=bob, data=data, work=work, logs=logs,
                                    tmp=base)
    finally:
        procs.stop()


@pytest.fixture
def alice(coop):
    with Client(identity=coop.alice, scheduler=coop.target) as client:
        yield client


@pytest.fixture
def bob(coop):
    with Client(identity=coop.bob, scheduler=coop.target) as client:
        yield client


@pytest.fixture
def eventually():
    return _await

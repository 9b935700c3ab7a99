package coop.cli;

import coop.agent.Agent;
import coop.agent.AgentConfig;
import coop.agent.GpuDevice;
import coop.agent.GpuSpec;
import coop.agent.GpuTelemetry;
import coop.agent.NvidiaSmi;
import coop.agent.UsageSampler;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code coop agent}: runs the node daemon until Ctrl-C. It reports this node's GPUs to the
 * scheduler and runs the ranks placed here; on shutdown it stops them (SIGTERM, then SIGKILL
 * after 5 s) so that no job outlives the agent that is accountable for it.
 */
@Command(name = "agent", mixinStandardHelpOptions = true,
        description = "Run the node agent: dial the scheduler, report this node's GPUs and run the jobs "
                + "placed on it until interrupted.")
public final class AgentCommand implements Callable<Integer> {

    @Option(names = "--identity", paramLabel = "FILE", required = true,
            description = "The node identity file from coop node enroll: the node's name, site and secret.")
    Path identity;

    @Option(names = "--scheduler", paramLabel = "HOST:PORT",
            description = "Scheduler to dial (default: the identity file's, else 127.0.0.1:7070).")
    String scheduler;

    @Option(names = "--gpus", paramLabel = "SPEC", required = true,
            description = "'auto' to ask nvidia-smi, or a simulated node such as sim:8xA100-80GB or "
                    + "sim:2xA100-80GB,2xL4-24GB.")
    String gpus;

    @Option(names = "--work-dir", paramLabel = "DIR",
            description = "Where jobs run and keep their output (default: <java.io.tmpdir>/coop-agent/<node>).")
    Path workDir;

    @Option(names = "--advertise-address", paramLabel = "HOST",
            description = "Address other nodes reach this one at, given to gangs as MASTER_ADDR when rank 0 runs "
                    + "here (default: the address the scheduler sees this agent connect from).")
    String advertiseAddress;

    @Option(names = "--print-systemd-unit",
            description = "Print a systemd unit that runs this agent with these options as a service, and exit.")
    boolean printUnit;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        NodeIdentity id = NodeIdentity.read(identity);
        if (printUnit) {
            spec.commandLine().getOut().print(systemdUnit(id));
            spec.commandLine().getOut().flush();
            return 0;
        }
        String node = id.node();
        String site = id.site();
        String target = scheduler != null ? scheduler : id.scheduler() != null ? id.scheduler() : "127.0.0.1:7070";
        List<GpuDevice> devices;
        AgentConfig config;
        GpuSpec gpuSpec;
        try {
            gpuSpec = GpuSpec.parse(gpus);
            devices = gpuSpec.resolve(NvidiaSmi.onSystemPath());
            Path dir = workDir != null
                    ? workDir
                    : Path.of(System.getProperty("java.io.tmpdir"), "coop-agent", node);
            config = new AgentConfig(target, node, site, devices, dir, Agent.version(), advertiseAddress, id.token(),
                    id.tls());
        } catch (IllegalArgumentException | IllegalStateException e) {
            // Both already name the option and what was expected.
            throw new CliException(e.getMessage(), e);
        }
        // Simulated GPUs report no usage: there is nothing true to say about them.
        GpuTelemetry telemetry = gpuSpec instanceof GpuSpec.Auto
                ? new UsageSampler(NvidiaSmi.onSystemPath(), devices, UsageSampler.DEFAULT_PERIOD,
                        UsageSampler.DEFAULT_TIMEOUT)
                : GpuTelemetry.NONE;
        Agent agent = Agent.create(config, telemetry);
        Runtime.getRuntime().addShutdownHook(new Thread(agent::close, "coop-agent-shutdown"));
        agent.start();
        System.err.printf("coop agent %s (site %s, %d GPUs) dialing scheduler %s (work dir: %s)%n",
                node, site, devices.size(), target, config.workDir());
        agent.awaitClosed();
        if (agent.failure().isPresent()) {
            throw new CliException("agent " + node + " stopped: " + agent.failure().get());
        }
        return 0;
    }

    /**
     * A unit that runs this same agent: the JVM and jar running now, absolute paths, hardened as
     * {@link SystemdUnit} says.
     */
    String systemdUnit(NodeIdentity id) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String jar;
        try {
            jar = Path.of(AgentCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException | SecurityException e) {
            jar = "coop.jar";
        }
        StringBuilder exec = new StringBuilder(java + " -jar " + jar + " agent --identity "
                + identity.toAbsolutePath().normalize() + " --gpus " + gpus);
        if (scheduler != null) {
            exec.append(" --scheduler ").append(scheduler);
        }
        Path dir = workDir != null ? workDir.toAbsolutePath().normalize() : Path.of("/var/lib/coop-agent", id.node());
        exec.append(" --work-dir ").append(dir);
        if (advertiseAddress != null) {
            exec.append(" --advertise-address ").append(advertiseAddress);
        }
        // Ranks run as the agent's own user, so it needs no root.
        return SystemdUnit.forNode(id.node(), id.site(), exec.toString(), dir, false);
    }
}

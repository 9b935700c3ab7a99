package coop.agent;

/** How the agent fences a rank off from the node and from other jobs. */
public enum Isolation {
    /**
     * A process group of its own, as the rank's user, with {@code CUDA_VISIBLE_DEVICES}: for
     * development and the demo. A job can unset the variable, leave its group, and use as much
     * memory as the node has.
     */
    NONE("none"),
    /**
     * A container per rank, started by the OCI runtime runc: its own PID, mount and IPC
     * namespaces, only its own GPUs' device nodes, a memory and a process limit, and its end
     * ends everything it started.
     */
    RUNC("runc");

    private final String flag;

    Isolation(String flag) {
        this.flag = flag;
    }

    /** The word {@code --isolation} takes. */
    public String flag() {
        return flag;
    }

    /** The isolation {@code --isolation WORD} names. */
    public static Isolation of(String word) {
        for (Isolation i : values()) {
            if (i.flag.equals(word)) {
                return i;
            }
        }
        throw new IllegalArgumentException("--isolation must be 'runc' or 'none', got '" + word + "'");
    }
}

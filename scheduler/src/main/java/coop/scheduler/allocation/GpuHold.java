package coop.scheduler.allocation;

/**
 * GPUs a preemption freed, or is freeing, for one job: up to {@code gpus} GPUs of the model on
 * the node are that job's until it starts or {@code until} (epoch ms) passes. As they come free,
 * no other job takes them, nor the preempted attempt's own job.
 */
public record GpuHold(long jobId, String account, String node, String model, int gpus, long until) {
}

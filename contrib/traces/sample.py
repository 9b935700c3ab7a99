#!/usr/bin/env python3
"""Write sample-300.csv: a small synthetic job trace to try `coop simulate` on.

    python3 contrib/traces/sample.py > contrib/traces/sample-300.csv

The format is the one `coop simulate` and `coop bench replay` read, and that the Philly
trace in scheduler/src/test/resources/traces/ uses:

    submit_s,account,gpus,duration_s,gpu_model

The jobs are made up, not taken from any cluster: 300 jobs of the README's three accounts
over about 10 hours, with a fixed seed so the file is the same on every run. They have the
shape that makes sharing GPUs hard, as real traces do:

* demand is skewed: lab-a submits about half the jobs, lab-b 30 %, uni-c 20 %;
* arrivals come in bursts: now and then an account submits a sweep of 1-GPU jobs at once;
* most jobs use 1 GPU, some are gangs of 2 to 16 GPUs;
* run times are heavy-tailed (log-normal, median about 20 minutes, a few run for many hours).

Rows are sorted by submit time, then account; gpu_model is empty (any model).
"""
import math
import random
import sys

SEED = 27
JOBS = 300
ACCOUNTS = [("lab-a", 0.5), ("lab-b", 0.3), ("uni-c", 0.2)]
GPUS = [(1, 0.65), (2, 0.10), (4, 0.10), (8, 0.10), (16, 0.05)]
MEAN_GAP_S = 180           # between bursts or single submits, on average
SWEEP_CHANCE = 0.06        # that a submit is a sweep of 1-GPU jobs
MEDIAN_RUN_S = 20 * 60
RUN_SIGMA = 1.4            # log-normal spread of run times
MIN_RUN_S, MAX_RUN_S = 30, 24 * 3600


def pick(rng, weighted):
    x = rng.random()
    for value, weight in weighted:
        x -= weight
        if x < 0:
            return value
    return weighted[-1][0]


def run_time(rng):
    seconds = math.exp(rng.gauss(math.log(MEDIAN_RUN_S), RUN_SIGMA))
    return int(min(MAX_RUN_S, max(MIN_RUN_S, seconds)))


def jobs(rng):
    out = []
    t = 0.0
    while len(out) < JOBS:
        t += rng.expovariate(1 / MEAN_GAP_S)
        account = pick(rng, ACCOUNTS)
        if rng.random() < SWEEP_CHANCE:
            for _ in range(min(rng.randint(4, 12), JOBS - len(out))):
                out.append((int(t), account, 1, run_time(rng)))
        else:
            out.append((int(t), account, pick(rng, GPUS), run_time(rng)))
    return sorted(out, key=lambda j: (j[0], j[1]))


def main():
    w = sys.stdout
    w.write("submit_s,account,gpus,duration_s,gpu_model\n")
    for submit, account, gpus, duration in jobs(random.Random(SEED)):
        w.write(f"{submit},{account},{gpus},{duration},\n")


if __name__ == "__main__":
    main()

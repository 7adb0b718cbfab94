/** The compare driver's shared words (module 'compare-driver'): what both runs record alike. */
export enum C {
  /** 0 tasklet, 1 BH work. */
  Mode = 0,
  Phase,
  Seed,
  Trials,
  SteadyMs,
  /** The process path is done (its results are in). */
  Done,
  /** 1 while the process path has the deferred work disabled. */
  Disabled,
  /** CPU + 1 while the deferred function runs. */
  Inside,
  /** Machine time in µs + 1 of the first schedule the next run serves, 0: none. */
  FirstPending,
  /** CPU + 1 that scheduled last. */
  LastSchedCpu,
  /** ((running CPU + 1) << 8) | (scheduling CPU + 1): a schedule from one CPU while it ran on another. */
  Reentry,
  /** tasklet_schedule / queue_work calls, and (work) those that returned true. */
  Schedules,
  Accepted,
  Runs,
  /** Schedules made while disabled, and (work) those refused. */
  SchedWhileDisabled,
  RefusedWhileDisabled,
  /** Runs on the CPU that scheduled last, and elsewhere. */
  RunsOnSchedCpu,
  RunsElsewhere,
  /** After a schedule from CPU B while it ran on CPU A: next run on B (the scheduler) or on A (the runner). */
  ReentryOnScheduler,
  ReentryOnRunner,
  /** Experiment "disabled": trials, and trials where the schedule made while disabled ran after the enable. */
  DisabledTrials,
  DisabledRemembered,
  /** Experiment "teardown": trials, runs the teardown call let happen, and cancels that returned true. */
  TeardownTrials,
  TeardownRuns,
  TeardownCancelled,
  /** Samples of schedule-to-run latency (µs) kept. */
  LatencyCount,
  /** A probe schedule asked of another CPU's interrupt, and probes done (schedule call returned). */
  Probe,
  ProbesDone,
}
export const LATENCY_BASE = 64;
export const MAX_LATENCY_SAMPLES = 8192;
export const COMPARE_WORDS = LATENCY_BASE + MAX_LATENCY_SAMPLES;

export enum ComparePhase {
  Quiet = 0,
  Steady = 1,
  Stop = 2,
}

/**
 * Typed errors of the harness. Each carries the exit code the CLI uses and a
 * message written for the person at the terminal: what went wrong, with which
 * value, and what to do about it. `main.ts` is the only place that catches them.
 *
 * @module
 */

/** Base class: an expected failure with an actionable message (exit code 1). */
export class HarnessError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 1;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad command-line input or a malformed experiment spec (exit code 2). */
export class UsageError extends HarnessError {
  override readonly exitCode: number = 2;
}

/** Dataset missing, corrupt, or failing its digest (exit code 3). */
export class DataError extends HarnessError {
  override readonly exitCode: number = 3;
}

/** A results folder, lock or CSV that cannot be used as asked (exit code 4). */
export class ResultsError extends HarnessError {
  override readonly exitCode: number = 4;
}

/** A training backend that cannot be loaded on this machine (exit code 5). */
export class BackendError extends HarnessError {
  override readonly exitCode: number = 5;
}

/** A golden file that is missing or malformed, or a failed verification (exit code 6). */
export class GoldenError extends HarnessError {
  override readonly exitCode: number = 6;
}

/** A cluster launcher (Slurm) that is missing or refused a job (exit code 7). */
export class LauncherError extends HarnessError {
  override readonly exitCode: number = 7;
}

/**
 * A study that ended with runs of its selection not finished, because
 * `--time-limit` stopped them after an epoch (their checkpoints keep it) or
 * left no time to start them (exit code 8); the message says what is stored
 * and how to continue.
 */
export class Incomplete extends HarnessError {
  override readonly exitCode: number = 8;
}

/**
 * A study stopped by SIGINT (exit 130) or SIGTERM (exit 143) after keeping
 * every finished run and the finished epochs of the runs in flight (their
 * checkpoints); the message says what was kept and how to resume.
 */
export class Interrupted extends HarnessError {
  override readonly exitCode: number;
  constructor(message: string, readonly signal: "SIGINT" | "SIGTERM") {
    super(message);
    this.exitCode = signal === "SIGINT" ? 130 : 143;
  }
}

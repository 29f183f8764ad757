/**
 * The tool's name and version, recorded in every results folder and golden file.
 *
 * @module
 */

/** Tool name (also the cache folder's name). */
export const TOOL = "bnlab";
/** Tool version; bump when results change meaning. */
export const VERSION = "0.1.0";

/**
 * Version of what a run computes for a given configuration: bumped whenever a
 * change alters a run's numbers without changing its configuration (a metric's
 * definition, a random stream, a kernel's bits). It is part of every run's
 * configuration hash, so runs stored under an older protocol are retrained
 * rather than mixed with new ones.
 *
 * - 1: the first committed results (implicit: those records do not name it).
 * - 2: training loss and accuracy measured in inference mode on a fixed sample of
 *   the training split (`running_train_*` keep the training-mode means), and
 *   dropout masks drawn from Philox4x32-10 (lib/rng.ts).
 */
export const PROTOCOL = 2;

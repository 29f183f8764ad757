/**
 * The tool's name and version, recorded in every results folder and golden file.
 *
 * @module
 */

/** Tool name (also the cache folder's name). */
export const TOOL = "bnlab";
/** Tool version; bump when results change meaning. */
export const VERSION = "0.1.0";

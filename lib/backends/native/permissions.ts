/**
 * Permission checks that never prompt: the native backend is optional, so a
 * missing permission must mean "not available", not an interactive question
 * that stalls an unattended run.
 *
 * @module
 */

/** Whether `permission` is granted, without prompting. */
export function granted(permission: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(permission).state === "granted";
  } catch {
    return false;
  }
}

/**
 * Assertion helpers the tests share on top of `node:assert/strict`.
 *
 * @module
 */
import assert from "node:assert/strict";

/** Assert that `fn` rejects with an instance of `type` whose message contains `text`; returns the error. */
export async function rejectsWith<E extends Error>(
  fn: () => Promise<unknown>,
  type: new (...args: never[]) => E,
  text: string,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    assert.ok(
      err instanceof type,
      `expected ${type.name}, got ${(err as Error)?.name}: ${(err as Error)?.message}`,
    );
    assert.ok(err.message.includes(text), `message lacks "${text}": ${err.message}`);
    return err;
  }
  assert.fail(`expected a ${type.name} containing "${text}", but nothing was thrown`);
}

/** Assert that `fn` throws an instance of `type` whose message contains `text`; returns the error. */
export function throwsWith<E extends Error>(
  fn: () => unknown,
  type: new (...args: never[]) => E,
  text: string,
): E {
  try {
    fn();
  } catch (err) {
    assert.ok(
      err instanceof type,
      `expected ${type.name}, got ${(err as Error)?.name}: ${(err as Error)?.message}`,
    );
    assert.ok(err.message.includes(text), `message lacks "${text}": ${err.message}`);
    return err;
  }
  assert.fail(`expected a ${type.name} containing "${text}", but nothing was thrown`);
}

/**
 * Create a symbolic link `path` → `target`. Deno.symlink needs unscoped
 * permissions, which the test task does not grant, so a `deno eval` child
 * makes it.
 */
export async function symlink(target: string, path: string): Promise<void> {
  const code = `Deno.symlinkSync(${JSON.stringify(target)}, ${JSON.stringify(path)})`;
  const out = await new Deno.Command("deno", { args: ["eval", code], stderr: "piped" }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

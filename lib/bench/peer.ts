/**
 * The PyTorch peer: runs `../shared/peer/torch_bench.py` (Debian's
 * python3-torch) in the same invocation and parses its JSON lines.
 *
 * @module
 */

/** One line of the peer's output. */
export interface PeerResult {
  arch: string;
  images_per_s: number;
  threads: number;
  torch: string;
}

/**
 * Run the peer script for `archs` with `threads` threads and `batches` timed
 * batches. Returns `undefined` with a reason when Python or torch is missing.
 */
export async function runPeer(
  script: string,
  archs: string[],
  threads: number,
  batches: number,
  python = "/usr/bin/python3",
): Promise<{ results: PeerResult[] } | { missing: string }> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(python, {
      args: [
        script,
        "--threads",
        String(threads),
        "--batches",
        String(batches),
        "--arch",
        ...archs,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (err) {
    return { missing: `${python} could not run (${(err as Error).message.split("\n")[0]})` };
  }
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim().split("\n").pop() ?? "";
    return {
      missing: `the peer failed: ${stderr} (install torch with \`apt-get install python3-torch\`)`,
    };
  }
  const lines = new TextDecoder().decode(output.stdout).split("\n").filter((l) =>
    l.startsWith("{")
  );
  return { results: lines.map((l) => JSON.parse(l) as PeerResult) };
}

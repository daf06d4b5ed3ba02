/**
 * The C allocator settings the suite runs its throughput phases with.
 *
 * On the virtual machines this suite runs on, a page fault costs about
 * 19 µs, and glibc's default heap behaviour turns a process that allocates
 * and drops large buffers into one that faults most of them in again: its
 * dynamic `mmap` threshold and the trimming of the heap's top return freed
 * memory to the kernel, and whether a process falls into that pattern is
 * decided by how its heap happens to be laid out. The raw TCP echo, which
 * gets a fresh 64 KiB buffer from Node for every read, fell into it for
 * good: 5.3 ms of CPU per 1 MiB echoed, slower than plain `ws`, against
 * 1.0 ms with these settings, so the ceiling of the large-message rows was
 * no ceiling. With them, every process (servers, clients, load generators)
 * keeps its freed memory in its heap, and the rows measure the libraries.
 * They are the settings the memory page recommends in production
 * (docs/topics/memory.md#tips); `--default-allocator` runs without them.
 *
 * The memory and compression phases keep glibc's defaults: they measure
 * resident memory, which a heap that is never trimmed would inflate.
 *
 * @module
 */

/** Allocations under 32 MiB come from the heap; up to 256 MiB free at its top is kept. */
export const TUNED_ALLOCATOR_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: "33554432",
  MALLOC_TRIM_THRESHOLD_: "268435456",
};

/**
 * Sets (or removes) {@link TUNED_ALLOCATOR_ENV} in this process's
 * environment, which every child process started afterwards inherits.
 */
export function useTunedAllocator(on: boolean): void {
  for (const [name, value] of Object.entries(TUNED_ALLOCATOR_ENV)) {
    if (on) process.env[name] = value;
    else delete process.env[name];
  }
}

/** The settings as a shell would spell them. */
export function describeTunedAllocator(): string {
  return Object.entries(TUNED_ALLOCATOR_ENV)
    .map(([name, value]) => `${name}=${value}`)
    .join(" ");
}

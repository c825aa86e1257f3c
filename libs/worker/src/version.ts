/** Version of the `@baton/worker` package (kept equal to its package.json by a unit test). */
export const WORKER_VERSION = '0.1.0';

/** `BATON_*` variables of the bench's own environment, passed on to every service (to try settings). */
export function batonEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('BATON_')));
}

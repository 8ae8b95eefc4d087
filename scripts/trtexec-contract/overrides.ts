/**
 * Facts the script cannot read mechanically, per release, each with the source line that shows it.
 * Keep this table small: the script fails on any condition it meets that is not listed here, so a
 * new release with a new one stops the regeneration until someone reads the code and adds a row.
 */

export interface ConditionFact {
  /** Whether the condition holds in the trtexec binary NVIDIA ships (so the option is accepted). */
  holds: boolean;
  source: string;
}

/**
 * Conditions an option's take sits under (`if (cond) getAndDelOption(...)`), by release and option.
 * `--vc`/`--versionCompatible`-style alias conditions are read by the script itself (parsedOnlyWithout).
 */
export const CONDITIONS: Record<string, Record<string, ConditionFact>> = {
  // SystemOptions::parse takes --staticPlugins only `if (this->enableStaticPlugins)`; trtexecMain sets
  // `options.system.enableStaticPlugins = kENABLE_STATIC_PLUGINS` with `bool const kENABLE_STATIC_PLUGINS = true`.
  '10.16': { '--staticPlugins': { holds: true, source: 'samples/trtexec/trtexec.cpp:236' } },
  '11.0': { '--staticPlugins': { holds: true, source: 'samples/trtexec/trtexec.cpp:244' } },
  // The same, in parseArgs.
  '11.1': { '--staticPlugins': { holds: true, source: 'samples/trtexec/trtexec.cpp:354' } },
};

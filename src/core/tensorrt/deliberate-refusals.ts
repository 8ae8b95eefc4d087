/**
 * The trtexec options (and option values) that Kiln does not take from users although some
 * release's trtexec accepts them, each with its reason. Everything else a release of the contract
 * table accepts, Kiln maps from `options.tensorrt` (build-argv.ts) or writes itself; the contract
 * test (test/tensorrt/argv-contract.test.ts) holds every release's options against this list, so a
 * new trtexec option makes somebody decide, and say why.
 */
export interface DeliberateRefusal {
  /** trtexec option names, as the table spells them. */
  options: string[];
  /** Only these values of the options, when the refusal is of values rather than whole options. */
  values?: string[];
  reason: string;
}

export const DELIBERATE_REFUSALS: readonly DeliberateRefusal[] = [
  {
    reason:
      'names a file or directory on the worker: the worker chooses every path trtexec reads or writes (a path from a request could read or ' +
      'overwrite anything the worker can), and writes what it needs itself: the model, engine, timing cache, layer info, calibration-cache ' +
      'copy, inputs and outputs of the build\'s own work dir',
    options: [
      '--onnx', '--saveEngine', '--loadEngine', '--timingCacheFile', '--exportLayerInfo', '--exportOutput', '--loadInputs', '--refitFromOnnx',
      '--exportProfile', '--exportTimes', '--dumpRawBindingsToFile', '--tempdir', '--tempfileControls', '--leanDLLPath', '--saveDebugTensors',
      '--saveAllDebugTensors', '--saveAllEngines', '--loadRefOutputs', '--tuningCacheFile', '--tuningResultFile', '--tuneBuildRouteFile',
    ],
  },
  {
    reason: 'loads code into the worker (plugin libraries, or a lean or dispatch runtime from a library path)',
    options: ['--plugins', '--staticPlugins', '--dynamicPlugins', '--setPluginsToSerialize', '--ignoreParsedPluginLibs', '--enablePluginOverride', '--useRuntime'],
  },
  {
    reason: 'reaches other machines from the worker (remote auto-tuning)',
    options: ['--remoteAutoTuningConfig'],
  },
  {
    reason: 'builds from something other than an ONNX model, or with an implicit batch dimension; Kiln builds ONNX models, explicit batch',
    options: ['--uff', '--uffInput', '--uffNHWC', '--deploy', '--model', '--output', '--batch', '--maxBatch', '--explicitBatch'],
  },
  {
    reason: 'targets NVIDIA\'s DLA accelerators; Kiln\'s TensorRT targets are GPUs',
    options: ['--useDLACore', '--allowGPUFallback', '--buildDLAStandalone', '--adjustForDLA', '--reportCapabilityDLA', '--uint8AsymmetricQuantizationDLA', '--layerDeviceTypes'],
  },
  {
    reason: 'DLA memory pools; Kiln\'s TensorRT targets are GPUs',
    options: ['--memPoolSize'],
    values: ['dlaSRAM', 'dlaLocalDRAM', 'dlaGlobalDRAM'],
  },
  {
    reason: 'builds for a safety-certified runtime or another platform, or without a GPU; a Kiln engine is built on the GPU of its target, for it',
    options: ['--safe', '--consistency', '--restricted', '--cpuOnly', '--runtimePlatform'],
  },
  {
    reason:
      'sets how an engine is run, not how it is built: Kiln runs every validation and benchmark the same way (options.validation, ' +
      'options.benchmark) and writes these runs\' options itself, so reports compare across builds',
    options: [
      '--shapes', '--useProfile', '--iterations', '--duration', '--warmUp', '--percentile', '--useSpinWait', '--noSpinWait', '--includeDataTransfers',
      '--noDataTransfers', '--avgRuns', '--streams', '--infStreams', '--threads', '--useCudaGraph', '--noCudaGraph', '--separateProfileRun',
      '--idleTime', '--sleepTime', '--exposeDMA', '--useManagedMemory', '--persistentCacheRatio', '--allocationStrategy', '--allowWeightStreaming',
      '--weightStreamingBudget', '--timeDeserialize', '--timeRefit', '--asyncFileReader', '--device', '--skipInference', '--buildOnly',
    ],
  },
  {
    reason:
      'prints diagnostics or changes how much trtexec logs; Kiln writes --profilingVerbosity=detailed itself, reads the plan header and the log ' +
      'as they are by default, and keeps the whole log with every build',
    options: [
      '--profilingVerbosity', '--nvtxMode', '--verbose', '--dumpLayerInfo', '--dumpProfile', '--dumpOutput', '--dumpRefit', '--dumpOptimizationProfile',
      '--dumpKernelText', '--markDebug', '--markUnfusedTensorsAsDebugTensors', '--getPlanVersionOnly', '--monitorMemory', '--help', '-h',
    ],
  },
  {
    reason: 'checks accuracy inside trtexec (11.1); Kiln validates every engine against ONNX Runtime itself (options.validation)',
    options: ['--refPair', '--accuracyAlgorithm', '--accuracyThreshold', '--atol', '--rtol'],
  },
  {
    reason: 'build-route tuning (11.1), a workflow of several trtexec runs and files of its own; not mapped',
    options: ['--tuneBuildRoutes', '--tuningSearch', '--tuningTimeOut', '--continue', '--dryRun', '--helpBuildRoute', '--setBuildRoute'],
  },
  {
    reason:
      'calibrates on the worker: Kiln calibrates from an uploaded cache only (options.tensorrt.calibration), since trtexec has no calibration ' +
      'data but random values',
    options: ['--calibProfile', '--minShapesCalib', '--optShapesCalib', '--maxShapesCalib'],
  },
  {
    reason:
      'another spelling of what Kiln writes under the current name: --vc is --versionCompatible, --weightless from 10.0 is --stripWeights, ' +
      '--workspace is memPoolSize workspace, --stripAllWeights is --stripWeights with --refit',
    options: ['--vc', '--weightless', '--workspace', '--stripAllWeights'],
  },
  {
    reason: 'another spelling of the CUBLAS_LT tactic source, which Kiln writes',
    options: ['--tacticSources'],
    values: ['CUBLASLT'],
  },
  {
    reason: 'would defeat the fleet timing cache every build starts from and grows (--noBuilderCache turns the timing cache off; --errorOnTimingCacheMiss fails on what the cache does not yet hold)',
    options: ['--noBuilderCache', '--errorOnTimingCacheMiss'],
  },
  {
    reason: 'int4 (weight-only quantisation from Q/DQ nodes in the model): Kiln has no validation tolerance for it yet, so it would publish engines it cannot judge',
    options: ['--int4'],
  },
  {
    reason: '2:4 structured sparsity changes which weights an engine computes with; not mapped until validation can say what it cost',
    options: ['--sparsity'],
  },
  {
    reason:
      'builder search and parser knobs not mapped yet (TensorRT\'s defaults are kept); each would be a schema entry and a line in build-argv.ts, ' +
      'and a build key of its own',
    options: [
      '--avgTiming', '--minTiming', '--maxTactics', '--noCompilationCache', '--tilingOptimizationLevel', '--l2LimitForTiling',
      '--distributiveIndependence', '--decomposableAttentions', '--directIO', '--preview', '--heuristic', '--explicitPrecision', '--layerOutputTypes',
      '--nativeInstanceNorm', '--ni', '--pluginInstanceNorm', '--pi',
    ],
  },
  {
    reason: 'a memory pool not mapped yet (TensorRT\'s default is kept)',
    options: ['--memPoolSize'],
    values: ['tacticSharedMem'],
  },
];

/** Whether Kiln refuses `option` (or, given, that value of it) on purpose; the reason when it does. */
export function deliberateRefusal(option: string, value?: string): string | undefined {
  const refusal = DELIBERATE_REFUSALS.find((r) => r.options.includes(option) && (r.values === undefined || (value !== undefined && r.values.includes(value))));
  return refusal?.reason;
}

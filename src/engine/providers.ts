/**
 * ONNX Runtime execution providers (EXECUTION_PROVIDERS, e.g. `cuda,cpu`): which ones a session
 * is opened with, and the fallback when one cannot be used on this machine.
 *
 * onnxruntime-node refuses to open a session whose provider list names one it cannot load (the
 * CUDA provider without its libraries, say). So a session is opened with the list as given, and
 * on failure with the list less its first provider, and so on down to CPU, which is always the
 * last resort: the model still serves, and the load report says which provider each session got
 * and why the ones before it were skipped. A provider that failed while a later one worked is not
 * tried again by that worker (each try costs a failed library load and a line of ORT's stderr).
 */

/** The providers onnxruntime-node can be built with; any other name is refused at startup. */
export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'tensorrt', 'dml', 'coreml', 'webgpu', 'qnn'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

export function isExecutionProvider(name: string): name is ExecutionProvider {
  return (EXECUTION_PROVIDERS as readonly string[]).includes(name);
}

/** A provider that was skipped for a session, and ONNX Runtime's reason. */
export interface ProviderFallback {
  provider: string;
  reason: string;
}

export interface OpenedWith<S> {
  session: S;
  /** The provider the session got first in its list (ORT runs any node that provider cannot on the ones after it, CPU last). */
  provider: string;
  /** Providers before it that could not be used. */
  fallbacks: ProviderFallback[];
}

/**
 * Opens a session with `providers` (CPU appended when missing), dropping the first provider each
 * time opening fails, and skipping those in `unavailable` (which it adds to). The last error is
 * thrown when even CPU fails: then the model itself is at fault.
 */
export async function openWithFallback<S>(
  providers: readonly string[],
  open: (providers: string[]) => Promise<S>,
  unavailable: Map<string, string> = new Map(),
): Promise<OpenedWith<S>> {
  const chain = providers.includes('cpu') ? [...providers] : [...providers, 'cpu'];
  const fallbacks: ProviderFallback[] = [];
  for (let i = 0; i < chain.length; i++) {
    const provider = chain[i]!;
    const known = unavailable.get(provider);
    if (known !== undefined && provider !== 'cpu') {
      fallbacks.push({ provider, reason: known });
      continue;
    }
    try {
      const session = await open(chain.slice(i));
      // Remembered only now: had every provider failed, the model file, not they, was at fault.
      for (const fallback of fallbacks) unavailable.set(fallback.provider, fallback.reason);
      return { session, provider, fallbacks };
    } catch (error) {
      if (provider === 'cpu' || i === chain.length - 1) throw error;
      fallbacks.push({ provider, reason: firstLine((error as Error).message ?? String(error)) });
    }
  }
  throw new Error('unreachable: the provider chain ends with cpu');
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.slice(0, 300);
}

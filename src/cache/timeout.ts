/** Rejects with StoreTimeout when `promise` takes longer than `ms` (the promise itself runs on). */
export class StoreTimeout extends Error {
  override name = 'StoreTimeout';
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeout(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

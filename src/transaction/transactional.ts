import 'reflect-metadata';
import { TransactionalUsageError } from '../errors/transaction-errors';
import { resolveTransactionOptions, TransactionOptions } from './options';
import { runTransactional } from './with-transaction';

type AsyncMethod = (...args: never[]) => Promise<unknown>;

/**
 * Runs the decorated async method in a transaction, exactly as `withTransaction(() => method(...), options)`
 * would. Options are validated when the class is defined; a method that does not return a Promise is refused
 * at call time (and whatever it did is rolled back).
 */
export function Transactional(options?: TransactionOptions) {
  const resolved = resolveTransactionOptions(options);
  return function decorate<M extends AsyncMethod>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): TypedPropertyDescriptor<M> {
    const original = descriptor.value;
    const label = `${target.constructor.name}.${String(key)}`;
    if (typeof original !== 'function') {
      throw new TransactionalUsageError(`@Transactional() can only decorate a method; ${label} is not one.`);
    }
    const wrapper = function (this: unknown, ...args: Parameters<M>): Promise<unknown> {
      return runTransactional(resolved, () => {
        const result: unknown = original.apply(this, args);
        if (!isPromiseLike(result)) {
          throw new TransactionalUsageError(`${label} is decorated with @Transactional() but did not return a Promise: make it async.`);
        }
        return Promise.resolve(result);
      });
    };
    for (const metadataKey of Reflect.getMetadataKeys(original)) {
      Reflect.defineMetadata(metadataKey, Reflect.getMetadata(metadataKey, original), wrapper);
    }
    Object.defineProperty(wrapper, 'name', { value: original.name });
    return { ...descriptor, value: wrapper as unknown as M };
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

import {
  getMetadataStorage,
  validate,
  validateSync,
  ValidationArguments,
  ValidationError as ClassValidatorError,
  ValidationTypes,
  ValidatorConstraintInterface,
  ValidatorOptions,
} from 'class-validator';

/** `insert` checks every decorated property; `update` skips those the patch leaves out (or sets to null). */
export type DecoratorMode = 'insert' | 'update';

/** One constraint of one property, with what class-validator would call for it. */
interface Check {
  readonly constraints: unknown[];
  readonly each: boolean;
  readonly validateIf: ((object: unknown, value: unknown) => boolean) | undefined;
  readonly validator: ValidatorConstraintInterface;
}

/** The decorators of one property: its conditions (`@IsOptional`, `@ValidateIf`), then its constraints. */
interface PropertyChecks {
  readonly property: string;
  readonly conditions: readonly ((object: unknown, value: unknown) => boolean)[];
  readonly checks: readonly Check[];
}

/** A class's decorators, read once: undefined when one is async or nested, which only class-validator runs. */
type Compiled = readonly PropertyChecks[] | undefined;

const compiled = new WeakMap<object, Compiled>();
const OPTIONS: Record<DecoratorMode, ValidatorOptions> = {
  insert: { forbidUnknownValues: false, validationError: { target: false, value: false } },
  update: { skipMissingProperties: true, forbidUnknownValues: false, validationError: { target: false, value: false } },
};

/**
 * The class-validator errors of `instance` (an object of class `target`), exactly as `validateSync` reports them.
 *
 * Why not just `validateSync` for every row: class-validator looks up and filters the class's metadata (walking every
 * registered class for inheritance) on each call, which was most of createMany's validation time. So the decorators
 * are read once per class and run directly; only a row that fails one goes through class-validator, which then
 * writes the messages. Classes with async or nested validation always go through `validate`, as a promise.
 */
export function decoratorErrors(target: object, instance: object, mode: DecoratorMode): ClassValidatorError[] | Promise<ClassValidatorError[]> {
  let checks = compiled.get(target);
  if (!compiled.has(target)) {
    checks = compile(target);
    compiled.set(target, checks);
  }
  if (checks === undefined) return validate(instance, OPTIONS[mode]);
  return passes(checks, instance as Record<string, unknown>, mode) ? [] : validateSync(instance, OPTIONS[mode]);
}

/** Whether class-validator would report nothing: its ValidationExecutor's decisions, without building errors. */
function passes(properties: readonly PropertyChecks[], object: Record<string, unknown>, mode: DecoratorMode): boolean {
  for (const { property, conditions, checks } of properties) {
    const value = object[property];
    if (!conditions.every((condition) => condition(object, value))) continue;
    for (const check of checks) {
      // `skipMissingProperties` skips all but @IsDefined, which class-validator checks before it.
      if (mode === 'update' && (value === null || value === undefined) && !isDefinedCheck(check)) continue;
      if (check.validateIf && !check.validateIf(object, value)) continue;
      const args: ValidationArguments = { targetName: object.constructor?.name, property, object, value, constraints: check.constraints };
      // Truthy passes, as in class-validator (a promise too: validateSync ignores it).
      const ok =
        check.each && (Array.isArray(value) || value instanceof Set || value instanceof Map)
          ? [...(value instanceof Map ? value.values() : value)].every((v: unknown) => check.validator.validate(v, args))
          : check.validator.validate(value, args);
      if (!ok) return false;
    }
  }
  return true;
}

const definedChecks = new WeakSet<Check>();

function isDefinedCheck(check: Check): boolean {
  return definedChecks.has(check);
}

function compile(target: object): Compiled {
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(target as new () => unknown, '', false, false);
  const byProperty = new Map<string, { conditions: ((object: unknown, value: unknown) => boolean)[]; checks: Check[] }>();
  for (const metadata of metadatas) {
    if (metadata.type === ValidationTypes.WHITELIST) continue;
    let entry = byProperty.get(metadata.propertyName);
    if (!entry) byProperty.set(metadata.propertyName, (entry = { conditions: [], checks: [] }));
    if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION) {
      entry.conditions.push(metadata.constraints[0] as (object: unknown, value: unknown) => boolean);
      continue;
    }
    if (metadata.type !== ValidationTypes.CUSTOM_VALIDATION && metadata.type !== ValidationTypes.IS_DEFINED) return undefined;
    for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
      if (constraint.async) return undefined;
      const check: Check = {
        constraints: metadata.constraints,
        each: metadata.each,
        validateIf: metadata.validateIf,
        validator: constraint.instance,
      };
      if (metadata.type === ValidationTypes.IS_DEFINED) definedChecks.add(check);
      entry.checks.push(check);
    }
  }
  return [...byProperty].map(([property, entry]) => ({ property, ...entry }));
}

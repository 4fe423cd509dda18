import {
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  Length,
  Matches,
  Validate,
  ValidateIf,
  ValidationArguments,
  validateSync,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { decoratorErrors } from '../../src/repository/decorator-check';

/** A cross-property rule: the constraint reads the whole object through its arguments. */
@ValidatorConstraint({ name: 'notEqualToName' })
class NotEqualToName implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    return value !== (args.object as { name?: unknown }).name;
  }
}

class Sample {
  @Length(2, 5)
  name?: unknown;

  @IsOptional()
  @Matches(/^\d+$/)
  digits?: unknown;

  @ValidateIf((o: Sample) => o.kind === 'counted')
  @IsInt({ each: true })
  counts?: unknown;

  @IsIn(['plain', 'counted'])
  kind?: unknown;

  @IsDefined()
  @Validate(NotEqualToName)
  nick?: unknown;
}

const SAMPLES: Record<string, unknown>[] = [
  { name: 'abc', kind: 'plain', nick: 'x' },
  { name: 'abc', kind: 'plain', nick: 'abc' },
  { name: 'a', digits: '12a', kind: 'counted', counts: [1, 2.5], nick: 'y' },
  { name: 'abcd', digits: null, kind: 'counted', counts: new Set([1, 2]), nick: 'z' },
  { name: 'abcd', kind: 'counted', counts: new Map<string, unknown>([['a', 1], ['b', 'two']]), nick: 'z' },
  { kind: 'other' },
  { name: 'ab', kind: 'plain', counts: ['not checked'], nick: null },
  {},
];

function instance(values: Record<string, unknown>): Sample {
  return Object.assign(Object.create(Sample.prototype) as Sample, values);
}

describe('decoratorErrors (class-validator decorators read once per class)', () => {
  it.each(SAMPLES.map((s, i) => [i, s] as const))('reports exactly what validateSync reports for sample %i', (_i, values) => {
    const options = { forbidUnknownValues: false, validationError: { target: false, value: false } };
    expect(decoratorErrors(Sample, instance(values), 'insert')).toEqual(validateSync(instance(values), options));
    expect(decoratorErrors(Sample, instance(values), 'update')).toEqual(validateSync(instance(values), { ...options, skipMissingProperties: true }));
  });
});

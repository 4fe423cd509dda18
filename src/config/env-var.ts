import 'reflect-metadata';

/** How a setting is read from one environment variable and explained when it is wrong. */
export interface EnvVarSpec {
  /** Variable name without the named-database prefix, e.g. `DB_POOL_MAX`. */
  readonly name: string;
  /** What a valid value looks like, finishing the sentence "expected …". */
  readonly expected: string;
  /** One line for `.env.example` and the docs, with the default. */
  readonly description: string;
  /** Never echoed in an error or a log line. */
  readonly secret?: boolean;
  /** The value is parsed as a comma-separated list. */
  readonly list?: boolean;
}

/** A decorated property of a settings class together with its variable. */
export interface EnvVarProperty extends EnvVarSpec {
  readonly property: string;
  readonly type: 'string' | 'number' | 'boolean' | 'list';
}

const PROPERTIES = Symbol('bastion:env-properties');

type Registry = Record<string | symbol, EnvVarProperty[] | undefined>;

/** Binds a settings property to an environment variable; the property's TypeScript type decides the parsing. */
export function Env(spec: EnvVarSpec): PropertyDecorator {
  return (target, property) => {
    if (typeof property !== 'string') throw new TypeError('@Env needs a string property name');
    const designType: unknown = Reflect.getMetadata('design:type', target, property);
    const type = spec.list
      ? 'list'
      : designType === Number
        ? 'number'
        : designType === Boolean
          ? 'boolean'
          : 'string';
    const registry = target as Registry;
    const own = Object.prototype.hasOwnProperty.call(registry, PROPERTIES) ? registry[PROPERTIES] : undefined;
    const list = own ?? [];
    if (!own) Object.defineProperty(target, PROPERTIES, { value: list, enumerable: false });
    list.push({ ...spec, property, type });
  };
}

/** The `@Env` properties of a settings class, in declaration order. */
export function envProperties(settingsClass: abstract new () => object): readonly EnvVarProperty[] {
  return (settingsClass.prototype as Registry)[PROPERTIES] ?? [];
}

/**
 * Converts the raw string of a variable to the property's type. A value that does not parse is returned as
 * the raw string, so that validation reports it with the expectation instead of silently using a default.
 */
export function parseEnvValue(prop: EnvVarProperty, raw: string): unknown {
  const value = raw.trim();
  switch (prop.type) {
    case 'string':
      return raw;
    case 'number':
      return /^-?\d+$/.test(value) ? Number(value) : value;
    case 'boolean': {
      const lower = value.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(lower)) return true;
      if (['false', '0', 'no', 'off'].includes(lower)) return false;
      return value;
    }
    case 'list':
      return value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0);
  }
}

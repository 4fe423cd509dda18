import type { Driver, EntityMetadata } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { BastionError } from '../errors/bastion-error';

/** What a column accepts as a value, derived from its database type. */
export type ValueKind =
  | 'integer'
  | 'bigint'
  | 'decimal'
  | 'float'
  | 'boolean'
  | 'string'
  | 'uuid'
  | 'timestamp'
  | 'date'
  | 'json'
  | 'enum'
  | 'other';

/** One column of an entity, as the repository sees it: what it accepts, and whether a caller may write it. */
export interface ColumnShape {
  /** The entity property (`ownerId`), the only name callers use. */
  readonly property: string;
  /** The column in the table (`owner_id`), only ever written into SQL quoted. */
  readonly databaseName: string;
  /** `databaseName` quoted for SQL. */
  readonly sqlName: string;
  readonly metadata: ColumnMetadata;
  /** The database type as TypeORM normalizes it (`integer`, `numeric`, `timestamp with time zone`, …). */
  readonly type: string;
  readonly kind: ValueKind;
  readonly isArray: boolean;
  readonly nullable: boolean;
  /** Characters, for `varchar(n)`/`char(n)`. */
  readonly maxLength: number | undefined;
  /** Digits in total and after the point, for `numeric(p, s)`. */
  readonly precision: number | undefined;
  readonly scale: number | undefined;
  readonly enumValues: readonly (string | number)[] | undefined;
  /** Why a caller may not set it on insert (generated, version, timestamps), or undefined when it may. */
  readonly notInsertable: string | undefined;
  /** Why a caller may not change it in an update, or undefined when it may. */
  readonly notUpdatable: string | undefined;
  /** An insert must give it: NOT NULL, no default, not generated. */
  readonly required: boolean;
  /** It can be compared with `=`/`<` in a filter and sorted (not json, not an array, not a relation). */
  readonly comparable: boolean;
  /**
   * For the join column of a relation that has no column property of its own (`@ManyToOne() owner` without an
   * `ownerId` column): the property of the related entity it holds. Writes then take the related entity, or an
   * object with that property (`{ owner: { id: 7 } }`); filters and orders cannot use it.
   */
  readonly reference: string | undefined;
}

/** An entity as the repository sees it: its table, its columns by property, and the columns with a role. */
export interface EntityShape {
  /** The entity's name (`Account`), used in error messages. */
  readonly name: string;
  readonly metadata: EntityMetadata;
  /** The table quoted for SQL, with its schema when it has one. */
  readonly table: string;
  /** Top-level columns by property name. */
  readonly columns: ReadonlyMap<string, ColumnShape>;
  /**
   * Relation properties that are not columns, with the column property to set instead (a relation without one is a
   * column, see `ColumnShape.reference`).
   */
  readonly relations: ReadonlyMap<string, string | undefined>;
  readonly primary: ColumnShape;
  /** Column sets with a unique constraint (the primary key, @Unique, unique columns and non-partial unique indices). */
  readonly uniqueKeys: readonly (readonly ColumnShape[])[];
  readonly version: ColumnShape | undefined;
  readonly updateDate: ColumnShape | undefined;
  readonly deleteDate: ColumnShape | undefined;
}

const shapes = new WeakMap<EntityMetadata, EntityShape>();

/** The shape of an entity, computed once per (data source, entity) metadata. */
export function entityShape(metadata: EntityMetadata): EntityShape {
  let shape = shapes.get(metadata);
  if (!shape) {
    shape = buildShape(metadata);
    shapes.set(metadata, shape);
  }
  return shape;
}

function buildShape(metadata: EntityMetadata): EntityShape {
  const driver = metadata.connection.driver;
  const columns = new Map<string, ColumnShape>();
  for (const column of metadata.columns) {
    if (column.embeddedMetadata) continue;
    if (!isRelationOnly(column)) columns.set(column.propertyName, columnShape(column, driver, undefined));
    else if (isSingleJoinColumn(column)) columns.set(column.propertyName, columnShape(column, driver, column.referencedColumn!.propertyName));
  }
  if (metadata.primaryColumns.length !== 1) {
    throw new BastionError(
      `${metadata.name} has ${metadata.primaryColumns.length} primary key columns; BaseRepository needs exactly one ` +
        '(write a custom repository for composite keys).',
    );
  }
  const primary = columns.get(metadata.primaryColumns[0]!.propertyName)!;
  const relations = new Map<string, string | undefined>();
  for (const relation of metadata.relations) {
    if (columns.has(relation.propertyName)) continue;
    const joinColumn = relation.joinColumns[0];
    const property = joinColumn ? [...columns.values()].find((c) => c.databaseName === joinColumn.databaseName) : undefined;
    relations.set(relation.propertyName, property?.property);
  }
  const role = (column: ColumnMetadata | undefined) => (column ? columns.get(column.propertyName) : undefined);
  const keyOf = (members: readonly ColumnMetadata[]) => {
    const key = members.map(role);
    return key.every((c) => c !== undefined) ? (key as ColumnShape[]) : [];
  };
  const uniqueKeys = [
    [primary],
    ...metadata.uniques.map((unique) => keyOf(unique.columns)),
    ...metadata.indices.filter((index) => index.isUnique && !index.where).map((index) => keyOf(index.columns)),
  ].filter((key) => key.length > 0);
  const table = (metadata.schema ? `${driver.escape(metadata.schema)}.` : '') + driver.escape(metadata.tableName);
  return {
    name: metadata.name,
    metadata,
    table,
    columns,
    relations,
    primary,
    uniqueKeys,
    version: role(metadata.versionColumn),
    updateDate: role(metadata.updateDateColumn),
    deleteDate: role(metadata.deleteDateColumn),
  };
}

/** A column TypeORM made for a relation's join column, with no property of its own to set. */
function isRelationOnly(column: ColumnMetadata): boolean {
  return column.relationMetadata !== undefined && column.propertyName === column.relationMetadata.propertyName;
}

/** The only join column of a many-to-one or owning one-to-one relation. */
function isSingleJoinColumn(column: ColumnMetadata): boolean {
  const relation = column.relationMetadata!;
  return relation.isOwning && relation.joinColumns.length === 1 && column.referencedColumn !== undefined && !column.referencedColumn.embeddedMetadata;
}

function columnShape(column: ColumnMetadata, driver: Driver, reference: string | undefined): ColumnShape {
  const type = driver.normalizeType({ type: column.type });
  const kind = column.type === 'simple-json' ? 'json' : kindOf(type);
  const notInsertable = reference === undefined ? notInsertableReason(column) : undefined;
  const notUpdatable = notInsertable ?? (column.isPrimary ? 'is the primary key' : column.isUpdate ? undefined : 'is not updatable');
  const length = Number(column.length);
  return {
    property: column.propertyName,
    databaseName: column.databaseName,
    sqlName: driver.escape(column.databaseName),
    metadata: column,
    type,
    kind,
    isArray: column.isArray,
    nullable: column.isNullable,
    maxLength: (type === 'character varying' || type === 'character') && length > 0 ? length : undefined,
    precision: kind === 'decimal' && column.precision != null ? column.precision : undefined,
    scale: kind === 'decimal' ? column.scale : undefined,
    enumValues: kind === 'enum' ? column.enum : undefined,
    notInsertable,
    notUpdatable,
    required: notInsertable === undefined && !column.isNullable && column.default === undefined,
    comparable: !column.isArray && kind !== 'json' && reference === undefined,
    reference,
  };
}

function notInsertableReason(column: ColumnMetadata): string | undefined {
  if (column.isVersion) return 'is the version column, maintained by the repository';
  if (column.isCreateDate || column.isUpdateDate) return 'is a timestamp maintained by the database';
  if (column.isDeleteDate) return 'is set by softDelete() and cleared by restore()';
  if (column.isGenerated || column.generatedType !== undefined) return 'is generated by the database';
  if (column.isVirtual || column.isVirtualProperty || !column.isInsert) return 'is not writable';
  return undefined;
}

function kindOf(type: string): ValueKind {
  switch (type) {
    case 'smallint':
    case 'integer':
      return 'integer';
    case 'bigint':
      return 'bigint';
    case 'numeric':
      return 'decimal';
    case 'real':
    case 'double precision':
      return 'float';
    case 'boolean':
      return 'boolean';
    case 'uuid':
      return 'uuid';
    case 'text':
    case 'character varying':
    case 'character':
    case 'citext':
      return 'string';
    case 'timestamp without time zone':
    case 'timestamp with time zone':
      return 'timestamp';
    case 'date':
      return 'date';
    case 'json':
    case 'jsonb':
      return 'json';
    case 'enum':
    case 'simple-enum':
      return 'enum';
    default:
      return 'other';
  }
}

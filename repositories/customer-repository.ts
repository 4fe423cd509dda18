import { Customer } from '../entities/customer';
import { BaseRepository } from '../src';

/** Customers. Custom query: a name search, written with the protected `repository`. */
export class CustomerRepository extends BaseRepository<Customer> {
  constructor() {
    super(Customer);
  }

  /** Live customers whose name starts with `prefix`, ignoring case; `%` and `_` in `prefix` match themselves. */
  searchByName(prefix: string, limit = 20): Promise<Customer[]> {
    const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return this.run(() =>
      this.repository
        .createQueryBuilder('customer')
        .where("customer.name ILIKE :pattern ESCAPE '\\'", { pattern })
        .orderBy('customer.name', 'ASC')
        .addOrderBy('customer.id', 'ASC')
        .limit(Math.min(Math.max(Math.trunc(limit), 1), 100))
        .getMany(),
    );
  }
}

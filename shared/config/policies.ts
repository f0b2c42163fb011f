/**
 * Named policies (docs/design.md §5): each point where real implementations disagree is a policy
 * whose values are their behaviours. A component declares its table of definitions; this module
 * gives every table the same names list, name check, value check and value types, so the SPMC
 * and the hypervisor (and any later component) share one mechanism.
 */

/** One policy: the values a scenario may give (or a validator), and where they come from. */
export interface PolicyDefinition<Value> {
  readonly values: readonly Value[] | ((value: unknown) => value is Value);
  readonly why: string;
  /** For validator policies: what a value must be, for the error message ("an interrupt ID (0..1019)"). */
  readonly expects?: string;
}

export type PolicyTable = Readonly<Record<string, PolicyDefinition<unknown>>>;

/** One value for every policy of the table. */
export type PolicyValuesOf<Table extends PolicyTable> = {
  readonly [Name in keyof Table]: Table[Name] extends PolicyDefinition<infer Value> ? Value : never;
};

export type PolicyCheck = { ok: true } | { ok: false; why: string };

export function policyNames<Table extends PolicyTable>(table: Table): (keyof Table & string)[] {
  return Object.keys(table) as (keyof Table & string)[];
}

export function isPolicyNameOf<Table extends PolicyTable>(table: Table, name: string): name is keyof Table & string {
  return Object.hasOwn(table, name);
}

/** Whether `value` is allowed for the policy; the message says what is. */
export function checkPolicyValueOf<Table extends PolicyTable>(table: Table, name: keyof Table & string, value: unknown): PolicyCheck {
  const definition: PolicyDefinition<unknown> = table[name] as PolicyDefinition<unknown>;
  const shown = JSON.stringify(value);
  const { values } = definition;
  if (typeof values === 'function') {
    if (values(value)) return { ok: true };
    const expected = definition.expects ?? `allowed for ${name} (${definition.why})`;
    return { ok: false, why: `${shown} is not ${expected}` };
  }
  if (values.includes(value)) return { ok: true };
  return { ok: false, why: `${shown} is not one of ${values.map((v) => JSON.stringify(v)).join(', ')}` };
}

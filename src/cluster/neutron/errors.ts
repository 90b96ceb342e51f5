import { ApiError } from '../api/errors.ts';

/**
 * A Neutron fault: its HTTP status, Neutron's exception type name and message. The Neutron API
 * renders it as `{"NeutronError": {...}}`; the MidoNet API as MidoNet's error body.
 */
export class NeutronError extends ApiError {
  constructor(
    status: number,
    readonly type: string,
    message: string,
  ) {
    super(status, message);
  }
}

const fault = (status: number, type: string) => (message: string) => new NeutronError(status, type, message);

export const badRequest = fault(400, 'HTTPBadRequest');
export const invalidInput = (why: string) => new NeutronError(400, 'InvalidInput', `Invalid input for operation: ${why}.`);
export const notFound = (type: string, message: string) => new NeutronError(404, type, message);
export const conflict = (type: string, message: string) => new NeutronError(409, type, message);

/** The not-found fault of each resource, in Neutron's words. */
export const NOT_FOUND: Record<string, (id: string) => NeutronError> = {
  network: (id) => notFound('NetworkNotFound', `Network ${id} could not be found.`),
  subnet: (id) => notFound('SubnetNotFound', `Subnet ${id} could not be found.`),
  port: (id) => notFound('PortNotFound', `Port ${id} could not be found.`),
  router: (id) => notFound('RouterNotFound', `Router ${id} could not be found.`),
  floatingip: (id) => notFound('FloatingIPNotFound', `Floating IP ${id} could not be found`),
  security_group: (id) => notFound('SecurityGroupNotFound', `Security group ${id} does not exist`),
  security_group_rule: (id) => notFound('SecurityGroupRuleNotFound', `Security group rule ${id} does not exist`),
  subnetpool: (id) => notFound('SubnetPoolNotFound', `Subnet pool ${id} could not be found.`),
};

/** The body Neutron answers a fault with. */
export function neutronErrorBody(e: ApiError): Record<string, unknown> {
  const type = e instanceof NeutronError ? e.type : e.status === 404 ? 'HTTPNotFound' : e.status === 409 ? 'HTTPConflict' : e.status >= 500 ? 'HTTPInternalServerError' : 'HTTPBadRequest';
  return { NeutronError: { type, message: e.message, detail: '' } };
}

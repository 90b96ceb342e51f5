import type { Obj } from '../nsdb/backend.ts';
import { indexKey, type IndexDef } from '../nsdb/indexes.ts';
import { NT, type NFloatingIp, type NPort, type NSecurityGroup, type NSecurityGroupRule, type NSubnet, type NSubnetPool } from './neutron.ts';
import { T, type Host } from './types.ts';

/** Index names, as writers and readers call them. */
export const IX = {
  portsByNetwork: 'NeutronPort.network_id',
  portsByDevice: 'NeutronPort.device_id',
  portsBySubnet: 'NeutronPort.subnet_id',
  portsBySecurityGroup: 'NeutronPort.security_group',
  portMac: 'NeutronPort.mac_address',
  fixedIp: 'NeutronPort.fixed_ip',
  floatingIpsByPort: 'FloatingIp.port_id',
  floatingIpsByRouter: 'FloatingIp.router_id',
  floatingIpAddress: 'FloatingIp.address',
  defaultSecurityGroup: 'SecurityGroup.default',
  rulesByRemoteGroup: 'SecurityGroupRule.remote_group_id',
  hostsByName: 'Host.name',
  subnetsByPool: 'NeutronSubnet.subnetpool_id',
  poolCidr: 'NeutronSubnet.pool_cidr',
  defaultSubnetPool: 'SubnetPool.is_default',
} as const;

/** The Neutron types counted against a project's quota, indexed by project. */
const COUNTED = [NT.Network, NT.Subnet, NT.SubnetPool, NT.Port, NT.Router, NT.FloatingIp, NT.SecurityGroup, NT.SecurityGroupRule] as const;
export const byProject = (type: string): string => `${type}.project_id`;

/** One key per value given (an object's reference), none for an empty one. */
const present = (...v: (string | null | undefined)[]): string[] => v.filter((x): x is string => typeof x === 'string' && x !== '').map((x) => indexKey(x));
const as = <T>(o: Obj) => o as unknown as T;

/** A MAC is unique within its network, a fixed IP within its subnet (Neutron's own constraints). */
export const macKey = (network: string, mac: string) => indexKey(network, mac.toLowerCase());
export const fixedIpKey = (subnet: string, ip: string) => indexKey(subnet, ip);
export const floatingIpKey = (network: string, ip: string) => indexKey(network, ip);

/**
 * The NSDB's secondary indexes: what the Neutron translation and the API look objects up by,
 * instead of reading a whole type. The unique ones are Neutron's allocation constraints, enforced
 * by the store across every writer.
 */
export const topologyIndexes: readonly IndexDef[] = [
  { name: IX.subnetsByPool, type: NT.Subnet, keys: (o) => present(as<NSubnet>(o).subnetpool_id) },
  // Two writers cutting the same free prefix from a pool: one of them commits.
  { name: IX.poolCidr, type: NT.Subnet, unique: true, keys: (o) => (as<NSubnet>(o).subnetpool_id ? [indexKey(as<NSubnet>(o).subnetpool_id!, as<NSubnet>(o).cidr)] : []) },
  // One default pool per IP version (Neutron's own rule), whoever sets it.
  { name: IX.defaultSubnetPool, type: NT.SubnetPool, unique: true, keys: (o) => (as<NSubnetPool>(o).is_default ? [indexKey(String(as<NSubnetPool>(o).ip_version))] : []) },
  { name: IX.portsByNetwork, type: NT.Port, keys: (o) => present(as<NPort>(o).network_id) },
  { name: IX.portsByDevice, type: NT.Port, keys: (o) => present(as<NPort>(o).device_id) },
  { name: IX.portsBySubnet, type: NT.Port, keys: (o) => present(...(as<NPort>(o).fixed_ips ?? []).map((f) => f.subnet_id)) },
  { name: IX.portsBySecurityGroup, type: NT.Port, keys: (o) => present(...(as<NPort>(o).security_groups ?? [])) },
  { name: IX.portMac, type: NT.Port, unique: true, keys: (o) => (as<NPort>(o).mac_address ? [macKey(as<NPort>(o).network_id, as<NPort>(o).mac_address)] : []) },
  { name: IX.fixedIp, type: NT.Port, unique: true, keys: (o) => (as<NPort>(o).fixed_ips ?? []).map((f) => fixedIpKey(f.subnet_id, f.ip_address)) },
  { name: IX.floatingIpsByPort, type: NT.FloatingIp, keys: (o) => present(as<NFloatingIp>(o).port_id) },
  { name: IX.floatingIpsByRouter, type: NT.FloatingIp, keys: (o) => present(as<NFloatingIp>(o).router_id) },
  {
    name: IX.floatingIpAddress, type: NT.FloatingIp, unique: true,
    keys: (o) => (as<NFloatingIp>(o).floating_ip_address ? [floatingIpKey(as<NFloatingIp>(o).floating_network_id, as<NFloatingIp>(o).floating_ip_address)] : []),
  },
  {
    name: IX.defaultSecurityGroup, type: NT.SecurityGroup, unique: true,
    keys: (o) => (as<NSecurityGroup>(o).name === 'default' ? [indexKey(as<NSecurityGroup>(o).tenant_id)] : []),
  },
  { name: IX.rulesByRemoteGroup, type: NT.SecurityGroupRule, keys: (o) => present(as<NSecurityGroupRule>(o).remote_group_id) },
  { name: IX.hostsByName, type: T.Host, keys: (o) => present(as<Host>(o).name) },
  ...COUNTED.map((type): IndexDef => ({ name: byProject(type), type, keys: (o) => present(as<{ project_id?: string }>(o).project_id) })),
];

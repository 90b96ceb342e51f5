/**
 * The metadata service of an agent, switched on and off by mn-conf
 * (agent.openstack.metadata.enabled, nova_metadata_url, shared_secret) while the agent runs.
 */
import type { Flat } from '../../conf/hocon.ts';
import type { NPort } from '../../model/neutron.ts';
import { METADATA_PORT, MetadataLink, type FrameOut } from './metadata-link.ts';
import { MetadataProxy } from './metadata-proxy.ts';
import { log } from '../../conf/log.ts';

export class MetadataService {
  readonly link: MetadataLink;
  private readonly proxy: MetadataProxy;
  enabled = false;
  /** The settings in force (nova_metadata_url, and whether a shared secret is set), for the agent's metrics. */
  settings = { novaUrl: '', secret: false };

  constructor(dp: FrameOut, neutronPort: (id: string) => NPort | undefined) {
    this.link = new MetadataLink(dp);
    this.proxy = new MetadataProxy(this.link, neutronPort, { novaUrl: '', secret: '' });
  }

  async apply(c: Flat): Promise<void> {
    const want = c['agent.openstack.metadata.enabled'] === true || c['agent.openstack.metadata.enabled'] === 'true';
    const settings = { novaUrl: String(c['agent.openstack.metadata.nova_metadata_url'] ?? ''), secret: String(c['agent.openstack.metadata.shared_secret'] ?? '') };
    this.proxy.configure(settings);
    this.settings = { novaUrl: settings.novaUrl, secret: settings.secret !== '' };
    if (want === this.enabled) return;
    if (want) {
      try {
        await this.link.open();
        await this.proxy.listen();
        this.enabled = true;
      } catch (err) {
        log('metadata').error({ err: (err as Error).message }, 'metadata proxy not started');
        await this.stop();
      }
    } else await this.stop();
  }

  async stop(): Promise<void> {
    this.enabled = false;
    this.proxy.close();
    await this.link.close();
  }

  /** A frame from a datapath port: true when the metadata service took it. */
  take(portId: string, bytes: Uint8Array): boolean {
    if (portId === METADATA_PORT) {
      this.link.fromKernel(bytes);
      return true;
    }
    return this.enabled && this.link.fromVm(portId, bytes);
  }

  get counters() {
    return { ...this.link.counters, ...this.proxy.counters, enabled: this.enabled };
  }
}

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import javax.ws.rs.core.MultivaluedMap;

import com.midokura.midonet.client.MidonetApi;
import com.midokura.midonet.client.dto.DtoRule;
import com.midokura.midonet.client.resource.Bridge;
import com.midokura.midonet.client.resource.BridgePort;
import com.midokura.midonet.client.resource.DhcpHost;
import com.midokura.midonet.client.resource.DhcpSubnet;
import com.midokura.midonet.client.resource.Host;
import com.midokura.midonet.client.resource.Port;
import com.midokura.midonet.client.resource.ResourceCollection;
import com.midokura.midonet.client.resource.Route;
import com.midokura.midonet.client.resource.Router;
import com.midokura.midonet.client.resource.RouterPort;
import com.midokura.midonet.client.resource.Rule;
import com.midokura.midonet.client.resource.RuleChain;
import com.sun.jersey.core.util.MultivaluedMapImpl;

/**
 * The calls CloudStack 4.2's MidoNet plugin (MidoNetElement, and MidoNetVifDriver on the
 * hypervisor) makes for one isolated guest network, in its order, through the unmodified
 * midonet-client 12.12.2; written for this project's tests, with CloudStack's own objects (network,
 * NIC, IP) given on the command line.
 *
 *   java PluginDriver API_URL PROVIDER_ROUTER ACCOUNT NETWORK_ID OPERATION ARGS...
 */
public class PluginDriver {
    private final MidonetApi api;
    private final UUID providerRouterId;
    private final String account;
    private final String networkId;

    PluginDriver(String url, String provider, String account, String networkId) {
        this.api = new MidonetApi(url);
        this.providerRouterId = UUID.fromString(provider);
        this.account = account;
        this.networkId = networkId;
    }

    private MultivaluedMap byTenant() {
        MultivaluedMap q = new MultivaluedMapImpl();
        q.add("tenant_id", account);
        return q;
    }

    private String chainName(String suffix) {
        return networkId + "-tenantrouter-" + suffix;
    }

    private RuleChain chain(String suffix) {
        for (RuleChain c : api.getChains(byTenant())) {
            if (c.getName().equals(chainName(suffix))) return c;
        }
        return null;
    }

    Bridge bridge(boolean create) {
        for (Bridge b : api.getBridges(byTenant())) {
            if (b.getName().equals(networkId)) return b;
        }
        return create ? api.addBridge().tenantId(account).name(networkId).create() : null;
    }

    Router router(boolean create) {
        for (Router r : api.getRouters(byTenant())) {
            if (r.getName().equals(networkId)) return r;
        }
        if (!create) return null;
        RuleChain pre = api.addChain().name(chainName("pre-routing")).tenantId(account).create();
        RuleChain post = api.addChain().name(chainName("post-routing")).tenantId(account).create();
        RuleChain preFilter = api.addChain().name(chainName("pre-filter")).tenantId(account).create();
        RuleChain preNat = api.addChain().name(chainName("pre-nat")).tenantId(account).create();
        pre.addRule().type(DtoRule.Jump).jumpChainId(preFilter.getId()).position(1).create();
        pre.addRule().type(DtoRule.Jump).jumpChainId(preNat.getId()).position(2).create();
        return api.addRouter().tenantId(account).name(networkId)
                .inboundFilterId(pre.getId()).outboundFilterId(post.getId()).create();
    }

    /** implement(): the network's bridge and router, linked, with the route to the subnet. */
    void implement(String cidrSubnet, int cidrSize, String gateway) {
        Bridge netBridge = bridge(true);
        Router netRouter = router(true);
        for (Port p : netBridge.getPeerPorts()) {
            if (p.getClass().equals(BridgePort.class)) return;
        }
        BridgePort bridgePort = netBridge.addInteriorPort().create();
        RouterPort routerPort = netRouter.addInteriorRouterPort();
        routerPort.networkAddress(cidrSubnet);
        routerPort.networkLength(cidrSize);
        routerPort.portAddress(gateway);
        routerPort.create();
        bridgePort.link(routerPort.getId()).update();
        netRouter.addRoute().type("Normal").weight(100)
                .srcNetworkAddr("0.0.0.0").srcNetworkLength(0)
                .dstNetworkAddr(cidrSubnet).dstNetworkLength(cidrSize)
                .nextHopPort(routerPort.getId()).nextHopGateway(null).create();
    }

    /** The tenant router's uplink and the provider router's downlink, made and linked once. */
    RouterPort[] providerPorts(Router tenantRouter, Router providerRouter) {
        for (Port peer : tenantRouter.getPeerPorts(new MultivaluedMapImpl())) {
            if (peer instanceof RouterPort) {
                RouterPort check = (RouterPort) peer;
                if (check.getDeviceId().compareTo(providerRouter.getId()) == 0) {
                    return new RouterPort[] {(RouterPort) api.getPort(check.getPeerId()), check};
                }
            }
        }
        RouterPort downlink = providerRouter.addInteriorRouterPort().networkAddress("169.254.255.0").networkLength(32)
                .portAddress("169.254.255.1").create();
        RouterPort uplink = tenantRouter.addInteriorRouterPort().networkAddress("169.254.255.0").networkLength(32)
                .portAddress("169.254.255.2").create();
        downlink.link(uplink.getId()).update();
        return new RouterPort[] {uplink, downlink};
    }

    /** applyIps() for the source NAT address (associatePublicIP, applySourceNat). */
    void sourceNat(String snatIp) {
        Router tenantRouter = router(true);
        Router providerRouter = api.getRouter(providerRouterId);
        RouterPort[] ports = providerPorts(tenantRouter, providerRouter);
        RuleChain pre = chain("pre-nat");
        RuleChain post = api.getChain(tenantRouter.getOutboundFilterId());
        String tag = snatIp + "/SourceNat";
        for (Rule rule : pre.getRules()) {
            Map<String, String> props = rule.getProperties();
            if (props != null && tag.equals(props.get("CS_nat"))) return;
        }
        Map<String, String> props = new HashMap<String, String>();
        props.put("CS_nat", tag);
        DtoRule.DtoNatTarget[] targets = {new DtoRule.DtoNatTarget(snatIp, snatIp, 1, 65535)};
        pre.addRule().type(DtoRule.RevSNAT).flowAction(DtoRule.Accept).nwDstAddress(snatIp).nwDstLength(32)
                .inPorts(new UUID[] {ports[0].getId()}).position(1).properties(props).create();
        post.addRule().type(DtoRule.SNAT).flowAction(DtoRule.Accept).outPorts(new UUID[] {ports[0].getId()})
                .natTargets(targets).position(1).properties(props).create();
        tenantRouter.addRoute().type("Normal").weight(100).srcNetworkAddr("0.0.0.0").srcNetworkLength(0)
                .dstNetworkAddr("0.0.0.0").dstNetworkLength(0).nextHopPort(ports[0].getId()).create();
        providerRouter.addRoute().type("Normal").weight(100).srcNetworkAddr("0.0.0.0").srcNetworkLength(0)
                .dstNetworkAddr(snatIp).dstNetworkLength(32).nextHopPort(ports[1].getId()).create();
        post.addRule().type(DtoRule.RevDNAT).flowAction(DtoRule.Accept).create();
    }

    /** addDhcpEntry(): the bridge's DHCP subnet (made once) and a host entry for the NIC. */
    void dhcp(String cidrSubnet, int cidrSize, String gateway, String dns, String ip, String mac, String name) {
        Bridge netBridge = bridge(true);
        ResourceCollection subnets = netBridge.getDhcpSubnets();
        DhcpSubnet sub;
        if (!subnets.isEmpty()) {
            sub = (DhcpSubnet) subnets.get(0);
        } else {
            sub = netBridge.addDhcpSubnet();
            sub.subnetLength(cidrSize);
            sub.subnetPrefix(cidrSubnet);
            sub.defaultGateway(gateway);
            sub.dnsServerAddr(dns);
            sub.create();
        }
        for (DhcpHost h : sub.getDhcpHosts()) {
            if (h.getIpAddr().equals(ip)) return;
        }
        DhcpHost host = sub.addDhcpHost();
        host.ipAddr(ip);
        host.macAddr(mac);
        host.name(name);
        host.create();
    }

    /** prepare(): an exterior bridge port carrying the NIC's id; then the VIF driver binds it on the hypervisor. */
    String plug(String nicUuid, String hostId, String tap) {
        BridgePort port = bridge(true).addExteriorPort().create();
        port.vifId(UUID.fromString(nicUuid)).update();
        for (Bridge b : api.getBridges(byTenant())) {
            if (!b.getName().equals(networkId)) continue;
            for (BridgePort p : b.getPorts()) {
                if (p.getVifId() != null && p.getVifId().toString().equals(nicUuid)) {
                    for (Host h : api.getHosts()) {
                        if (h.getId().toString().equals(hostId)) {
                            h.addHostInterfacePort().interfaceName(tap).portId(p.getId()).create();
                        }
                    }
                }
            }
        }
        return port.getId().toString();
    }

    /** applyStaticNats() for one rule, added or revoked. */
    void staticNat(String floatingIp, String fixedIp, boolean revoke) {
        Router tenantRouter = router(true);
        Router providerRouter = api.getRouter(providerRouterId);
        RouterPort[] ports = providerPorts(tenantRouter, providerRouter);
        RuleChain preFilter = chain("pre-filter");
        RuleChain preNat = chain("pre-nat");
        RuleChain post = api.getChain(tenantRouter.getOutboundFilterId());
        if (revoke) {
            for (Rule r : preFilter.getRules()) if (floatingIp.equals(r.getNwDstAddress())) r.delete();
            for (Rule r : preNat.getRules()) if (floatingIp.equals(r.getNwDstAddress())) r.delete();
            for (Rule r : post.getRules()) if (fixedIp.equals(r.getNwSrcAddress())) r.delete();
            for (Route r : providerRouter.getRoutes(new MultivaluedMapImpl())) {
                if (floatingIp.equals(r.getDstNetworkAddr())) r.delete();
            }
            return;
        }
        preFilter.addRule().type(DtoRule.Jump).jumpChainId(preNat.getId()).nwDstAddress(floatingIp).nwDstLength(32)
                .matchReturnFlow(true).position(1).create();
        preFilter.addRule().type(DtoRule.Jump).jumpChainId(preNat.getId()).nwDstAddress(floatingIp).nwDstLength(32)
                .nwProto(1).tpSrcStart(0).tpSrcEnd(0).tpDstStart(0).tpDstEnd(0).position(2).create();
        preFilter.addRule().type(DtoRule.Drop).nwDstAddress(floatingIp).nwDstLength(32).position(3).create();
        preNat.addRule().type(DtoRule.DNAT).flowAction(DtoRule.Accept).nwDstAddress(floatingIp).nwDstLength(32)
                .inPorts(new UUID[] {ports[0].getId()})
                .natTargets(new DtoRule.DtoNatTarget[] {new DtoRule.DtoNatTarget(fixedIp, fixedIp, 0, 0)})
                .position(1).create();
        DtoRule.DtoNatTarget[] postTargets = {new DtoRule.DtoNatTarget(floatingIp, floatingIp, 0, 0)};
        post.addRule().type(DtoRule.SNAT).flowAction(DtoRule.Accept).matchForwardFlow(true).nwSrcAddress(fixedIp)
                .nwSrcLength(32).outPorts(new UUID[] {ports[0].getId()}).natTargets(postTargets).position(1).create();
        post.addRule().type(DtoRule.SNAT).flowAction(DtoRule.Accept).matchReturnFlow(true).nwSrcAddress(fixedIp)
                .nwSrcLength(32).outPorts(new UUID[] {ports[0].getId()}).natTargets(postTargets).position(2).create();
        providerRouter.addRoute().type("Normal").weight(100).srcNetworkAddr("0.0.0.0").srcNetworkLength(0)
                .dstNetworkAddr(floatingIp).dstNetworkLength(32).nextHopPort(ports[1].getId()).create();
    }

    /** applyFWRules(): let a source CIDR reach a port of a public IP (tcp). */
    void firewall(String publicIp, String sourceCidr, int port) {
        RuleChain preFilter = chain("pre-filter");
        RuleChain preNat = chain("pre-nat");
        String[] cidr = sourceCidr.split("/");
        preFilter.addRule().type(DtoRule.Jump).jumpChainId(preNat.getId()).position(1)
                .nwSrcAddress(cidr[0]).nwSrcLength(Integer.parseInt(cidr[1]))
                .nwDstAddress(publicIp).nwDstLength(32).nwProto(6)
                .tpDstStart(port).tpDstEnd(port).create();
    }

    /** applyPFRules(): forward a public TCP port to the VM's, with its route and the default drop. */
    void portForward(String publicIp, int publicPort, String vmIp, int vmPort) {
        RuleChain preNat = chain("pre-nat");
        RuleChain preFilter = chain("pre-filter");
        Router providerRouter = api.getRouter(providerRouterId);
        RouterPort[] ports = providerPorts(router(true), providerRouter);
        preNat.addRule().type(DtoRule.DNAT).flowAction(DtoRule.Accept).nwDstAddress(publicIp).nwDstLength(32)
                .tpDstStart(publicPort).tpDstEnd(publicPort)
                .natTargets(new DtoRule.DtoNatTarget[] {new DtoRule.DtoNatTarget(vmIp, vmIp, vmPort, vmPort)})
                .nwProto(6).position(1).create();
        boolean routed = false;
        for (Route r : providerRouter.getRoutes(new MultivaluedMapImpl())) {
            if (publicIp.equals(r.getDstNetworkAddr()) && r.getDstNetworkLength() == 32) routed = true;
        }
        if (!routed) {
            providerRouter.addRoute().type("Normal").weight(100).srcNetworkAddr("0.0.0.0").srcNetworkLength(0)
                    .dstNetworkAddr(publicIp).dstNetworkLength(32).nextHopPort(ports[1].getId()).create();
        }
        boolean blocked = false;
        for (Rule r : preFilter.getRules()) if (publicIp.equals(r.getNwDstAddress())) blocked = true;
        if (!blocked) preFilter.addRule().type(DtoRule.Drop).nwDstAddress(publicIp).nwDstLength(32).create();
    }

    /** release(): the NIC's routes and port go. */
    void release(String nicUuid, String nicIp) {
        Bridge netBridge = bridge(true);
        Router providerRouter = api.getRouter(providerRouterId);
        for (Route r : providerRouter.getRoutes(new MultivaluedMapImpl())) {
            if (nicIp.equals(r.getDstNetworkAddr())) r.delete();
        }
        for (BridgePort p : netBridge.getPorts()) {
            if (p.getVifId() != null && p.getVifId().toString().equals(nicUuid)) {
                p.vifId(null).update();
                p.delete();
            }
        }
    }

    /** destroy(): the bridge with its ports and DHCP, then the router with its ports, chains and routes. */
    void destroy() {
        Bridge netBridge = bridge(false);
        if (netBridge != null) {
            for (Port peer : netBridge.getPeerPorts()) {
                if (peer instanceof RouterPort) {
                    RouterPort rp = (RouterPort) peer;
                    if (rp.getType().equals("ExteriorRouter")) rp.vifId(null).update();
                    else if (rp.getType().equals("InteriorRouter")) rp.unlink();
                    rp.delete();
                }
            }
            for (BridgePort p : netBridge.getPorts()) {
                if (p.getType().equals("ExteriorBridge")) p.vifId(null).update();
                if (p.getType().equals("InteriorBridge")) p.unlink();
                p.delete();
            }
            for (Object s : netBridge.getDhcpSubnets()) ((DhcpSubnet) s).delete();
            netBridge.delete();
        }
        Router tenantRouter = router(false);
        if (tenantRouter == null) return;
        for (Port peer : tenantRouter.getPeerPorts(new MultivaluedMapImpl())) {
            if (peer instanceof RouterPort) {
                RouterPort rp = (RouterPort) peer;
                if (rp.getType().equals("ExteriorRouter")) rp.vifId(null).update();
                else if (rp.getType().equals("InteriorRouter")) rp.unlink();
                rp.delete();
            }
        }
        for (RouterPort p : tenantRouter.getPorts(new MultivaluedMapImpl())) {
            if (p.getType().equals("ExteriorRouter")) p.vifId(null).update();
            if (p.getType().equals("InteriorRouter")) p.unlink();
            p.delete();
        }
        RuleChain pre = api.getChain(tenantRouter.getInboundFilterId());
        RuleChain preFilter = chain("pre-filter");
        RuleChain preNat = chain("pre-nat");
        RuleChain post = api.getChain(tenantRouter.getOutboundFilterId());
        pre.delete();
        preFilter.delete();
        preNat.delete();
        post.delete();
        for (Route r : tenantRouter.getRoutes(new MultivaluedMapImpl())) r.delete();
        tenantRouter.delete();
    }

    public static void main(String[] a) {
        PluginDriver d = new PluginDriver(a[0], a[1], a[2], a[3]);
        String op = a[4];
        switch (op) {
            case "implement": d.implement(a[5], Integer.parseInt(a[6]), a[7]); break;
            case "source-nat": d.sourceNat(a[5]); break;
            case "dhcp": d.dhcp(a[5], Integer.parseInt(a[6]), a[7], a[8], a[9], a[10], a[11]); break;
            case "plug": System.out.println(d.plug(a[5], a[6], a[7])); break;
            case "static-nat": d.staticNat(a[5], a[6], false); break;
            case "revoke-static-nat": d.staticNat(a[5], a[6], true); break;
            case "firewall": d.firewall(a[5], a[6], Integer.parseInt(a[7])); break;
            case "port-forward": d.portForward(a[5], Integer.parseInt(a[6]), a[7], Integer.parseInt(a[8])); break;
            case "release": d.release(a[5], a[6]); break;
            case "destroy": d.destroy(); break;
            default: throw new IllegalArgumentException("unknown operation " + op);
        }
        System.out.println("ok " + op);
    }
}
